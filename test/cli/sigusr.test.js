// SIGUSR1 and SIGUSR2 and the `pidfd` command (src/cli/no-inspector.ts, src/cli/run.ts): Node
// opens its inspector on 127.0.0.1:9229 on SIGUSR1, where any local user could connect and run
// code as whoever runs pidfd. `pidfd run` forwards both signals to the command; the other
// commands die of them as a program that does not catch them does; none opens the inspector.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, test } from 'node:test';

import { cli, holdsPidfdFor, sleeper } from '../helpers/cli.js';
import { eventually, GUARD_MS, killAtEnd, withTimeout } from '../helpers/index.js';

/** Starts `pidfd ...args` with its stdout and stderr collected as they come. */
function startPidfd(t, ...args) {
  return startNode(t, [cli, ...args]);
}

function startNode(t, args) {
  const child = killAtEnd(t, spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] }));
  const out = { stdout: '', stderr: '' };
  child.stdout.setEncoding('utf8').on('data', (d) => (out.stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d) => (out.stderr += d));
  const exit = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, out, exit: withTimeout(exit, GUARD_MS, `${args.join(' ')} to exit`) };
}

/** The TCP ports process `pid` listens on, from its socket fds and /proc/<pid>/net/tcp{,6}. */
function listeningPorts(pid) {
  const inodes = new Set();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]);
    } catch {}
  }
  const ports = [];
  for (const table of ['tcp', 'tcp6']) {
    for (const line of readFileSync(`/proc/${pid}/net/${table}`, 'latin1').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address is ADDR:PORT in hex; state 0A is LISTEN; field 9 is the inode.
      if (f.length > 9 && f[3] === '0A' && inodes.has(f[9])) ports.push(parseInt(f[1].split(':')[1], 16));
    }
  }
  return ports;
}

describe('pidfd run and SIGUSR1, SIGUSR2', () => {
  for (const mode of ['--own-group', '--foreground']) {
    test(`${mode}: both are forwarded to the command; SIGUSR1 never opens the inspector`, async (t) => {
      const script = 'trap "echo got-USR1" USR1; trap "echo got-USR2" USR2; trap "exit 7" TERM; echo ready; while :; do sleep 0.05; done';
      const { child, out, exit } = startPidfd(t, 'run', mode, '--kill-on-parent-exit', '--', '/bin/sh', '-c', script);
      await eventually(() => out.stdout.includes('ready'), 'the command to start');
      child.kill('SIGUSR1');
      // Before the fix, the signal opened the inspector instead of reaching the command.
      await eventually(() => out.stdout.includes('got-USR1') || out.stderr.includes('Debugger listening'), 'SIGUSR1 to act');
      assert.doesNotMatch(out.stderr, /Debugger listening/);
      assert.deepEqual(listeningPorts(child.pid), [], 'pidfd listens on no TCP port');
      child.kill('SIGUSR2');
      await eventually(() => out.stdout.includes('got-USR2'), 'SIGUSR2 to be forwarded');
      child.kill('SIGTERM');
      assert.deepEqual(await exit, { code: 7, signal: null });
      assert.equal(out.stdout, 'ready\ngot-USR1\ngot-USR2\n');
      assert.doesNotMatch(out.stderr, /Debugger listening|inspector/);
    });
  }
});

describe('the other commands (one main.ts): pidfd wait and SIGUSR1, SIGUSR2', () => {
  for (const signal of ['SIGUSR1', 'SIGUSR2']) {
    test(`pidfd wait dies of ${signal}, as a program that does not catch it does: no inspector`, async (t) => {
      const target = await sleeper(t);
      const { child, out, exit } = startPidfd(t, 'wait', String(target.pid));
      // Once it watches the process, pidfd is past its startup (and its own listener is in).
      await holdsPidfdFor(child.pid, target.pid);
      child.kill(signal);
      assert.deepEqual(await exit, { code: null, signal });
      assert.doesNotMatch(out.stderr, /Debugger listening/);
      target.kill();
    });
  }
});

describe('a SIGUSR1 during Node\'s startup, before pidfd\'s first line', () => {
  test('the inspector it opened is closed (both of the starts Node makes), with a line on stderr', async (t) => {
    // A module loaded before pidfd's main.js stands for Node's startup: it says so, then runs
    // until the SIGUSR1 that the test sends has opened the inspector (Node's interrupt of the
    // main thread), as it does before any of pidfd's code can listen.
    const dir = mkdtempSync(join(tmpdir(), 'pidfd-sigusr1-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const preload = join(dir, 'startup.mjs');
    writeFileSync(
      preload,
      "import inspector from 'node:inspector';\n" +
        "import { writeSync } from 'node:fs';\n" +
        "writeSync(1, 'starting\\n');\n" +
        'const end = Date.now() + 60_000;\n' +
        'while (inspector.url() === undefined && Date.now() < end);\n',
    );
    const [first, second] = [await sleeper(t), await sleeper(t)];
    const { child, out, exit } = startNode(t, ['--import', pathToFileURL(preload).href, cli, 'wait', String(first.pid), String(second.pid)]);
    await eventually(() => out.stdout.includes('starting'), 'the startup to begin');
    child.kill('SIGUSR1');
    await holdsPidfdFor(child.pid, second.pid);
    await eventually(() => out.stderr.includes('pidfd: closed the Node inspector'), 'pidfd to close the inspector');
    // Once pidfd has printed an exit, its event loop has turned: Node's second start (from that
    // turn, on Node 22+) has come, and is closed too. Nothing listens.
    first.kill();
    await eventually(() => out.stdout.includes(`${first.pid}: `), 'pidfd wait to see the first exit');
    await eventually(() => listeningPorts(child.pid).length === 0, 'no listening socket');
    assert.match(out.stderr, /Debugger listening/, 'the startup did open it: the case happened');
    assert.equal(out.stderr.match(/pidfd: closed the Node inspector/g).length, 1, out.stderr);
    second.kill();
    assert.deepEqual(await exit, { code: 0, signal: null });
  });
});
