// ChildProcess from pidfd/child_process: Node's events in Node's order, Node's properties, and
// kill() through the pidfd: after the exit no signal is sent at all, and no SIGCHLD handler is
// ever installed.

import assert from 'node:assert/strict';
import * as node from 'node:child_process';
import diagnosticsChannel from 'node:diagnostics_channel';
import { once } from 'node:events';
import { describe, test } from 'node:test';

import { binding } from '../../dist/binding.js';
import * as compat from '../../dist/compat/child_process.js';
import { leakFree, sigchldCaught } from '../helpers/index.js';

/** Every event of a child until 'close', with the properties a program reads at each. */
function journal(child) {
  const events = [];
  const note = (name) => (...args) =>
    events.push([name, args.map((a) => (a instanceof Error ? a.message : a)), child.exitCode, child.signalCode, child.killed]);
  for (const name of ['spawn', 'exit', 'error', 'disconnect']) child.on(name, note(name));
  return new Promise((resolve) => child.on('close', (...args) => { note('close')(...args); resolve(events); }));
}

/** Runs `start(cp)` with both modules and compares the journals. */
async function sameAsNode(start) {
  const expected = await journal(start(node));
  const actual = await journal(start(compat));
  assert.deepEqual(actual, expected);
  return actual;
}

describe('events and properties', () => {
  test("spawn, exit, close for a child that exits 3, with Node's exitCode and signalCode", leakFree(async () => {
    const events = await sameAsNode((cp) => {
      const child = cp.spawn('/bin/sh', ['-c', 'echo out; exit 3']);
      child.stdout.resume();
      return child;
    });
    assert.deepEqual(events.map((e) => e[0]), ['spawn', 'exit', 'close']);
  }));

  test('a child killed by a signal: exit and close say (null, SIGTERM), killed is true', leakFree(async () => {
    await sameAsNode((cp) => {
      const child = cp.spawn('/bin/sleep', ['30'], { stdio: 'ignore' });
      child.on('spawn', () => child.kill());
      return child;
    });
  }));

  test('the timeout option kills with killSignal', leakFree(async () => {
    await sameAsNode((cp) => cp.spawn('/bin/sleep', ['30'], { stdio: 'ignore', timeout: 50, killSignal: 'SIGINT' }));
  }));

  test("an AbortSignal: 'error' (AbortError), then exit by killSignal", leakFree(async () => {
    await sameAsNode((cp) => {
      const controller = new AbortController();
      const child = cp.spawn('/bin/sleep', ['30'], { stdio: 'ignore', signal: controller.signal, killSignal: 'SIGKILL' });
      child.on('spawn', () => controller.abort());
      return child;
    });
  }));

  test('an AbortSignal already aborted', leakFree(async () => {
    await sameAsNode((cp) => cp.spawn('/bin/sleep', ['30'], { stdio: 'ignore', signal: AbortSignal.abort() }));
  }));

  test('pid, spawnfile, spawnargs and stdio are set as Node sets them', leakFree(async () => {
    const child = compat.spawn('/bin/echo', ['a', 'b'], { argv0: 'zero', stdio: ['ignore', 'pipe', 'inherit', 'pipe'] });
    assert.ok(Number.isInteger(child.pid) && child.pid > 0);
    assert.equal(child.spawnfile, '/bin/echo');
    assert.deepEqual(child.spawnargs, ['zero', 'a', 'b']);
    assert.equal(child.stdin, null);
    assert.equal(child.stderr, null);
    assert.equal(child.stdio.length, 4);
    assert.equal(child.stdio[1], child.stdout);
    assert.ok(child.stdio[3]);
    child.stdout.resume();
    child.stdio[3].resume();
    await once(child, 'close');
  }));

  test('its objects are ChildProcess instances of both modules, and new ChildProcess() spawns here', leakFree(async () => {
    const child = compat.spawn('/bin/true', [], { stdio: 'ignore' });
    assert.ok(child instanceof node.ChildProcess);
    assert.ok(child instanceof compat.ChildProcess);
    const made = new compat.ChildProcess();
    made.spawn({ file: '/bin/true', args: ['true'], stdio: 'ignore' });
    assert.ok(made.pid > 0);
    assert.equal(made._handle.constructor.name, 'ProcessHandle');
    await Promise.all([once(child, 'close'), once(made, 'close')]);
  }));

  test("the 'child_process' diagnostics channel sees every new ChildProcess", leakFree(async () => {
    const seen = [];
    const listener = ({ process }) => seen.push(process);
    diagnosticsChannel.subscribe('child_process', listener);
    try {
      const child = compat.spawn('/bin/true', [], { stdio: 'ignore' });
      assert.deepEqual(seen, [child]);
      await once(child, 'close');
    } finally {
      diagnosticsChannel.unsubscribe('child_process', listener);
    }
  }));
});

describe('kill() through the pidfd', () => {
  /** Records binding().sendSignal calls while `body` runs. */
  async function signalsSent(body) {
    const native = binding();
    const original = native.sendSignal;
    const calls = [];
    native.sendSignal = (fd, signal, flags) => {
      calls.push({ fd, signal });
      return original.call(native, fd, signal, flags);
    };
    try {
      await body();
    } finally {
      native.sendSignal = original;
    }
    return calls;
  }

  test('kill() signals the pidfd; after the exit it answers false without a system call', leakFree(async () => {
    let child;
    const calls = await signalsSent(async () => {
      child = compat.spawn('/bin/sleep', ['30'], { stdio: 'ignore' });
      assert.equal(child.kill('SIGTERM'), true);
      assert.equal(child.killed, true);
      await once(child, 'exit');
      assert.equal(child.kill('SIGKILL'), false);
      assert.equal(child.kill(0), false);
    });
    assert.deepEqual(calls.map((c) => c.signal), [15]);
    assert.equal(child.signalCode, 'SIGTERM');
  }));

  test('kill(0) is true for a running child and sets killed, as in Node', leakFree(async () => {
    const child = compat.spawn('/bin/sleep', ['30'], { stdio: 'ignore' });
    assert.equal(child.kill(0), true);
    assert.equal(child.killed, true);
    child.kill('SIGKILL');
    await once(child, 'close');
  }));

  test('kill() with a bad signal throws ERR_UNKNOWN_SIGNAL, as Node does', leakFree(async () => {
    const child = compat.spawn('/bin/sleep', ['30'], { stdio: 'ignore' });
    assert.throws(() => child.kill('SIGNOPE'), { code: 'ERR_UNKNOWN_SIGNAL', name: 'TypeError', message: 'Unknown signal: SIGNOPE' });
    child.kill('SIGKILL');
    await once(child, 'close');
  }));

  test('[Symbol.dispose] kills a child that was not killed', leakFree(async () => {
    const child = compat.spawn('/bin/sleep', ['30'], { stdio: 'ignore' });
    child[Symbol.dispose]();
    const [code, signal] = await once(child, 'exit');
    assert.deepEqual([code, signal], [null, 'SIGTERM']);
  }));

  test('no SIGCHLD handler is installed by spawning, and the exit still arrives', leakFree(async () => {
    const child = compat.spawn('/bin/true', [], { stdio: 'ignore' });
    await once(child, 'exit');
    assert.equal(sigchldCaught(), false);
  }));
});

describe('ref and unref', () => {
  test('an unref()ed child does not keep the process alive, and is still reaped when it exits first', async () => {
    const url = new URL('../../dist/compat/child_process.js', import.meta.url).href;
    const script = `import { spawn } from ${JSON.stringify(url)};
const quick = spawn('/bin/true', [], { stdio: 'ignore' });
quick.unref();
quick.on('exit', (code) => process.stdout.write('quick ' + code + ' '));
const slow = spawn('/bin/sleep', ['30'], { stdio: 'ignore', detached: true });
slow.unref();
process.stdout.write(String(slow.pid) + ' ');
setTimeout(() => {}, 300);`;
    const r = node.spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    const [slowPid, ...rest] = r.stdout.trim().split(' ');
    try {
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(rest, ['quick', '0']);
    } finally {
      // Only a real pid: process.kill(0) would kill this process's whole group.
      const pid = Number(slowPid);
      try {
        if (Number.isSafeInteger(pid) && pid > 0) process.kill(pid, 'SIGKILL');
      } catch {}
    }
  });
});

describe('spawn(): what other code did to the prototypes', () => {
  test('options that Object.prototype holds (shell, cwd, env, argv0, detached) do not change what spawn() does, as in Node', () => {
    // In a process of its own: the pollution must not reach this file's other tests. The drop-in
    // copies the caller's options into an object that inherits nothing (Node's null-prototype
    // copy, kept fast): none of these keys may be read from Object.prototype.
    const script = (polluted) => `
      const { spawn } = await import(${JSON.stringify(new URL('../../dist/compat/child_process.js', import.meta.url).href)});
      ${polluted ? "Object.assign(Object.prototype, { shell: true, cwd: '/nonexistent-pidfd-test', env: { PIDFD_T: 'polluted' }, argv0: 'polluted', detached: true, windowsHide: 1 });" : ''}
      const child = spawn('/bin/sh', ['-c', 'echo "$0|$PWD|$PIDFD_T|$(cut -d " " -f 6 /proc/$$/stat)"'], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d) => { out += d; });
      child.on('error', (e) => { out += 'error ' + e.code; });
      child.on('close', (code) => console.log(JSON.stringify([out, code])));`;
    const outcome = (polluted) =>
      node.execFileSync(process.execPath, ['--input-type=module', '-e', script(polluted)], {
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, PIDFD_T: 'inherited' },
      });
    const clean = outcome(false);
    assert.match(clean, /^\["\/bin\/sh\|[^|]+\|inherited\|\d+\\n",0\]\n$/);
    assert.equal(outcome(true), clean);
  });
});
