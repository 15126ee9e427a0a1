// run(): the call, its result, the RunProcess while it runs.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { run, RunError, RunProcess, SpawnError, Subprocess, support } from '../../dist/index.js';
import { portable } from '../helpers/engine.js';
import { thrown } from '../helpers/index.js';
import { leakFree, waitDead } from './helpers.js';

describe('run(file, args?, options?)', () => {
  test('resolves with every field of the result', leakFree(async () => {
    const result = await run('sh', ['-c', 'echo "out put"; echo err >&2']);
    assert.equal(result.command, 'sh -c echo "out put"; echo err >&2');
    assert.equal(result.escapedCommand, `sh -c 'echo "out put"; echo err >&2'`);
    assert.equal(result.cwd, process.cwd());
    assert.equal(typeof result.pid, 'number');
    assert.equal(result.exitCode, 0);
    assert.equal(result.signal, undefined);
    assert.equal(result.stdout, 'out put', 'captured, the final newline stripped');
    assert.equal(result.stderr, 'err');
    assert.equal(result.all, undefined, 'only with the `all` option');
    assert.ok(result.durationMs >= 0);
    if (portable) assert.equal(result.rusage, undefined, "Node's child_process gives no rusage");
    else assert.equal(typeof result.rusage.userCPUTime, 'number');
    if (support().features.perRunCgroup.available && !portable) {
      assert.match(result.cgroup.path, new RegExp(`/pidfd-${process.pid}-\\d+$`), 'the run had a cgroup of its own');
      assert.ok(result.cgroup.cpu.usageUs > 0, 'the CPU time of its tree');
    } else {
      assert.equal(result.cgroup, undefined, 'no per-run cgroup: no tree figures');
    }
    assert.deepEqual(
      [result.failed, result.timedOut, result.isCanceled, result.isMaxBuffer, result.isTerminated],
      [false, false, false, false, false],
    );
    assert.deepEqual(result.pipedFrom, []);
  }));

  test('takes (file), (file, args), (file, options) and (file, undefined, options)', leakFree(async () => {
    assert.equal((await run('pwd')).stdout, process.cwd());
    assert.equal((await run('echo', ['a', 'b'])).stdout, 'a b');
    assert.equal((await run('pwd', { cwd: '/' })).stdout, '/');
    assert.equal((await run('pwd', undefined, { cwd: '/' })).stdout, '/');
  }));

  test('refuses null args, null options and options after options, before starting anything', () => {
    assert.equal(thrown(() => run('true', null)).code, 'ERR_INVALID_ARG_TYPE');
    assert.equal(thrown(() => run('true', [], null)).code, 'ERR_INVALID_ARG_TYPE');
    assert.equal(thrown(() => run('true', {}, {})).code, 'ERR_INVALID_ARG_VALUE');
    assert.equal(thrown(() => run('')).code, 'ERR_INVALID_ARG_VALUE');
    assert.equal(thrown(() => run('true', ['a\0b'])).code, 'ERR_INVALID_ARG_VALUE');
  });

  test('returns a RunProcess that has the pid and the subprocess while the command runs', leakFree(async () => {
    const running = run('sleep', ['30']);
    assert.ok(running instanceof RunProcess);
    if (portable) {
      assert.equal(running.subprocess, undefined, "a Subprocess is the pidfd engine's");
      assert.equal(typeof running.pid, 'number');
    } else {
      assert.ok(running.subprocess instanceof Subprocess);
      assert.equal(running.pid, running.subprocess.pid);
    }
    assert.equal(running.stdin, null, "stdin is /dev/null unless `stdin: 'pipe'`");
    assert.equal(running.stdout, null, 'captured output is not a stream of yours');
    assert.equal(running.kill(), true);
    const error = await running.catch((e) => e);
    assert.ok(error instanceof RunError);
    assert.equal(error.signal, 'SIGTERM');
    assert.equal(running.kill(), false, 'nothing left to signal');
  }));

  test("gives the child's stdin with `stdin: 'pipe'`", leakFree(async () => {
    const running = run('cat', { stdin: 'pipe' });
    running.stdin.end('typed in\n');
    assert.equal((await running).stdout, 'typed in');
  }));

  test('a program that does not exist rejects with a RunError caused by the SpawnError', leakFree(async () => {
    const running = run('no-such-program-here', ['x']);
    assert.equal(running.pid, undefined);
    assert.equal(running.subprocess, undefined);
    const error = await running.catch((e) => e);
    assert.ok(error instanceof RunError);
    assert.ok(error.cause instanceof SpawnError);
    assert.equal(error.code, 'ENOENT');
    assert.equal(error.failed, true);
    assert.equal(error.exitCode, undefined);
    assert.equal(error.pid, undefined);
    assert.match(error.shortMessage, /^Command could not start \(spawn no-such-program-here ENOENT.*\): no-such-program-here x$/);
  }));

  test('with `reject: false` a failed run resolves with its RunError', leakFree(async () => {
    const error = await run('sh', ['-c', 'exit 4'], { reject: false });
    assert.ok(error instanceof RunError);
    assert.equal(error.exitCode, 4);
    assert.equal(error.failed, true);
  }));

  test('a run that nobody awaits raises no unhandled rejection', leakFree(async () => {
    let unhandled = null;
    const onUnhandled = (reason) => {
      unhandled = reason;
    };
    process.on('unhandledRejection', onUnhandled);
    try {
      const running = run('sh', ['-c', 'exit 9']);
      await (portable ? waitDead(running.pid) : running.subprocess.exited);
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    assert.equal(unhandled, null);
  }));

  test('escapedCommand quotes what a shell would split or expand', leakFree(async () => {
    const result = await run('printf', ['%s\\n', "it's", '', 'a b', '$HOME', 'plain-1.0/x=y']);
    assert.equal(result.escapedCommand, `printf '%s\\n' 'it'\\''s' '' 'a b' '$HOME' plain-1.0/x=y`);
    assert.equal(result.stdout, "it's\n\na b\n$HOME\nplain-1.0/x=y");
  }));

  test('await using ends the command: Symbol.asyncDispose kills the tree with SIGKILL', leakFree(async () => {
    const running = run('sleep', ['30']);
    const pid = running.pid;
    await running[Symbol.asyncDispose]();
    await waitDead(pid);
    const error = await running.catch((e) => e);
    assert.equal(error.signal, 'SIGKILL');
  }));

  test('then, catch and finally behave as a promise', leakFree(async () => {
    const values = [];
    await run('true').finally(() => values.push('finally'));
    await run('false').catch((e) => values.push(e.exitCode));
    await run('echo', ['x']).then((r) => values.push(r.stdout));
    assert.deepEqual(values, ['finally', 1, 'x']);
  }));

  test('the child is in a process group of its own, so that the tree can be killed', leakFree(async () => {
    const running = run('sleep', ['30']);
    const { readFileSync } = await import('node:fs');
    const stat = readFileSync(`/proc/${running.pid}/stat`, 'latin1');
    const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
    assert.equal(pgrp, running.pid);
    running.kill();
    await running.catch(() => {});
  }));
});
