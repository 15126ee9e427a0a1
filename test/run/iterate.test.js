// for await (const line of run(...)): the lines of stdout as they arrive.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';

import { run, RunError } from '../../dist/index.js';
import { firstExited, pidfdOnly } from '../helpers/engine.js';
import { isDead, leakFree, runFixtures, waitDead } from './helpers.js';

describe('async iteration over the lines of stdout', () => {
  test('gives every line without its newline, the last one even without a newline, \\r\\n handled', leakFree(async () => {
    const lines = [];
    for await (const line of run('printf', ['a\\nb\\r\\n\\nlast'])) lines.push(line);
    assert.deepEqual(lines, ['a', 'b', '', 'last']);
  }));

  test('gives lines while the command runs', leakFree(async () => {
    // The command waits for its stdin to close: the loop sees the first line before the end.
    const running = run('sh', ['-c', 'echo first; read x; echo second'], { stdin: 'pipe' });
    const lines = [];
    for await (const line of running) {
      lines.push(line);
      if (line === 'first') running.stdin.end('go\n');
    }
    assert.deepEqual(lines, ['first', 'second']);
  }));

  test('takes stdout: the result has no stdout; stderr is still captured', leakFree(async () => {
    const running = run('sh', ['-c', 'echo out; echo err >&2']);
    for await (const line of running) assert.equal(line, 'out');
    const result = await running;
    assert.equal(result.stdout, undefined);
    assert.equal(result.stderr, 'err');
  }));

  test('lines already captured before the loop started are given too', leakFree(async () => {
    const running = run('seq', ['1', '3']);
    await firstExited(running);
    const lines = [];
    for await (const line of running) lines.push(line);
    assert.deepEqual(lines, ['1', '2', '3']);
  }));

  test('a failed command throws its RunError after its lines', leakFree(async () => {
    const lines = [];
    const error = await (async () => {
      for await (const line of run('sh', ['-c', 'echo one; exit 5'])) lines.push(line);
    })().catch((e) => e);
    assert.deepEqual(lines, ['one']);
    assert.ok(error instanceof RunError);
    assert.equal(error.exitCode, 5);
  }));

  test('leaving the loop early kills the tree with killSignal', leakFree(async () => {
    const running = run('sh', ['-c', 'sleep 1000 & echo $!; wait']);
    let grandchild;
    for await (const line of running) {
      grandchild = Number(line);
      break;
    }
    const error = await running.catch((e) => e);
    assert.equal(error.signal, 'SIGTERM');
    assert.equal(isDead(grandchild), true);
    await waitDead(grandchild);
  }));

  test('an endless command (tail -f, yes) can be read line by line and stopped', leakFree(async () => {
    let count = 0;
    for await (const line of run('yes', ['tick'])) {
      assert.equal(line, 'tick');
      if (++count === 1000) break;
    }
    assert.equal(count, 1000);
  }));

  test("refused: stdout that is not a pipe, and a second iteration", leakFree(async () => {
    const ignored = run('true', { stdout: 'ignore' });
    await assert.rejects(ignored[Symbol.asyncIterator]().next(), { code: 'ERR_INVALID_ARG_VALUE' });
    await ignored;
    const running = run('echo', ['x']);
    const first = running[Symbol.asyncIterator]();
    assert.deepEqual(await first.next(), { value: 'x', done: false });
    await assert.rejects(running[Symbol.asyncIterator]().next(), { code: 'ERR_PIDFD_STDOUT_TAKEN' });
    assert.deepEqual(await first.next(), { value: undefined, done: true });
  }));

  // The loop is left in a process of its own, under top-level await: had the wait after the kill
  // not kept the event loop alive, Node would exit inside the loop (code 13, "after" never said).
  for (const [name, options] of [
    ['a per-run cgroup, or the process group where none can be made', {}],
    ['the command alone (tree: false)', { tree: false }],
    ["stdout: 'stream'", { stdout: 'stream' }],
  ]) {
    test(`leaving the loop of a command that ignores killSignal and keeps writing: the code after the loop runs (${name})`, async () => {
      const script = `
        import { run } from ${JSON.stringify(join(runFixtures, '..', '..', '..', 'dist', 'index.js'))};
        const writer = "process.on('SIGTERM', () => {}); console.log('ready'); setInterval(() => console.log('more'), 1);";
        const running = run(process.execPath, ['-e', writer], { forceKillAfterDelay: 50, ...${JSON.stringify(options)} });
        for await (const line of running) if (line === 'ready') break;
        const error = await running.catch((e) => e);
        console.log('after', error.failed);
      `;
      const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script]);
      assert.equal(stdout, 'after true\n');
    });
  }
});

describe("iterable({ from: 'stdout' | 'stderr' | 'all' })", () => {
  test("from: 'stderr' gives the lines of stderr and takes it; stdout is still captured", leakFree(async () => {
    const running = run('sh', ['-c', 'echo o1; echo e1 >&2; echo o2; printf e2 >&2']);
    const lines = [];
    for await (const line of running.iterable({ from: 'stderr' })) lines.push(line);
    assert.deepEqual(lines, ['e1', 'e2']);
    const result = await running;
    assert.equal(result.stdout, 'o1\no2');
    assert.equal(result.stderr, undefined, 'iterated, not captured');
  }));

  test("from: 'all' gives the lines of both, each stream in its order, as they arrive", leakFree(async () => {
    // Each line waits for the one before it to have been seen (a FIFO of lines written back):
    // the order across the streams is the order they were written.
    const running = run('sh', ['-c', 'for i in 1 2 3; do echo out$i; read x; echo err$i >&2; read x; done'], { stdin: 'pipe' });
    const lines = [];
    for await (const line of running.iterable({ from: 'all' })) {
      lines.push(line);
      running.stdin.write('next\n');
    }
    assert.deepEqual(lines, ['out1', 'err1', 'out2', 'err2', 'out3', 'err3']);
    const result = await running;
    assert.equal(result.stdout, undefined);
    assert.equal(result.stderr, undefined);
  }));

  test("from: 'all' with stderr: 'stdout' reads the one pipe; from: 'stdout' is the default", pidfdOnly("one pipe for fds 1 and 2, which Node's child_process does not make"), leakFree(async () => {
    const lines = [];
    for await (const line of run('sh', ['-c', 'echo a; echo b >&2'], { stderr: 'stdout' }).iterable({ from: 'all' })) lines.push(line);
    assert.deepEqual(lines, ['a', 'b']);
    const plain = [];
    for await (const line of run('sh', ['-c', 'echo a; echo b >&2']).iterable()) plain.push(line);
    assert.deepEqual(plain, ['a']);
  }));

  test('leaving a loop over both early kills the tree and waits for its end', leakFree(async () => {
    const running = run('sh', ['-c', 'while :; do echo out; echo err >&2; done']);
    let n = 0;
    for await (const _ of running.iterable({ from: 'all' })) if (++n === 100) break;
    const error = await running.catch((e) => e);
    assert.equal(error.signal, 'SIGTERM');
    assert.equal(isDead(running.pid), true);
  }));

  test("refused: a bad `from`, an output that is not a pipe, an output already taken", leakFree(async () => {
    const running = run('sh', ['-c', 'echo x'], { stderr: 'inherit' });
    assert.throws(() => running.iterable({ from: 'fd3' }), { code: 'ERR_INVALID_ARG_VALUE' });
    assert.throws(() => running.iterable({ from: 'stderr' }), /The `stderr` option must be 'pipe' or 'stream'/);
    assert.throws(() => running.iterable({ from: 'all' }), /The `stderr` option must be 'pipe' or 'stream'/);
    const lines = [];
    for await (const line of running.iterable({ from: 'stdout' })) lines.push(line);
    assert.deepEqual(lines, ['x']);
    assert.throws(() => running.iterable(), { code: 'ERR_PIDFD_STDOUT_TAKEN' });
  }));
});
