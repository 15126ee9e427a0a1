// Subprocess (src/process/subprocess.ts): its exit promise, kill() through the pidfd, ref() and
// unref(), its pidfd, its streams at the exit, and disposal (case ids from docs/reliability.md:
// A8, A11, B1-B3, B6, B7).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { before, describe, test } from 'node:test';

import { PidFd, spawn } from '../../dist/index.js';
import { native } from '../../dist/internal/testing.js';
import {
  assertNothingLeft,
  closed,
  fdSnapshot,
  GUARD_MS,
  killAtEnd,
  libraryScript,
  procStatus,
  thrown,
  warmUp,
  withTimeout,
} from '../helpers/index.js';

const quiet = { stdio: 'ignore' };

before(warmUp);

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

/** Runs libraryScript(body) in a fresh Node and returns its stdout. */
function nodeOutput(body, ...args) {
  return execFileSync(process.execPath, ['--input-type=module', '-e', libraryScript(body), ...args], {
    encoding: 'utf8',
    timeout: GUARD_MS,
    killSignal: 'SIGKILL',
  });
}

describe('subprocess.exited, subprocess.exitStatus', () => {
  test('A8: awaiting twice, and reading exitStatus repeatedly, give the same status', async () => {
    const sub = spawn('/bin/sh', ['-c', 'exit 9'], quiet);
    assert.equal(sub.exitStatus, null);
    const first = await sub.exited;
    const second = await sub.exited;
    assert.equal(first, second);
    assert.equal(sub.exitStatus, first);
    assert.equal(sub.exitStatus, sub.exitStatus);
    assert.equal(first.code, 9);
  });
});

describe('subprocess.kill()', () => {
  test('B1: kill(0) probes a live child, kill() sends SIGTERM and the exit says so', async (t) => {
    const sub = killAtEnd(t, spawn('sleep', ['30'], quiet));
    assert.equal(sub.kill(0), true);
    assert.equal(sub.exitStatus, null, 'kill(0) sends nothing');
    assert.equal(sub.kill(), true);
    const status = await withTimeout(sub.exited, GUARD_MS, 'SIGTERM');
    assert.equal(status.signal, 'SIGTERM');
  });

  test('B1: a signal can be given by number', async (t) => {
    const sub = killAtEnd(t, spawn('sleep', ['30'], quiet));
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
    const deadline = Date.now() + GUARD_MS;
    while (procStatus(sub.pid).State[0] !== 'Z') {
      if (Date.now() > deadline) throw new Error('child never became a zombie');
    }
    let sent;
    const calls = countSendSignal(() => {
      sent = sub.kill('SIGTERM');
    });
    assert.equal(calls, 1, 'the zombie is not known to have exited yet: the kernel is asked');
    assert.equal(sent, true, 'pidfd_send_signal succeeds on a zombie');
    const status = await withTimeout(sub.exited, GUARD_MS, 'zombie reaped');
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
      assert.equal(wrongType.code, 'ERR_INVALID_ARG_TYPE');
      assert.equal(sub.kill(0), true, 'the child was not affected');
      assert.equal(sub.exitStatus, null);
    } finally {
      sub.kill('SIGKILL');
      await sub.exited;
    }
  });

  test('B7: killing 1000 children that exit at once never throws; each ends by exit 0 or SIGKILL', async () => {
    const outcomes = { exit: 0, kill: 0 };
    for (let round = 0; round < 10; round++) {
      const subs = Array.from({ length: 100 }, () => spawn('/bin/true', [], quiet));
      for (const sub of subs) sub.kill('SIGKILL');
      for (const status of await withTimeout(Promise.all(subs.map((s) => s.exited)), GUARD_MS, 'race round')) {
        if (status.code === 0) outcomes.exit++;
        else if (status.signal === 'SIGKILL') outcomes.kill++;
        else assert.fail(`unexpected status ${JSON.stringify(status)}`);
      }
    }
    assert.equal(outcomes.exit + outcomes.kill, 1000);
  });
});

describe('subprocess.ref(), subprocess.unref()', () => {
  test('A11: an unref()ed child does not keep Node alive, and a ref()ed one does', async () => {
    const script = `
      const sub = pidfd.spawn('sleep', ['30'], { stdio: 'ignore' });
      console.log(sub.pid);
      if (process.argv[1] === 'unref') sub.unref();
      else setTimeout(() => sub.kill('SIGKILL'), 300);
      sub.exited.then((s) => console.log(s.signal));
    `;
    const sleeper = PidFd.open(Number(nodeOutput(script, 'unref').trim()));
    try {
      // Node exited while the child still ran: the sleeper outlived it (now reparented to init).
      assert.equal(sleeper.isAlive(), true);
      assert.notEqual(procStatus(sleeper.pid).PPid, String(process.pid));
    } finally {
      sleeper.sendSignal('SIGKILL');
      sleeper.close();
    }
    // A ref()ed child kept the loop alive until its exit was delivered.
    assert.match(nodeOutput(script, 'ref'), /^\d+\nSIGKILL\n$/);
  });

  test('ref() after unref() keeps the event loop waiting again', async () => {
    const script = `
      const sub = pidfd.spawn('/bin/sh', ['-c', 'sleep 0.2; exit 4'], { stdio: 'ignore' });
      sub.unref(); sub.unref(); sub.ref();
      sub.exited.then((s) => console.log('code', s.code));
    `;
    assert.equal(nodeOutput(script), 'code 4\n');
  });
});

describe('subprocess.pidfd', () => {
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

  test('a pidfd first asked for after the reap is a closed one, whose exited() gives the status', async () => {
    // The PidFd is made on first use (parent CPU per spawn): asked for late, it must say what an
    // early one would.
    const sub = spawn('/bin/sh', ['-c', 'exit 9'], quiet);
    await sub.exited;
    assert.equal(sub.pidfd.fd, -1);
    sub.pidfd.close(); // closing a closed pidfd does nothing
    assert.equal((await sub.pidfd.exited()).code, 9);
    assert.equal(sub.kill('SIGKILL'), false, 'no signal after the reap');
  });

  test("the Subprocess's pidfd reports the child's exit through exited()", async () => {
    const sub = spawn('/bin/sh', ['-c', 'exit 12'], quiet);
    const info = await sub.pidfd.exited();
    assert.deepEqual([info.pid, info.code, info.signal], [sub.pid, 12, null]);
  });
});

describe('subprocess.stdin, stdout, stderr', () => {
  // Node's child_process destroys stdin when the child exits; a pipe nobody writes to would
  // otherwise hold its fd for the life of the parent (the reader is gone, but an idle writable
  // never finds out).
  test("a stdin 'pipe' that was never used is closed at the exit: no fd is left behind", async () => {
    const fdsBefore = fdSnapshot();
    const sub = spawn('/bin/true');
    try {
      await withTimeout(sub.exited, GUARD_MS, 'exit');
      assert.equal(sub.stdin.destroyed, true, 'stdin is destroyed at the exit');
      await withTimeout(Promise.all(sub.stdio.map(closed)), GUARD_MS, 'the streams to close');
      assertNothingLeft(fdsBefore, 'after the exit');
    } finally {
      sub.stdin.destroy();
    }
  });
});

describe('subprocess[Symbol.asyncDispose]()', () => {
  test('kills the child, closes its pipes and waits for the exit', async () => {
    const sub = spawn('sleep', ['30']);
    await sub[Symbol.asyncDispose]();
    assert.equal(sub.exitStatus.signal, 'SIGKILL');
    assert.equal(sub.stdout.destroyed, true);
    assert.equal(sub.stdin.destroyed, true);
    await sub[Symbol.asyncDispose](); // a second dispose is harmless
  });
});
