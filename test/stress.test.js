// Stress and races across the library: fds opened and closed by another thread during spawns,
// several observers and killers of one child, many spawn-kill-await rounds (case ids from
// docs/reliability.md: J2-J4). PIDFD_STRESS=1 runs J4 at the plan's full 10 000 rounds.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Worker } from 'node:worker_threads';

import { spawn, SpawnError, support } from '../dist/index.js';
import { ChildStep, Fault, kTestFault, native, ParentStep } from '../dist/internal/testing.js';
import {
  closed,
  fdDiff,
  fdSnapshot,
  fixtures,
  GUARD_MS,
  hasChildren,
  killAtEnd,
  readAll,
  reaped,
  thrown,
  withTimeout,
  zombies,
} from './helpers/index.js';

const quiet = { stdio: 'ignore' };
const dir = mkdtempSync(join(tmpdir(), 'pidfd-stress-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Resolves once every stream of a Subprocess has closed (released its fd). */
const streamsClosed = (sub) => Promise.all(sub.stdio.map(closed));

describe('spawn() while another thread opens and closes fds (J2)', () => {
  test('J2: the other thread never loses an fd to a spawn, and no child sees its fds', async (t) => {
    const marker = join(dir, 'pidfd-churn-marker');
    writeFileSync(marker, '');
    const stop = new Int32Array(new SharedArrayBuffer(4));
    const churner = new Worker(join(fixtures, 'worker-churn.mjs'), { workerData: { path: marker, stop } });
    killAtEnd(t, churner); // it churns until told to stop: terminated if the test gives up
    await once(churner, 'message'); // 'started'

    const pipes = ['pipe', 'pipe', 'pipe', 'pipe'];
    const failures = [
      () => spawn(join(dir, 'missing'), [], { stdio: pipes }),
      () => spawn('/bin/true', [], { stdio: pipes, [kTestFault]: { kind: Fault.parentStep, arg: ParentStep.pipe } }),
      () => spawn('/bin/true', [], { stdio: pipes, [kTestFault]: { kind: Fault.parentStep, arg: ParentStep.watch } }),
      () => spawn('/bin/true', [], { stdio: pipes, [kTestFault]: { kind: Fault.failStep, arg: ChildStep.fdDup } }),
    ];
    const listings = [];
    let failed = 0;
    for (let round = 0; round < 30; round++) {
      const subs = [];
      for (let i = 0; i < 40; i++) {
        if (i % 4 === 3) {
          const error = thrown(failures[(round + i) % failures.length]);
          assert.ok(error instanceof SpawnError, String(error?.stack ?? error));
          failed++;
        } else if (i === 0) {
          // This child lists its own fds: only 0, 1, 2, never the churner's file.
          subs.push(spawn('/bin/sh', ['-c', 'ls -l /proc/$$/fd'], { stdio: ['ignore', 'pipe', 'pipe'] }));
        } else {
          subs.push(spawn('/bin/sh', ['-c', `exit ${i}`], { stdio: i % 2 ? 'pipe' : quiet.stdio }));
        }
      }
      const results = await withTimeout(
        Promise.all(subs.map((sub) => Promise.all([sub.exited, readAll(sub.stdout), readAll(sub.stderr), sub.stdin?.end()]))),
        GUARD_MS,
        'a round of spawns',
      );
      results.forEach(([status, stdout], k) => {
        if (k === 0) {
          assert.equal(status.code, 0);
          listings.push(stdout);
        } else {
          assert.equal(status.code, k + Math.floor(k / 3)); // the i of this child (every 4th i failed)
        }
      });
      await Promise.all(subs.map(streamsClosed));
    }
    // Both listeners first: a worker's last message and its 'exit' can come in the same tick.
    const churnerExit = once(churner, 'exit');
    Atomics.store(stop, 0, 1);
    const [report] = await withTimeout(once(churner, 'message'), GUARD_MS, 'the churner to report');
    await churnerExit;

    assert.deepEqual(report.errors, [], 'the churner lost an fd');
    assert.ok(report.rounds > 0);
    assert.equal(failed, 300);
    for (const listing of listings) {
      assert.doesNotMatch(listing, /pidfd-churn/);
      const fds = [...listing.matchAll(/ (\d+) -> /g)].map((m) => Number(m[1]));
      assert.deepEqual(fds, [0, 1, 2], listing);
    }
    assert.deepEqual(zombies(), []);
  });
});

describe('subprocess.exited, kill() and PidFd on one child from three threads (J3)', () => {
  test('J3: every observer, in this thread and in two workers, sees the same single SIGKILL', async () => {
    const go = new Int32Array(new SharedArrayBuffer(4));
    const awaiter = new Worker(join(fixtures, 'worker-pidfd.mjs'), { workerData: { role: 'await', go } });
    const killer = new Worker(join(fixtures, 'worker-pidfd.mjs'), { workerData: { role: 'kill', go } });
    const next = (worker) => withTimeout(once(worker, 'message'), GUARD_MS, 'a worker').then(([m]) => m);
    try {
      for (let round = 0; round < 20; round++) {
        const sub = spawn('sleep', ['30'], quiet);
        const adopted = Promise.all([next(awaiter), next(killer)]);
        awaiter.postMessage({ fd: native().dup(sub.pidfd.fd), round });
        killer.postMessage({ fd: native().dup(sub.pidfd.fd), round });
        assert.deepEqual(await adopted, [{ round, adopted: true }, { round, adopted: true }]);
        const fromAwaiter = next(awaiter);
        const fromKiller = next(killer);
        const statuses = [sub.exited, sub.exited.then((s) => s)];
        const viaPidfd = sub.pidfd.exited();
        Atomics.store(go, 0, round + 1);
        Atomics.notify(go, 0);
        const sentHere = sub.kill('SIGKILL');

        const [first, second] = await withTimeout(Promise.all(statuses), GUARD_MS, 'the exit');
        const [awaited, killed, info] = await Promise.all([fromAwaiter, fromKiller, viaPidfd]);
        assert.equal(first, second, 'one status object');
        assert.deepEqual([first.pid, first.code, first.signal], [sub.pid, null, 'SIGKILL']);
        assert.deepEqual([info.code, info.signal], [null, 'SIGKILL']);
        assert.equal(killed.error, undefined, killed.error);
        assert.equal(awaited.error, undefined, awaited.error);
        assert.ok(sentHere || killed.sent, 'at least one SIGKILL was sent');
        if (support().features.pidfdInfoExit.available) {
          assert.deepEqual([awaited.info.pid, awaited.info.code, awaited.info.signal], [sub.pid, null, 'SIGKILL']);
        } else {
          assert.match(awaited.info.reason, /6\.15/);
        }
        assert.equal(sub.kill('SIGKILL'), false, 'a kill after the exit is refused');
        assert.ok(reaped(sub.pid));
      }
    } finally {
      await Promise.all([awaiter.terminate(), killer.terminate()]);
    }
  });
});

describe('spawn(), kill(), exited, many times (J4)', () => {
  const rounds = process.env.PIDFD_STRESS ? 10000 : 500;
  test(`J4: ${rounds} rounds of spawn sleeper, SIGKILL, await: no fd growth, no zombie`, async () => {
    const fdsBefore = fdSnapshot();
    for (let i = 0; i < rounds; i++) {
      const sub = spawn('sleep', ['30'], { stdio: i % 2 ? 'pipe' : 'ignore' });
      assert.equal(sub.kill('SIGKILL'), true);
      const status = await withTimeout(sub.exited, GUARD_MS, `round ${i}`);
      assert.equal(status.signal, 'SIGKILL');
      await streamsClosed(sub);
    }
    assert.equal(fdDiff(fdsBefore), '');
    assert.deepEqual(zombies(), []);
    assert.equal(hasChildren(), false);
  });
});
