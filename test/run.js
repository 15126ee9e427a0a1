// `npm test`: builds the C test helpers, then runs the whole suite four times: with the default
// backend, with each forced backend, and under a seccomp filter that makes clone3 fail with
// ENOSYS as Docker's default profile does (TESTPLAN I1). Any failing pass fails the run.

import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { buildHelpers } from './helpers/build.js';

const here = dirname(fileURLToPath(import.meta.url));
const bin = buildHelpers();
// Checked around every test file: no zombie, no new fd, no SIGCHLD handler (helpers/invariants.js).
// Node 20's test runner passes --import on to the process of each file.
const invariants = pathToFileURL(join(here, 'helpers', 'invariants.js')).href;
const only = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.test.js'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort()
  .map((f) => join(here, f));

const passes = [
  { name: 'default', env: {}, prefix: [] },
  { name: 'clone', env: { PIDFD_BACKEND: 'clone' }, prefix: [] },
  { name: 'fork', env: { PIDFD_BACKEND: 'fork' }, prefix: [] },
  { name: 'seccomp-enosys', env: {}, prefix: [join(bin, 'seccomp-launcher'), 'clone3=38', '--'] },
];
const selected = process.env.PIDFD_TEST_PASSES?.split(',') ?? passes.map((p) => p.name);

const failed = [];
for (const pass of passes.filter((p) => selected.includes(p.name))) {
  console.log(`\n=== pass: ${pass.name} ===\n`);
  const command = [...pass.prefix, process.execPath, '--import', invariants, '--test', '--test-reporter=spec', ...files];
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
