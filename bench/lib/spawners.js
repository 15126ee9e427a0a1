// The Node contenders of the spawn scenarios, loaded one at a time: a worker that measures one
// contender imports only that contender's library, so that no other library's modules, garbage
// or compiled code share its process (lib/contenders.js loads them all, for the scenarios that
// still alternate contenders inside one process).
//
// Every contender does the same work: spawn the program with stdin, stdout and stderr on
// /dev/null ('ignore'; tinyexec takes it through nodeOptions) and wait for its exit.

import { pathToFileURL } from 'node:url';

// PIDFD_BENCH_LIB points at another build of the library (its dist/index.js), to compare a
// change against the tree it came from; the drop-in is then that build's
// dist/compat/child_process.js (or PIDFD_BENCH_COMPAT).
const pidfdUrl = process.env.PIDFD_BENCH_LIB
  ? pathToFileURL(process.env.PIDFD_BENCH_LIB).href
  : new URL('../../dist/index.js', import.meta.url).href;
const compatUrl = process.env.PIDFD_BENCH_COMPAT
  ? pathToFileURL(process.env.PIDFD_BENCH_COMPAT).href
  : new URL('compat/child_process.js', pidfdUrl).href;

/** A ChildProcess-like object's 'exit' as a promise. */
function exitOf(child) {
  return new Promise((resolve, reject) => {
    child.once('exit', resolve);
    child.once('error', reject);
  });
}

/** name -> async () => start(file, args) returning { handle, done }: the live object and its exit. */
export const nodeLoaders = {
  async pidfd() {
    const { spawn } = await import(pidfdUrl);
    return (file, args) => {
      const sub = spawn(file, args, { stdio: 'ignore' });
      return { handle: sub, done: sub.exited };
    };
  },
  async child_process() {
    const cp = await import('node:child_process');
    return (file, args) => {
      const child = cp.spawn(file, args, { stdio: 'ignore' });
      return { handle: child, done: exitOf(child) };
    };
  },
  async execa() {
    const { execa } = await import('execa');
    return (file, args) => {
      const sub = execa(file, args, { stdio: 'ignore' });
      return { handle: sub, done: sub };
    };
  },
  async 'nano-spawn'() {
    const { default: nanoSpawn } = await import('nano-spawn');
    return (file, args) => {
      const sub = nanoSpawn(file, args, { stdio: 'ignore' });
      return { handle: sub, done: sub };
    };
  },
  async tinyexec() {
    const { x } = await import('tinyexec');
    return (file, args) => {
      const sub = x(file, args, { nodeOptions: { stdio: 'ignore' }, throwOnError: true });
      return { handle: sub, done: sub };
    };
  },
};

/** Contenders a scenario runs only when asked (a scenario's `contenders` param, `npm run
 * bench:kernels`, bench/compare.js): pidfd's spawn with `autoReap` (CLONE_AUTOREAP and the status
 * from PIDFD_GET_INFO on Linux 7.1+; elsewhere the option is ignored and it is `pidfd` again), and
 * the drop-in's spawn + 'exit' (what Node's ChildProcess on top of spawn() costs), and run() with
 * its defaults (bench/compare.js). */
export const optionalLoaders = {
  async 'pidfd autoReap'() {
    const { spawn } = await import(pidfdUrl);
    return (file, args) => {
      const sub = spawn(file, args, { stdio: 'ignore', autoReap: true });
      return { handle: sub, done: sub.exited };
    };
  },
  /** run('/bin/true') with its defaults (output captured, a cgroup per run where one can be made). */
  async 'pidfd run'() {
    const { run } = await import(pidfdUrl);
    return (file, args) => {
      const p = run(file, args);
      return { handle: p, done: p };
    };
  },
  async 'pidfd/child_process'() {
    const cp = await import(compatUrl);
    return (file, args) => {
      const child = cp.spawn(file, args, { stdio: 'ignore' });
      return { handle: child, done: exitOf(child) };
    };
  },
};

/** The C limit contenders: name -> backend of bench/c/limit.c. */
export const cContenders = {
  'C posix_spawn': 'posix_spawn',
  'C clone3': 'clone3',
};

/** Whether name is a Node contender (default or optional). */
export function isNodeContender(name) {
  return name in nodeLoaders || name in optionalLoaders;
}

/** The named Node contender's start function, importing its library now. */
export function loadContender(name) {
  const load = nodeLoaders[name] ?? optionalLoaders[name];
  if (!load) throw new Error(`no Node contender named ${name}`);
  return load();
}
