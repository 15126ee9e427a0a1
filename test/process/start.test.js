// The start path beneath every layer (src/process/start.ts): a plan in, { pid, pidfd, fds } out,
// with the caller choosing whether the exit watcher takes the child. The smallest real uses of
// it that are not spawn(): a blocking native wait on a child nobody watches, and a watched child
// whose exit is routed by hand.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { errno, SpawnError } from '../../dist/errors.js';
import { exitStatusFromRecord } from '../../dist/process/exit-status.js';
import { onExit } from '../../dist/process/exit-watcher.js';
import { normalizeSpawn } from '../../dist/process/options.js';
import { start } from '../../dist/process/start.js';
import { native } from '../../dist/internal/testing.js';
import { assertNothingLeft, fdSnapshot, reaped } from '../helpers/index.js';

const quiet = { stdio: 'ignore' };

describe('start() without the watcher: the caller owns the pidfd and the reap', () => {
  test('binding.wait() blocks until the child exits, reaps it, and gives its status with rusage', () => {
    const fdsBefore = fdSnapshot();
    const child = start(normalizeSpawn('/bin/sh', ['-c', 'exit 7'], quiet), null);
    assert.ok(child.pid > 0 && child.pidfd >= 0);
    const record = native().wait(child.pidfd, -1);
    assert.ok(record instanceof Float64Array, `wait gave ${record}`);
    const status = exitStatusFromRecord(child.pid, record, 0, 'child');
    assert.equal(status.code, 7);
    assert.equal(status.signal, null);
    assert.equal(typeof status.rusage.userCPUTime, 'number');
    assert.equal(reaped(child.pid), true, 'the wait reaped the child');
    assert.equal(native().close(child.pidfd), 0, 'the pidfd was still open, and is the caller\'s to close');
    assertNothingLeft(fdsBefore, 'an unwatched child');
  });

  test('the wait gives up after its timeout with ETIMEDOUT, and the child stays ours to end', () => {
    const fdsBefore = fdSnapshot();
    const child = start(normalizeSpawn('sleep', ['30'], quiet), null);
    assert.equal(native().wait(child.pidfd, 50), -errno.ETIMEDOUT);
    assert.equal(reaped(child.pid), false, 'a timed-out wait reaps nothing');
    assert.equal(native().sendSignal(child.pidfd, 9, 0), 0);
    const status = exitStatusFromRecord(child.pid, native().wait(child.pidfd, -1), 0, 'child');
    assert.equal(status.signal, 'SIGKILL');
    native().close(child.pidfd);
    assertNothingLeft(fdsBefore, 'a killed unwatched child');
  });

  test('the parent ends of pipes come back as raw fds, in stdio order', async () => {
    const fdsBefore = fdSnapshot();
    const n = normalizeSpawn('/bin/sh', ['-c', 'echo out; echo err >&2'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const child = start(n, null);
    assert.deepEqual([...child.fds].map((fd) => fd >= 3), [false, true, true]);
    assert.equal(child.fds[0], -1, "'ignore' has no parent end");
    const { readFileSync } = await import('node:fs');
    const status = exitStatusFromRecord(child.pid, native().wait(child.pidfd, -1), 0, 'child');
    assert.equal(status.code, 0);
    assert.equal(readFileSync(child.fds[1], 'utf8'), 'out\n');
    assert.equal(readFileSync(child.fds[2], 'utf8'), 'err\n');
    for (const fd of [child.fds[1], child.fds[2], child.pidfd]) native().close(fd);
    assertNothingLeft(fdsBefore, 'an unwatched child with pipes');
  });

  test('a failed start throws the SpawnError spawn() would, and leaves nothing', () => {
    const fdsBefore = fdSnapshot();
    const error = (() => {
      try {
        start(normalizeSpawn('/nonexistent/program', [], quiet), null);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    assert.ok(error instanceof SpawnError, String(error));
    assert.deepEqual([error.code, error.syscall, error.path], ['ENOENT', 'execve', '/nonexistent/program']);
    assertNothingLeft(fdsBefore, 'a failed start');
  });
});

describe('start() with the watcher: the caller routes the exit', () => {
  test('the exit record reaches the handler registered for the pidfd, after the watcher reaped the child', async () => {
    const child = start(normalizeSpawn('/bin/sh', ['-c', 'exit 5'], quiet), { ref: true });
    const status = await new Promise((resolve) => {
      onExit(child.pidfd, (records, at) => resolve(exitStatusFromRecord(child.pid, records, at, 'child')));
    });
    assert.equal(status.code, 5);
    assert.equal(reaped(child.pid), true);
  });
});
