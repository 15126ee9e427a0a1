// `pidfd kill` (src/cli/kill.ts): signals through a pidfd, and only to the process meant.

import assert from 'node:assert/strict';
import { spawn as cpSpawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { support } from '../../dist/index.js';
import { assertOneLine, pidfd, sleeper } from '../helpers/cli.js';
import { PidFd } from '../../dist/index.js';
import { eventually, GUARD_MS, killAtEnd, LIBRARY_FILES, neverAPid, nodeClosedToOthers, procStatus, readableCopy, waitForState, withTimeout } from '../helpers/index.js';

describe('pidfd kill', () => {
  test('sends SIGTERM by default, or the -s signal', async (t) => {
    const a = await sleeper(t);
    assert.equal(pidfd('kill', String(a.pid)).code, 0);
    assert.equal((await a.exit).signal, 'SIGTERM');
    const b = await sleeper(t);
    assert.equal(pidfd('kill', '-s', 'USR1', String(b.pid)).code, 0);
    assert.equal((await b.exit).signal, 'SIGUSR1');
  });

  test('--expect-id signals the process with that id, and refuses any other', async (t) => {
    if (!support().features.pidfs.available) return t.skip('stable ids need pidfs (Linux 6.9)');
    const s = await sleeper(t);
    const [{ id }] = JSON.parse(pidfd('info', '--json', String(s.pid)).stdout);
    const wrong = pidfd('kill', '-s', 'KILL', '--expect-id', String(BigInt(id) + 1n), String(s.pid));
    assert.equal(wrong.code, 1);
    assertOneLine(wrong.stderr);
    assert.match(wrong.stderr, /another process/);
    assert.equal(procStatus(s.pid).State[0], 'S', 'not signalled');
    assert.equal(pidfd('kill', '-s', 'KILL', '--expect-id', id, String(s.pid)).code, 0);
    assert.equal((await s.exit).signal, 'SIGKILL');
  });

  test('bad input exits 2 with one line; a missing process exits 1', () => {
    for (const args of [['-s', 'NOPE', '1'], ['--expect-id', 'x', '1'], ['--expect-id', '5', '1', '2'], [], ['-1']]) {
      const r = pidfd('kill', ...args);
      assert.equal(r.code, 2, args.join(' '));
      assertOneLine(r.stderr);
    }
    const gone = pidfd('kill', String(neverAPid()));
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /no such process/);
  });

  test('permission denied is one line and exit 1', async (t) => {
    if (process.getuid() !== 0) return t.skip('needs root to run the command as another user');
    if (nodeClosedToOthers() !== null) return t.skip(nodeClosedToOthers());
    // A copy of the command that uid 4242 can read, wherever this checkout is.
    const copy = readableCopy(t, LIBRARY_FILES);
    const r = spawnSync(process.execPath, [join(copy, 'dist', 'cli', 'main.js'), 'kill', '-s', '0', '1'], {
      encoding: 'utf8',
      uid: 4242,
      gid: 4242,
      cwd: copy,
      timeout: GUARD_MS,
      killSignal: 'SIGKILL',
    });
    assert.equal(r.status, 1, r.stderr);
    assertOneLine(r.stderr);
    assert.match(r.stderr, /permission denied: 1/);
  });
});

/** A tree started by node:child_process: a shell, a nested shell with a sleeper, a setsid'd shell
 * with a sleeper; each prints its pid. Resolves with the child, its exit, and pidfds of all. */
async function tree(t) {
  const script = [
    'echo $$',
    'sh -c \'echo $$; sleep 600 & echo $!; wait\' &',
    'setsid sh -c \'echo $$; sleep 600 & echo $!; wait\' &',
    'wait',
  ].join('\n');
  const child = killAtEnd(t, cpSpawn('/bin/sh', ['-c', script], { stdio: ['ignore', 'pipe', 'inherit'] }));
  const exit = once(child, 'exit');
  const pids = [];
  const lines = createInterface({ input: child.stdout });
  await withTimeout(new Promise((resolve) => lines.on('line', (line) => pids.push(Number(line)) === 5 && resolve())), GUARD_MS, 'the tree started');
  for (const pid of pids) await waitForState(pid, ['S']);
  const pidfds = pids.map((pid) => PidFd.open(pid));
  t.after(() => {
    for (const p of pidfds) {
      p.sendSignal('SIGKILL');
      p.close();
    }
  });
  return { child, exit, pids, pidfds };
}

describe('pidfd kill --tree', () => {
  test('signals every descendant, setsid\'d ones included, and nothing else', async (t) => {
    const other = await sleeper(t);
    const a = await tree(t);
    const r = pidfd('kill', '--tree', '-v', '-s', 'KILL', String(a.child.pid));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split(/:? /).map(Number).slice(1).sort(), [...a.pids].sort());
    await eventually(() => a.pidfds.every((p) => !p.isAlive()), 'every member died');
    assert.deepEqual(await a.exit, [null, 'SIGKILL']);
    assert.equal(procStatus(other.pid).State[0], 'S', 'the bystander was not signalled');
    const b = await tree(t);
    assert.equal(pidfd('kill', '--tree', String(b.child.pid)).code, 0);
    await eventually(() => b.pidfds.every((p) => !p.isAlive()), 'every member died of SIGTERM');
  });

  test('refuses a tree that holds the command, and signal 0; a missing root exits 1', () => {
    const self = pidfd('kill', '--tree', '-s', 'KILL', String(process.pid));
    assert.equal(self.code, 1);
    assertOneLine(self.stderr);
    assert.match(self.stderr, /holds this command/);
    const zero = pidfd('kill', '--tree', '-s', '0', '1');
    assert.equal(zero.code, 2);
    assertOneLine(zero.stderr);
    const verbose = pidfd('kill', '-v', '1');
    assert.equal(verbose.code, 2);
    const gone = pidfd('kill', '--tree', String(neverAPid()));
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /no such process/);
  });
});
