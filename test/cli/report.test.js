// `pidfd run --report` (src/cli/report.ts): the exit status and resources of the command.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { reportJson, reportText } from '../../dist/cli/report.js';
import { cli, pidfd } from '../helpers/cli.js';
import { GUARD_MS, helperBin, sanitized } from '../helpers/index.js';

describe('pidfd run --report', () => {
  test('--report prints a table of the status and resources to stderr', () => {
    const r = pidfd('run', '--report', '--', '/bin/sh', '-c', 'exit 5');
    assert.equal(r.code, 5);
    assert.match(r.stderr, /^\tExit status:\s+5$/m);
    assert.match(r.stderr, /^\tUser time \(s\):\s+\d+\.\d{3}$/m);
    assert.match(r.stderr, /^\tMaximum resident set size \(KiB\):\s+\d+/m);
    assert.match(r.stderr, /^\tMinor page faults:\s+\d+$/m);
  });

  test('--report=json prints one JSON line with the rusage', () => {
    const r = pidfd('run', '--report=json', '--', '/bin/sh', '-c', 'exit 6');
    assert.equal(r.code, 6);
    const report = JSON.parse(r.stderr);
    assert.deepEqual(report.command, ['/bin/sh', '-c', 'exit 6']);
    assert.equal(report.code, 6);
    assert.equal(report.signal, null);
    assert.equal(report.timedOut, false);
    assert.ok(report.elapsedMs > 0);
    assert.ok(report.rusage.maxRSS > 0);
    // Without a cgroup, the report spawns with the fork backend: the peak RSS is the child's own,
    // not the launcher's (a Node process is tens of MiB; sh is a few). Not under npm run
    // test:asan, which preloads the sanitizer runtime into sh too (tens of MiB of its own).
    if (process.env.PIDFD_BACKEND === undefined && !sanitized) assert.ok(report.rusage.maxRSS < 20000, `maxRSS ${report.rusage.maxRSS}`);
  });

  test('--report=json of a command that crashed says whether it dumped core, as the kernel does', (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'pidfd-cli-core-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const command = ['/bin/sh', '-c', 'ulimit -c unlimited; kill -SEGV $$'];
    const options = { cwd: dir, encoding: 'utf8', timeout: GUARD_MS, killSignal: 'SIGKILL' };
    const r = spawnSync(process.execPath, [cli, 'run', '--report=json', '--', ...command], options);
    const kernel = JSON.parse(spawnSync(join(helperBin, 'wait-status'), command, options).stdout);
    assert.equal(r.status, 128 + 11);
    const report = JSON.parse(r.stderr);
    assert.deepEqual([report.signal, report.coreDumped], ['SIGSEGV', kernel.coreDumped]);
  });
});

describe('pidfd run --report: the text and the JSON', () => {
  const rusage = {
    userCPUTime: 1500,
    systemCPUTime: 250000,
    maxRSS: 2048,
    minorFaults: 7,
    majorFaults: 0,
    voluntaryContextSwitches: 3,
    involuntaryContextSwitches: 1,
  };
  const run = (status, extra = {}) => ({
    command: ['sh', '-c', 'exit 3'],
    status: { pid: 42, code: null, signal: null, coreDumped: false, rusage, ...status },
    elapsedMs: 1234.5678,
    timedOut: false,
    backend: 'fork',
    ...extra,
  });

  const killed = [
    { status: { signal: 'SIGSEGV', coreDumped: true }, row: /^\tKilled by signal:\s+SIGSEGV \(core dumped\)$/m },
    { status: { signal: 'SIGSEGV', coreDumped: false }, row: /^\tKilled by signal:\s+SIGSEGV$/m },
    { status: { code: 3 }, row: /^\tExit status:\s+3$/m },
  ];
  for (const { status, row } of killed) {
    test(`a status of ${JSON.stringify(status)} reads ${row}`, () => {
      assert.match(reportText(run(status)), row);
    });
  }

  test('the table has the times in seconds, the memory and the faults', () => {
    const text = reportText(run({ code: 3 }, { timedOut: true }));
    assert.match(text, /^\tCommand:\s+sh -c "exit 3"$/m);
    assert.match(text, /^\tTimed out:\s+yes$/m);
    assert.match(text, /^\tElapsed \(wall clock\) time \(s\):\s+1\.235$/m);
    assert.match(text, /^\tUser time \(s\):\s+0\.002$/m);
    assert.match(text, /^\tSystem time \(s\):\s+0\.250$/m);
    assert.match(text, /^\tMaximum resident set size \(KiB\):\s+2048$/m);
  });

  test('the JSON has the status, coreDumped and the rusage as they are', () => {
    const json = JSON.parse(reportJson(run({ signal: 'SIGABRT', coreDumped: true })));
    assert.deepEqual(json, {
      command: ['sh', '-c', 'exit 3'],
      pid: 42,
      code: null,
      signal: 'SIGABRT',
      coreDumped: true,
      timedOut: false,
      elapsedMs: 1234.568,
      rusage,
    });
  });
});
