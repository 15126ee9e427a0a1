// run() with `ipc: true`: messages both ways over Node's own channel (json and advanced), the
// readers (getOneMessage with a filter, getEachMessage to the end of the channel), the graceful
// cancel, and the refusals. No fd, zombie or child is left (leakFree, and invariants.js around
// the file).

import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import { Worker } from 'node:worker_threads';

import { run, runSync, RunError } from '../../dist/index.js';
import { thrown } from '../helpers/index.js';
import { isDead, leakFree, runFixtures, until } from './helpers.js';

const child = join(runFixtures, 'ipc-child.mjs');
const ipcRun = (mode, options = {}, extra = []) => run(child, [mode, ...extra], { node: true, ipc: true, ...options });

describe('run() ipc: messages both ways', () => {
  test('advanced (the default): a Map and a BigInt survive both ways', leakFree(async () => {
    const p = ipcRun('echo');
    assert.equal(await p.getOneMessage(), 'ready');
    const sent = { map: new Map([['k', 2n ** 70n]]), at: new Date(0), bytes: new Uint8Array([1, 2]) };
    await p.sendMessage(sent);
    const { echo } = await p.getOneMessage();
    assert.ok(echo.map instanceof Map);
    assert.equal(echo.map.get('k'), 2n ** 70n);
    assert.ok(echo.at instanceof Date);
    assert.deepEqual([...echo.bytes], [1, 2]);
    await p.sendMessage('end');
    const result = await p;
    assert.equal(result.exitCode, 0);
    assert.equal(result.isGracefullyCanceled, false);
  }));

  test("json: plain data goes through, a Map does not keep its entries, a BigInt cannot be sent", leakFree(async () => {
    const p = ipcRun('echo', { serialization: 'json' });
    assert.equal(await p.getOneMessage(), 'ready');
    await p.sendMessage({ a: [1, 'two', null], map: new Map([[1, 2]]) });
    assert.deepEqual(await p.getOneMessage(), { echo: { a: [1, 'two', null], map: {} } });
    await assert.rejects(p.sendMessage({ n: 1n }), TypeError);
    await p.sendMessage('end');
    assert.equal((await p).exitCode, 0);
  }));

  test('the channel takes the lowest fd above 2 that stdio[3+] leaves free', leakFree(async () => {
    const fd = openSync('/dev/null', 'r');
    try {
      const p = ipcRun('fd', { stdio: [undefined, undefined, undefined, fd] });
      assert.deepEqual(await p.getOneMessage(), { fd: 4, fd3: '/dev/null' });
      await p;
    } finally {
      closeSync(fd);
    }
  }));

  test('getOneMessage with a filter takes the first match; the others wait for the next reader', leakFree(async () => {
    const p = ipcRun('filter');
    assert.deepEqual(await p.getOneMessage({ filter: (m) => m.kind === 'result' }), { kind: 'result', value: 42 });
    assert.deepEqual(await p.getOneMessage(), { kind: 'log' });
    await p;
  }));

  test("the child's getOneMessage with a filter (pidfd/ipc) passes over the others", leakFree(async () => {
    const p = ipcRun('pick');
    assert.equal(await p.getOneMessage(), 'ready');
    await p.sendMessage('noise');
    await p.sendMessage({ pick: 7 });
    assert.deepEqual(await p.getOneMessage(), { picked: { pick: 7 } });
    assert.equal((await p).exitCode, 0);
  }));

  test('getEachMessage gives every message (none lost before it listened) and ends when the child exits', leakFree(async () => {
    const p = ipcRun('burst');
    await until(() => isDead(p.pid), 'the child to exit'); // every message was sent before anyone listened
    const seen = [];
    for await (const message of p.getEachMessage()) seen.push(message);
    assert.deepEqual(seen, [1, 2, 3, 4, 5]);
    assert.equal((await p).exitCode, 0);
    await assert.rejects(p.getOneMessage(), { code: 'ERR_PIDFD_IPC_DISCONNECTED' });
    await assert.rejects(p.sendMessage('late'), { code: 'ERR_PIDFD_IPC_DISCONNECTED' });
  }));

  test('leaving getEachMessage early stops reading only: the rest waits for the next reader', leakFree(async () => {
    const p = ipcRun('burst');
    const first = [];
    for await (const message of p.getEachMessage()) {
      first.push(message);
      if (message === 2) break;
    }
    const rest = [];
    for await (const message of p.getEachMessage()) rest.push(message);
    assert.deepEqual([first, rest], [[1, 2], [3, 4, 5]]);
  }));

  test('getEachMessage ends when the child disconnects; the run goes on; a failed run is thrown at the end', leakFree(async () => {
    const p = ipcRun('disconnect');
    const seen = [];
    const loop = (async () => {
      for await (const message of p.getEachMessage()) seen.push(message);
    })();
    await assert.rejects(p.getOneMessage({ filter: () => false }), { code: 'ERR_PIDFD_IPC_DISCONNECTED' });
    assert.equal(isDead(p.pid), false, 'the child runs on after its disconnect');
    p.kill();
    const error = await loop.then(() => null, (e) => e);
    assert.ok(error instanceof RunError);
    assert.equal(error.signal, 'SIGTERM');
    assert.deepEqual(seen, ['a']);
  }));

  // Node holds the messages that come while the child has no 'message' listener and emits them
  // all in one tick when one comes: a getOneMessage() that takes the first must not lose the
  // others (they are kept for the next reader), nor may getEachMessage().
  for (const mode of ['one', 'each']) {
    test(`messages sent before the child listens all reach its readers, in order (${mode === 'one' ? 'getOneMessage, with a filter first' : 'getEachMessage'})`, leakFree(async () => {
      const dir = mkdtempSync(join(tmpdir(), 'pidfd-ipc-held-'));
      try {
        const marker = join(dir, 'sent');
        const p = run(join(runFixtures, 'ipc-held.mjs'), [marker, mode], { node: true, ipc: true });
        assert.equal(await p.getOneMessage(), 'ready');
        for (const message of ['a', 'b', 'c']) await p.sendMessage(message);
        writeFileSync(marker, '');
        assert.deepEqual(await p.getOneMessage(), mode === 'one' ? ['c', 'a', 'b'] : ['a', 'b', 'c']);
        assert.equal((await p).exitCode, 0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }));
  }
});

describe('run() ipc: gracefulCancel', () => {
  for (const serialization of ['advanced', 'json']) {
    test(`the child sees the cancel (not as a message), finishes, and the run says isGracefullyCanceled, not killed (${serialization})`, leakFree(async () => {
      const controller = new AbortController();
      const p = ipcRun('graceful', { gracefulCancel: true, signal: controller.signal, forceKillAfterDelay: 60_000, serialization });
      assert.equal(await p.getOneMessage(), 'ready');
      controller.abort(new Error('stop now'));
      assert.deepEqual(await p.getOneMessage(), { aborted: true, reason: 'stop now', seen: 0 });
      const error = await p.then(() => assert.fail('a canceled run fails'), (e) => e);
      assert.ok(error instanceof RunError);
      assert.equal(error.isCanceled, true);
      assert.equal(error.isGracefullyCanceled, true);
      assert.equal(error.isTerminated, false);
      assert.equal(error.exitCode, 0);
      assert.match(error.message, /was canceled gracefully \(stop now\): it was sent a cancel message and exited with code 0/);
    }));
  }

  test('a child that ignores the cancel gets killSignal after forceKillAfterDelay', leakFree(async () => {
    const controller = new AbortController();
    const p = ipcRun('graceful', { gracefulCancel: true, signal: controller.signal, forceKillAfterDelay: 200, killSignal: 'SIGINT', reject: false }, ['ignore']);
    assert.equal(await p.getOneMessage(), 'ready');
    controller.abort();
    assert.equal((await p.getOneMessage()).aborted, true);
    const result = await p;
    assert.equal(result.isGracefullyCanceled, true);
    assert.equal(result.isTerminated, true);
    assert.equal(result.signal, 'SIGINT');
    assert.match(result.message, /had not ended 200 ms \(forceKillAfterDelay\) after the cancel message and was sent SIGINT/);
  }));

  // Node drops an internal message that nothing listens to: a cancel that came before the
  // child's getCancelSignal() (here before it even loaded pidfd/ipc) is sent again once it calls
  // it. The test's 'listen' goes after the cancel on the same channel, so the cancel has come
  // (and gone, unheard) when the child starts listening.
  const lateCancel = join(runFixtures, 'ipc-late-cancel.mjs');
  for (const serialization of ['advanced', 'json']) {
    test(`a cancel sent before the child listens reaches its getCancelSignal() when it calls it (${serialization})`, leakFree(async () => {
      const controller = new AbortController();
      const p = run(lateCancel, { node: true, ipc: true, gracefulCancel: true, signal: controller.signal, forceKillAfterDelay: 30_000, serialization });
      assert.equal(await p.getOneMessage(), 'ready');
      controller.abort(new Error('stop early'));
      await p.sendMessage('listen');
      assert.deepEqual(await p.getOneMessage(), { first: 'listen', aborted: true, reason: 'stop early' });
      const error = await p.then(() => assert.fail('a canceled run fails'), (e) => e);
      assert.equal(error.isGracefullyCanceled, true);
      assert.equal(error.isTerminated, false);
      assert.equal(error.exitCode, 0);
    }));
  }

  test('a cancel right after run(), while the child is still starting up, reaches it too', leakFree(async () => {
    const controller = new AbortController();
    const p = run(lateCancel, { node: true, ipc: true, gracefulCancel: true, signal: controller.signal, forceKillAfterDelay: 30_000 });
    controller.abort('too soon');
    assert.equal(await p.getOneMessage(), 'ready');
    await p.sendMessage('listen');
    assert.deepEqual(await p.getOneMessage(), { first: 'listen', aborted: true, reason: 'too soon' });
    const result = await p.nothrow();
    assert.equal(result.isGracefullyCanceled, true);
    assert.equal(result.isTerminated, false);
    assert.equal(result.exitCode, 0);
  }));

  // execa's meaning: isGracefullyCanceled says how the abort was carried out (a cancel message),
  // not that the child heard it; the message says when it never listened.
  test('a child that never calls getCancelSignal() is killed after forceKillAfterDelay; still isGracefullyCanceled, and the message says it never listened', leakFree(async () => {
    const controller = new AbortController();
    const p = run(lateCancel, { node: true, ipc: true, gracefulCancel: true, signal: controller.signal, forceKillAfterDelay: 200, reject: false });
    assert.equal(await p.getOneMessage(), 'ready');
    controller.abort();
    const result = await p;
    assert.equal(result.isGracefullyCanceled, true);
    assert.equal(result.isTerminated, true);
    assert.equal(result.signal, 'SIGTERM');
    assert.match(result.message, /had not ended 200 ms \(forceKillAfterDelay\) after the cancel message \(it never listened for it: getCancelSignal\(\) of pidfd\/ipc was not called\) and was sent SIGTERM/);
  }));

  test('without gracefulCancel, the abort kills at once, as ever', leakFree(async () => {
    const controller = new AbortController();
    const p = ipcRun('graceful', { signal: controller.signal, reject: false });
    assert.equal(await p.getOneMessage(), 'ready');
    controller.abort();
    const result = await p;
    assert.equal(result.isCanceled, true);
    assert.equal(result.isGracefullyCanceled, false);
    assert.equal(result.signal, 'SIGTERM');
  }));
});

describe('run() ipc: where it runs', () => {
  test('in a worker thread', leakFree(async () => {
    const worker = new Worker(join(runFixtures, 'worker-ipc.mjs'));
    const messages = [];
    worker.on('message', (message) => messages.push(message));
    const [code] = await once(worker, 'exit'); // an uncaught error in the worker rejects this
    assert.deepEqual([code, messages], [0, ['a worker']]);
  }));

  test('a child that could not start leaves neither end of the channel open', leakFree(async () => {
    const error = await ipcRun('echo', { cwd: '/nonexistent-pidfd-ipc' }).then(() => null, (e) => e);
    assert.ok(error instanceof RunError);
    assert.equal(error.code, 'ENOENT');
  }));
});

describe('run() ipc: refusals', () => {
  const cases = [
    [{ ipc: true }, /`ipc` option needs `node: true`/],
    [{ node: true, serialization: 'json' }, /`serialization` option needs `ipc: true`/],
    [{ node: true, ipc: true, serialization: 'v8' }, /`serialization` option must be 'json' or 'advanced'/],
    [{ node: true, ipc: 'yes' }, /`ipc` option must be a boolean/],
    [{ node: true, gracefulCancel: true, signal: AbortSignal.timeout(60_000) }, /`gracefulCancel` option needs `ipc: true`/],
    [{ node: true, ipc: true, gracefulCancel: true }, /`gracefulCancel` option needs `signal`/],
  ];
  for (const [options, message] of cases) {
    test(`${JSON.stringify(options)} is refused before anything starts`, () => {
      const error = thrown(() => run(child, ['echo'], options));
      assert.match(error.message, message);
      assert.match(error.code, /^ERR_INVALID_ARG_(VALUE|TYPE)$/);
    });
  }

  test('runSync refuses ipc: nothing can carry a message while its thread blocks', () => {
    const error = thrown(() => runSync(child, ['echo'], { node: true, ipc: true }));
    assert.equal(error.code, 'ERR_INVALID_ARG_VALUE');
    assert.match(error.message, /`ipc` option cannot be given to runSync\(\)/);
  });

  test('the IPC methods of a run without ipc throw at once', leakFree(async () => {
    const p = run('true');
    for (const method of ['sendMessage', 'getOneMessage', 'getEachMessage']) {
      const error = thrown(() => p[method]('x'));
      assert.equal(error?.code, 'ERR_PIDFD_IPC_DISABLED', method);
    }
    await p;
  }));

  test('pidfd/ipc in a process without a channel: each function says so', leakFree(async () => {
    const ipcModule = new URL('../../dist/ipc.js', import.meta.url).href;
    const script = `
      const ipc = await import(${JSON.stringify(ipcModule)});
      const codes = [];
      for (const name of ['sendMessage', 'getOneMessage', 'getCancelSignal']) {
        try { await ipc[name]('x'); codes.push('none'); } catch (error) { codes.push(error.code); }
      }
      try { await ipc.getEachMessage().next(); } catch (error) { codes.push(error.code); }
      console.log(JSON.stringify(codes));`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script]);
    assert.deepEqual(JSON.parse(stdout), Array(4).fill('ERR_PIDFD_IPC_NO_CHANNEL'));
  }));

  test('sendMessage(undefined) is refused', leakFree(async () => {
    const p = ipcRun('burst');
    await assert.rejects(p.sendMessage(undefined), { code: 'ERR_INVALID_ARG_VALUE' });
    await p;
  }));
});
