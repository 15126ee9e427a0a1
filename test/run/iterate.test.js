// for await (const line of run(...)): the lines of stdout as they arrive.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';

import { run, RunError } from '../../dist/index.js';
import { firstExited } from '../helpers/engine.js';
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
