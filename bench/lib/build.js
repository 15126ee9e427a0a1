// Compiles the C programs of the bench (the limit server, the release helper, the capture
// reference) with `cc`.

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

const native = join(here, '..', '..', 'native');

function compile(name, extra, linked = []) {
  const src = join(sources, `${name}.c`);
  const out = join(binDir, name);
  const inputs = [src, ...linked.map((f) => join(native, f))];
  if (!inputs.some((input) => newer(input, out))) return out;
  // -iquote: native/spawn.h must not shadow <spawn.h>.
  const base = ['-O2', '-std=gnu11', '-D_GNU_SOURCE', '-Wall', '-Wextra', '-iquote', native, '-o', out, ...inputs];
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
    // With the library's clone3 trampoline (native/clone.c): the limit is clone3 itself.
    limit: compile('limit', [], ['clone.c']),
    // Static, so that thousands of waiting children start fast and stay small.
    release: compile('release', ['-static']),
    // The C reference for capturing a command's output.
    capture: compile('capture', []),
  };
}
