// support() (src/support.ts): the probes' results in words: the backend, the features, and
// why each missing one is missing (case id from docs/reliability.md: I3).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, test } from 'node:test';

import { support } from '../dist/index.js';
import { GUARD_MS, inPidNamespace, libraryScript, pass, root } from './helpers/index.js';

const expected = {
  default: { backend: 'clone3', reason: /^clone3\(CLONE_PIDFD \| CLONE_VM \| CLONE_VFORK\) works$/ },
  clone: { backend: 'clone', reason: /^forced by PIDFD_BACKEND=clone$/ },
  fork: { backend: 'fork', reason: /^forced by PIDFD_BACKEND=fork$/ },
  'seccomp-enosys': { backend: 'clone', reason: /^clone3 cannot be used: .*ENOSYS/ },
  thread: { backend: 'clone3', reason: /^clone3\(CLONE_PIDFD \| CLONE_VM \| CLONE_VFORK\) works$/ },
}[pass];

describe('support()', () => {
  test('I3: reports the backend this pass uses, with a reason', () => {
    const s = support();
    assert.equal(s.platform, 'linux');
    assert.match(s.kernel, /^\d+\.\d+/);
    assert.equal(s.backend, expected.backend);
    assert.match(s.reason, expected.reason);
    assert.equal(s.forced, process.env.PIDFD_BACKEND ?? null);
  });

  test('reports the runtime, and the exit watcher this pass uses with a reason', () => {
    const { runtime, watcher } = support();
    assert.equal(runtime, 'node');
    if (pass === 'thread') {
      assert.deepEqual(watcher, { name: 'thread', reason: 'forced by PIDFD_WATCHER=thread', forced: 'thread' });
    } else {
      assert.deepEqual(watcher, { name: 'uv_poll', reason: "Node: the event loop is libuv's", forced: null });
    }
  });

  test('PIDFD_WATCHER with an unknown name keeps uv_poll on Node, and says so', () => {
    const body = 'console.log(JSON.stringify(pidfd.support().watcher));';
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', libraryScript(body)], {
      env: { ...process.env, PIDFD_WATCHER: 'epoll' },
      encoding: 'utf8',
      timeout: GUARD_MS,
    });
    assert.deepEqual(JSON.parse(out), {
      name: 'uv_poll',
      reason: "Node: the event loop is libuv's (PIDFD_WATCHER=epoll is not one of uv_poll, thread)",
      forced: 'epoll',
    });
  });

  test('I3: the minimum features are there, and every missing feature says why', () => {
    const { features } = support();
    assert.equal(features.pidfdOpen.available, true);
    assert.equal(features.waitidPidfd.available, true);
    for (const [name, feature] of Object.entries(features)) {
      assert.equal(typeof feature.available, 'boolean', name);
      if (feature.available) assert.equal(feature.reason, null, name);
      else assert.ok(feature.reason.length > 0, `${name} says why it is missing`);
    }
  });

  test('I3: later calls give the same answers', () => {
    assert.deepEqual(support(), support());
  });

  test('I3: the probes run once: later calls create no process', (t) => {
    // In a pid namespace of its own, every process created takes the next pid: the probe's
    // children show as pids used by the first support(), and a probe run again would show too.
    const body = `
      import { readFileSync } from 'node:fs';
      const lastPid = () => Number(readFileSync('/proc/sys/kernel/ns_last_pid', 'latin1'));
      const before = lastPid();
      pidfd.support();
      const first = lastPid();
      for (let i = 0; i < 20; i++) pidfd.support();
      const later = lastPid();
      await pidfd.spawn('/bin/true', [], { stdio: 'ignore' }).exited;
      console.log(JSON.stringify({ probe: first - before, later: later - first, spawn: lastPid() - later }));`;
    const r = inPidNamespace(t, ['--input-type=module', '-e', libraryScript(body)]);
    if (r === undefined) return;
    assert.ok(r.probe >= 1, `the first support() ran a probe child (${r.probe} pids)`);
    assert.equal(r.later, 0, '20 more calls created no process');
    // The thread watcher's thread, started by the first spawn, takes a pid of the namespace too.
    assert.equal(r.spawn, pass === 'thread' ? 2 : 1, 'the test can see a process being created');
  });

  test('off Linux, the package imports, support() says why, and every call fails with ENOSYS', () => {
    // process.platform is what the library consults; a stand-in for running on another OS.
    const script = `Object.defineProperty(process, 'platform', { value: 'darwin' });
      const pidfd = await import(${JSON.stringify(`${root}/dist/index.js`)});
      const codes = [];
      for (const call of [() => pidfd.spawn('true'), () => pidfd.PidFd.open(1), () => pidfd.PidFd.self()]) {
        try { call(); codes.push('no error'); } catch (e) { codes.push(e.code + ': ' + e.message); }
      }
      console.log(JSON.stringify({ support: pidfd.support(), codes }));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: GUARD_MS,
      killSignal: 'SIGKILL',
    });
    const { support: s, codes } = JSON.parse(out);
    assert.equal(s.backend, null);
    assert.match(s.reason, /only on Linux \(this is darwin\)/);
    assert.equal(s.features.pidfdOpen.available, false);
    for (const line of codes) assert.match(line, /^ENOSYS: pidfd: process file descriptors exist only on Linux/);
  });
});
