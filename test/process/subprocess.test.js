// Signalling through the pidfd: never the wrong process, a defined answer after the exit,
// and clear errors for signals that do not exist (TESTPLAN B1-B3, B5, B6).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';

import { PidFd, spawn } from '../../dist/index.js';
import { native } from '../../dist/internal/testing.js';
import { procStatus, thrown, withTimeout } from '../helpers/index.js';

const quiet = { stdio: 'ignore' };

/** Counts the library's calls into pidfd_send_signal while fn runs. */
function countSendSignal(fn) {
  const binding = native();
  const original = binding.sendSignal;
  let calls = 0;
  binding.sendSignal = (...args) => {
    calls++;
    return original.apply(binding, args);
  };
  try {
    fn();
  } finally {
    binding.sendSignal = original;
  }
  return calls;
}

describe('Subprocess.kill()', () => {
  test('B1: kill(0) probes a live child, kill() sends SIGTERM and the exit says so', async () => {
    const sub = spawn('sleep', ['30'], quiet);
    assert.equal(sub.kill(0), true);
    assert.equal(sub.exitStatus, null, 'kill(0) sends nothing');
    assert.equal(sub.kill(), true);
    const status = await withTimeout(sub.exited, 5000, 'SIGTERM');
    assert.equal(status.signal, 'SIGTERM');
  });

  test('B1: signals can be given by name or by number', async () => {
    const sub = spawn('sleep', ['30'], quiet);
    assert.equal(sub.kill(9), true);
    assert.equal((await sub.exited).signal, 'SIGKILL');
  });

  test('B2: after the exit, kill() returns false and makes no system call', async () => {
    const sub = spawn('/bin/true', [], quiet);
    await sub.exited;
    let results;
    const calls = countSendSignal(() => {
      results = [sub.kill(), sub.kill(0), sub.kill('SIGKILL')];
    });
    assert.deepEqual(results, [false, false, false]);
    assert.equal(calls, 0);
  });

  test('B3: a zombie can still be signalled; the status stays the original one', async () => {
    const sub = spawn('/bin/sh', ['-c', 'exit 5'], quiet);
    // The event loop cannot reap while this code runs synchronously: wait for the zombie here.
    const deadline = Date.now() + 5000;
    while (procStatus(sub.pid).State[0] !== 'Z') {
      if (Date.now() > deadline) throw new Error('child never became a zombie');
    }
    let sent;
    const calls = countSendSignal(() => {
      sent = sub.kill('SIGTERM');
    });
    assert.equal(calls, 1, 'the zombie is not known to have exited yet: the kernel is asked');
    assert.equal(sent, true, 'pidfd_send_signal succeeds on a zombie');
    const status = await withTimeout(sub.exited, 5000, 'zombie reaped');
    assert.deepEqual([status.code, status.signal], [5, null]);
  });

  test('B6: signals that do not exist are refused before anything is sent', async () => {
    const sub = spawn('sleep', ['30'], quiet);
    try {
      for (const bad of [-1, 65, 4096, 1.5, NaN]) {
        const error = thrown(() => sub.kill(bad));
        assert.ok(error instanceof RangeError, `kill(${bad}) throws a RangeError`);
        assert.equal(error.code, 'ERR_OUT_OF_RANGE');
        assert.match(error.message, new RegExp(String(bad).replace('.', '\\.')));
      }
      const unknown = thrown(() => sub.kill('SIGFOO'));
      assert.ok(unknown instanceof TypeError);
      assert.equal(unknown.code, 'ERR_UNKNOWN_SIGNAL');
      assert.match(unknown.message, /SIGFOO/);
      const wrongType = thrown(() => sub.kill({}));
      assert.ok(wrongType instanceof TypeError);
      assert.equal(sub.kill(0), true, 'the child was not affected');
      assert.equal(sub.exitStatus, null);
    } finally {
      sub.kill('SIGKILL');
      await sub.exited;
    }
  });

  test('real-time signals are accepted by name and reported by name', async () => {
    const sub = spawn('sleep', ['30'], quiet);
    assert.equal(sub.kill('SIGRTMIN+2'), true);
    assert.equal((await sub.exited).signal, 'SIGRTMIN+2');
  });
});

describe('PidFd and the pidfd of a Subprocess', () => {
  test("the Subprocess's pidfd refers to the child, and is closed once the child is reaped", async () => {
    const sub = spawn('sleep', ['30'], quiet);
    const info = readFileSync(`/proc/self/fdinfo/${sub.pidfd.fd}`, 'latin1');
    assert.match(info, new RegExp(`^Pid:\\s+${sub.pid}$`, 'm'));
    assert.equal(sub.pidfd.pid, sub.pid);
    const closeError = thrown(() => sub.pidfd.close());
    assert.equal(closeError.code, 'ERR_PIDFD_OWNED', 'the Subprocess still needs it to reap');
    sub.kill('SIGKILL');
    await sub.exited;
    assert.equal(sub.pidfd.fd, -1);
    sub.pidfd.close(); // closing a closed pidfd does nothing
  });

  test('B5: a duplicated pidfd outlives the child: signals report ESRCH (false), fdinfo says Pid: -1', async () => {
    const sub = spawn('sleep', ['30'], quiet);
    const mine = sub.pidfd.dup();
    try {
      assert.notEqual(mine.fd, sub.pidfd.fd);
      assert.equal(mine.sendSignal(0), true);
      sub.kill('SIGKILL');
      await sub.exited;
      assert.equal(mine.sendSignal(0), false, 'ESRCH, not EBADF: the fd is still ours');
      assert.equal(mine.sendSignal('SIGKILL'), false);
      const info = readFileSync(`/proc/self/fdinfo/${mine.fd}`, 'latin1');
      assert.match(info, /^Pid:\s+-1$/m);
      const adopted = thrown(() => PidFd.fromFd(mine.fd));
      assert.equal(adopted.code, 'ESRCH');
    } finally {
      mine.close();
    }
    assert.equal(mine.closed, true);
    assert.equal(thrown(() => mine.sendSignal(0)).code, 'ERR_PIDFD_CLOSED');
  });

  test('D5: every pidfd is close-on-exec', async () => {
    const sub = spawn('sleep', ['30'], quiet);
    const mine = sub.pidfd.dup();
    try {
      const FD_CLOEXEC = 1;
      assert.equal(native().testFdFlags(sub.pidfd.fd) & FD_CLOEXEC, FD_CLOEXEC);
      assert.equal(native().testFdFlags(mine.fd) & FD_CLOEXEC, FD_CLOEXEC);
    } finally {
      mine.close();
      sub.kill('SIGKILL');
      await sub.exited;
    }
  });

  test('PidFd.open() signals any process, and using it after close() is a clear error', async () => {
    const sub = spawn('sleep', ['30'], quiet);
    const opened = PidFd.open(sub.pid);
    assert.equal(opened.pid, sub.pid);
    assert.equal(opened.sendSignal('SIGKILL'), true);
    assert.equal((await sub.exited).signal, 'SIGKILL');
    opened[Symbol.dispose]();
    assert.equal(opened.closed, true);
  });
});
