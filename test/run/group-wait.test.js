// group-wait.ts: how the trees that are process groups (group-tree.ts, the portable engine's
// portable-tree.ts) wait for their members to go.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';

import { groupHasLiveMember, untilGone } from '../../dist/run/group-wait.js';
import { until } from './helpers.js';

/** Signal 0 to group `pgid` by number, as the portable engine sends it. */
const reached = (pgid) => () => {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
};
const state = (pid) => {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0];
  } catch {
    return 'gone';
  }
};

describe('group-wait', () => {
  test('untilGone(): true once alive() says false; false once the limit has passed', async () => {
    let left = 3;
    assert.equal(await untilGone(() => left-- > 0, Infinity), true);
    assert.equal(left, -1, 'asked until it said false');
    assert.equal(await untilGone(() => true, 20), false);
  });

  test('groupHasLiveMember(): a group of one live process has one; a group whose only member is a zombie has none', async () => {
    // The sh makes a group of one (setsid) that exits at once, and becomes a sleep that never
    // reaps it: a zombie that signal 0 still reaches.
    const holder = spawn('sh', ['-c', 'setsid true & echo $!; exec sleep 1000'], { stdio: ['ignore', 'pipe', 'ignore'], detached: true });
    try {
      const [line] = await once(holder.stdout, 'data');
      const zombie = Number(String(line).trim());
      await until(() => state(zombie) === 'Z', 'the setsid child to be a zombie');
      assert.equal(reached(zombie)(), true, 'signal 0 reaches the zombie');
      assert.equal(groupHasLiveMember(zombie, reached(zombie)), false);
      assert.equal(groupHasLiveMember(holder.pid, reached(holder.pid)), true, 'the holder leads a group of its own (detached)');
      assert.equal(groupHasLiveMember(holder.pid, () => false), false, 'signal 0 reached nothing');
    } finally {
      holder.kill('SIGKILL');
      await once(holder, 'exit');
    }
  });
});
