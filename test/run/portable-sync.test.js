// runSync() and `$.sync` on the portable engine (src/run/portable-sync.ts: Node's spawnSync): the
// same result fields and the same words as run() for the same command, the group's leftovers
// killed after a timeout, and what it refuses. Runs where the engine is portable (the portable and
// seccomp-nopidfd passes of test/run.js, which take this file through 'run/portable');
// test/platforms.test.js checks it on a pretended macOS and Windows in every pass.

import assert from 'node:assert/strict';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { $, run, runSync, RunError } from '../../dist/index.js';
import { portable } from '../helpers/engine.js';
import { leakFree, waitDead } from './helpers.js';

const onPortable = { skip: !portable && 'runs on the portable engine (the portable and seccomp-nopidfd passes)' };

/** What a user reads of a result or an error (not its pid or its duration). */
function fields(r) {
  return {
    message: r.message,
    stdout: r.stdout,
    stderr: r.stderr,
    exitCode: r.exitCode,
    signal: r.signal,
    failed: r.failed,
    timedOut: r.timedOut,
    isMaxBuffer: r.isMaxBuffer,
    isTerminated: r.isTerminated,
    isForcefullyTerminated: r.isForcefullyTerminated,
    command: r.command,
    cwd: r.cwd,
    causeCode: r.cause?.code,
    causeSyscall: r.cause?.syscall,
  };
}

describe('runSync() on the portable engine: the same result and words as run()', onPortable, () => {
  const cases = [
    ['success, both streams', 'sh', ['-c', 'echo out; echo err >&2'], {}],
    ['a non-zero exit', 'sh', ['-c', 'echo out; echo err >&2; exit 3'], {}],
    ['a timeout', 'sleep', ['30'], { timeout: 200 }],
    ['maxBuffer in bytes (the first process is killed)', 'sh', ['-c', 'printf abcdefgh; exec sleep 30'], { maxBuffer: 3 }],
    ['a program that cannot start', 'no-such-program-here', [], {}],
    ['a cwd that does not exist', 'true', [], { cwd: '/no/such/dir' }],
    ['encoding: buffer', 'printf', ['\\001\\002'], { encoding: 'buffer' }],
    ['a signal', 'sh', ['-c', 'kill -USR1 $$'], {}],
  ];
  for (const [name, file, args, options] of cases) {
    test(name, leakFree(async () => {
      const sync = runSync(file, args, { ...options, reject: false });
      const async = await run(file, args, { ...options, reject: false });
      assert.deepEqual(fields(sync), fields(async));
      assert.equal(sync instanceof RunError, async instanceof RunError);
    }));
  }

  test('maxBuffer in lines: applied once the command ended (not killed), with the same lines and words', leakFree(async () => {
    // run() kills the tree when the third line comes, unless the command has exited by then:
    // how its message ends depends on that race; the rest is the same.
    const options = { maxBuffer: 2, lines: true, reject: false };
    const sync = runSync('sh', ['-c', 'printf "a\\nb\\nc\\n"'], options);
    const async = await run('sh', ['-c', 'printf "a\\nb\\nc\\n"'], options);
    assert.deepEqual([sync.exitCode, sync.signal], [0, undefined], 'it ran to its end');
    for (const r of [sync, async]) {
      assert.deepEqual([r.stdout, r.isMaxBuffer, r.failed], [['a', 'b'], true, true]);
      assert.match(r.message, /^Command wrote more than maxBuffer \(2 lines\) to stdout( and was killed with SIGTERM| \(it then exited with code 0\)): sh -c /);
    }
  }));

  test('input, env, cwd and argv0 reach the child as with run()', leakFree(async () => {
    const dir = realpathSync(mkdtempSync(join(tmpdir(), 'pidfd-portable-sync-')));
    try {
      const options = { input: ['in', 'put\n'], env: { X: 'from env' }, cwd: dir, argv0: 'renamed' };
      const script = 'cat; echo "$X"; pwd; echo "$0"';
      const sync = runSync('sh', ['-c', script], options);
      assert.equal(sync.stdout, `input\nfrom env\n${dir}\nrenamed`);
      assert.deepEqual(fields(sync), fields(await run('sh', ['-c', script], options)));
      const node = runSync(process.execPath, ['-e', 'process.stdout.write(process.argv0)'], { argv0: 'renamed' });
      assert.equal(node.stdout, 'renamed');
    } finally {
      rmSync(dir, { recursive: true });
    }
  }));

  test('a throwing runSync() throws the same RunError as run() rejects with', leakFree(async () => {
    const sync = (() => {
      try {
        runSync('sh', ['-c', 'exit 4']);
      } catch (error) {
        return error;
      }
    })();
    assert.ok(sync instanceof RunError);
    assert.deepEqual(fields(sync), fields(await run('sh', ['-c', 'exit 4']).catch((e) => e)));
  }));

  test('$.sync works, with its template quoting', leakFree(async () => {
    assert.equal($.sync`echo ${'a b'} ${['c', 'd']}`.stdout, 'a b c d');
    assert.equal($.sync({ reject: false })`sh -c ${'exit 5'}`.exitCode, 5);
  }));

  test('a timeout kills what the first process left in its group once spawnSync returns', leakFree(async () => {
    const r = runSync('sh', ['-c', 'sleep 1000 & echo $!; exec sleep 1000'], { timeout: 300, reject: false, lines: true });
    assert.equal(r.timedOut, true);
    await waitDead(Number(r.stdout[0]), 'the grandchild, killed with the group');
  }));
});

describe('runSync() on the portable engine: what it refuses, before anything runs', onPortable, () => {
  test('all: true (spawnSync reads stdout and stderr apart: their order is lost) with ERR_PIDFD_UNSUPPORTED', leakFree(async () => {
    const error = runSync('sh', ['-c', 'echo out; echo err >&2'], { all: true, reject: false });
    assert.ok(error instanceof RunError);
    assert.equal(error.pid, undefined, 'nothing ran');
    assert.equal(error.cause.code, 'ERR_PIDFD_UNSUPPORTED');
    assert.match(error.message, /`all: true` in runSync\(\).*spawnSync.*the portable engine/);
  }));

  test('a tree object (limits: a per-run cgroup), as run() refuses it', leakFree(async () => {
    const sync = runSync('true', [], { tree: { memoryMax: '64M' }, reject: false });
    assert.equal(sync.pid, undefined, 'nothing ran');
    assert.equal(sync.cause.code, 'ERR_PIDFD_UNSUPPORTED');
    assert.deepEqual(fields(sync), fields(await run('true', [], { tree: { memoryMax: '64M' }, reject: false })));
  }));
});
