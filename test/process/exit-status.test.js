// Exit notification and reaping: every child's exit arrives exactly once, with the right status,
// and no child is ever left as a zombie (TESTPLAN A1-A5, A8, A9, A11, C1, C3).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import { spawn } from '../../dist/index.js';
import { Fault, kTestFault, native } from '../../dist/internal/testing.js';
import { fdDiff, fdSnapshot, procStatus, reaped, root, waitForState, withTimeout, zombies } from '../helpers/index.js';

const quiet = { stdio: 'ignore' };

async function eventually(check, what, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`never happened: ${what}`);
    await sleep(10);
  }
}

describe('exited: the exit status', () => {
  test('A1: every exit code from 0 to 255 arrives as `code`, with `signal` null', async () => {
    const subs = [];
    for (let n = 0; n <= 255; n++) subs.push(spawn('/bin/sh', ['-c', `exit ${n}`], quiet));
    const statuses = await withTimeout(Promise.all(subs.map((s) => s.exited)), 30000, 'exit codes');
    statuses.forEach((status, n) => {
      assert.equal(status.code, n);
      assert.equal(status.signal, null);
      assert.equal(status.coreDumped, false);
      assert.equal(status.pid, subs[n].pid);
    });
  });

  test('A2: SIGKILL and SIGTERM arrive as `signal`, with `code` null', async () => {
    for (const signal of ['SIGKILL', 'SIGTERM']) {
      const sub = spawn('sleep', ['30'], quiet);
      assert.equal(sub.kill(signal), true);
      const status = await withTimeout(sub.exited, 5000, signal);
      assert.deepEqual([status.code, status.signal, status.coreDumped], [null, signal, false]);
    }
  });

  test('A2: a core dump is told apart from a plain kill', async (t) => {
    // Whether a core is written depends on RLIMIT_CORE and core_pattern; the kernel's report
    // says which happened, and the status must follow it.
    // In a directory of its own: a core_pattern of "core" writes the dump into the cwd.
    const dir = mkdtempSync(join(tmpdir(), 'pidfd-core-'));
    const sub = spawn('/bin/sh', ['-c', 'ulimit -c unlimited 2>/dev/null; kill -SEGV $$'], { ...quiet, cwd: dir });
    const status = await withTimeout(sub.exited, 5000, 'SIGSEGV');
    rmSync(dir, { recursive: true, force: true });
    assert.equal(status.signal, 'SIGSEGV');
    assert.equal(status.code, null);
    const pattern = execFileSync('cat', ['/proc/sys/kernel/core_pattern'], { encoding: 'utf8' }).trim();
    if (pattern === '' || pattern.startsWith('|')) {
      t.diagnostic(`core_pattern is ${JSON.stringify(pattern)}: coreDumped=${status.coreDumped}`);
    }
    assert.equal(typeof status.coreDumped, 'boolean');
  });

  test('A3: a stopped child is not an exited child; SIGCONT and SIGKILL then end it once', async () => {
    const sub = spawn('sleep', ['30'], quiet);
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
    const status = await withTimeout(sub.exited, 5000, 'SIGKILL');
    await sleep(0);
    assert.equal(status.signal, 'SIGKILL');
    assert.equal(exits, 1);
  });

  test('A4: 1000 children that exit at once each get exactly one exit', async () => {
    let resolved = 0;
    for (let round = 0; round < 10; round++) {
      const subs = Array.from({ length: 100 }, () => spawn('/bin/true', [], quiet));
      const statuses = await withTimeout(Promise.all(subs.map((s) => s.exited)), 20000, 'true x100');
      for (const [i, status] of statuses.entries()) {
        assert.equal(status.code, 0);
        assert.equal(status.pid, subs[i].pid);
        resolved++;
      }
    }
    assert.equal(resolved, 1000);
    assert.deepEqual(zombies(), []);
  });

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

  test('the status carries rusage: CPU time, faults and context switches', async () => {
    const sub = spawn('/bin/sh', ['-c', 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done'], quiet);
    const { rusage } = await withTimeout(sub.exited, 20000, 'busy loop');
    assert.ok(rusage.userCPUTime + rusage.systemCPUTime > 0, 'a busy child used CPU time');
    assert.ok(rusage.maxRSS > 0);
    assert.ok(rusage.minorFaults > 0);
    for (const value of Object.values(rusage)) assert.ok(Number.isInteger(value) && value >= 0);
  });
});

describe('reaping', () => {
  test('A5: a child that dies before execve (exit signal 0) is still reaped, with __WALL', async () => {
    const sub = spawn('/bin/true', [], { ...quiet, [kTestFault]: { kind: Fault.exitBeforeExec, arg: 42 } });
    // The premise: without __WALL, waitid does not see such a child at all.
    assert.equal(native().testWaitidNoWall(sub.pidfd.fd), -10 /* ECHILD */);
    const status = await withTimeout(sub.exited, 5000, 'pre-exec exit');
    assert.equal(status.code, 42);
    assert.ok(reaped(sub.pid));
  });

  test('A5: a child killed before execve is reported as killed, never lost', async () => {
    const sub = spawn('/bin/true', [], { ...quiet, [kTestFault]: { kind: Fault.killBeforeExec } });
    const status = await withTimeout(sub.exited, 5000, 'pre-exec kill');
    assert.equal(status.signal, 'SIGKILL');
    assert.ok(reaped(sub.pid));
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
    const statuses = await withTimeout(Promise.all(subs.map((s) => s.exited)), 60000, '500 children');
    subs.forEach((sub, k) => {
      const i = k + Math.floor(k / 5);
      assert.equal(statuses[k].pid, sub.pid);
      assert.equal(statuses[k].code, i % 200);
    });
    assert.deepEqual(zombies(), []);
  });

  test('C1: after 100 exits there are no zombies, every pid is reaped and every pidfd closed', async () => {
    const warm = spawn('/bin/true', [], quiet);
    await warm.exited;
    const before = fdSnapshot();
    const subs = Array.from({ length: 100 }, () => spawn('/bin/true', [], quiet));
    await withTimeout(Promise.all(subs.map((s) => s.exited)), 20000, '100 children');
    for (const sub of subs) {
      assert.ok(reaped(sub.pid), `pid ${sub.pid} reaped`);
      assert.equal(sub.pidfd.fd, -1);
      assert.equal(sub.pidfd.closed, true);
    }
    assert.deepEqual(zombies(), []);
    assert.equal(fdDiff(before, fdSnapshot()), '');
  });

  test('C3: 200 sleepers killed at once give 200 SIGKILL exits and no zombie', async () => {
    const subs = Array.from({ length: 200 }, () => spawn('sleep', ['30'], quiet));
    for (const sub of subs) assert.equal(sub.kill('SIGKILL'), true);
    const statuses = await withTimeout(Promise.all(subs.map((s) => s.exited)), 20000, 'kill storm');
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

  test('A11: an unref()ed child does not keep Node alive, and a ref()ed one does', async () => {
    const script = `
      import { spawn } from ${JSON.stringify(`${root}/dist/index.js`)};
      const sub = spawn('sleep', ['30'], { stdio: 'ignore' });
      console.log(sub.pid);
      if (process.argv[1] === 'unref') sub.unref();
      else setTimeout(() => sub.kill('SIGKILL'), 300);
      sub.exited.then((s) => console.log(s.signal));
    `;
    const unref = execFileSync(process.execPath, ['--input-type=module', '-e', script, 'unref'], {
      encoding: 'utf8',
      timeout: 20000,
    });
    const sleeper = Number(unref.trim());
    // Node exited while the child still ran: the sleeper outlived it (now reparented to init).
    assert.equal(procStatus(sleeper).State[0], 'S');
    process.kill(sleeper, 'SIGKILL');
    const refd = execFileSync(process.execPath, ['--input-type=module', '-e', script, 'ref'], {
      encoding: 'utf8',
      timeout: 20000,
    });
    // A ref()ed child kept the loop alive until its exit was delivered.
    assert.match(refd, /^\d+\nSIGKILL\n$/);
  });

  test('ref() after unref() keeps the event loop waiting again', async () => {
    const script = `
      import { spawn } from ${JSON.stringify(`${root}/dist/index.js`)};
      const sub = spawn('/bin/sh', ['-c', 'sleep 0.2; exit 4'], { stdio: 'ignore' });
      sub.unref(); sub.unref(); sub.ref();
      sub.exited.then((s) => console.log('code', s.code));
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20000 });
    assert.equal(out, 'code 4\n');
  });

  test('children of a worker thread that ended are reaped by the library, not left as zombies', async () => {
    const { Worker } = await import('node:worker_threads');
    const worker = new Worker(new URL('../fixtures/worker-spawn.mjs', import.meta.url));
    const pid = await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    await eventually(() => reaped(pid), `pid ${pid} of a terminated worker reaped`);
    assert.deepEqual(zombies(), []);
  });
});
