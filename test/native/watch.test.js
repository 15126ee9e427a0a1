// Threads: a child's exit is its whole thread group's exit, whichever thread leaves first or
// calls execve; and children spawned from several worker_threads at once each get their own fds
// and their own exits (TESTPLAN A6, A7, J1).

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { Worker } from 'node:worker_threads';

import { spawn } from '../../dist/index.js';
import { native } from '../../dist/internal/testing.js';
import {
  fixtures,
  hasChildren,
  helperBin,
  procStatus,
  reaped,
  waitForState,
  withTimeout,
  zombies,
} from '../helpers/index.js';

const GUARD_MS = 20000; // hang guard only

/** The lines of a stream, one at a time: `await next()`. */
function lineReader(stream) {
  const lines = createInterface({ input: stream })[Symbol.asyncIterator]();
  return async () => (await withTimeout(lines.next(), GUARD_MS, 'a line from the child')).value;
}

/** How many threads /proc lists for pid (a zombie leader included). */
function taskCount(pid) {
  return readdirSync(`/proc/${pid}/task`).length;
}

async function eventually(check, what) {
  const deadline = Date.now() + GUARD_MS;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`never happened: ${what}`);
    await sleep(5);
  }
}

/**
 * Sends one exit through this thread's epoll set and waits until it has been delivered. epoll
 * reports every ready pidfd in the same round, so a pidfd that was already readable would have
 * been delivered by then too.
 */
async function drainExits() {
  const sentinel = spawn('/bin/true', [], { stdio: 'ignore' });
  await withTimeout(sentinel.exited, GUARD_MS, 'the sentinel exit');
  await new Promise(setImmediate);
}

/** Asserts that the kernel and the library both still see `sub` as running. */
async function assertStillRunning(sub, when) {
  await drainExits();
  assert.equal(native().pidfdExited(sub.pidfd.fd), 0, `the pidfd is not readable ${when}`);
  assert.equal(sub.exitStatus, null, `no exit was reported ${when}`);
}

describe('A6: a leader thread that exits early does not end the process', () => {
  test('the exit arrives only after the last thread, with the status of the last thread', async () => {
    const sub = spawn(join(helperBin, 'leader-exit'), [], { stdio: ['pipe', 'pipe', 'inherit'] });
    const next = lineReader(sub.stdout);
    assert.equal(await next(), 'ready');
    await waitForState(sub.pid, ['Z']); // the leader has exited; its two threads run on
    assert.equal(taskCount(sub.pid), 3);
    await assertStillRunning(sub, 'after the leader exited');

    sub.stdin.write('x');
    assert.equal(await next(), 'leaving 10');
    await eventually(() => taskCount(sub.pid) === 2, 'the first thread to be gone');
    await assertStillRunning(sub, 'with one thread left');

    sub.stdin.write('x');
    assert.equal(await next(), 'leaving 11');
    const status = await withTimeout(sub.exited, GUARD_MS, 'the exit of the last thread');
    // The kernel reports the status of the thread that exited last (the leader said 7, the first
    // thread 10): an exit reported at the leader's exit could not carry 11.
    assert.deepEqual([status.pid, status.code, status.signal], [sub.pid, 11, null]);
    assert.notEqual(status.rusage, null);
    assert.ok(reaped(sub.pid));
  });
});

describe('A7: execve from a thread that is not the leader is not an exit', () => {
  test('the process lives on under its pid as the new program, and exits once', async () => {
    const script = 'echo exec-done; read line; exit 4';
    const sub = spawn(join(helperBin, 'exec-from-thread'), ['/bin/sh', '-c', script], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const next = lineReader(sub.stdout);
    assert.equal(await next(), 'exec-done');
    // execve ended the leader and the other thread, and gave the exec'ing thread the leader's pid.
    const status = procStatus(sub.pid);
    assert.equal(status.Tgid, String(sub.pid));
    assert.equal(status.Threads, '1');
    assert.equal(status.Name, 'sh');
    await assertStillRunning(sub, 'after the exec');

    sub.stdin.write('\n');
    const exit = await withTimeout(sub.exited, GUARD_MS, 'the exit of the shell');
    assert.deepEqual([exit.pid, exit.code, exit.signal], [sub.pid, 4, null]);
    assert.notEqual(exit.rusage, null, 'reaped by waitid, not recovered after someone else');
    assert.ok(reaped(sub.pid));
  });
});

describe('J1: worker_threads spawning at the same time', () => {
  test('4 workers x 200 children: each child sees its own fd 3, each exit reaches its thread', async () => {
    const workers = Array.from(
      { length: 4 },
      (_, index) =>
        new Worker(join(fixtures, 'worker-fd3.mjs'), { workerData: { index, count: 200, batch: 25 } }),
    );
    const results = await withTimeout(
      Promise.all(
        workers.map(async (worker) => {
          const [[message]] = await Promise.all([once(worker, 'message'), once(worker, 'exit')]);
          return message;
        }),
      ),
      60000,
      '4 workers x 200 spawns',
    );
    results.forEach((result, index) => {
      assert.equal(result.index, index);
      assert.deepEqual(result.problems, []);
      assert.equal(result.ok, 200);
    });
    assert.deepEqual(zombies(), []);
    assert.equal(hasChildren(), false);
  });
});
