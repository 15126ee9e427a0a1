// A tee (native/tee.c) in a worker thread that alone loads the addon: its thread touches nothing
// of the worker's environment, and ends with the run, or when the worker is terminated mid-run.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Worker } from 'node:worker_threads';

import { children, runFixtures, until } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'pidfd-tee-worker-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** What tee-terminate.mjs finds once things settled, when the worker left nothing: the runs of a
 * terminated worker go on (docs/run.md), and what the thread that reaps them holds (its epoll
 * set, pidfds, the run's cgroup.events) goes once the command has ended. */
const nothingLeft = { fdsLeft: [], childrenLeft: [], cgroupsLeft: [] };

/** This process's threads: a tee's thread is one of them while it runs. */
describe('tee in a worker thread', () => {
  test('a worker that alone loads the addon tees to a capture and a file', async () => {
    const file = join(dir, 'worker.log');
    const worker = new Worker(join(runFixtures, 'worker-tee.mjs'), { workerData: { file, hang: false } });
    const [message] = await once(worker, 'message');
    assert.deepEqual(message, { captured: 1 << 20, file: 1 << 20 });
    await once(worker, 'exit');
    await until(() => children().length === 0, 'no child left');
  });

  test('a worker terminated while its tee runs: the command and the tee thread end, the process lives on, and no fd, child or cgroup is left', () => {
    const out = execFileSync(process.execPath, [join(runFixtures, 'tee-terminate.mjs'), join(dir, 'hang.log')], { encoding: 'utf8' });
    const { commandLeft, teeWhileRunning, teeAfter, ...left } = JSON.parse(out);
    assert.equal(teeWhileRunning, 1, 'a tee thread ran');
    assert.equal(commandLeft, 0, 'the command is gone');
    assert.equal(teeAfter, 0, 'the tee thread ended');
    assert.deepEqual(left, nothingLeft, 'no fd (of any kind), child (the watchdog included) or cgroup is left once the command has ended');
  });

  test('a worker terminated while its tee waits for a blocking socket that nobody reads: no tee thread, no fd left', () => {
    const out = execFileSync(process.execPath, [join(runFixtures, 'tee-terminate.mjs'), join(dir, 'unread.log'), 'unread'], { encoding: 'utf8' });
    const { commandLeft, teeWhileRunning, teeAfter, ...left } = JSON.parse(out);
    assert.equal(teeWhileRunning, 1, 'a tee thread ran');
    assert.equal(commandLeft, 0, 'the command is gone');
    assert.equal(teeAfter, 0, 'the tee thread ended (it was not stuck in a write)');
    assert.deepEqual(left, nothingLeft, 'no fd (of the tee or of the run), child or cgroup is left');
  });
});
