// fork() with IPC to a stock Node child: both serializations, send() with its callback and its
// back-pressure answer, disconnect(), and handles passed both ways (SCM_RIGHTS with Node's
// NODE_HANDLE / ACK protocol), so that the child cannot tell pidfd's parent from Node's.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import * as compat from '../../dist/compat/child_process.js';
import { fixtures } from '../helpers/index.js';

const child = join(fixtures, 'compat', 'ipc-child.cjs');

function nextMessage(proc) {
  return once(proc, 'message').then(([message, handle]) => ({ message, handle }));
}

async function ended(proc) {
  if (proc.exitCode === null && proc.signalCode === null) await once(proc, 'exit');
}

describe('fork()', () => {
  for (const serialization of ['json', 'advanced']) {
    test(`${serialization}: messages both ways, the send() callback, then disconnect() ends the child`, async () => {
      const proc = compat.fork(child, [], { serialization, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
      assert.ok(proc.connected);
      const value = serialization === 'advanced' ? { map: new Map([[1, 2n]]), date: new Date(0), bytes: new Uint8Array([1, 2]) } : { list: [1, 'two'] };
      let called = null;
      const sent = proc.send({ do: 'echo', value }, (error) => {
        called = error;
      });
      assert.equal(typeof sent, 'boolean');
      const { message } = await nextMessage(proc);
      assert.equal(called, null);
      assert.deepEqual(message, { echo: value });
      proc.disconnect();
      assert.equal(proc.connected, false);
      await once(proc, 'disconnect');
      const [code] = await once(proc, 'exit');
      assert.equal(code, 0);
    });
  }

  test('a net.Server sent to the child serves connections there', async () => {
    const proc = compat.fork(child, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    const server = net.createServer();
    await once(server.listen(0, '127.0.0.1'), 'listening');
    const { port } = server.address();
    proc.send({ do: 'take-server' }, server);
    assert.deepEqual((await nextMessage(proc)).message, { took: 'server' });
    server.close();
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    for await (const chunk of socket) text += chunk;
    assert.equal(text, 'served by the child\n');
    proc.send({ do: 'exit' });
    await ended(proc);
  });

  test('a net.Socket sent to the child is written there; a socket sent by the child is read here', async () => {
    const proc = compat.fork(child, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    const server = net.createServer();
    await once(server.listen(0, '127.0.0.1'), 'listening');
    const accepted = once(server, 'connection');
    const client = net.connect(server.address().port, '127.0.0.1');
    const [theirs] = await accepted;
    proc.send({ do: 'take-socket' }, theirs);
    assert.deepEqual((await nextMessage(proc)).message, { took: 'socket' });
    let text = '';
    for await (const chunk of client) text += chunk;
    assert.equal(text, 'written by the child\n');
    server.close();

    proc.send({ do: 'give-socket' });
    const { message, handle } = await nextMessage(proc);
    assert.deepEqual(message, { gave: 'socket' });
    assert.ok(handle instanceof net.Socket);
    text = '';
    for await (const chunk of handle) text += chunk;
    assert.equal(text, 'from a socket the child made\n');
    proc.send({ do: 'exit' });
    await ended(proc);
  });

  test('send() after disconnect: ERR_IPC_CHANNEL_CLOSED to the callback', async () => {
    const proc = compat.fork(child, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    proc.disconnect();
    const [error] = await new Promise((resolve) => proc.send({ do: 'echo' }, (...args) => resolve(args)));
    assert.equal(error.code, 'ERR_IPC_CHANNEL_CLOSED');
    await ended(proc);
  });

  test('many large messages: send() answers false under back-pressure, and every one arrives', async () => {
    const proc = compat.fork(child, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    const big = 'x'.repeat(256 * 1024);
    let refused = 0;
    for (let i = 0; i < 16; i++) if (!proc.send({ do: 'echo', value: big + i })) refused++;
    assert.ok(refused > 0, 'send() never reported back-pressure');
    for (let i = 0; i < 16; i++) assert.equal((await nextMessage(proc)).message.echo, big + i);
    proc.send({ do: 'exit' });
    await ended(proc);
  });

  test('a missing execPath: the error event and close, with the IPC channel closed too', async () => {
    const proc = compat.fork(child, [], { execPath: '/no/such/node', stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
    const [error] = await once(proc, 'error');
    assert.equal(error.code, 'ENOENT');
    assert.equal(error.syscall, 'spawn /no/such/node');
    await once(proc, 'close');
    assert.equal(proc.connected, false);
  });
});
