// spawn(): stdio — a child never receives a descriptor in non-blocking mode (issue 8, item 1).
// Node puts the pipes it uses in O_NONBLOCK, and the flag belongs to the open file description,
// which the child would share: its writes to a full pipe, and its reads of an empty one, would
// fail with EAGAIN. A pipe or FIFO is reopened for the child (the parent's description keeps its
// flag); a socket has its flag cleared, as libuv does.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants as fsConstants, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';

import { spawn } from '../../dist/index.js';
import { fixtures, readAll, withTimeout } from '../helpers/index.js';

const O_NONBLOCK = 0o4000;
const BYTES = 3_000_000; // far more than a pipe holds (64 KiB): the child must wait for the reader

function fdFlags(fd) {
  return parseInt(/^flags:\s*(\d+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'latin1'))[1], 8);
}

/**
 * Runs the fixture with its stdin and stdout on pipes (pidfd's own: pipe2, as a shell pipeline
 * has; child_process would give socketpairs), reading its stdout only after a pause.
 */
async function runFixture(args, { input } = {}) {
  const child = spawn(process.execPath, [join(fixtures, 'inherit-nonblocking.mjs'), ...args]);
  let stdoutBytes = 0;
  child.stdout.pause();
  // A slow reader: by the time it reads, the pipe is long full.
  const reading = sleep(300).then(async () => {
    for await (const chunk of child.stdout) stdoutBytes += chunk.length;
  });
  await sleep(300);
  child.stdin.end(input);
  const [status, stderr] = await withTimeout(Promise.all([child.exited, readAll(child.stderr), reading]), 60_000, 'the fixture', () =>
    child.kill('SIGKILL'),
  );
  return { code: status.code, stdoutBytes, stderr };
}

describe('spawn(): stdio and O_NONBLOCK', () => {
  test("an inherited stdout that Node made non-blocking loses nothing: 3 MB reach a slow reader", async () => {
    const r = await runFixture(['stdout', String(BYTES)]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdoutBytes, BYTES, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines[0], 'rc=0', 'head wrote everything without EAGAIN');
    assert.deepEqual(JSON.parse(lines.at(-1)), { code: 0, before: true, after: true }, "the parent's own pipe keeps O_NONBLOCK");
  });

  test('an inherited stdin that Node made non-blocking is read by the child, even when empty at first', async () => {
    const r = await runFixture(['stdin'], { input: 'late input\n' });
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.deepEqual(lines.slice(0, 2), ['late input', 'rc=0'], 'cat waited for the input instead of failing with EAGAIN');
    assert.deepEqual(JSON.parse(lines.at(-1)), { code: 0, before: true, after: true });
  });

  test('a non-blocking FIFO given at fd 3 reaches the child blocking; the parent keeps its own flag', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'pidfd-fifo-'));
    t.after(() => rmSync(dir, { recursive: true }));
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    // O_RDWR: the open does not wait for a reader; O_NONBLOCK: as a Node stream would have it.
    const fd = openSync(fifo, fsConstants.O_RDWR | fsConstants.O_NONBLOCK);
    t.after(() => closeSync(fd));
    // The writer fills the FIFO (64 KiB) long before the reader starts reading.
    const writer = spawn('/bin/sh', ['-c', 'grep ^flags /proc/self/fdinfo/3; head -c 200000 /dev/zero >&3; echo "rc=$?"'], {
      stdio: ['ignore', 'pipe', 'inherit', fd],
    });
    const reader = spawn('/bin/sh', ['-c', `sleep 0.3; head -c 200000 ${fifo} | wc -c`], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [status, out, counted] = await withTimeout(
      Promise.all([writer.exited, readAll(writer.stdout), readAll(reader.stdout), reader.exited]),
      30_000,
      'the writer and the reader',
    );
    assert.equal(status.code, 0);
    const [flagsLine, rc] = out.trim().split('\n');
    assert.equal(parseInt(flagsLine.split(/\s+/)[1], 8) & O_NONBLOCK, 0, `the child's fd 3: ${flagsLine}`);
    assert.equal(rc, 'rc=0', 'head wrote everything without EAGAIN');
    assert.equal(counted.trim(), '200000');
    assert.notEqual(fdFlags(fd) & O_NONBLOCK, 0, "the parent's description of the FIFO keeps O_NONBLOCK");
  });

  test('a non-blocking socket given as stdout is cleared for the child (a socket cannot be reopened): nothing is lost', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'pidfd-sock-'));
    t.after(() => rmSync(dir, { recursive: true }));
    const path = join(dir, 'sock');
    let received = 0;
    const conns = [];
    const server = createServer((conn) => {
      conns.push(conn);
      conn.pause();
      setTimeout(() => conn.on('data', (d) => (received += d.length)).resume(), 300);
    });
    await new Promise((resolve) => server.listen(path, resolve));
    t.after(() => {
      for (const conn of conns) conn.destroy();
      server.close();
    });
    const client = connect(path);
    t.after(() => client.destroy());
    await new Promise((resolve) => client.once('connect', resolve));
    assert.notEqual(fdFlags(client._handle.fd) & O_NONBLOCK, 0, 'Node made the socket non-blocking');
    const sub = spawn('/bin/sh', ['-c', `head -c ${BYTES} /dev/zero; echo "rc=$?" >&2`], { stdio: ['ignore', client, 'pipe'] });
    const [status, err] = await withTimeout(Promise.all([sub.exited, readAll(sub.stderr)]), 60_000, 'the writer');
    assert.equal(status.code, 0);
    assert.equal(err, 'rc=0\n', 'head wrote everything without EAGAIN');
    assert.equal(fdFlags(client._handle.fd) & O_NONBLOCK, 0, 'the shared description of a socket is cleared, as libuv does');
    client.end();
    await withTimeout(
      (async () => {
        while (received < BYTES) await sleep(20);
      })(),
      30_000,
      'all bytes at the server',
    );
    assert.equal(received, BYTES);
  });
});
