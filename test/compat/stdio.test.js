// A child's stdio 'pipe' from pidfd/child_process is what Node's is: a UNIX socketpair (libuv
// makes every stdio pipe one), not a kernel pipe. Programs see the difference: the kind of their
// fds, the error of a writer whose reader went away with data unread (ECONNRESET, "Connection
// reset by peer", where a pipe gives SIGPIPE or EPIPE), and a stdin that is a socket both ways.
// Each case runs with node:child_process and with pidfd/child_process and compares.

import assert from 'node:assert/strict';
import * as node from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';

import * as compat from '../../dist/compat/child_process.js';
import { eventually, leakFree } from '../helpers/index.js';

const modules = { 'node:child_process': node, 'pidfd/child_process': compat };

/** Runs `body(cp)` with both modules; returns { node, pidfd } of what each gave. */
async function both(body) {
  const out = {};
  for (const [name, cp] of Object.entries(modules)) out[name] = await body(cp);
  return out;
}

/** What a shell child says its fds are, as stat(1) names their kind. */
const kindsScript = 'for fd in 0 1 2 3; do stat -L -c %F /proc/self/fd/$fd; done >&3';

/** write(2)'s number, for /proc/<pid>/syscall; undefined where not known here. */
const WRITE = { x64: 1, arm64: 64, riscv64: 64, ia32: 4, arm: 4 }[process.arch];

/** Whether `pid` sleeps inside write(2): blocked on a full socket or pipe. */
function blockedInWrite(pid) {
  let stat;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'S') return false;
  if (WRITE === undefined) return true;
  try {
    return readFileSync(`/proc/${pid}/syscall`, 'utf8').split(' ')[0] === String(WRITE);
  } catch {
    return true; // no /proc/<pid>/syscall (no ptrace access): the sleep is the write, yes does nothing else
  }
}

describe("stdio 'pipe' is a socketpair, as with node:child_process", () => {
  test("spawn(): the child's fds 0-3 are sockets", leakFree(async () => {
    const kinds = await both(async (cp) => {
      const child = cp.spawn('/bin/sh', ['-c', kindsScript], { stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
      let text = '';
      child.stdio[3].on('data', (d) => (text += d));
      child.stdout.resume();
      child.stderr.resume();
      child.stdin.end();
      await once(child, 'close');
      return text;
    });
    assert.equal(kinds['pidfd/child_process'], kinds['node:child_process']);
    assert.equal(kinds['pidfd/child_process'], 'socket\n'.repeat(4));
  }));

  test("spawnSync(): the child's fds 0-3 are sockets", leakFree(async () => {
    const kinds = await both((cp) => String(cp.spawnSync('/bin/sh', ['-c', kindsScript], { stdio: ['pipe', 'pipe', 'pipe', 'pipe'] }).output[3]));
    assert.equal(kinds['pidfd/child_process'], kinds['node:child_process']);
    assert.equal(kinds['pidfd/child_process'], 'socket\n'.repeat(4));
  }));

  test('a writer blocked on a stdout whose reader went away with data unread gets ECONNRESET: yes says "Connection reset by peer" and exits 1', leakFree(async () => {
    const ends = await both(async (cp) => {
      const child = cp.spawn('yes', [], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      // stdout is never consumed: the socket stops reading at its high-water mark and yes fills
      // the kernel's buffers, then sleeps in write(). Closing our end then leaves data unread.
      await once(child, 'spawn');
      await eventually(() => blockedInWrite(child.pid), 'yes blocked in write()');
      child.stdout.destroy();
      const [code, signal] = await once(child, 'close');
      return { code, signal, stderr };
    });
    assert.deepEqual(ends['pidfd/child_process'], ends['node:child_process']);
    // A kernel pipe would have killed yes with SIGPIPE, silently.
    assert.deepEqual(ends['pidfd/child_process'], { code: 1, signal: null, stderr: 'yes: standard output: Connection reset by peer\n' });
  }));

  test("spawnSync(): stdin ends (shut for writing) but stays a socket the child can write to, as with Node", leakFree(async () => {
    // Node's spawnSync shuts the socket down after the input (uv_shutdown) and closes it only at
    // the end; a write of the child's to its fd 0 then lands, unread, in the parent's end.
    const script = 'const fs = require("fs"); const got = fs.readFileSync(0, "utf8"); let w; try { w = fs.writeSync(0, "back"); } catch (e) { w = e.code; } console.log(JSON.stringify([got, w]));';
    for (const input of [undefined, 'some input']) {
      const results = await both((cp) => {
        const r = cp.spawnSync(process.execPath, ['-e', script], { input, encoding: 'utf8' });
        return { status: r.status, stdout: r.stdout, stderr: r.stderr, error: r.error?.code };
      });
      assert.deepEqual(results['pidfd/child_process'], results['node:child_process'], `input ${input}`);
      assert.deepEqual(JSON.parse(results['pidfd/child_process'].stdout), [input ?? '', 4]);
    }
  }));
});
