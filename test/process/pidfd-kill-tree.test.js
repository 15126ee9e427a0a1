// PidFd.killTree() (src/process/kill-tree.ts): the tree of a process this library did not start,
// walked through pidfds: every member reached (setsid'd and double-forked ones included), a
// tree that forks while it is killed, nothing outside the tree signalled, and the refusals.

import assert from 'node:assert/strict';
import { execFileSync, spawn as cpSpawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { describe, test } from 'node:test';

import { PidFd } from '../../dist/index.js';
import { eventually, GUARD_MS, killAtEnd, LIBRARY_FILES, libraryScript, nodeClosedToOthers, procStat, readableCopy, waitForState, withTimeout } from '../helpers/index.js';

function havePython() {
  try {
    execFileSync('python3', ['-c', 'import ctypes'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

// The root: a shell made a child subreaper (python3, then exec), so that a double-forked member,
// whose middle process exits, is reparented to the root and stays in the tree.
const SUBREAPER = 'import ctypes, os, sys; ctypes.CDLL(None).prctl(36, 1, 0, 0, 0); os.execv("/bin/sh", ["sh", "-c", sys.argv[1]])';

// Every member prints its pid: the root, a plain sleeper, a nested one, a setsid'd shell and its
// sleeper, a double-forked sleeper (its middle subshell exits), and a shell that catches TERM
// and still dies of it after its trap (it exits 0 from the trap).
const TREE = [
  'echo $$',
  'sleep 600 & echo $!',
  'sh -c \'echo $$; sleep 600 & echo $!; wait\' &',
  'setsid sh -c \'echo $$; sleep 600 & echo $!; wait\' &',
  '(sleep 600 & echo $!) &',
  'sh -c \'trap "exit 0" TERM; echo $$; while :; do sleep 1; done\' &',
  'wait',
].join('\n');
const TREE_SIZE = 8;

/** Starts `script` under a subreaper root with node:child_process; resolves once `count` pids
 * have been printed, with the child, the pids and pidfds of them (closed when t ends). */
async function startTree(t, script, count, { settled = true } = {}) {
  // In a session of its own (setsid): a member that does not setsid itself keeps the root's pid
  // as its session id, which finds the processes of a tree whose pids were never printed.
  const child = killAtEnd(t, cpSpawn('python3', ['-c', SUBREAPER, script], { stdio: ['ignore', 'pipe', 'inherit'], detached: true }));
  const exit = once(child, 'exit');
  const pids = [];
  const lines = createInterface({ input: child.stdout });
  await withTimeout(
    new Promise((resolve) => {
      lines.on('line', (line) => {
        pids.push(Number(line));
        if (pids.length === count) resolve();
      });
    }),
    GUARD_MS,
    `${count} members started`,
  );
  const pidfds = pids.map((pid) => PidFd.open(pid));
  t.after(() => {
    // Whatever the test did: no member outlives it.
    for (const p of pidfds) {
      p.sendSignal('SIGKILL');
      p.close();
    }
  });
  // Each member is running its program (sleep, or the trap's loop): not still a shell that forks.
  if (settled) for (const pid of pids) await waitForState(pid, ['S']);
  return { child, exit, pids, pidfds };
}

/** A process outside the tree that must never be signalled. */
async function bystander(t) {
  const child = killAtEnd(t, cpSpawn('sleep', ['600'], { stdio: 'ignore' }));
  await waitForState(child.pid, ['S']);
  return child;
}

async function allGone(pidfds) {
  await eventually(() => pidfds.every((p) => !p.isAlive()), 'every member of the tree has died');
}

describe('PidFd.killTree()', { skip: !havePython() && 'needs python3 (ctypes) to make the root a subreaper' }, () => {
  test('SIGKILL reaches every member, setsid\'d and double-forked included, and no other process', async (t) => {
    const other = await bystander(t);
    const tree = await startTree(t, TREE, TREE_SIZE);
    const root = PidFd.open(tree.child.pid);
    t.after(() => root.close());
    const result = root.killTree('SIGKILL');
    // Every member, and at most the trap loop's `sleep 1` beside them.
    for (const pid of tree.pids) assert.ok(result.signalled.includes(pid), `${pid} signalled`);
    assert.ok(result.signalled.length <= TREE_SIZE + 1, `${result.signalled.length} signalled`);
    assert.equal(result.signalled[0], tree.child.pid, 'the root first');
    assert.deepEqual(result.denied, []);
    assert.equal(result.complete, true);
    await allGone(tree.pidfds);
    assert.deepEqual(await tree.exit, [null, 'SIGKILL']);
    assert.equal(procStat(other.pid)[0], 'S', 'the bystander was not signalled (nor stopped)');
  });

  test('SIGTERM reaches every member, and the stopped members are continued to act on it', async (t) => {
    const other = await bystander(t);
    const tree = await startTree(t, TREE, TREE_SIZE);
    const root = PidFd.open(tree.child.pid);
    t.after(() => root.close());
    const result = root.killTree();
    for (const pid of tree.pids) assert.ok(result.signalled.includes(pid), `${pid} signalled`);
    await allGone(tree.pidfds);
    assert.deepEqual(await tree.exit, [null, 'SIGTERM']);
    assert.equal(procStat(other.pid)[0], 'S', 'the bystander was not signalled (nor stopped)');
  });

  test('a signal that ends nothing leaves the tree running, not stopped by the walk', async (t) => {
    const tree = await startTree(t, TREE, TREE_SIZE);
    const root = PidFd.open(tree.child.pid);
    t.after(() => root.close());
    assert.ok(root.killTree('SIGWINCH').signalled.length >= TREE_SIZE);
    for (const pid of tree.pids) await waitForState(pid, ['S', 'R']);
    assert.ok(root.killTree('SIGKILL').signalled.length >= TREE_SIZE);
    await allGone(tree.pidfds);
  });

  test('a tree that forks while it is killed ends with no survivor', async (t) => {
    // Four forkers under the root, each starting sleepers as fast as it can; the root prints
    // its pid and the forkers', and each forker its first sleeper's.
    const forker = 'i=0; while [ $i -lt 1000 ]; do sleep 600 & [ $i = 0 ] && echo $!; i=$((i+1)); done; wait';
    const script = `echo $$; for n in 1 2 3 4; do sh -c '${forker}' & echo $!; done; wait`;
    const tree = await startTree(t, script, 9, { settled: false });
    t.after(() => killSession(tree.child.pid));
    const root = PidFd.open(tree.child.pid);
    t.after(() => root.close());
    const result = root.killTree('SIGTERM');
    assert.ok(result.signalled.length >= 9, `${result.signalled.length} signalled`);
    assert.equal(result.complete, true);
    await allGone(tree.pidfds);
    // Every process the forkers started is in the root's session (none calls setsid).
    await eventually(() => inSession(tree.child.pid).length === 0, 'no survivor in the tree\'s session', GUARD_MS / 4).catch((error) => {
      error.message += `: ${inSession(tree.child.pid).map((pid) => `${pid} ${procStat(pid).slice(0, 2).join(' ')}`).join(', ')} (${result.signalled.length} signalled)`;
      throw error;
    });
  });

  test('a member inside fork() when the walk stops it: the child that fork makes is found too', async (t) => {
    // A SIGSTOP does not abort a fork under way (only a fatal signal does, since Linux 4.20): the
    // member finishes it, links the child and stops after that. The walk must wait for its members
    // to be stopped before it believes their lists of children. Here every fork is slow (thousands
    // of mappings to copy), so that the walk's SIGSTOP almost always comes in the middle of one;
    // before the walk waited, the child of that fork survived in most rounds (issue 19).
    const forker = [
      'import mmap, os, time',
      'maps = [mmap.mmap(-1, 4096, prot=mmap.PROT_READ | (mmap.PROT_WRITE if i % 2 else 0)) for i in range(30000)]',
      'for i in range(40):',
      '    pid = os.fork()',
      '    if pid == 0:',
      '        time.sleep(600)',
      '        os._exit(0)',
      '    if i == 0: print(pid, flush=True)',
      'time.sleep(600)',
    ].join('\n');
    for (let round = 0; round < 3; round++) {
      const child = killAtEnd(t, cpSpawn('python3', ['-c', forker], { stdio: ['ignore', 'pipe', 'inherit'], detached: true }));
      t.after(() => killSession(child.pid));
      await withTimeout(once(createInterface({ input: child.stdout }), 'line'), GUARD_MS, 'the first fork');
      const root = PidFd.open(child.pid);
      let result;
      try {
        result = root.killTree('SIGTERM');
      } finally {
        root.close();
      }
      assert.equal(result.complete, true);
      await eventually(() => inSession(child.pid).length === 0, `round ${round}: no survivor of the forking process`, GUARD_MS / 4).catch((error) => {
        error.message += `: ${inSession(child.pid).map((pid) => `${pid} ${procStat(pid).slice(0, 2).join(' ')}`).join(', ')} (${result.signalled.length} signalled)`;
        throw error;
      });
    }
  });

  test('refuses this process and its ancestors, with a code', () => {
    for (const pid of [process.pid, process.ppid]) {
      const p = PidFd.open(pid);
      try {
        assert.throws(() => p.killTree('SIGKILL'), { code: 'ERR_PIDFD_TREE_OF_SELF', message: new RegExp(`pid ${pid} is (this process|an ancestor)`) });
      } finally {
        p.close();
      }
    }
  });

  test('a reaped root is ESRCH; signal 0 and unknown signals are refused', async (t) => {
    const child = cpSpawn('/bin/true', [], { stdio: 'ignore' });
    const p = PidFd.open(child.pid);
    t.after(() => p.close());
    await once(child, 'exit');
    assert.throws(() => p.killTree('SIGKILL'), { code: 'ESRCH', errno: -3, syscall: 'pidfd_getpid' });
    assert.throws(() => p.killTree(0), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => p.killTree('SIGNOPE'), { code: 'ERR_UNKNOWN_SIGNAL' });
    p.close();
    assert.throws(() => p.killTree(), { code: 'ERR_PIDFD_CLOSED' });
  });

  test('a tree that cannot be stopped is EPERM, with errno and syscall, and nothing is signalled', async (t) => {
    if (process.getuid() !== 0) return t.skip('needs root to run the call as another user');
    if (nodeClosedToOthers() !== null) return t.skip(nodeClosedToOthers());
    const other = await bystander(t); // root's: uid 4242 may not signal it
    const copy = readableCopy(t, LIBRARY_FILES);
    const body = `
      const p = pidfd.PidFd.open(${other.pid});
      try { p.killTree('SIGKILL'); console.log('signalled'); }
      catch (e) { console.log(JSON.stringify({ code: e.code, errno: e.errno, syscall: e.syscall })); }`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', libraryScript(body, copy)], {
      encoding: 'utf8',
      uid: 4242,
      gid: 4242,
      cwd: copy,
      timeout: GUARD_MS,
      killSignal: 'SIGKILL',
    });
    assert.deepEqual(JSON.parse(out), { code: 'EPERM', errno: -1, syscall: 'pidfd_send_signal' });
    assert.equal(procStat(other.pid)[0], 'S');
  });
});

/** Live processes (not zombies) in session `sid`. */
/** SIGKILL to every process of session `sid` (what a failed test leaves). */
function killSession(sid) {
  for (const pid of inSession(sid)) {
    try {
      const p = PidFd.open(pid);
      p.sendSignal('SIGKILL');
      p.close();
    } catch {}
  }
}

function inSession(sid) {
  const found = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = procStat(Number(name));
      if (stat[0] !== 'Z' && Number(stat[3]) === sid) found.push(Number(name));
    } catch {}
  }
  return found;
}
