// Exit watching (native/watch.c, src/process/exit-watcher.ts): every child's exit arrives exactly
// once with the right status, whichever of its threads leaves last, from any worker_thread,
// alongside node:child_process, and no child is ever left as a zombie (case ids from
// docs/reliability.md: A3-A7, A9-A11, C1, C3, J1, J5).

import assert from 'node:assert/strict';
import { execFileSync, execSync, spawn as cpSpawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { before, describe, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Worker } from 'node:worker_threads';

import { spawn } from '../../dist/index.js';
import { Fault, kTestFault, native } from '../../dist/internal/testing.js';
import {
  eventually,
  fdDiff,
  fdSnapshot,
  fixtures,
  GUARD_MS,
  hasChildren,
  helperBin,
  killAtEnd,
  procStatus,
  reaped,
  waitForState,
  warmUp,
  withTimeout,
  zombies,
} from '../helpers/index.js';

const quiet = { stdio: 'ignore' };

before(warmUp);

/** The lines of a stream, one at a time: `await next()`. */
function lineReader(stream) {
  const lines = createInterface({ input: stream })[Symbol.asyncIterator]();
  return async () => (await withTimeout(lines.next(), GUARD_MS, 'a line from the child')).value;
}

/** How many threads /proc lists for pid (a zombie leader included). */
function taskCount(pid) {
  return readdirSync(`/proc/${pid}/task`).length;
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

describe('watch.c: every exit, once, with its status', () => {
  test('A3: a stopped child is not an exited child; SIGCONT and SIGKILL then end it once', async (t) => {
    const sub = killAtEnd(t, spawn('sleep', ['30'], quiet));
    let exits = 0;
    sub.exited.then(() => exits++);
    assert.equal(sub.kill('SIGSTOP'), true);
    await waitForState(sub.pid, ['T']);
    await sleep(200); // a window in which a wrong implementation would report an exit
    assert.equal(sub.exitStatus, null);
    assert.equal(exits, 0);
    assert.equal(sub.kill('SIGCONT'), true);
    await waitForState(sub.pid, ['S', 'R']);
    assert.equal(sub.kill('SIGKILL'), true);
    const status = await withTimeout(sub.exited, GUARD_MS, 'SIGKILL');
    await sleep(0);
    assert.equal(status.signal, 'SIGKILL');
    assert.equal(exits, 1);
  });

  test('A4: 1000 children that exit at once each get exactly one exit', async () => {
    let resolved = 0;
    for (let round = 0; round < 10; round++) {
      const subs = Array.from({ length: 100 }, () => spawn('/bin/true', [], quiet));
      const statuses = await withTimeout(Promise.all(subs.map((s) => s.exited)), GUARD_MS, 'true x100');
      for (const [i, status] of statuses.entries()) {
        assert.equal(status.code, 0);
        assert.equal(status.pid, subs[i].pid);
        resolved++;
      }
    }
    assert.equal(resolved, 1000);
    assert.deepEqual(zombies(), []);
  });

  test('A9: 500 children with random lifetimes and 100 failing spawns all end correctly', async () => {
    const subs = [];
    let failures = 0;
    for (let i = 0; i < 600; i++) {
      if (i % 6 === 5) {
        assert.throws(() => spawn('/nonexistent/program', [], quiet), { code: 'ENOENT' });
        failures++;
      } else {
        const ms = Math.floor(Math.random() * 500);
        subs.push(spawn('/bin/sh', ['-c', `sleep ${ms / 1000}; exit ${i % 200}`], quiet));
      }
    }
    assert.equal(subs.length, 500);
    assert.equal(failures, 100);
    const statuses = await withTimeout(Promise.all(subs.map((s) => s.exited)), GUARD_MS, '500 children');
    subs.forEach((sub, k) => {
      const i = k + Math.floor(k / 5);
      assert.equal(statuses[k].pid, sub.pid);
      assert.equal(statuses[k].code, i % 200);
    });
    assert.deepEqual(zombies(), []);
  });
});

describe('watch.c: reaping with __WALL (A5)', () => {
  test('A5: a child that dies before execve (exit signal 0) is still reaped, with __WALL', async () => {
    const sub = spawn('/bin/true', [], { ...quiet, [kTestFault]: { kind: Fault.exitBeforeExec, arg: 42 } });
    // The premise: without __WALL, waitid does not see such a child at all.
    assert.equal(native().test.waitidNoWall(sub.pidfd.fd), -10 /* ECHILD */);
    const status = await withTimeout(sub.exited, GUARD_MS, 'pre-exec exit');
    assert.equal(status.code, 42);
    assert.ok(reaped(sub.pid));
  });

  test('A5: a child killed before execve is reported as killed, never lost', async () => {
    const sub = spawn('/bin/true', [], { ...quiet, [kTestFault]: { kind: Fault.killBeforeExec } });
    const status = await withTimeout(sub.exited, GUARD_MS, 'pre-exec kill');
    assert.equal(status.signal, 'SIGKILL');
    assert.ok(reaped(sub.pid));
  });
});

describe('watch.c: no zombie is left (C1, C3, A11)', () => {
  test('C1: after 100 exits there are no zombies, every pid is reaped and every pidfd closed', async () => {
    const warm = spawn('/bin/true', [], quiet);
    await warm.exited;
    const before = fdSnapshot();
    const subs = Array.from({ length: 100 }, () => spawn('/bin/true', [], quiet));
    await withTimeout(Promise.all(subs.map((s) => s.exited)), GUARD_MS, '100 children');
    for (const sub of subs) {
      assert.ok(reaped(sub.pid), `pid ${sub.pid} reaped`);
      assert.equal(sub.pidfd.fd, -1);
      assert.equal(sub.pidfd.closed, true);
    }
    assert.deepEqual(zombies(), []);
    assert.equal(fdDiff(before, fdSnapshot()), '');
  });

  test('C3: 200 sleepers killed at once give 200 SIGKILL exits and no zombie', async (t) => {
    const subs = Array.from({ length: 200 }, () => spawn('sleep', ['30'], quiet));
    killAtEnd(t, ...subs);
    for (const sub of subs) assert.equal(sub.kill('SIGKILL'), true);
    const statuses = await withTimeout(Promise.all(subs.map((s) => s.exited)), GUARD_MS, 'kill storm');
    assert.equal(statuses.filter((s) => s.signal === 'SIGKILL').length, 200);
    assert.deepEqual(zombies(), []);
  });

  test('A11: a child whose handle was dropped and unref()ed is still reaped', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc');
    const pids = [];
    (() => {
      for (let i = 0; i < 20; i++) pids.push(spawn('/bin/sh', ['-c', 'sleep 0.05'], quiet).unref().pid);
    })();
    const victim = spawn('sleep', ['30'], quiet).unref().pid;
    gc();
    process.kill(victim, 'SIGKILL'); // killed from outside, by pid
    // Something must keep this test's loop turning while the unref'd children exit.
    await eventually(() => [...pids, victim].every((pid) => reaped(pid)), 'dropped children reaped');
    assert.deepEqual(zombies(), []);
  });

  test('children of a worker thread that ended are reaped by the library, not left as zombies', async (t) => {
    const worker = killAtEnd(t, new Worker(join(fixtures, 'worker-spawn.mjs')));
    const pid = await withTimeout(
      new Promise((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      }),
      GUARD_MS,
      'the pid from the worker',
    );
    await worker.terminate();
    await eventually(() => reaped(pid), `pid ${pid} of a terminated worker reaped`);
    assert.deepEqual(zombies(), []);
  });
});

describe('watch.c: threads, A6: a leader thread that exits early does not end the process', () => {
  test('the exit arrives only after the last thread, with the status of the last thread', async (t) => {
    // It waits for a byte on stdin before each thread leaves: killed if the test gives up.
    const sub = killAtEnd(t, spawn(join(helperBin, 'leader-exit'), [], { stdio: ['pipe', 'pipe', 'inherit'] }));
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

describe('watch.c: threads, A7: execve from a thread that is not the leader is not an exit', () => {
  test('the process lives on under its pid as the new program, and exits once', async (t) => {
    const script = 'echo exec-done; read line; exit 4';
    const stdio = ['pipe', 'pipe', 'inherit'];
    const sub = killAtEnd(t, spawn(join(helperBin, 'exec-from-thread'), ['/bin/sh', '-c', script], { stdio }));
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

describe('watch.c: one epoll set per thread, J1: worker_threads spawning at the same time', () => {
  test('4 workers x 200 children: each child sees its own fd 3, each exit reaches its thread', async (t) => {
    const workers = Array.from(
      { length: 4 },
      (_, index) =>
        new Worker(join(fixtures, 'worker-fd3.mjs'), { workerData: { index, count: 200, batch: 25 } }),
    );
    killAtEnd(t, ...workers);
    const results = await withTimeout(
      Promise.all(
        workers.map(async (worker) => {
          const [[message]] = await Promise.all([once(worker, 'message'), once(worker, 'exit')]);
          return message;
        }),
      ),
      2 * GUARD_MS,
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

/** Runs test/fixtures/sigchld.mjs in a fresh Node process and parses its report. */
function sigchldFixture(mode) {
  const out = execFileSync(process.execPath, [join(fixtures, 'sigchld.mjs'), mode], {
    killSignal: 'SIGKILL',
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: GUARD_MS,
  });
  return JSON.parse(out);
}

describe('watch.c: coexistence, A10: no SIGCHLD handler, and children reaped by someone else', () => {
  test('A10: spawning and reaping 50 children installs no SIGCHLD handler and adds no listener', () => {
    const r = sigchldFixture('handler');
    assert.equal(r.atStart, false, 'a fresh Node catches no SIGCHLD (else this test shows nothing)');
    assert.equal(r.whileRunning, false, 'no handler while children run');
    assert.equal(r.atEnd, false, 'no handler after they were reaped');
    assert.deepEqual([r.listenersAtStart, r.listenersAtEnd], [0, 0]);
    assert.deepEqual(r.codes, Array.from({ length: 50 }, (_, i) => i));
  });

  test('A10: with SIGCHLD ignored (the kernel reaps exec’d children), every exit still settles', () => {
    const r = sigchldFixture('ignored');
    assert.equal(r.ignore, 0, 'SIGCHLD was set to SIG_IGN');
    for (const { what, expect, got } of r.cases) {
      const label = `${what} (pid ${got.expectedPid ?? '?'})`;
      if (what === 'pre-exec exit') {
        // Exit signal 0 until execve: the kernel leaves such a child to us, status and rusage.
        assert.deepEqual(got, { pid: got.expectedPid, expectedPid: got.expectedPid, ...expect, rusage: true }, label);
      } else if (r.infoExit) {
        // Linux 6.15+: the status comes from PIDFD_INFO_EXIT, without rusage.
        assert.deepEqual(got, { pid: got.expectedPid, expectedPid: got.expectedPid, ...expect, rusage: false }, label);
      } else {
        assert.equal(got.error, 'ERR_PIDFD_STATUS_LOST', label);
        assert.match(got.message, /reaped by something else/, label);
      }
    }
    assert.deepEqual(r.zombies, []);
    assert.equal(r.hasChildren, false);
    assert.equal(r.fdsLeft, '', 'every pidfd was closed');
  });
});

describe('watch.c: coexistence, J5: side by side with node:child_process', () => {
  test('J5: interleaved spawns, kills and execSync: every status is right on both sides', async () => {
    const ours = [];
    const theirs = [];
    const sync = [];
    for (let i = 0; i < 240; i++) {
      if (i % 10 === 9) {
        const sub = spawn('sleep', ['30'], quiet);
        sub.kill('SIGKILL');
        ours.push({ sub, code: null, signal: 'SIGKILL' });
      } else {
        ours.push({ sub: spawn('/bin/sh', ['-c', `exit ${i % 200}`], quiet), code: i % 200, signal: null });
      }
      if (i % 4 === 0) {
        const killed = i % 20 === 0;
        const child = cpSpawn('/bin/sh', ['-c', killed ? 'sleep 30' : `exit ${(i + 7) % 200}`], quiet);
        if (killed) child.kill('SIGTERM');
        theirs.push({
          done: once(child, 'exit'),
          code: killed ? null : (i + 7) % 200,
          signal: killed ? 'SIGTERM' : null,
        });
      }
      if (i % 40 === 20) {
        // Blocks the event loop while our children exit: their exits wait in the epoll set.
        let status = 0;
        try {
          execSync(`exit ${i % 100}`, quiet);
        } catch (error) {
          status = error.status;
        }
        sync.push([status, i % 100]);
      }
    }
    const [ourStatuses, theirExits] = await withTimeout(
      Promise.all([Promise.all(ours.map((o) => o.sub.exited)), Promise.all(theirs.map((t) => t.done))]),
      GUARD_MS,
      'every child of both kinds',
    );
    ourStatuses.forEach((status, k) => {
      const { sub, code, signal } = ours[k];
      assert.deepEqual([status.pid, status.code, status.signal], [sub.pid, code, signal], `our child ${k}`);
      // Reaped by our own waitid, not recovered after libuv's waitpid took it.
      assert.notEqual(status.rusage, null, `our child ${k} was reaped by us`);
      assert.ok(reaped(sub.pid));
    });
    theirExits.forEach(([code, signal], k) => {
      assert.deepEqual([code, signal], [theirs[k].code, theirs[k].signal], `child_process child ${k}`);
    });
    for (const [got, expected] of sync) assert.equal(got, expected);
    assert.deepEqual(zombies(), []);
    assert.equal(hasChildren(), false);
  });
});
