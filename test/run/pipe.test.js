// Pipelines: run('a').pipe('b'): one kernel pipe handed to both children, no byte through this
// process; longer chains; the last command's result; the first failure reported with its command.

import assert from 'node:assert/strict';
import { readlinkSync } from 'node:fs';
import { describe, test } from 'node:test';

import { $, run, RunError } from '../../dist/index.js';
import { pidfdOnly } from '../helpers/engine.js';
import { thrown } from '../helpers/index.js';
import { leakFree } from './helpers.js';

describe('pipe()', () => {
  test('three commands: the result is the last one\'s, the others in pipedFrom', leakFree(async () => {
    const result = await run('seq', ['1', '100000']).pipe('grep', ['7']).pipe('wc', ['-l']);
    let expected = 0;
    for (let i = 1; i <= 100000; i++) if (String(i).includes('7')) expected++;
    assert.equal(result.stdout.trim(), String(expected));
    assert.equal(result.command, 'wc -l');
    assert.deepEqual(result.pipedFrom.map((r) => r.command), ['seq 1 100000', 'grep 7']);
    assert.deepEqual(result.pipedFrom.map((r) => r.stdout), [undefined, undefined], 'piped, not captured');
    assert.equal(result.pipedFrom[1].pipedFrom.length, 1);
  }));

  test('the two children share one kernel pipe, and this process holds no end of it', pidfdOnly("Node's child_process joins them with a socketpair"), leakFree(async () => {
    const first = run('sleep', ['30']);
    const second = first.pipe('cat');
    const written = readlinkSync(`/proc/${first.pid}/fd/1`);
    const read = readlinkSync(`/proc/${second.pid}/fd/0`);
    assert.match(written, /^pipe:\[\d+\]$/);
    assert.equal(read, written, "the writer's stdout is the reader's stdin");
    assert.equal(first.subprocess.stdout, null, 'captured output never goes through a Subprocess stream');
    const ours = (await import('node:fs')).readdirSync('/proc/self/fd').map((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        return '';
      }
    });
    assert.equal(ours.includes(written), false, 'no fd of this process is on that pipe');
    second.kill();
    const error = await second.catch((e) => e);
    assert.equal(error.command, 'sleep 30', 'kill() reached both; the first failure is the first command\'s');
  }));

  test('a large transfer (50 MB) arrives whole', leakFree(async () => {
    const result = await run('head', ['-c', '50000000', '/dev/zero']).pipe('wc', ['-c']);
    assert.equal(result.stdout.trim(), '50000000');
  }));

  test('a failure in the middle is reported with the command that failed', leakFree(async () => {
    const error = await run('seq', ['1', '10'])
      .pipe('sh', ['-c', 'cat >/dev/null; echo broken >&2; exit 3'])
      .pipe('cat')
      .catch((e) => e);
    assert.ok(error instanceof RunError);
    assert.equal(error.exitCode, 3);
    assert.match(error.shortMessage, /^Command failed with exit code 3: sh -c /);
    assert.match(error.message, /broken$/);
    assert.deepEqual(error.pipedFrom.map((r) => r.command), ['seq 1 10']);
  }));

  test('the first failure wins: an upstream failure is reported even when the last command succeeds', leakFree(async () => {
    const error = await run('sh', ['-c', 'echo partial; exit 2']).pipe('cat').catch((e) => e);
    assert.equal(error.exitCode, 2);
    assert.equal(error.command, 'sh -c echo partial; exit 2');
  }));

  test('an upstream command killed by SIGPIPE did not fail: the next one stopped reading', pidfdOnly("between Node's socketpairs a writer whose reader left gets ECONNRESET on Linux, not SIGPIPE"), leakFree(async () => {
    const result = await run('yes').pipe('head', ['-n', '2']);
    assert.equal(result.stdout, 'y\ny');
    assert.equal(result.pipedFrom[0].signal, 'SIGPIPE');
    assert.equal(result.pipedFrom[0].failed, false, 'in pipedFrom too');
    assert.equal(result.pipedFrom[0] instanceof Error, false, 'a result, not an error');
    assert.equal(result.failed, false);
    // A pipeline that fails later says the same of it.
    const error = await run('yes').pipe('head', ['-n', '2']).pipe('sh', ['-c', 'cat; exit 3']).catch((e) => e);
    assert.equal(error.exitCode, 3);
    assert.deepEqual(error.pipedFrom.map((r) => [r.signal, r.failed]), [['SIGPIPE', false], [undefined, false]]);
  }));

  test('a source that cannot start fails the pipeline with its own error; the next one never starts', leakFree(async () => {
    const source = run('no-such-source');
    const piped = source.pipe('cat');
    assert.equal(piped.pid, undefined);
    const error = await piped.catch((e) => e);
    assert.equal(error.code, 'ENOENT');
    assert.equal(error.command, 'no-such-source');
  }));

  test('a destination that cannot start fails the pipeline; the source sees its reader gone', pidfdOnly("between Node's socketpairs a writer whose reader left gets ECONNRESET on Linux, not SIGPIPE"), leakFree(async () => {
    const source = run('yes');
    const error = await source.pipe('no-such-sink').catch((e) => e);
    assert.equal(error.code, 'ENOENT');
    assert.equal(error.command, 'no-such-sink');
    const upstream = await source.catch((e) => e);
    assert.equal(upstream.signal, 'SIGPIPE');
  }));

  test('each command keeps its own options: a timeout on the last one', pidfdOnly("between Node's socketpairs a writer whose reader left gets ECONNRESET on Linux, not SIGPIPE"), leakFree(async () => {
    const error = await run('yes').pipe('sleep', ['30'], { timeout: 20 }).catch((e) => e);
    assert.equal(error.timedOut, true);
    assert.equal(error.command, 'sleep 30');
  }));

  test('$`…`.pipe`…` chains templates, with the options bound to that $', leakFree(async () => {
    const result = await $({ cwd: '/' })`ls -d ${'/usr'} ${'/bin'}`.pipe`wc -l`.pipe`pwd`;
    assert.equal(result.stdout, '/');
    const counted = await $`printf %s\n ${['a', 'b', 'c']}`.pipe`wc -l`;
    assert.equal(counted.stdout.trim(), '3');
  }));

  test('iterating a pipeline gives the last command\'s lines', leakFree(async () => {
    const lines = [];
    for await (const line of run('seq', ['1', '5']).pipe('tac')) lines.push(line);
    assert.deepEqual(lines, ['5', '4', '3', '2', '1']);
  }));

  test('refused: a source whose stdout is not a pipe, options for the stdin of a piped command, a second pipe()', leakFree(async () => {
    const inherited = run('true', { stdout: 'ignore' });
    assert.equal(thrown(() => inherited.pipe('cat')).code, 'ERR_INVALID_ARG_VALUE');
    await inherited;
    const source = run('echo', ['x']);
    for (const options of [{ stdin: 'pipe' }, { input: 'x' }, { inputFile: '/dev/null' }]) {
      const error = thrown(() => source.pipe('cat', [], options));
      assert.equal(error.code, 'ERR_INVALID_ARG_VALUE');
      assert.match(error.message, /cannot be given to a piped command/);
    }
    const piped = source.pipe('cat');
    assert.equal(thrown(() => source.pipe('cat')).code, 'ERR_PIDFD_STDOUT_TAKEN');
    assert.equal((await piped).stdout, 'x');
  }));

  test('refused: pipe() after the output has been read, since the next command would miss it', leakFree(async () => {
    const source = run('echo', ['early']);
    assert.equal((await source).stdout, 'early');
    const error = thrown(() => source.pipe('cat'));
    assert.equal(error.code, 'ERR_PIDFD_PIPE_TOO_LATE');
    assert.match(error.message, /call pipe\(\) in the same tick as run\(\)/);
  }));
});

describe("pipe() from stderr, or from both (`stderr: 'stdout'`, 2>&1)", () => {
  /** The kernel pipe behind fd `fd` of process `pid`. */
  const pipeOf = (pid, fd) => readlinkSync(`/proc/${pid}/fd/${fd}`);
  /** Waits for `pid` to be running `name`: until sh has exec'd it, its fd 1 may be fd 2 for a
   * moment (dash redirects `echo … >&2` by moving fd 1 aside and back). */
  const running = async (pid, name) => {
    while ((await import('node:fs')).readFileSync(`/proc/${pid}/comm`, 'utf8') !== `${name}\n`) await new Promise((resolve) => setTimeout(resolve, 5));
  };
  const ourPipes = async () =>
    (await import('node:fs')).readdirSync('/proc/self/fd').map((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        return '';
      }
    });

  test("{ from: 'stderr' }: the writer's stderr is the reader's stdin, one kernel pipe that this process holds no end of", pidfdOnly("Node's child_process joins them with a socketpair"), leakFree(async () => {
    const first = run('sh', ['-c', 'echo to-stdout; echo to-stderr >&2; exec sleep 30']);
    const second = first.pipe('cat', [], { from: 'stderr' });
    await running(first.pid, 'sleep');
    const written = pipeOf(first.pid, 2);
    assert.match(written, /^pipe:\[\d+\]$/);
    assert.equal(pipeOf(second.pid, 0), written);
    assert.notEqual(pipeOf(first.pid, 1), written, 'stdout stays apart (captured)');
    assert.equal((await ourPipes()).includes(written), false, 'no fd of this process is on that pipe');
    second.kill();
    const error = await second.catch((e) => e);
    assert.equal(error.command, 'sh -c echo to-stdout; echo to-stderr >&2; exec sleep 30');
    assert.equal(error.stdout, 'to-stdout', 'stdout captured as usual');
    assert.equal(error.stderr, undefined, 'stderr was piped, not captured');
  }));

  test("{ from: 'stderr' } carries stderr alone; the template form .pipe({ from })`…` too", leakFree(async () => {
    const script = ['-c', 'for i in 1 2 3; do echo out$i; echo err$i >&2; done'];
    const result = await run('sh', script).pipe('cat', { from: 'stderr' });
    assert.equal(result.stdout, 'err1\nerr2\nerr3');
    assert.equal(result.pipedFrom[0].stdout, 'out1\nout2\nout3');
    const viaTemplate = await $`sh ${script}`.pipe({ from: 'stderr' })`wc -l`;
    assert.equal(viaTemplate.stdout.trim(), '3');
  }));

  test("stderr: 'stdout' (2>&1): both through the same kernel pipe, and { from: 'all' } pipes it", pidfdOnly("one pipe for fds 1 and 2, which Node's child_process does not make (refused there: test/run/portable.test.js)"), leakFree(async () => {
    const first = run('sh', ['-c', 'echo out; echo err >&2; exec sleep 30'], { stderr: 'stdout' });
    const second = first.pipe('cat', [], { from: 'all' });
    await running(first.pid, 'sleep');
    assert.equal(pipeOf(first.pid, 2), pipeOf(first.pid, 1), "the child's fd 2 is its fd 1");
    assert.equal(pipeOf(second.pid, 0), pipeOf(first.pid, 1));
    assert.equal((await ourPipes()).includes(pipeOf(first.pid, 1)), false);
    second.kill();
    await second.catch(() => {});
    const result = await run('sh', ['-c', 'echo out; echo err >&2'], { stderr: 'stdout' }).pipe('sort', [], { from: 'all' });
    assert.equal(result.stdout, 'err\nout');
    const captured = await run('sh', ['-c', 'echo out; echo err >&2'], { stderr: 'stdout' });
    assert.equal(captured.stdout, 'out\nerr', 'captured: both, in the order written');
    assert.equal(captured.stderr, undefined);
  }));

  test("refused: { from: 'all' } without stderr: 'stdout' (two pipes are not merged in JavaScript), a bad `from`, a stderr that is not a pipe", leakFree(async () => {
    const source = run('echo', ['x']);
    const error = thrown(() => source.pipe('cat', [], { from: 'all' }));
    assert.equal(error.code, 'ERR_INVALID_ARG_VALUE');
    assert.match(error.message, /start it with `stderr: 'stdout'`/);
    assert.equal(thrown(() => source.pipe('cat', [], { from: 'fd3' })).code, 'ERR_INVALID_ARG_VALUE');
    assert.equal((await source.pipe('cat')).stdout, 'x', 'stdout still pipeable after the refusals');
    const ignored = run('true', { stderr: 'ignore' });
    assert.match(thrown(() => ignored.pipe('cat', [], { from: 'stderr' })).message, /The `stderr` option must be 'pipe' or 'stream'/);
    await ignored;
    const taken = run('sh', ['-c', 'echo e >&2']);
    const piped = taken.pipe('cat', [], { from: 'stderr' });
    assert.equal(thrown(() => taken.pipe('cat', [], { from: 'stderr' })).code, 'ERR_PIDFD_STDOUT_TAKEN');
    assert.equal((await piped).stdout, 'e');
    assert.equal(thrown(() => run('true', { stdout: 'stream', stderr: 'stdout' })).code, 'ERR_INVALID_ARG_VALUE');
  }));
});
