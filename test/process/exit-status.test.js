// ExitStatus (src/process/exit-status.ts): how a child ended, as the status says it, and what it
// cost (case ids from docs/reliability.md: A1, A2).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { spawn } from '../../dist/index.js';
import { constants } from '../../dist/binding.js';
import { exitStatusFromRecord, exitStatusFromWaitStatus } from '../../dist/process/exit-status.js';
import { GUARD_MS, helperBin, killAtEnd, withTimeout } from '../helpers/index.js';

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

  /**
   * Runs `sh -c '<limit>; kill -SEGV $$'` in a directory of its own (a core_pattern of "core"
   * writes the dump into the cwd) through spawn(), and the same through wait-status, a plain
   * fork/waitpid parent: the status the library gives, the one the kernel gives a plain parent,
   * and the core files written.
   */
  async function crash(t, limit) {
    const dir = mkdtempSync(join(tmpdir(), 'pidfd-core-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const command = ['/bin/sh', '-c', `${limit}; kill -SEGV $$`];
    const sub = spawn(command[0], command.slice(1), { ...quiet, cwd: dir });
    const status = await withTimeout(sub.exited, GUARD_MS, 'SIGSEGV', () => sub.kill('SIGKILL'));
    const cores = () => readdirSync(dir).filter((name) => name.startsWith('core'));
    const written = cores();
    const out = execFileSync(join(helperBin, 'wait-status'), command, { cwd: dir, encoding: 'utf8', timeout: GUARD_MS });
    return { status, kernel: JSON.parse(out), written };
  }

  /** Why a child of this process cannot leave a core file in its working directory, or null. */
  function noCoreFileHere() {
    const pattern = readFileSync('/proc/sys/kernel/core_pattern', 'latin1').trim();
    if (pattern === '' || pattern.startsWith('|') || pattern.includes('/')) {
      return `core_pattern ${JSON.stringify(pattern)} writes no core file into the working directory`;
    }
    const hard = /^Max core file size\s+\S+\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'latin1'))?.[1];
    if (hard === '0') return 'the hard RLIMIT_CORE is 0';
    return null;
  }

  test('A2: coreDumped is what the kernel tells a plain waitpid() parent, with and without RLIMIT_CORE', async (t) => {
    // Whatever core_pattern and the limits make of it on this machine (a pipe to a crash
    // handler included), the library reports what WCOREDUMP says for the same crash.
    for (const limit of ['ulimit -c unlimited', 'ulimit -c 0']) {
      const { status, kernel } = await crash(t, limit);
      assert.deepEqual(
        [status.code, status.signal, status.coreDumped],
        [kernel.code, 'SIGSEGV', kernel.coreDumped],
        `${limit}: the kernel says ${JSON.stringify(kernel)}`,
      );
      assert.equal(kernel.signal, 11);
    }
  });

  test('A2: a child that dumps core has coreDumped true, and its core file is there', async (t) => {
    const why = noCoreFileHere();
    if (why) return t.skip(`${why}; the test above compares with the kernel instead`);
    const { status, written } = await crash(t, 'ulimit -c unlimited');
    assert.ok(written.length > 0, 'a core file was written');
    assert.deepEqual([status.code, status.signal, status.coreDumped], [null, 'SIGSEGV', true]);
  });

  test('A2: a child killed by SIGSEGV with RLIMIT_CORE 0 has coreDumped false, and no core file', async (t) => {
    const { status, written } = await crash(t, 'ulimit -c 0');
    assert.deepEqual(written, []);
    assert.deepEqual([status.code, status.signal, status.coreDumped], [null, 'SIGSEGV', false]);
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

describe('ExitStatus: decoding what the kernel reports', () => {
  // waitid's si_code and si_status, as the addon passes them on.
  const CLD_EXITED = 1;
  const CLD_KILLED = 2;
  const CLD_DUMPED = 3;
  const records = [
    [CLD_EXITED, 0, { code: 0, signal: null, coreDumped: false }],
    [CLD_EXITED, 255, { code: 255, signal: null, coreDumped: false }],
    [CLD_KILLED, 9, { code: null, signal: 'SIGKILL', coreDumped: false }],
    [CLD_KILLED, 11, { code: null, signal: 'SIGSEGV', coreDumped: false }],
    [CLD_DUMPED, 11, { code: null, signal: 'SIGSEGV', coreDumped: true }],
    [CLD_DUMPED, 6, { code: null, signal: 'SIGABRT', coreDumped: true }],
    [CLD_KILLED, 37, { code: null, signal: 'SIGRTMIN+3', coreDumped: false }],
  ];
  /** A record of the addon's exit batches, as the reap fills it. */
  function reapRecord(siCode, siStatus) {
    const F = constants().exitField;
    const record = new Float64Array(F.count).fill(0);
    record[F.how] = constants().exitHow.waitid;
    record[F.code] = siCode;
    record[F.status] = siStatus;
    return record;
  }
  for (const [siCode, siStatus, expected] of records) {
    test(`si_code ${siCode}, si_status ${siStatus} is ${JSON.stringify(expected)}`, () => {
      const { code, signal, coreDumped } = exitStatusFromRecord(7, reapRecord(siCode, siStatus), 0, 'child');
      assert.deepEqual({ code, signal, coreDumped }, expected);
    });
  }

  // A wait status, as PIDFD_INFO_EXIT gives it: exit(n) is n << 8, a signal its number, a
  // core dump adds 0x80.
  const statuses = [
    [7 << 8, { code: 7, signal: null, coreDumped: false }],
    [9, { code: null, signal: 'SIGKILL', coreDumped: false }],
    [11 | 0x80, { code: null, signal: 'SIGSEGV', coreDumped: true }],
  ];
  for (const [status, expected] of statuses) {
    test(`wait status 0x${status.toString(16)} is ${JSON.stringify(expected)}`, () => {
      const { code, signal, coreDumped, rusage, reason } = exitStatusFromWaitStatus(7, status);
      assert.deepEqual({ code, signal, coreDumped }, expected);
      assert.deepEqual([rusage, reason], [null, null], 'PIDFD_INFO_EXIT gives no rusage');
    });
  }
});
