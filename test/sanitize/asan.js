// `npm run test:asan`: the test suite against the addon built with AddressSanitizer and
// UndefinedBehaviorSanitizer (build/asan/, build/Release is left alone), the runtimes preloaded
// into node and every process the tests start, and the library loading the instrumented addon
// through test/sanitize/use-addon.cjs. Any sanitizer report fails the run, also one written by a
// process whose stderr nobody reads: the runtimes write their reports to files in a fresh
// directory, which is checked at the end.
//
//   npm run test:asan                 all four passes of test/run.js
//   npm run test:asan -- exit fds     only test files whose names contain these words
//   PIDFD_TEST_PASSES=default,fork npm run test:asan

import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { buildHelpers } from '../helpers/build.js';
import { root } from '../helpers/index.js';
import { buildInstrumented } from './build.js';

const flags = ['-fsanitize=address,undefined', '-fno-omit-frame-pointer', '-g'];

function runtime(name) {
  return execFileSync('gcc', [`-print-file-name=${name}`], { encoding: 'utf8' }).trim();
}

buildHelpers();
// The instrumented addon, the preload that loads it, and the reports' directory go where every
// user can reach them: some tests run node as another user, and the checkout may be closed to
// them (a clone in a 0700 directory); their reports must not be lost either.
const shared = mkdtempSync(join(tmpdir(), 'pidfd-asan-'));
chmodSync(shared, 0o755);
const addon = join(shared, 'pidfd.node');
copyFileSync(buildInstrumented('asan', flags), addon);
const preload = join(shared, 'use-addon.cjs');
copyFileSync(join(root, 'test', 'sanitize', 'use-addon.cjs'), preload);
chmodSync(addon, 0o755);
chmodSync(preload, 0o644);
const logs = join(shared, 'reports');
mkdirSync(logs);
chmodSync(logs, 0o1777);
const env = {
  ...process.env,
  LD_PRELOAD: `${runtime('libasan.so')} ${runtime('libubsan.so')}`,
  ASAN_OPTIONS: [
    // See docs/reliability.md: leaks are valgrind's part (test:valgrind); here every program the
    // tests start (sh, sleep, cat, python3 for one) carries the runtime too, and LeakSanitizer
    // would fail them for their own unfreed memory at exit.
    'detect_leaks=0',
    // Off, so that a program the tests crash on purpose (sh -c 'kill -SEGV $$', case A2)
    // dies of SIGSEGV instead of exiting 1 with a report, and so that the programs the tests
    // start have no runtime handlers of their own (E5 checks a child's SigCgt); a crash in node
    // still fails its test.
    'handle_segv=0',
    'handle_sigbus=0',
    'handle_sigfpe=0',
    'halt_on_error=1',
    'detect_stack_use_after_return=0',
    `log_path=${join(logs, 'asan')}`,
  ].join(':'),
  UBSAN_OPTIONS: ['halt_on_error=1', 'print_stacktrace=1', `log_path=${join(logs, 'ubsan')}`].join(':'),
  NODE_OPTIONS: [process.env.NODE_OPTIONS, `--require ${preload}`]
    .filter(Boolean)
    .join(' '),
  PIDFD_TEST_ADDON: addon,
};

// The runs below must really load the instrumented addon.
const loaded = spawnSync(
  process.execPath,
  [
    '--input-type=module',
    '-e',
    `
  import { native } from ${JSON.stringify(join(root, 'dist', 'internal', 'testing.js'))};
  native();
  const maps = (await import('node:fs')).readFileSync('/proc/self/maps', 'utf8');
  process.exit(maps.includes(${JSON.stringify(addon)}) ? 0 : 1);
`,
  ],
  { env, stdio: 'inherit' },
);
if (loaded.status !== 0) {
  console.error(`node did not load ${addon} under the sanitizer settings`);
  process.exit(1);
}
console.log(`sanitized addon: ${addon}\nsanitizer reports go to: ${logs}`);
const run = spawnSync(process.execPath, [join(root, 'test', 'run.js'), ...process.argv.slice(2)], {
  stdio: 'inherit',
  env,
});

const reports = readdirSync(logs);
for (const file of reports) {
  console.error(`\n--- sanitizer report ${file} ---\n${readFileSync(join(logs, file), 'utf8')}`);
}
if (reports.length === 0) rmSync(shared, { recursive: true, force: true });
console.log(`\nsanitizer reports: ${reports.length}; test run: ${run.status === 0 ? 'passed' : 'failed'}`);
process.exit(run.status === 0 && reports.length === 0 ? 0 : 1);
