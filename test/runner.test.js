// The test runner itself (test/run.js): every test is bounded (test/helpers/test-timeout.js), so
// a test that hangs fails by name and its file ends, instead of the whole run hanging with no
// report. Runs test/fixtures/hang.test.js through test/run.js with a small bound.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { fixtures, GUARD_MS, root, sanitized } from './helpers/index.js';

// Small, so that the test is quick; above what starting the fixture's process takes.
const BOUND_MS = sanitized ? 12000 : 3000;

/** `node test/run.js hang.test.js` in the default pass, hanging where `where` says. */
function runHanging(where) {
  const env = {
    ...process.env,
    PIDFD_TEST_PASSES: 'default',
    PIDFD_TEST_TIMEOUT_MS: String(BOUND_MS),
    PIDFD_HANG_IN: where,
  };
  // Set by the runner that runs this file: with it, the inner runner would report to it.
  delete env.NODE_TEST_CONTEXT;
  // A process group of its own: if the bound fails, the hang guard ends the fixture's process
  // too, not only the runner (which would leave it running, orphaned).
  const run = spawn(process.execPath, [join(root, 'test', 'run.js'), join(fixtures, 'hang.test.js')], {
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  run.stdout.setEncoding('utf8').on('data', (s) => (output += s));
  run.stderr.setEncoding('utf8').on('data', (s) => (output += s));
  const guard = setTimeout(() => process.kill(-run.pid, 'SIGKILL'), GUARD_MS);
  return new Promise((resolve) => {
    run.on('close', (code, signal) => {
      clearTimeout(guard);
      resolve({ code, signal, output });
    });
  });
}

describe('test/run.js: the bound on every test', { concurrency: true }, () => {
  test('a test that hangs fails by name, its file ends, and the run fails', async () => {
    const r = await runHanging('test');
    assert.equal(r.signal, null, `the run did not end by itself:\n${r.output}`);
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /test timed out: test "a test that never ends" in \S*hang\.test\.js/);
    assert.match(r.output, new RegExp(`the bound on every test: ${BOUND_MS} ms`));
    assert.match(r.output, /✔ a test that passes/);
    assert.match(r.output, /failed passes: default/);
  });

  test('a before() hook that hangs fails its file, saying that no test had started', async () => {
    const r = await runHanging('before');
    assert.equal(r.signal, null, `the run did not end by itself:\n${r.output}`);
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /test timed out: no test \(the file's top level or its before\(\)\/after\(\) hooks/);
    assert.match(r.output, /last test ended: none\)/);
    assert.match(r.output, /failed passes: default/);
  });

  test('a file whose tests end passes under the same bound', async () => {
    const r = await runHanging('nowhere');
    assert.equal(r.code, 0, r.output);
    assert.doesNotMatch(r.output, /timed out/);
  });
});
