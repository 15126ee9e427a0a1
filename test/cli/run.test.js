// `pidfd run` (src/cli/run.ts): the real binary, its stdout, stderr and exit codes.

import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { support } from '../../dist/index.js';
import { assertOneLine, pidfd, start } from '../helpers/cli.js';
import { GUARD_MS, withTimeout } from '../helpers/index.js';

describe('pidfd run', () => {
  test('exits with the exit code of the command, which inherits stdio', () => {
    const r = pidfd('run', '--', '/bin/sh', '-c', 'echo out; echo err >&2; exit 3');
    assert.deepEqual([r.code, r.stdout, r.stderr], [3, 'out\n', 'err\n']);
  });

  test('the command may follow the options without --', () => {
    const r = pidfd('run', '/bin/sh', '-c', 'exit 4');
    assert.equal(r.code, 4);
  });

  test('exits with 128 + the signal that ended the command', () => {
    assert.equal(pidfd('run', '--', '/bin/sh', '-c', 'kill -KILL $$').code, 137);
  });

  test('--timeout sends the signal and exits 124', () => {
    const r = pidfd('run', '--report=json', '--timeout', '200ms', '--', 'sleep', '30');
    assert.equal(r.code, 124);
    const report = JSON.parse(r.stderr);
    assert.deepEqual([report.signal, report.timedOut], ['SIGTERM', true]);
  });

  test('--signal chooses the timeout signal, and --kill-after escalates to SIGKILL (exit 137, as timeout(1))', () => {
    const hup = JSON.parse(pidfd('run', '--report=json', '--timeout', '0.1', '-s', 'HUP', '--', 'sleep', '30').stderr);
    assert.equal(hup.signal, 'SIGHUP');
    const r = pidfd('run', '--report=json', '--timeout', '0.1', '--kill-after', '0.2', '--', '/bin/sh', '-c', 'trap "" TERM; while :; do sleep 0.05; done');
    assert.equal(r.code, 137);
    assert.equal(JSON.parse(r.stderr).signal, 'SIGKILL');
  });

  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    test(`${signal} sent to pidfd is forwarded to the command through its pidfd`, async (t) => {
      const script = `trap 'echo got-${signal}; exit 7' ${signal.slice(3)}; echo ready; while :; do sleep 0.05; done`;
      // --kill-on-parent-exit: should pidfd die instead of forwarding, its child dies with it.
      const { child, done } = await start(t, 'ready', 'run', '--kill-on-parent-exit', '--', '/bin/sh', '-c', script);
      child.kill(signal);
      const r = await withTimeout(done, GUARD_MS, 'forwarded signal');
      assert.equal(r.code, 7);
      assert.match(r.stdout, new RegExp(`got-${signal}`));
    });
  }

  test('a command that is not found exits 127; one that cannot run exits 126', () => {
    const missing = pidfd('run', '--', 'no-such-command-anywhere');
    assert.equal(missing.code, 127);
    assertOneLine(missing.stderr);
    assert.match(missing.stderr, /ENOENT/);
    const dir = mkdtempSync(join(tmpdir(), 'pidfd-cli-'));
    try {
      writeFileSync(join(dir, 'noexec'), 'echo hi\n');
      chmodSync(join(dir, 'noexec'), 0o644);
      const denied = pidfd('run', '--', join(dir, 'noexec'));
      assert.equal(denied.code, 126);
      assert.match(denied.stderr, /EACCES/);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  test('bad options exit 125 with one line: duration, signal, missing command, unknown option', () => {
    for (const args of [
      ['--timeout', 'soon', '--', 'true'],
      ['--timeout', '1', '-s', 'NOPE', '--', 'true'],
      ['--kill-after', '1', '--', 'true'],
      ['--report=xml', '--', 'true'],
      ['--bogus', '--', 'true'],
      [],
    ]) {
      const r = pidfd('run', ...args);
      assert.equal(r.code, 125, args.join(' '));
      assertOneLine(r.stderr);
    }
  });

  test('--cgroup that cannot be used exits 125 and says why', () => {
    const r = pidfd('run', '--cgroup', '/sys/fs/cgroup/no-such-cgroup-for-pidfd', '--', 'true');
    assert.equal(r.code, 125);
    assertOneLine(r.stderr);
    assert.match(r.stderr, /ENOENT: no such file or directory, open '\/sys\/fs\/cgroup\/no-such-cgroup-for-pidfd'/);
    // The option and its path are named, not the command ("spawn true ENOENT" reads as "no true").
    assert.match(r.stderr, /^pidfd run: --cgroup \/sys\/fs\/cgroup\/no-such-cgroup-for-pidfd: ENOENT/);
    assert.doesNotMatch(r.stderr, /spawn true/);
  });
});
