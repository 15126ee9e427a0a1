// `pidfd wait` (src/cli/wait.ts): waiting for processes that are not its children.

import assert from 'node:assert/strict';
import { spawn as cpSpawn } from 'node:child_process';
import { describe, test } from 'node:test';

import { describeExit } from '../../dist/cli/wait.js';
import { support } from '../../dist/index.js';
import { assertOneLine, cli, holdsPidfdFor, pidfd, sleeper } from '../helpers/cli.js';
import { GUARD_MS, killAtEnd, neverAPid, procStatus, withTimeout } from '../helpers/index.js';

describe('pidfd wait', () => {
  test('waits for processes that are not its children, and prints how each ended', async (t) => {
    const a = killAtEnd(t, cpSpawn('/bin/sh', ['-c', 'read x; exit 0'], { stdio: ['pipe', 'ignore', 'ignore'] }));
    const b = await sleeper(t);
    const waiting = cpSpawn(process.execPath, [cli, 'wait', String(a.pid), String(b.pid)], { stdio: ['ignore', 'pipe', 'pipe'] });
    killAtEnd(t, waiting);
    let out = '';
    waiting.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    const code = new Promise((resolve) => waiting.on('close', resolve));
    await holdsPidfdFor(waiting.pid, b.pid);
    a.stdin.end('go\n');
    b.kill();
    assert.equal(await withTimeout(code, GUARD_MS, 'pidfd wait'), 0);
    const lines = out.trim().split('\n').sort();
    assert.equal(lines.length, 2);
    if (support().features.pidfdInfoExit.available) {
      assert.ok(lines.includes(`${a.pid}: exited with code 0`), out);
      assert.ok(lines.includes(`${b.pid}: killed by SIGKILL`), out);
    } else {
      assert.match(out, /status unknown/);
    }
  });

  test('--any returns when the first process exits', async (t) => {
    const a = await sleeper(t);
    const b = await sleeper(t);
    const w = cpSpawn(process.execPath, [cli, 'wait', '--any', String(a.pid), String(b.pid)], { stdio: ['ignore', 'pipe', 'ignore'] });
    killAtEnd(t, w);
    const pending = new Promise((resolve) => {
      let out = '';
      w.stdout.on('data', (d) => (out += d));
      w.on('close', (code) => resolve({ code, out }));
    });
    await holdsPidfdFor(w.pid, b.pid);
    a.kill();
    const r = await withTimeout(pending, GUARD_MS, 'wait --any');
    assert.equal(r.code, 0);
    assert.match(r.out, new RegExp(`^${a.pid}: (killed by SIGKILL|exited)`));
    assert.equal(procStatus(b.pid).State[0], 'S', 'the other process is untouched');
  });

  test('--timeout exits 124 while the process runs on', async (t) => {
    const b = await sleeper(t);
    const r = pidfd('wait', '--timeout', '100ms', String(b.pid));
    assert.equal(r.code, 124);
    assert.match(r.stderr, /timed out/);
    assert.equal(procStatus(b.pid).State[0], 'S');
  });

  test('a pid that does not exist exits 1; a pid that is not a number exits 2', () => {
    const missing = pidfd('wait', '4194304000');
    assert.equal(missing.code, 2, 'above the largest pid: not a pid at all');
    const gone = pidfd('wait', String(neverAPid()));
    assert.equal(gone.code, 1, 'pid_max itself is never a pid');
    assertOneLine(gone.stderr);
    assert.match(gone.stderr, /no such process/);
    const bad = pidfd('wait', 'abc');
    assert.equal(bad.code, 2);
    assertOneLine(bad.stderr);
  });
});

describe('pidfd wait: the line printed for an exit', () => {
  const cases = [
    [{ pid: 5, code: 0, signal: null, coreDumped: false, reason: null }, '5: exited with code 0'],
    [{ pid: 5, code: null, signal: 'SIGKILL', coreDumped: false, reason: null }, '5: killed by SIGKILL'],
    [{ pid: 5, code: null, signal: 'SIGSEGV', coreDumped: true, reason: null }, '5: killed by SIGSEGV (core dumped)'],
    [{ pid: 5, code: null, signal: null, coreDumped: false, reason: 'not reaped' }, '5: exited (status unknown: not reaped)'],
  ];
  for (const [info, line] of cases) {
    test(`"${line}"`, () => {
      assert.equal(describeExit(info), line);
    });
  }
});
