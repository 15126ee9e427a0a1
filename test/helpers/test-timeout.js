// The bound on every test: when nothing has started or ended in a test file for TEST_TIMEOUT_MS,
// the test still running fails by name and its file's process ends, instead of the run hanging
// with no report until someone kills it. Loaded with `node --import` by test/run.js, which
// Node's test runner passes on to each file's process.
//
// Node's own `--test-timeout` is not used: on Node 20 and 22 it bounds a whole file (the report
// names the file, not the test), and on Node 24 and later it fails the test by name but leaves
// the file's process running as long as the hanging test left something in the event loop (a
// child, a pipe, a timer): the run hangs all the same. So the file's process gets a timer of its
// own, armed again at every start and end of a test (a root-level beforeEach and afterEach, which
// run before the file's own hooks and, for afterEach, also when the test or a hook failed). When
// it fires it names the test still running (or says that none was: the file's top level and its
// before() and after() hooks are bound too), lists what the event loop still holds, and exits 1:
// the runner then fails the file, and the pass.
//
// A test that blocks its thread (a busy loop, a blocking system call) is out of its reach: no
// timer runs then. The library's calls do not block.
//
// The bound is generous: five hang guards (GUARD_MS in helpers/index.js, which is four times
// longer under the sanitizers), so that a test's own guard, with its more precise message, always
// fires first. The longest tests (E5 on the C core, up to 3 guards; J1's 800 forks under the
// sanitizers) fit. PIDFD_TEST_TIMEOUT_MS overrides it (the test of this file uses a small one).

import { writeSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

const sanitized = process.env.PIDFD_TEST_ADDON !== undefined;
const guardMs = sanitized ? 240000 : 60000; // GUARD_MS, without loading helpers/index.js here
const fromEnv = Number(process.env.PIDFD_TEST_TIMEOUT_MS);

/** The bound on one test, and on the stretches between tests, in ms. */
export const TEST_TIMEOUT_MS = fromEnv > 0 ? fromEnv : 5 * guardMs;

// Only in the process of a test file (as in invariants.js): not in the runner itself, not in
// worker_threads, not in fixtures.
const inTestFile =
  process.env.NODE_TEST_CONTEXT !== undefined && isMainThread && /\.test\.[cm]?js$/.test(process.argv[1] ?? '');

if (inTestFile) {
  const { afterEach, beforeEach } = await import('node:test');
  // The timers' own functions, taken now: a test that mocks the timers cannot disarm these.
  const arm = globalThis.setTimeout;
  const disarm = globalThis.clearTimeout;
  /** The tests running now (a test and its subtests; several with `concurrency`), oldest first. */
  const running = new Map();
  let lastEnded = null;
  let since = Date.now();
  let timer;

  const expire = () => {
    const names = [...running.values()].map((name) => `"${name}"`);
    const last = lastEnded === null ? 'none' : `"${lastEnded}"`;
    const what =
      names.length > 0
        ? `test ${names.at(-1)}${names.length > 1 ? ` (running: ${names.join(', ')})` : ''}`
        : `no test (the file's top level or its before()/after() hooks; last test ended: ${last})`;
    const held = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap');
    writeSync(
      2,
      `\ntest timed out: ${what} in ${process.argv[1]}: nothing started or ended for ${Date.now() - since} ms ` +
        `(the bound on every test: ${TEST_TIMEOUT_MS} ms, PIDFD_TEST_TIMEOUT_MS); ` +
        `the event loop holds: ${held.join(', ') || 'nothing'}\n`,
    );
    process.exit(1);
  };
  const rearm = () => {
    disarm(timer);
    since = Date.now();
    timer = arm(expire, TEST_TIMEOUT_MS);
    timer.unref(); // never what keeps the file's process alive
  };

  rearm();
  beforeEach((t) => {
    running.set(t, t.fullName ?? t.name); // fullName: the suites' names too, where Node has it
    rearm();
  });
  afterEach((t) => {
    lastEnded = running.get(t) ?? t.name;
    running.delete(t);
    rearm();
  });
}
