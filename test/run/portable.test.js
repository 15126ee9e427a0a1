// The portable engine of run() and `$` (src/run/portable.ts): the tree as a process group, the
// cleanup from exit handlers, what it refuses; the Windows pieces that can be checked anywhere.
// The in-process tests run where the engine is portable (the portable and seccomp-nopidfd passes
// of test/run.js); the others start a child with PIDFD_ENGINE=portable, in every pass.

import assert from 'node:assert/strict';
import { spawn as cpSpawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { run, RunError } from '../../dist/index.js';
import { taskkillArguments, windowsEndingSignals } from '../../dist/run/windows.js';
import { portable } from '../helpers/engine.js';
import { fixtures } from '../helpers/index.js';
import { isDead, leakFree, until, waitDead } from './helpers.js';

const onPortable = { skip: !portable && 'runs on the portable engine (the portable and seccomp-nopidfd passes)' };

function stateOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

describe('the portable engine: the tree is a process group', onPortable, () => {
  test('the first process leads a process group (and session) of its own', leakFree(async () => {
    const running = run('sleep', ['30']);
    const fields = stateOf(running.pid);
    assert.equal(Number(fields[2]), running.pid, 'pgrp');
    assert.equal(Number(fields[3]), running.pid, 'session: Node detaches with setsid()');
    running.kill();
    assert.equal((await running.catch((e) => e)).signal, 'SIGTERM');
  }));

  test('a timeout kills the grandchildren too; when the run settles they are gone', leakFree(async () => {
    const running = run('sh', ['-c', 'sleep 1000 & echo $!; sleep 1000'], { timeout: 300, lines: true });
    const error = await running.catch((e) => e);
    assert.ok(error instanceof RunError);
    assert.equal(error.timedOut, true);
    await waitDead(Number(error.stdout[0]), 'the grandchild');
  }));

  test('a stopped process is continued after killSignal, so that it acts on it', leakFree(async () => {
    const running = run('sleep', ['30']);
    running.kill('SIGSTOP');
    await until(() => stateOf(running.pid)?.[0] === 'T', 'the stop');
    running.kill();
    assert.equal((await running.catch((e) => e)).signal, 'SIGTERM');
  }));

  test('tree: false: the command stays in our process group, and kills reach it alone', leakFree(async () => {
    const running = run('sleep', ['30'], { tree: false });
    assert.equal(Number(stateOf(running.pid)[2]), Number(stateOf(process.pid)[2]));
    running.kill('SIGKILL');
    assert.equal((await running.catch((e) => e)).signal, 'SIGKILL');
  }));

  test('a tree object (limits: a per-run cgroup) is refused with ERR_PIDFD_UNSUPPORTED, naming the engine, before anything runs', leakFree(async () => {
    const error = await run('true', { tree: { memoryMax: '64M' } }).catch((e) => e);
    assert.ok(error instanceof RunError);
    assert.equal(error.pid, undefined, 'nothing ran');
    assert.equal(error.cause.code, 'ERR_PIDFD_UNSUPPORTED');
    assert.match(error.cause.message, /per-run cgroup.*the portable engine/);
  }));

  test("stderr: 'stdout' (2>&1): into stdout's file; with a captured stdout refused (Node makes a pipe per fd), before anything runs", leakFree(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pidfd-portable-'));
    try {
      const file = join(dir, 'both');
      await run('sh', ['-c', 'echo out; echo err >&2'], { stdout: { file }, stderr: 'stdout' });
      assert.equal(readFileSync(file, 'utf8'), 'out\nerr\n');
      const error = await run('sh', ['-c', 'echo out'], { stderr: 'stdout' }).catch((e) => e);
      assert.equal(error.pid, undefined, 'nothing ran');
      assert.equal(error.cause.code, 'ERR_PIDFD_UNSUPPORTED');
      assert.match(error.cause.message, /`stderr: 'stdout'` with a captured stdout.*the portable engine/);
    } finally {
      rmSync(dir, { recursive: true });
    }
  }));

  test('stdout to several places at once is refused with ERR_PIDFD_UNSUPPORTED, before anything runs (no file made)', leakFree(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pidfd-portable-'));
    try {
      const file = join(dir, 'build.log');
      const error = await run('echo', ['hi'], { stdout: ['pipe', { file }, 'inherit'] }).catch((e) => e);
      assert.ok(error instanceof RunError);
      assert.equal(error.pid, undefined, 'nothing ran');
      assert.equal(error.cause.code, 'ERR_PIDFD_UNSUPPORTED');
      assert.match(error.cause.message, /`stdout` to several places at once.*the portable engine/);
      assert.throws(() => readFileSync(file), { code: 'ENOENT' });
      // A transform alone is no tee: it works here too.
      assert.equal((await run('printf', ['a\\nb\\n'], { stdout: (line) => line.toUpperCase() })).stdout, 'A\nB');
    } finally {
      rmSync(dir, { recursive: true });
    }
  }));

  test('a program that cannot start: a SpawnError at once, as on the pidfd engine', leakFree(async () => {
    const error = await run('no-such-program-here').catch((e) => e);
    assert.equal(error.cause.code, 'ENOENT');
    assert.equal(error.cause.syscall, 'execve');
    const cwd = await run('true', { cwd: '/no/such/dir' }).catch((e) => e);
    assert.deepEqual([cwd.cause.code, cwd.cause.syscall, cwd.cause.path], ['ENOENT', 'chdir', '/no/such/dir']);
  }));
});

/** Starts the cleanup fixture on the portable engine; resolves with it and its grandchild's pid. */
async function cleanupFixture(mode) {
  const child = cpSpawn(process.execPath, [join(fixtures, 'platform', 'cleanup.mjs'), mode], {
    env: { ...process.env, PIDFD_ENGINE: 'portable' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk) => (out += chunk));
  await until(() => out.includes('\n') || child.exitCode !== null, 'the grandchild pid');
  return { child, grandchild: Number(out) };
}

describe('the portable engine: cleanup from exit handlers', () => {
  test("the tree is killed when this process exits (its 'exit' event)", async () => {
    const { child, grandchild } = await cleanupFixture('exit');
    assert.ok(grandchild > 0);
    if (child.exitCode === null) await once(child, 'exit');
    await waitDead(grandchild, 'the grandchild');
  });

  test('the tree is killed when this process gets SIGTERM (nothing else listens): then it dies of SIGTERM', async () => {
    const { child, grandchild } = await cleanupFixture('signal');
    child.kill('SIGTERM');
    const [code, signal] = await once(child, 'exit');
    assert.deepEqual([code, signal], [null, 'SIGTERM']);
    await waitDead(grandchild, 'the grandchild');
  });

  test('with cleanup: false the tree outlives this process', async () => {
    const { child, grandchild } = await cleanupFixture('nocleanup');
    if (child.exitCode === null) await once(child, 'exit');
    try {
      assert.equal(isDead(grandchild), false, 'the grandchild runs on');
    } finally {
      process.kill(grandchild, 'SIGKILL');
    }
    await waitDead(grandchild, 'the grandchild');
  });
});

describe('the portable engine on Windows: the pieces that run anywhere', () => {
  test('taskkill ends the tree (/T) by force (/F): a console program sees no close request', () => {
    assert.deepEqual(taskkillArguments(4242), ['/T', '/F', '/PID', '4242']);
    for (const bad of [0, -1, 1.5, NaN]) assert.throws(() => taskkillArguments(bad), RangeError);
  });

  test('only signals that end a process can be sent to a tree there', () => {
    for (const name of ['SIGTERM', 'SIGINT', 'SIGKILL']) assert.ok(windowsEndingSignals.has(name), name);
    for (const name of ['SIGSTOP', 'SIGCONT', 'SIGUSR1', 'SIGWINCH']) assert.ok(!windowsEndingSignals.has(name), name);
  });
});
