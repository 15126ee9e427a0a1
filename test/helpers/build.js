// Compiles the C test helpers into test/helpers/bin (once; rebuilt when a source is newer):
// test/helpers/c/*.c are standalone programs; test/helpers/core/*.c are linked with the addon's
// C core (the native sources that need no Node), to test it from a plain program;
// test/helpers/preload/*.c become shared objects for LD_PRELOAD (bin/<name>.so).

import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const src = join(here, 'c');
const coreSrc = join(here, 'core');
const preloadSrc = join(here, 'preload');
const nativeDir = join(here, '..', '..', 'native');
export const binDir = join(here, 'bin');

/** The native sources a core test program is linked with, and the headers they include. */
const coreSources = ['spawn.c', 'create.c', 'child.c', 'clone.c', 'probe.c'].map((f) => join(nativeDir, f));
const coreHeaders = ['spawn.h', 'create.h', 'child.h', 'clone.h', 'probe.h', 'pidfd.h', 'sys.h'].map((f) => join(nativeDir, f));

/** Compiles `sources` into `out` unless `out` is newer than every file in `inputs`. */
function compile(out, sources, inputs, flags) {
  let fresh = false;
  try {
    const built = statSync(out).mtimeMs;
    fresh = inputs.every((input) => built >= statSync(input).mtimeMs);
  } catch {}
  if (fresh) return;
  execFileSync('cc', [...flags, '-O2', '-Wall', '-Wextra', '-Werror', '-pthread', '-o', out, ...sources], {
    stdio: 'inherit',
  });
}

/** Builds every helper into bin/<name>. Returns the bin directory. */
export function buildHelpers() {
  mkdirSync(binDir, { recursive: true });
  for (const file of readdirSync(src).filter((f) => f.endsWith('.c'))) {
    const source = join(src, file);
    compile(join(binDir, file.slice(0, -2)), [source], [source], []);
  }
  for (const file of readdirSync(coreSrc).filter((f) => f.endsWith('.c'))) {
    const source = join(coreSrc, file);
    // The flags of binding.gyp that matter to the C core.
    const flags = ['-std=gnu11', '-D_GNU_SOURCE', `-I${nativeDir}`];
    compile(join(binDir, file.slice(0, -2)), [source, ...coreSources], [source, ...coreSources, ...coreHeaders], flags);
  }
  for (const file of readdirSync(preloadSrc).filter((f) => f.endsWith('.c'))) {
    const source = join(preloadSrc, file);
    compile(join(binDir, `${file.slice(0, -2)}.so`), [source], [source], ['-shared', '-fPIC']);
  }
  return binDir;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) buildHelpers();
