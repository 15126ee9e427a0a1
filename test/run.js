// `npm test`: builds the C test helpers, then runs the whole suite five times: with the default
// backend, with each forced backend, under a seccomp filter that makes clone3 fail with ENOSYS
// as Docker's default profile does (case I1), and with the thread exit watcher that Bun and Deno
// get (native/watch_thread.c) in place of Node's uv_poll; then the run()/`$`/drop-in files twice
// more on the portable engine (Node's child_process): forced, and under a seccomp filter that
// leaves no pidfd backend (clone3, pidfd_open and CLONE_PIDFD refused). Any failing pass fails the run. Every
// test is bounded (helpers/test-timeout.js): one that hangs fails by name, and its file ends.

import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { buildHelpers } from './helpers/build.js';

const here = dirname(fileURLToPath(import.meta.url));
const bin = buildHelpers();
// Checked around every test file: no zombie, no new fd, no SIGCHLD handler (helpers/invariants.js).
// Node 20's test runner passes --import on to the process of each file.
const invariants = pathToFileURL(join(here, 'helpers', 'invariants.js')).href;
// The bound on every test, and on the hooks between them (helpers/test-timeout.js).
const bound = pathToFileURL(join(here, 'helpers', 'test-timeout.js')).href;
// Test files mirror src/ and native/ (test/process/, test/native/, test/cli/, ...). These hold
// what the tests use, not tests: fixtures, helpers, the sanitizer runs and the full soak.
const notTests = new Set(['fixtures', 'helpers', 'sanitize', 'soak'].map((d) => join(here, d)));

/** Every *.test.js under dir, as paths relative to test/ ('process/spawn.test.js'). */
function testFiles(dir) {
  const found = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!notTests.has(path)) found.push(...testFiles(path));
    } else if (entry.name.endsWith('.test.js')) {
      found.push(relative(here, path));
    }
  }
  return found;
}

// `node test/run.js cli/ pidfd` runs the files whose path under test/ contains any of the words;
// an absolute path to a *.test.js file is run as it is (the runner's own test runs a fixture).
const args = process.argv.slice(2);
const given = args.filter((a) => isAbsolute(a) && a.endsWith('.test.js'));
const only = args.filter((a) => !given.includes(a));
const files = [
  ...(only.length === 0 && given.length > 0
    ? []
    : testFiles(here)
        .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
        .sort()
        .map((f) => join(here, f))),
  ...given,
];
if (files.length === 0) {
  console.error(`no test file under test/ matches ${only.map((o) => JSON.stringify(o)).join(' or ')}`);
  process.exit(1);
}

// The run()/`$` and drop-in files that the portable engine (src/engine-choice.ts) runs too: its own
// passes take only these (tests of what only the pidfd engine guarantees skip there, saying so).
const portableFiles = ['run/run.test', 'run/examples', 'run/capture', 'run/endings', 'run/iterate', 'run/options', 'run/pipe', 'run/template', 'run/worker', 'run/dollar', 'run/halt', 'run/ipc', 'run/portable', 'platforms'];
const passes = [
  { name: 'default', env: {}, prefix: [] },
  { name: 'clone', env: { PIDFD_BACKEND: 'clone' }, prefix: [] },
  { name: 'fork', env: { PIDFD_BACKEND: 'fork' }, prefix: [] },
  { name: 'seccomp-enosys', env: {}, prefix: [join(bin, 'seccomp-launcher'), 'clone3=38', '--'] },
  { name: 'thread', env: { PIDFD_WATCHER: 'thread' }, prefix: [] },
  // run(), `$` and the drop-in on Node's child_process, forced.
  { name: 'portable', env: { PIDFD_ENGINE: 'portable' }, prefix: [], only: portableFiles },
  // A Linux without pidfds: clone3, pidfd_open and clone with CLONE_PIDFD all fail with ENOSYS,
  // so no backend works, and run() picks the portable engine by itself.
  {
    name: 'seccomp-nopidfd',
    env: {},
    prefix: [join(bin, 'seccomp-launcher'), 'clone3=38', 'pidfd_open=38', 'clone:pidfd=38', '--'],
    only: portableFiles,
  },
];
const selected = process.env.PIDFD_TEST_PASSES?.split(',') ?? passes.map((p) => p.name);

const failed = [];
for (const pass of passes.filter((p) => selected.includes(p.name))) {
  const passFiles = pass.only === undefined ? files : files.filter((f) => pass.only.some((o) => relative(here, f).includes(o)));
  if (passFiles.length === 0) continue;
  console.log(`\n=== pass: ${pass.name} ===\n`);
  const command = [...pass.prefix, process.execPath, '--import', invariants, '--import', bound, '--test', '--test-reporter=spec', ...passFiles];
  const r = spawnSync(command[0], command.slice(1), {
    stdio: 'inherit',
    env: { ...process.env, ...pass.env, PIDFD_TEST_PASS: pass.name },
  });
  if (r.status !== 0) failed.push(`${pass.name} (${r.status ?? r.signal})`);
}
if (failed.length > 0) {
  console.error(`\nfailed passes: ${failed.join(', ')}`);
  process.exit(1);
}
console.log('\nall passes succeeded');
