// Environments end (DESIGN.md, semantics of the next layers, 5): a worker thread may be the only
// one that ever loads the addon, and may end at any moment. Each case runs a fresh program whose
// main thread never touches the library (test/fixtures/workers-only.mjs): its workers use it one
// way each, end by themselves or by terminate() (in the middle of spawns included), one after
// another or at once. The program must exit 0, not die of a signal at a worker's end (the close
// callback of the exit watcher's handle, or the reaper thread of an ended environment, running
// after the worker unloaded the addon), with every child reaped and no cgroup left. Both
// watchers are covered by the passes of npm test (PIDFD_WATCHER=thread in the thread pass).

import assert from 'node:assert/strict';
import { spawn as cpSpawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { probeCgroups } from '../../dist/cgroup/hierarchy.js';
import { fixtures, GUARD_MS, withTimeout } from '../helpers/index.js';

const cgroupParent = probeCgroups().parent;

/** Runs workers-only.mjs with these arguments; resolves with its status and output. */
async function workersOnly(how, ...uses) {
  const child = cpSpawn(process.execPath, [join(fixtures, 'workers-only.mjs'), how, ...uses], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PIDFD_TEST_CGROUP_PARENT: cgroupParent ?? '' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
  const [code, signal] = await withTimeout(once(child, 'close'), GUARD_MS, `workers-only.mjs ${how} ${uses.join(' ')}`, () =>
    child.kill('SIGKILL'),
  );
  return { code, signal, stdout, stderr };
}

/** Asserts a clean end: exit 0, the lines expected, every child gone. */
function assertClean(r, expected) {
  assert.deepEqual({ code: r.code, signal: r.signal }, { code: 0, signal: null }, `the program ended cleanly\n${r.stdout}${r.stderr}`);
  for (const line of expected) assert.ok(r.stdout.includes(line), `reported ${JSON.stringify(line)}:\n${r.stdout}`);
  assert.ok(r.stdout.endsWith('no child left\n'), r.stdout);
}

const reports = {
  spawn: 'spawn: exited 0',
  'spawn-outlives': 'spawn-outlives: pid ',
  run: 'run: from run',
  $: '$: from $',
  cgroup: 'cgroup: cgroup ',
  child_process: 'child_process: exit 0',
};

describe('only a worker loads the library', () => {
  for (const [use, line] of Object.entries(reports)) {
    test(`a worker that uses ${use} ends by itself, and the process goes on`, async () => {
      assertClean(await workersOnly('sequence', use), [line, 'worker exit codes: 0']);
    });
  }

  test('a worker terminated while its child runs: the child is still reaped', async () => {
    assertClean(await workersOnly('terminate', 'spawn-then-wait'), ['spawn-then-wait: pid ', 'worker exit codes: 1']);
  });

  test('workers terminated in the middle of spawning, one after another', async () => {
    assertClean(await workersOnly('terminate', 'spawn-loop', 'spawn-loop', 'spawn-loop'), ['worker exit codes: 1 1 1']);
  });

  test('several workers in sequence, each loading the library after the last one ended', async () => {
    const uses = Object.keys(reports);
    assertClean(await workersOnly('sequence', ...uses), [...Object.values(reports), `worker exit codes: ${uses.map(() => 0).join(' ')}`]);
  });

  test('several workers at once, ending in any order', async () => {
    const uses = [...Object.keys(reports), 'spawn', 'run'];
    assertClean(await workersOnly('parallel', ...uses), [...Object.values(reports), `worker exit codes: ${uses.map(() => 0).join(' ')}`]);
  });
});
