// ExitStatus (src/process/exit-status.ts): how a child ended, as the status says it, and what it
// cost (case ids from docs/reliability.md: A1, A2).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { spawn } from '../../dist/index.js';
import { GUARD_MS, killAtEnd, withTimeout } from '../helpers/index.js';

const quiet = { stdio: 'ignore' };

describe('ExitStatus', () => {
  test('A1: every exit code from 0 to 255 arrives as `code`, with `signal` null', async () => {
    const subs = [];
    for (let n = 0; n <= 255; n++) subs.push(spawn('/bin/sh', ['-c', `exit ${n}`], quiet));
    const statuses = await withTimeout(Promise.all(subs.map((s) => s.exited)), GUARD_MS, 'exit codes');
    statuses.forEach((status, n) => {
      assert.equal(status.code, n);
      assert.equal(status.signal, null);
      assert.equal(status.coreDumped, false);
      assert.equal(status.pid, subs[n].pid);
    });
  });

  test('A2: SIGKILL and SIGTERM arrive as `signal`, with `code` null', async (t) => {
    for (const signal of ['SIGKILL', 'SIGTERM']) {
      const sub = killAtEnd(t, spawn('sleep', ['30'], quiet));
      assert.equal(sub.kill(signal), true);
      const status = await withTimeout(sub.exited, GUARD_MS, signal);
      assert.deepEqual([status.code, status.signal, status.coreDumped], [null, signal, false]);
    }
  });

  test('A2: a core dump is told apart from a plain kill', async (t) => {
    // Whether a core is written depends on RLIMIT_CORE and core_pattern; the kernel's report
    // says which happened, and the status must follow it.
    // In a directory of its own: a core_pattern of "core" writes the dump into the cwd.
    const dir = mkdtempSync(join(tmpdir(), 'pidfd-core-'));
    const sub = spawn('/bin/sh', ['-c', 'ulimit -c unlimited 2>/dev/null; kill -SEGV $$'], { ...quiet, cwd: dir });
    const status = await withTimeout(sub.exited, GUARD_MS, 'SIGSEGV');
    rmSync(dir, { recursive: true, force: true });
    assert.equal(status.signal, 'SIGSEGV');
    assert.equal(status.code, null);
    const pattern = execFileSync('cat', ['/proc/sys/kernel/core_pattern'], { encoding: 'utf8' }).trim();
    if (pattern === '' || pattern.startsWith('|')) {
      t.diagnostic(`core_pattern is ${JSON.stringify(pattern)}: coreDumped=${status.coreDumped}`);
    }
    assert.equal(typeof status.coreDumped, 'boolean');
  });

  test('the status carries rusage: CPU time, faults and context switches', async () => {
    const sub = spawn('/bin/sh', ['-c', 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done'], quiet);
    const { rusage } = await withTimeout(sub.exited, GUARD_MS, 'busy loop');
    assert.ok(rusage.userCPUTime + rusage.systemCPUTime > 0, 'a busy child used CPU time');
    assert.ok(rusage.maxRSS > 0);
    assert.ok(rusage.minorFaults > 0);
    for (const value of Object.values(rusage)) assert.ok(Number.isInteger(value) && value >= 0);
  });
});
