// run() in a worker thread: the worker's environment has its own watchdog, which goes when the
// worker ends; nothing is left behind (the file's invariants check zombies and fds).

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';

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
