// The tree of a run: timeouts, cancels and kill() reach every descendant in the process group;
// SIGKILL follows for those that ignore the signal; when a killed run settles its tree is empty.
// What the process-group fallback cannot reach (a descendant that left the group) is shown too.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, test } from 'node:test';

import { run } from '../../dist/index.js';
import { readFileSync } from 'node:fs';

import { isDead, killIfAlive, leakFree, stateOf, until, waitDead } from './helpers.js';

/** The process group of pid, or -1 when it is gone. */
function groupOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
  } catch {
    return -1;
  }
}

/** `sh` that starts `background` in the background, prints its pid, and waits for it. */
const withGrandchild = (background = 'sleep 1000') => ['-c', `${background} & echo $!; wait`];

/**
 * The first line of a RunProcess's stdout stream (`stdout: 'stream'`), as a number. The rest
 * of the stream is drained; run() does not wait for a stream that is yours, so the test waits
 * for it to close (`closed`) before it counts fds.
 */
async function firstNumber(running) {
  const stream = running.stdout;
  const closed = once(stream, 'close');
  stream.setEncoding('utf8');
  let text = '';
  for await (const chunk of stream.iterator({ destroyOnReturn: false })) {
    text += chunk;
    if (text.includes('\n')) break;
  }
  stream.resume();
  running.closed = closed;
  return Number(text.split('\n')[0]);
}

describe('the tree of a run', () => {
  test('a timeout kills the grandchildren too; when the run settles they are dead', leakFree(async () => {
    const running = run('sh', withGrandchild(), { timeout: 50, stdout: 'stream' });
    const grandchild = await firstNumber(running);
    const error = await running.catch((e) => e);
    assert.equal(error.timedOut, true);
    assert.equal(isDead(grandchild), true, `the grandchild is ${stateOf(grandchild)}`);
    await running.closed;
  }));

  test('a cancel kills the grandchildren too', leakFree(async () => {
    const controller = new AbortController();
    const running = run('sh', withGrandchild(), { signal: controller.signal, stdout: 'stream' });
    const grandchild = await firstNumber(running);
    controller.abort();
    const error = await running.catch((e) => e);
    assert.equal(error.isCanceled, true);
    assert.equal(isDead(grandchild), true);
    await running.closed;
  }));

  test('kill() reaches the whole tree; subprocess.kill() only the first process', leakFree(async () => {
    const running = run('sh', withGrandchild(), { stdout: 'stream' });
    const grandchild = await firstNumber(running);
    running.subprocess.kill('SIGKILL');
    await running.subprocess.exited;
    assert.equal(isDead(grandchild), false, 'the leader alone was killed');
    assert.equal(running.kill(), true, 'the grandchild is still in the tree');
    await running.catch(() => {});
    await waitDead(grandchild);
    await running.closed;
  }));

  test('a grandchild that ignores killSignal gets SIGKILL after forceKillAfterDelay', leakFree(async () => {
    const running = run('sh', withGrandchild('sh -c \'trap "" TERM; sleep 1000\''), {
      timeout: 20,
      forceKillAfterDelay: 50,
      stdout: 'stream',
    });
    const grandchild = await firstNumber(running);
    const error = await running.catch((e) => e);
    assert.equal(error.timedOut, true);
    assert.equal(isDead(grandchild), true, 'SIGKILL reached it before the run settled');
    await running.closed;
  }));

  test('grandchildren that hold the output pipes open do not keep a killed run from ending', leakFree(async () => {
    // Captured: sleep inherits stdout and stderr, so the pipes stay open until it dies.
    const error = await run('sh', ['-c', 'sleep 1000 & sleep 1000 & wait'], { timeout: 30 }).catch((e) => e);
    assert.equal(error.timedOut, true);
  }));

  test('a stopped process is continued so that it acts on the signal', leakFree(async () => {
    const error = await run('sh', ['-c', 'kill -STOP $$; echo never'], { timeout: 30 }).catch((e) => e);
    assert.equal(error.signal, 'SIGTERM');
    assert.equal(error.stdout, '');
  }));

  test('tree: false: the command stays in our process group and kills reach it alone', leakFree(async () => {
    const running = run('sh', withGrandchild(), { tree: false, stdout: 'stream' });
    const grandchild = await firstNumber(running);
    try {
      running.kill('SIGKILL');
      const error = await running.catch((e) => e);
      assert.equal(error.signal, 'SIGKILL');
      assert.equal(isDead(grandchild), false, 'out of reach by design');
    } finally {
      killIfAlive(grandchild);
      await waitDead(grandchild);
      await running.closed;
    }
  }));

  test('the process-group fallback cannot reach a descendant that left the group (setsid)', leakFree(async (t) => {
    const running = run('sh', ['-c', 'setsid sleep 1000 >/dev/null 2>&1 & echo $!; wait'], { stdout: 'stream' });
    const escaped = await firstNumber(running);
    try {
      // Wait until it has left: it leads a session (and a group) of its own.
      await until(() => groupOf(escaped) === escaped || isDead(escaped), 'the setsid');
      running.kill();
      const error = await running.catch((e) => e);
      assert.equal(error.signal, 'SIGTERM');
      if (error.cgroup !== undefined) return t.skip('this run had a per-run cgroup, which reaches it');
      assert.equal(isDead(escaped), false, 'documented in docs/run.md: only a per-run cgroup reaches it');
    } finally {
      killIfAlive(escaped);
      await waitDead(escaped);
      await running.closed;
    }
  }));
});
