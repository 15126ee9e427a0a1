// Every way a pidfd/child_process child can fail or be cut short leaves nothing behind: no fd, no
// zombie, no child. (Each test is wrapped in leakFree; the file's invariants check the same at
// its end.)

import assert from 'node:assert/strict';
import { execFileSync, spawnSync as nodeSpawnSync } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';

import * as compat from '../../dist/compat/child_process.js';
import { fixtures, hasChildren, leakFree } from '../helpers/index.js';

const hasPrlimit = nodeSpawnSync('prlimit', ['--version']).status === 0;

describe('nothing is left behind', () => {
  test('a child that cannot start, with pipes and an IPC channel', leakFree(async () => {
    const child = compat.spawn('pidfd-compat-no-such-program', [], { stdio: ['pipe', 'pipe', 'pipe', 'ipc', 'pipe'] });
    const [error] = await once(child, 'error');
    assert.equal(error.code, 'ENOENT');
    await once(child, 'close');
  }));

  test('a stdio entry naming a closed fd (thrown EBADF)', leakFree(() => {
    assert.throws(() => compat.spawn('/bin/true', [], { stdio: ['pipe', 'pipe', 'pipe', 999] }), { code: 'EBADF' });
    assert.equal(compat.spawnSync('/bin/true', [], { stdio: ['pipe', 'pipe', 'pipe', 999] }).error.code, 'EBADF');
  }));

  test('a child killed by the timeout option, its output unread', leakFree(async () => {
    // exec: the shell becomes sleep, so no grandchild holds the pipes open ('close' waits for them).
    const child = compat.spawn('/bin/sh', ['-c', 'echo unread; exec sleep 30'], { timeout: 50 });
    const [, signal] = await once(child, 'close');
    assert.equal(signal, 'SIGTERM');
  }));

  test('execFile cut by maxBuffer and by its timeout', leakFree(async () => {
    const run = promisify(compat.execFile);
    await assert.rejects(run('/bin/sh', ['-c', 'head -c 100000 /dev/zero; sleep 30'], { maxBuffer: 100 }), {
      code: 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER',
    });
    await assert.rejects(run('/bin/sleep', ['30'], { timeout: 50 }), { killed: true, signal: 'SIGTERM' });
  }));

  test('a child aborted through an AbortSignal', leakFree(async () => {
    const controller = new AbortController();
    const promise = promisify(compat.execFile)('/bin/sleep', ['30'], { signal: controller.signal });
    // (not events.once: it rejects with the 'error' event)
    const closed = new Promise((resolve) => promise.child.on('close', resolve));
    controller.abort();
    // The callback comes with the 'error', before the child has exited (as in Node).
    await assert.rejects(promise, { name: 'AbortError' });
    await closed;
  }));

  test('a child whose pipes are destroyed before it exits', leakFree(async () => {
    const child = compat.spawn('/bin/sh', ['-c', 'sleep 0.1; echo late'], { stdio: 'pipe' });
    for (const stream of child.stdio) stream.destroy();
    await once(child, 'close');
  }));

  test('spawnSync cut by maxBuffer, by its timeout, and a child that does not read its input', leakFree(() => {
    assert.equal(compat.spawnSync('/bin/sh', ['-c', 'head -c 100000 /dev/zero; sleep 30'], { maxBuffer: 10 }).error.code, 'ENOBUFS');
    assert.equal(compat.spawnSync('/bin/sleep', ['30'], { timeout: 50 }).error.code, 'ETIMEDOUT');
    assert.equal(compat.spawnSync('/bin/true', [], { input: Buffer.alloc(1 << 22) }).error?.code, 'EPIPE');
    assert.equal(hasChildren(), false);
  }));

  test('with the fd table full: EMFILE from spawn and spawnSync, until enough fds are free; nothing left by any attempt', { skip: !hasPrlimit && 'prlimit(1) is not installed' }, () => {
    const out = execFileSync('prlimit', ['--nofile=64:64', process.execPath, join(fixtures, 'compat', 'emfile.mjs')], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    const report = JSON.parse(out);
    for (const [kind, attempts] of Object.entries(report)) {
      const last = attempts.at(-1);
      assert.equal(last.code, 0, `${kind}: no attempt succeeded: ${JSON.stringify(attempts)}`);
      for (const attempt of attempts.slice(0, -1)) {
        const code = kind === 'spawn' ? attempt.errors[0] ?? attempt.thrown : attempt.error;
        assert.equal(code, 'EMFILE', `${kind} with ${attempt.free} free fds: ${JSON.stringify(attempt)}`);
      }
      for (const attempt of attempts) {
        assert.equal(attempt.leftOpen, '', `${kind} with ${attempt.free} free fds left fds open`);
        assert.equal(attempt.children, false, `${kind} with ${attempt.free} free fds left a child`);
      }
    }
  });
});
