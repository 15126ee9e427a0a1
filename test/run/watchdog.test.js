// `cleanup`: a run's tree dies when this process dies, however it dies, through the watchdog
// (native/watchdog.c); the watchdog is replaced if it dies, and let go when nothing is left to
// guard.

import assert from 'node:assert/strict';
import { spawn as cpSpawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readFileSync, rmdirSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { isDead, killIfAlive, runFixtures, stateOf, until, waitDead } from './helpers.js';

/** Starts a fixture and collects its stdout lines. */
function fixture(name, args, env = {}) {
  const child = cpSpawn(process.execPath, [join(runFixtures, name), ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  const lines = [];
  let rest = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk) => {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop();
    lines.push(...parts);
  });
  const exited = once(child, 'exit');
  /** The first line that starts with `word`, split on spaces, once it has arrived. */
  async function line(word) {
    await until(() => lines.some((l) => l.startsWith(`${word} `)) || child.exitCode !== null, `a "${word}" line`);
    const found = lines.find((l) => l.startsWith(`${word} `));
    assert.ok(found, `the fixture ended without a "${word}" line: ${JSON.stringify(lines)}`);
    return found.split(' ').slice(1);
  }
  return { child, exited, line, lines };
}

describe('cleanup', () => {
  test('the parent SIGKILLed: the whole tree dies, the grandchild too', async () => {
    const f = fixture('cleanup.mjs', ['wait']);
    const [grandchild] = (await f.line('grandchild')).map(Number);
    assert.equal(isDead(grandchild), false);
    f.child.kill('SIGKILL');
    await f.exited;
    await waitDead(grandchild, 'the grandchild of a SIGKILLed parent');
  });

  test('the parent calling process.exit(): the tree dies', async () => {
    const f = fixture('cleanup.mjs', ['exit']);
    const [grandchild] = (await f.line('grandchild')).map(Number);
    await f.exited;
    await waitDead(grandchild, 'the grandchild of a parent that exited');
  });

  test('cleanup: false: the tree outlives the parent', async () => {
    const f = fixture('cleanup.mjs', ['wait', JSON.stringify({ cleanup: false })]);
    const [grandchild] = (await f.line('grandchild')).map(Number);
    f.child.kill('SIGKILL');
    await f.exited;
    try {
      assert.equal(isDead(grandchild), false, 'nobody killed it');
    } finally {
      killIfAlive(grandchild);
    }
  });

  test('a watchdog that dies is replaced, and the new one guards the trees already running', async () => {
    const f = fixture('cleanup.mjs', ['replace']);
    const [first, second] = (await f.line('replaced')).map(Number);
    assert.notEqual(first, second);
    const [grandchild] = (await f.line('grandchild')).map(Number);
    f.child.kill('SIGKILL');
    await f.exited;
    await waitDead(grandchild, 'the grandchild guarded by the second watchdog');
  });

  for (const [kind, env] of [['a per-run cgroup where one can be made', {}], ['a process group', { PIDFD_CGROUP_PARENT: '/nonexistent-pidfd-parent' }]]) {
    test(`a daemon left on purpose by a run that settled outlives a normal exit, as with execa (${kind}); no cgroup is left`, async () => {
      const f = fixture('cleanup.mjs', ['daemon'], env);
      const [daemon] = (await f.line('grandchild')).map(Number);
      const [dir] = await f.line('cgroup');
      const [watchdog] = (await f.line('watchdog')).map(Number);
      try {
        assert.deepEqual(await f.exited, [0, null]);
        // The watchdog is gone too (reaped at the end, or after killing what it guarded).
        await waitDead(watchdog, 'the watchdog');
        assert.equal(isDead(daemon), false, `the daemon is ${stateOf(daemon)}`);
        if (dir !== 'none') {
          assert.equal(existsSync(dir), false, 'the run\'s cgroup is gone: the daemon left it for its parent');
          const own = readFileSync('/proc/self/cgroup', 'utf8').match(/^0::(.*)$/m)?.[1];
          assert.equal(readFileSync(`/proc/${daemon}/cgroup`, 'utf8').match(/^0::(.*)$/m)?.[1], own, 'in the parent cgroup');
        }
      } finally {
        killIfAlive(daemon);
        await waitDead(daemon);
      }
    });
  }

  test('a process that ends normally lets its watchdog go and reaps it: no child is left at exit', async () => {
    const f = fixture('cleanup.mjs', ['finish']);
    const [watchdog] = (await f.line('watchdog')).map(Number);
    assert.ok(watchdog > 0, 'a watchdog ran');
    const [code] = await f.exited;
    assert.equal(code, 0);
    assert.deepEqual(f.lines.filter((l) => l.startsWith('children:')), ['children: 0']);
    assert.equal(stateOf(watchdog), 'gone', 'reaped by its parent, not left to init');
  });

  test('a guarded cgroup is killed whole (cgroup.kill) when the parent dies', async (t) => {
    const mount = '/sys/fs/cgroup/unified';
    let own;
    try {
      if (statfsSync(mount).type !== 0x63677270) return t.skip(`${mount} is not cgroup2`);
      own = readFileSync('/proc/self/cgroup', 'utf8').match(/^0::(.*)$/m)?.[1];
    } catch {
      return t.skip(`no cgroup2 at ${mount}`);
    }
    if (own === undefined) return t.skip('no cgroup v2 membership');
    const dir = join(mount, own, `pidfd-run-test-${process.pid}`);
    try {
      mkdirSync(dir);
    } catch (error) {
      return t.skip(`cannot create a cgroup (${error.code})`);
    }
    try {
      const f = fixture('cgroup-guard.mjs', [dir]);
      const [sleeper] = (await f.line('sleeper')).map(Number);
      assert.equal(readFileSync(join(dir, 'cgroup.procs'), 'utf8').trim(), String(sleeper));
      f.child.kill('SIGKILL');
      await f.exited;
      await waitDead(sleeper, 'the member of the guarded cgroup');
      await until(() => readFileSync(join(dir, 'cgroup.procs'), 'utf8') === '', 'an empty cgroup');
    } finally {
      rmdirSync(dir);
    }
  });
});
