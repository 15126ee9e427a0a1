// Compiles the C programs of the bench (the limit server and the release helper) with `cc`.

import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const sources = join(here, '..', 'c');
/** Where the binaries go (ignored by git). */
export const binDir = join(here, '..', 'results', 'tmp', 'bin');

function newer(a, b) {
  try {
    return statSync(a).mtimeMs > statSync(b).mtimeMs;
  } catch {
    return true;
  }
}

function compile(name, extra) {
  const src = join(sources, `${name}.c`);
  const out = join(binDir, name);
  if (!newer(src, out)) return out;
  const base = ['-O2', '-std=gnu11', '-Wall', '-Wextra', '-o', out, src];
  try {
    execFileSync('cc', [...extra, ...base], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    if (extra.length === 0) throw new Error(`cc ${name}.c failed:\n${error.stderr}`);
    // No static libc on this machine: a dynamic helper only costs the children more start-up.
    execFileSync('cc', base, { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  return out;
}

/** Builds (if stale) and returns the paths of the C programs. */
export function buildC() {
  mkdirSync(binDir, { recursive: true });
  return {
    limit: compile('limit', []),
    // Static, so that thousands of waiting children start fast and stay small.
    release: compile('release', ['-static']),
  };
}
