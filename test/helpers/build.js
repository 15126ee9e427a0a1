// Compiles the C test helpers into test/helpers/bin (once; rebuilt when a source is newer).

import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const src = join(here, 'c');
export const binDir = join(here, 'bin');

/** Builds every test/helpers/c/*.c into bin/<name>. Returns the bin directory. */
export function buildHelpers() {
  mkdirSync(binDir, { recursive: true });
  for (const file of readdirSync(src).filter((f) => f.endsWith('.c'))) {
    const out = join(binDir, file.slice(0, -2));
    const source = join(src, file);
    let fresh = false;
    try {
      fresh = statSync(out).mtimeMs >= statSync(source).mtimeMs;
    } catch {}
    if (fresh) continue;
    execFileSync('cc', ['-O2', '-Wall', '-Wextra', '-Werror', '-pthread', '-o', out, source], {
      stdio: 'inherit',
    });
  }
  return binDir;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) buildHelpers();
