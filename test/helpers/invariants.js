// Invariants checked around every test file (loaded with `node --import` by test/run.js, which
// Node 20's test runner passes on to each file's process): when the file's process is about to
// exit, it has no zombie child, no fd that it did not have after the warm-up, and SIGCHLD's
// disposition (SigCgt bit 17) is what it was when the process started. A broken invariant fails
// the file (exit code 1) with the reason on stderr.
//
// `beforeExit` is used rather than an `after()` hook because it comes after every test and every
// `after()` hook of the file (a file's own `after()` cleanup may close fds), and only once the
// event loop is empty: no child_process child and no ref'd Subprocess is still running.

import { spawn as cpSpawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, watch } from 'node:fs';
import { tmpdir } from 'node:os';
import { isMainThread } from 'node:worker_threads';

import { fdDiff, fdSnapshot, sigchldCaught, zombies } from './index.js';

// Only in the process of a test file: not in the runner itself, not in worker_threads (which get
// --import too), not in fixtures (which inherit NODE_TEST_CONTEXT through the environment).
// Also in the process of an example of the documentation that test/run/examples.test.js runs
// (the module it names in PIDFD_EXAMPLE_MODULE; not the Node children the example starts).
const inTestFile =
  isMainThread &&
  ((process.env.NODE_TEST_CONTEXT !== undefined && /\.test\.[cm]?js$/.test(process.argv[1] ?? '')) ||
    (process.env.PIDFD_EXAMPLE_MODULE !== undefined && process.argv[1] === process.env.PIDFD_EXAMPLE_MODULE));

if (inTestFile) {
  const caughtAtStart = sigchldCaught();

  // Warm-up: fds that Node, libuv and the library open on first use and keep for the life of
  // the process: the library's epoll set (with its uv_poll); libuv's signal pipes, opened by the
  // first child_process child; the /dev/null that libuv keeps in reserve for EMFILE, opened by
  // the first stream (here the child's stdout pipe); libuv's inotify fd, from the first fs.watch.
  const { ensureWatcher } = await import('../../dist/process/exit-watcher.js');
  ensureWatcher();
  const cp = cpSpawn('/bin/true', [], { stdio: ['ignore', 'pipe', 'ignore'] });
  cp.stdout.resume();
  await once(cp, 'close');
  watch(tmpdir()).close();
  await new Promise((resolve) => setImmediate(resolve));
  const { probeCgroups } = await import('../../dist/cgroup/hierarchy.js');
  const cgroupParent = probeCgroups().parent;
  const fdsAtStart = fdSnapshot();

  let zombieRounds = 0;
  let checked = false;
  const check = () => {
    checked = true;
    const broken = [];
    const leftZombies = zombies();
    if (leftZombies.length > 0) broken.push(`zombie children: ${leftZombies.join(', ')}`);
    const diff = fdDiff(fdsAtStart);
    if (diff !== '') broken.push(`fds differ from the start of the file:\n${diff}`);
    // No per-run cgroup of this process is left (support() made one once, and removed it).
    if (cgroupParent !== null) {
      let left = [];
      try {
        left = readdirSync(cgroupParent).filter((name) => name.startsWith(`pidfd-${process.pid}-`));
      } catch {}
      if (left.length > 0) broken.push(`cgroup directories left in ${cgroupParent}: ${left.join(', ')}`);
    }
    const caughtAtEnd = sigchldCaught();
    if (caughtAtEnd !== caughtAtStart) {
      broken.push(
        `SIGCHLD handler ${caughtAtEnd ? 'installed' : 'removed'} during the file ` +
          `(SigCgt bit 17 was ${caughtAtStart ? 1 : 0}, now ${caughtAtEnd ? 1 : 0})`,
      );
    }
    if (broken.length > 0) {
      process.stderr.write(`invariants broken in ${process.argv[1]}:\n${broken.join('\n')}\n`);
      process.exitCode = 1;
    }
  };
  process.on('beforeExit', () => {
    if (checked) return;
    // An unref'd child that exited while the loop was idle is reaped at the next loop turn:
    // let the loop run a little (bounded) before calling a zombie a zombie.
    if (zombies().length > 0 && zombieRounds++ < 50) {
      setTimeout(() => {}, 20);
      return;
    }
    check();
  });
  // A file that ends with process.exit() never reaches beforeExit: check there, as things are.
  process.on('exit', () => {
    if (!checked) check();
  });
}
