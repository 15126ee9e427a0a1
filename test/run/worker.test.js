// run() in a worker thread: the worker's environment has its own watchdog, which goes when the
// worker ends; nothing is left behind (the file's invariants check zombies and fds).

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { Worker } from 'node:worker_threads';

import { pidfdOnly } from '../helpers/engine.js';
import { children, isDead, killIfAlive, runFixtures, stateOf, until, waitDead } from './helpers.js';

test('a worker runs a command; when it ends, its watchdog exits and is reaped', async () => {
  const worker = new Worker(join(runFixtures, 'worker-run.mjs'));
  // Listened for from the start: a worker that posts and ends can emit both in one turn.
  const exited = once(worker, 'exit');
  const [message] = await once(worker, 'message');
  assert.equal(message, 'from a worker');
  await exited;
  await until(() => children().length === 0, 'no child left (the watchdog gone and reaped)');
});

test('a worker that ran runSync() is terminated: its watchdog exits and is reaped (the removal of the last cgroup, held back to go with a next record, is not waited for)', async () => {
  const worker = new Worker(join(runFixtures, 'worker-sync.mjs'));
  const exited = once(worker, 'exit');
  const [message] = await once(worker, 'message');
  assert.equal(message.stdout, 'from a worker');
  if (message.cgroup !== null) assert.equal(existsSync(message.cgroup), false, 'removed when runSync() returned');
  await worker.terminate();
  await exited;
  await until(() => children().length === 0, 'no child left (the watchdog gone and reaped)');
});

test('a worker runs a command that leaves a daemon on purpose: the daemon outlives the worker, and no cgroup is left', async () => {
  const worker = new Worker(join(runFixtures, 'worker-daemon.mjs'));
  const exited = once(worker, 'exit');
  const [{ daemon, cgroup }] = await once(worker, 'message');
  try {
    await exited;
    await until(() => children().length === 0, 'no child left (the watchdog gone and reaped)');
    assert.equal(isDead(daemon), false, `the daemon is ${stateOf(daemon)}`);
    if (cgroup !== null) await until(() => !existsSync(cgroup), "the run's cgroup to be removed");
  } finally {
    killIfAlive(daemon);
    await waitDead(daemon);
  }
});

describe('a worker that alone loads the addon, terminated mid-run', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'pidfd-worker-terminate-'));
  after(() => rmSync(scratch, { recursive: true, force: true }));
  let n = 0;
  /** test/run/fixtures/worker-terminate.mjs in a process of its own (its main thread never loads
   * the addon): what terminate() gave, and what was left once things settled. */
  const terminated = async (mode) => {
    const dir = join(scratch, String(++n));
    mkdirSync(dir);
    const { stdout } = await promisify(execFile)(process.execPath, [join(runFixtures, 'worker-terminate.mjs'), mode, dir], { encoding: 'utf8' });
    return JSON.parse(stdout);
  };
  const nothingLeft = { commandLeft: false, children: [], cgroups: [], fds: { gone: [], added: [] } };

  test('while its runSync() blocks: terminate() waits for the command to end; then no fd, child, watchdog or cgroup is left', async () => {
    const { blocked, wentOn: _, ...left } = await terminated('sync');
    assert.equal(blocked, true, 'terminate() had not resolved while the command ran');
    assert.deepEqual(left, nothingLeft);
  });

  // Node's child_process (the portable engine) reaps a child in the loop of the worker that
  // started it: once that worker is gone, the child's exit leaves a zombie that nothing reaps.
  const reaped = pidfdOnly("a terminated worker's child_process child is never reaped by Node");
  test('with IPC messages in flight both ways: the child, its cgroup, the watchdog and every fd go', reaped, async () => {
    const { blocked: _, wentOn: __, ...left } = await terminated('ipc');
    assert.deepEqual(left, nothingLeft);
  });

  // The run goes on after the worker (docs/run.md): while it does, the thread that reaps an ended
  // environment's children (native/watch.c) holds its epoll set, the pidfds of the command and of
  // the watchdog, and the run's cgroup.events. They must all go once the command has ended.
  for (const mode of ['run', 'tee']) {
    const what = mode === 'tee' ? 'with its stdout to a file and a capture (a tee)' : 'with its default per-run cgroup';
    test(`while run() of \`sleep 100\` goes on, ${what}: the command outlives the worker; once it is killed, no fd, child, watchdog or cgroup is left`, reaped, async () => {
      const { blocked: _, wentOn, ...left } = await terminated(mode);
      assert.equal(wentOn, true, 'the command still ran after terminate()');
      assert.deepEqual(left, nothingLeft);
    });
  }
});
