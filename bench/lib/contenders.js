// The Node contenders: each starts `file args` with stdio ignored and gives a promise of its exit.
//
// Every contender does the same work: spawn the program with stdin, stdout and stderr on
// /dev/null ('ignore'; tinyexec takes it through nodeOptions) and wait for its exit. The C limit
// contenders live in limit.js.

import cp from 'node:child_process';
import { pathToFileURL } from 'node:url';

import { execa } from 'execa';
import nanoSpawn from 'nano-spawn';
import { x as tinyexec } from 'tinyexec';

// PIDFD_BENCH_LIB points at another build of the library (its dist/index.js), to compare a
// change against the tree it came from.
const pidfdUrl = process.env.PIDFD_BENCH_LIB
  ? pathToFileURL(process.env.PIDFD_BENCH_LIB).href
  : new URL('../../dist/index.js', import.meta.url).href;
const { spawn: pidfdSpawn } = await import(pidfdUrl);

/** name -> start(file, args) returning { handle, done }: the live object and its exit. */
export const nodeContenders = {
  pidfd(file, args) {
    const sub = pidfdSpawn(file, args, { stdio: 'ignore' });
    return { handle: sub, done: sub.exited };
  },
  child_process(file, args) {
    const child = cp.spawn(file, args, { stdio: 'ignore' });
    const done = new Promise((resolve, reject) => {
      child.once('exit', resolve);
      child.once('error', reject);
    });
    return { handle: child, done };
  },
  execa(file, args) {
    const sub = execa(file, args, { stdio: 'ignore' });
    return { handle: sub, done: sub };
  },
  'nano-spawn'(file, args) {
    const sub = nanoSpawn(file, args, { stdio: 'ignore' });
    return { handle: sub, done: sub };
  },
  tinyexec(file, args) {
    const sub = tinyexec(file, args, { nodeOptions: { stdio: 'ignore' }, throwOnError: true });
    return { handle: sub, done: sub };
  },
};

/** Contenders a scenario runs only when asked (the sequential scenario's `contenders` param,
 * `npm run bench:kernels`): pidfd's spawn with `autoReap` (CLONE_AUTOREAP and the status from
 * PIDFD_GET_INFO on Linux 7.1+; elsewhere the option is ignored and it is `pidfd` again). */
export const optionalContenders = {
  'pidfd autoReap'(file, args) {
    const sub = pidfdSpawn(file, args, { stdio: 'ignore', autoReap: true });
    return { handle: sub, done: sub.exited };
  },
};

/** The C limit contenders: name -> backend of bench/c/limit.c. */
export const cContenders = {
  'C posix_spawn': 'posix_spawn',
  'C clone3': 'clone3',
};

/** Spawns file and waits for its exit with the named Node contender. */
export function spawnAndWait(name, file, args = []) {
  return (nodeContenders[name] ?? optionalContenders[name])(file, args).done;
}
