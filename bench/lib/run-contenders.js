// The contenders of the run() scenarios: libraries that run a command and give its output, each
// called the way its documentation shows, with its defaults (stdout and stderr captured).

import cp from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

import { execa } from 'execa';
import nanoSpawn from 'nano-spawn';
import { x as tinyexec } from 'tinyexec';

const pidfdUrl = process.env.PIDFD_BENCH_LIB
  ? pathToFileURL(process.env.PIDFD_BENCH_LIB).href
  : new URL('../../dist/index.js', import.meta.url).href;
const { run } = await import(pidfdUrl);
const execFile = promisify(cp.execFile);

/** name -> (file, args) => a promise of the finished command, output captured. */
export const runContenders = {
  'pidfd run': (file, args) => run(file, args),
  'pidfd run, cleanup: false': (file, args) => run(file, args, { cleanup: false }),
  // The command alone: no per-run cgroup, no process group, no watchdog record (what a cgroup
  // per run costs is the difference from 'pidfd run' where one can be made).
  'pidfd run, tree: false': (file, args) => run(file, args, { tree: false }),
  execa: (file, args) => execa(file, args),
  'nano-spawn': (file, args) => nanoSpawn(file, args),
  tinyexec: (file, args) => tinyexec(file, args, { throwOnError: true }),
  'child_process.execFile': (file, args) => execFile(file, args),
};

/** name -> (file, args) => a promise of the whole stdout as bytes, with no size limit. Only the
 * contenders that can give bytes: a string cannot hold 1 GiB (V8's limit is 512 MiB). */
export const captureContenders = {
  'pidfd run': async (file, args) => (await run(file, args, { encoding: 'buffer', maxBuffer: Infinity })).stdout,
  execa: async (file, args) => (await execa(file, args, { encoding: 'buffer', maxBuffer: Infinity, stripFinalNewline: false })).stdout,
  'child_process.execFile': async (file, args) =>
    (await execFile(file, args, { encoding: 'buffer', maxBuffer: Infinity })).stdout,
};

/**
 * name -> (a, b) => a promise of b's stdout, for the pipeline a | b ([file, ...args] each). execa
 * keeps the first command's output too unless told not to (`buffer: false`, what its docs advise
 * for large outputs: with the default, 256 MiB already ends Node with a fatal "invalid size"
 * error). nano-spawn has no such option and keeps the first command's stdout as a string (871
 * MiB of RSS and 6 s for 256 MiB here), which cannot hold 1 GiB: it is left out.
 */
export const pipelineContenders = {
  'pidfd run().pipe()': async (a, b) => (await run(a[0], a.slice(1)).pipe(b[0], b.slice(1))).stdout,
  "sh -c 'a | b'": async (a, b) => (await execFile('/bin/sh', ['-c', `${a.join(' ')} | ${b.join(' ')}`])).stdout,
  'execa .pipe()': async (a, b) => (await execa(a[0], a.slice(1), { buffer: false }).pipe(b[0], b.slice(1))).stdout,
  'tinyexec .pipe()': async (a, b) => (await tinyexec(a[0], a.slice(1)).pipe(b[0], b.slice(1))).stdout,
};

/** name -> (file, args) => { handle, done } for a command that stays running: the footprint. */
export const liveRunContenders = {
  'pidfd run': (file, args) => {
    const p = run(file, args);
    return { handle: p, done: p.then(() => {}) };
  },
  execa: (file, args) => {
    const p = execa(file, args);
    return { handle: p, done: p.then(() => {}) };
  },
  'nano-spawn': (file, args) => {
    const p = nanoSpawn(file, args);
    return { handle: p, done: p.then(() => {}) };
  },
  tinyexec: (file, args) => {
    const p = tinyexec(file, args, { throwOnError: true });
    return { handle: p, done: p.then(() => {}) };
  },
  'child_process.execFile': (file, args) => {
    let handle;
    const done = new Promise((resolve, reject) => {
      handle = cp.execFile(file, args, (error) => (error ? reject(error) : resolve()));
    });
    return { handle, done };
  },
};
