// run() in a worker thread: the worker's environment has its own watchdog, which goes when the
// worker ends; nothing is left behind (the file's invariants check zombies and fds).

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { join } from 'node:path';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';

import { children, runFixtures, until } from './helpers.js';

test('a worker runs a command; when it ends, its watchdog exits and is reaped', async () => {
  const worker = new Worker(join(runFixtures, 'worker-run.mjs'));
  const [message] = await once(worker, 'message');
  assert.equal(message, 'from a worker');
  await once(worker, 'exit');
  await until(() => children().length === 0, 'no child left (the watchdog gone and reaped)');
});
