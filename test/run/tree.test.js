// The tree of a run: timeouts, cancels, maxBuffer and kill() reach every descendant; SIGKILL
// follows for those that ignore the signal; when a killed run settles its tree is empty. Where a
// per-run cgroup can be made the tree is one, and setsid'd and double-forked descendants are
// reached too, its figures come with the result, and its directory is gone afterwards; elsewhere
// (and with `tree: false`) the process-group fallback, and what it cannot reach, is shown.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';

import { run, support } from '../../dist/index.js';
import { forceMemberSignals } from '../../dist/internal/testing.js';
import { childPids, procStat, procStatOrNull } from '../helpers/index.js';
import { isDead, killIfAlive, leakFree, runFixtures, stateOf, until, waitDead } from './helpers.js';

const { perRunCgroup } = support().features;
const noCgroup = !perRunCgroup.available && `per-run cgroups cannot be made here: ${perRunCgroup.reason}`;
const cgroups = support().cgroups;

/** This process's per-run cgroups left in the parent (none, after any run has settled). */
const leftovers = () => (cgroups.parent === null ? [] : readdirSync(cgroups.parent).filter((n) => n.startsWith(`pidfd-${process.pid}-`)));

const scratch = mkdtempSync(join(tmpdir(), 'pidfd-run-tree-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
let pidsFiles = 0;

/**
 * Runs test/run/fixtures/tree-then.sh: a setsid'd member, a double-forked daemon and a member
 * that ignores SIGTERM, then `then` (argv). Returns the RunProcess, a function that waits for
 * the three members and gives their pids by role, and one that gives those started so far.
 */
function runTree(then, options = {}) {
  const file = join(scratch, `pids-${++pidsFiles}`);
  const running = run(join(runFixtures, 'tree-then.sh'), then, { ...options, env: { PIDS: file } });
  /** The members that have said their pid so far, by role. */
  const started = () =>
    existsSync(file) ? Object.fromEntries(readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').map((l) => [l.split(' ')[0], Number(l.split(' ')[1])])) : {};
  const members = async () => {
    await until(() => Object.keys(started()).length >= 3, 'the three members of the tree');
    return started();
  };
  return { running, members, started };
}

/** Asserts every member is dead. */
function assertAllDead(members) {
  assert.deepEqual(Object.keys(members).sort(), ['daemon', 'setsid', 'stubborn']);
  for (const [role, pid] of Object.entries(members)) assert.equal(isDead(pid), true, `the ${role} member is ${stateOf(pid)}`);
}

/** The process group of pid, or -1 when it is gone. */
function groupOf(pid) {
  return Number(procStatOrNull(pid)?.[2] ?? -1);
}

/** `sh` that starts `background` in the background, prints its pid, and waits for it. */
const withGrandchild = (background = 'sleep 1000') => ['-c', `${background} & echo $!; wait`];

/**
 * The first line of a RunProcess's stdout stream (`stdout: 'stream'`), as a number, or null when
 * the stream closed before a whole line (the run was killed before the command printed it). The
 * rest of the stream is drained; run() does not wait for a stream that is yours, so the test
 * waits for it to close (`closed`) before it counts fds.
 */
async function firstLine(running) {
  const stream = running.stdout;
  const closed = once(stream, 'close');
  stream.setEncoding('utf8');
  let text = '';
  for await (const chunk of stream.iterator({ destroyOnReturn: false })) {
    text += chunk;
    if (text.includes('\n')) break;
  }
  stream.resume();
  running.closed = closed;
  if (!text.includes('\n')) return null;
  const pid = Number(text.split('\n')[0]);
  // Never 0 or NaN: a test would then signal its own process group.
  assert.ok(Number.isSafeInteger(pid) && pid > 0, `a pid on the command's first line, not ${JSON.stringify(text)}`);
  return pid;
}

/** firstLine() of a run that is not killed before the line comes: the line must be there. */
async function firstNumber(running) {
  const pid = await firstLine(running);
  assert.ok(pid !== null, "a pid on the command's first line, not an output closed before it");
  return pid;
}

/**
 * For a test of what a `timeout` does to a grandchild: starts `start(timeout)` (a run of
 * withGrandchild()) with the first of `timeouts` and reads the grandchild's pid from its first
 * line. Where the timeout fired before the command printed it (the command had not run that far:
 * seen under emulation in the kernel matrix, with 20 and 50 ms), there is no grandchild to look
 * at: the run must have timed out, and it is tried again with the next, longer timeout. Returns
 * the run and the pid.
 */
async function withTimeouts(timeouts, start) {
  for (const timeout of timeouts) {
    const running = start(timeout);
    const grandchild = await firstLine(running);
    if (grandchild !== null) return { running, grandchild };
    const error = await running.catch((e) => e);
    assert.equal(error.timedOut, true, `no first line, and the run did not time out: ${error.message}`);
    await running.closed;
  }
  assert.fail(`the command printed no pid within a timeout of ${timeouts.at(-1)} ms`);
}

describe('the tree of a run', () => {
  test('a timeout kills the grandchildren too; when the run settles they are dead', leakFree(async () => {
    const { running, grandchild } = await withTimeouts([50, 1_000, 10_000], (timeout) => run('sh', withGrandchild(), { timeout, stdout: 'stream' }));
    const error = await running.catch((e) => e);
    assert.equal(error.timedOut, true);
    assert.equal(isDead(grandchild), true, `the grandchild is ${stateOf(grandchild)}`);
    await running.closed;
  }));

  test('a cancel kills the grandchildren too', leakFree(async () => {
    const controller = new AbortController();
    const running = run('sh', withGrandchild(), { signal: controller.signal, stdout: 'stream' });
    const grandchild = await firstNumber(running);
    controller.abort();
    const error = await running.catch((e) => e);
    assert.equal(error.isCanceled, true);
    assert.equal(isDead(grandchild), true);
    await running.closed;
  }));

  test('kill() reaches the whole tree; subprocess.kill() only the first process', leakFree(async () => {
    const running = run('sh', withGrandchild(), { stdout: 'stream' });
    const grandchild = await firstNumber(running);
    running.subprocess.kill('SIGKILL');
    await running.subprocess.exited;
    assert.equal(isDead(grandchild), false, 'the leader alone was killed');
    assert.equal(running.kill(), true, 'the grandchild is still in the tree');
    await running.catch(() => {});
    await waitDead(grandchild);
    await running.closed;
  }));

  test('a grandchild that ignores killSignal gets SIGKILL after forceKillAfterDelay', leakFree(async () => {
    const { running, grandchild } = await withTimeouts([20, 1_000, 10_000], (timeout) =>
      run('sh', withGrandchild('sh -c \'trap "" TERM; sleep 1000\''), { timeout, forceKillAfterDelay: 50, stdout: 'stream' }),
    );
    const error = await running.catch((e) => e);
    assert.equal(error.timedOut, true);
    assert.equal(isDead(grandchild), true, 'SIGKILL reached it before the run settled');
    await running.closed;
  }));

  test('grandchildren that hold the output pipes open do not keep a killed run from ending', leakFree(async () => {
    // Captured: sleep inherits stdout and stderr, so the pipes stay open until it dies.
    const error = await run('sh', ['-c', 'sleep 1000 & sleep 1000 & wait'], { timeout: 30 }).catch((e) => e);
    assert.equal(error.timedOut, true);
  }));

  test('a stopped process is continued so that it acts on the signal', leakFree(async () => {
    const error = await run('sh', ['-c', 'kill -STOP $$; echo never'], { timeout: 30 }).catch((e) => e);
    assert.equal(error.signal, 'SIGTERM');
    assert.equal(error.stdout, '');
  }));

  test('tree: false: the command stays in our process group and kills reach it alone', leakFree(async () => {
    const running = run('sh', withGrandchild(), { tree: false, stdout: 'stream' });
    const grandchild = await firstNumber(running);
    try {
      running.kill('SIGKILL');
      const error = await running.catch((e) => e);
      assert.equal(error.signal, 'SIGKILL');
      assert.equal(isDead(grandchild), false, 'out of reach by design');
    } finally {
      killIfAlive(grandchild);
      await waitDead(grandchild);
      await running.closed;
    }
  }));

  test('before Linux 6.9 (forced here) the process group is signalled member by member, each through a pidfd', leakFree(async () => {
    forceMemberSignals(true);
    const saved = process.env.PIDFD_CGROUP_PARENT;
    process.env.PIDFD_CGROUP_PARENT = '/nonexistent-pidfd-parent';
    let grandchild;
    try {
      let running;
      ({ running, grandchild } = await withTimeouts([50, 1_000, 10_000], (timeout) =>
        run('sh', withGrandchild('sh -c "sleep 1000; :"'), { timeout, stdout: 'stream' }),
      ));
      const error = await running.catch((e) => e);
      assert.equal(error.timedOut, true);
      assert.equal(error.cgroup, undefined, 'the process group fallback');
      assert.equal(isDead(grandchild), true, `the grandchild is ${stateOf(grandchild)}`);
      await running.closed;
    } finally {
      if (grandchild !== undefined) killIfAlive(grandchild);
      forceMemberSignals(false);
      if (saved === undefined) delete process.env.PIDFD_CGROUP_PARENT;
      else process.env.PIDFD_CGROUP_PARENT = saved;
    }
  }));

  test('the process-group fallback cannot reach a descendant that left the group (setsid)', leakFree(async () => {
    // An unusable parent where the default tree looks for its cgroup: the fallback, as where
    // none can be made.
    const saved = process.env.PIDFD_CGROUP_PARENT;
    process.env.PIDFD_CGROUP_PARENT = '/nonexistent-pidfd-parent';
    let running;
    try {
      running = run('sh', ['-c', 'setsid sleep 1000 >/dev/null 2>&1 & echo $!; wait'], { stdout: 'stream' });
    } finally {
      if (saved === undefined) delete process.env.PIDFD_CGROUP_PARENT;
      else process.env.PIDFD_CGROUP_PARENT = saved;
    }
    const escaped = await firstNumber(running);
    try {
      // Wait until it has left: it leads a session (and a group) of its own.
      await until(() => groupOf(escaped) === escaped || isDead(escaped), 'the setsid');
      running.kill();
      const error = await running.catch((e) => e);
      assert.equal(error.signal, 'SIGTERM');
      assert.equal(error.cgroup, undefined, 'the process group fallback');
      assert.equal(isDead(escaped), false, 'documented in docs/run.md: only a per-run cgroup reaches it');
    } finally {
      killIfAlive(escaped);
      await waitDead(escaped);
      await running.closed;
    }
  }));
});

describe('the tree of a run in a per-run cgroup', { skip: noCgroup }, () => {
  test('a timeout kills setsid\'d, double-forked and SIGTERM-ignoring descendants; the cgroup is gone when the run settles', leakFree(async () => {
    // The timeout must come after the three members have started: where it came first (under
    // emulation in the kernel matrix, 1 s was too short), what did start is dead, and the run is
    // tried again with a longer timeout.
    let error;
    let pids;
    for (const timeout of [1_000, 10_000, 30_000]) {
      const { running, started } = runTree(['sleep', '1000'], { timeout, forceKillAfterDelay: 100 });
      error = await running.catch((e) => e);
      assert.equal(error.timedOut, true, error.message);
      pids = started();
      for (const [role, pid] of Object.entries(pids)) assert.equal(isDead(pid), true, `the ${role} member is ${stateOf(pid)}`);
      if (Object.keys(pids).length === 3) break;
    }
    assertAllDead(pids);
    assert.match(error.cgroup.path, new RegExp(`/pidfd-${process.pid}-\\d+$`));
    assert.equal(existsSync(error.cgroup.path), false, 'its directory is removed');
    assert.deepEqual(leftovers(), []);
  }));

  test('a cancel kills every member of the tree', leakFree(async () => {
    const controller = new AbortController();
    const { running, members } = runTree(['sleep', '1000'], { signal: controller.signal, forceKillAfterDelay: 100 });
    const pids = await members();
    assert.equal(isDead(pids.setsid), false);
    controller.abort();
    const error = await running.catch((e) => e);
    assert.equal(error.isCanceled, true);
    assertAllDead(pids);
    assert.deepEqual(leftovers(), []);
  }));

  test('maxBuffer kills every member of the tree', leakFree(async () => {
    const { running, members } = runTree(['yes'], { maxBuffer: 10_000, forceKillAfterDelay: 100 });
    const error = await running.catch((e) => e);
    assert.equal(error.isMaxBuffer, true, error.message);
    assertAllDead(await members());
    assert.deepEqual(leftovers(), []);
  }));

  test('kill() reaches a member that left the process group; SIGKILL follows for one that ignores SIGTERM', leakFree(async () => {
    // The first process must have acted on SIGTERM before the SIGKILL that follows: on a loaded
    // machine it may not have run at all in 100 ms (both then pending, SIGKILL wins), so a
    // SIGKILLed first process is tried again with a longer delay before it counts as a failure.
    let error;
    for (const forceKillAfterDelay of [100, 2_000, 10_000]) {
      const { running, members } = runTree(['sleep', '1000'], { forceKillAfterDelay });
      const pids = await members();
      assert.equal(running.kill(), true);
      error = await running.catch((e) => e);
      assertAllDead(pids);
      if (error.signal === 'SIGTERM') break;
    }
    assert.equal(error.signal, 'SIGTERM', 'the first process ended on SIGTERM');
  }));

  test('the result carries the figures of the whole tree: CPU of a descendant nobody waited for', leakFree(async () => {
    // The double-forked grandchild burns CPU; its parent exits at once and never waits for it,
    // so the first process's rusage cannot include it. It keeps stdout, so the run ends with it.
    const burn = 'i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done';
    const result = await run('sh', ['-c', `(sh -c '${burn}' &); exit 0`]);
    const leader = result.rusage.userCPUTime + result.rusage.systemCPUTime;
    assert.equal(typeof result.cgroup.cpu.usageUs, 'number');
    assert.ok(result.cgroup.cpu.usageUs > 2 * leader + 10_000, `tree ${result.cgroup.cpu.usageUs} µs, first process ${leader} µs`);
    assert.equal(result.cgroup.cpu.usageUs >= result.cgroup.cpu.userUs, true);
    for (const key of ['memory', 'pids', 'oomKills', 'io']) assert.ok(key in result.cgroup, `${key} is there (null without its controller)`);
    assert.deepEqual(leftovers(), []);
  }));

  test('a limit: applied where its controller is delegated, else a clear error before anything starts', leakFree(async () => {
    const before = childPids();
    const running = run('sh', ['-c', 'cat "/sys/fs/cgroup/unified$(sed -n "s/^0:://p" /proc/self/cgroup)/pids.max" 2>/dev/null || cat "/sys/fs/cgroup$(sed -n "s/^0:://p" /proc/self/cgroup)/pids.max"'], {
      tree: { pidsMax: 10 },
    });
    if (cgroups.controllers.includes('pids')) {
      assert.equal((await running).stdout, '10');
      return;
    }
    const others = childPids().filter((pid) => !before.includes(pid));
    assert.deepEqual(others.filter((pid) => stateOf(pid) !== 'Z' && readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'pidfd-watchdog'), [], 'nothing started');
    const error = await running.catch((e) => e);
    assert.equal(error.code, 'ERR_PIDFD_CGROUP_CONTROLLER', error.message);
    assert.equal(error.cause.controller, 'pids');
    assert.equal(error.pid, undefined);
    assert.match(error.message, /could not start \(pidfd: tree\.pidsMax needs the pids controller/);
    assert.deepEqual(leftovers(), []);
  }));

  test('a tree object requires its cgroup: an unusable parent fails the run, saying why', leakFree(async () => {
    const error = await run('true', { tree: { parent: '/nonexistent-pidfd-parent' } }).catch((e) => e);
    assert.equal(error.code, 'ERR_PIDFD_CGROUP_UNAVAILABLE', error.message);
    assert.match(error.message, /\/nonexistent-pidfd-parent does not exist/);
  }));

  test('the default tree falls back to the process group where the cgroup cannot be made after all', leakFree(async () => {
    const saved = process.env.PIDFD_CGROUP_PARENT;
    process.env.PIDFD_CGROUP_PARENT = '/nonexistent-pidfd-parent';
    try {
      const result = await run('sh', ['-c', 'echo $$']);
      assert.equal(result.cgroup, undefined, 'no cgroup: no figures');
    } finally {
      if (saved === undefined) delete process.env.PIDFD_CGROUP_PARENT;
      else process.env.PIDFD_CGROUP_PARENT = saved;
    }
    assert.notEqual((await run('true')).cgroup, undefined, 'the next run has one again');
  }));

  test('tree: false: no cgroup, the command alone', leakFree(async () => {
    const result = await run('true', { tree: false });
    assert.equal(result.cgroup, undefined);
  }));

  test('a command that leaves a daemon: the run settles, the daemon moves to the parent cgroup and the run\'s cgroup goes', leakFree(async () => {
    const result = await run('sh', ['-c', 'sleep 1000 >/dev/null 2>&1 & echo $!']);
    const daemon = Number(result.stdout);
    try {
      assert.equal(isDead(daemon), false, 'the run did not wait for it');
      await until(() => !existsSync(result.cgroup.path), 'the cgroup to be removed (when the kernel reports it empty)');
      const own = readFileSync('/proc/self/cgroup', 'utf8').match(/^0::(.*)$/m)?.[1];
      assert.equal(readFileSync(`/proc/${daemon}/cgroup`, 'utf8').match(/^0::(.*)$/m)?.[1], own);
      assert.deepEqual(leftovers(), []);
      // The watch of its cgroup.events reads the removal in a later turn, and closes its fd.
      const watching = () => readdirSync('/proc/self/fd').some((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`).startsWith(`${result.cgroup.path}/`);
        } catch {
          return false;
        }
      });
      await until(() => !watching(), 'the watch of the removed cgroup to end');
    } finally {
      killIfAlive(daemon);
      await waitDead(daemon);
    }
  }));
});

describe('a signal that ends nothing', { skip: noCgroup }, () => {
  test("kill('SIGCONT') does not make a run a killed one: it settles as it would have, and its daemon is let go", leakFree(async () => {
    const running = run('sh', ['-c', 'sleep 1000 >/dev/null 2>&1 & echo $!; sleep 0.2']);
    assert.equal(running.kill('SIGCONT'), true); // in the same turn as the start: the tree runs
    const result = await running;
    const daemon = Number(result.stdout);
    try {
      assert.equal(result.failed, false);
      assert.equal(isDead(daemon), false, 'the run did not wait for it');
      // A killed run's tree stays guarded and its cgroup stays until empty; this one goes now.
      await until(() => !existsSync(result.cgroup.path), 'the cgroup to be removed (the daemon let go)');
      assert.deepEqual(leftovers(), []);
    } finally {
      killIfAlive(daemon);
      await waitDead(daemon);
    }
  }));
});

describe('the tree of a run when this process is SIGKILLed', { skip: noCgroup }, () => {
  test("the watchdog kills the cgroup: a setsid'd grandchild dies; the next process's first cgroup sweeps the directory", async () => {
    const { spawn: cpSpawn } = await import('node:child_process');
    const child = cpSpawn(process.execPath, [join(runFixtures, 'cleanup.mjs'), 'wait', '{}', 'setsid sleep 1000 </dev/null >/dev/null 2>&1 & echo $!; wait'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => (out += chunk));
    await until(() => /^grandchild \d+$/m.test(out) || child.exitCode !== null, 'the fixture to print its grandchild');
    const grandchild = Number(/^grandchild (\d+)$/m.exec(out)[1]);
    const dir = /^cgroup (.*)$/m.exec(out)[1];
    try {
      assert.equal(existsSync(dir), true, `the run had a cgroup (${dir})`);
      await until(() => procStat(grandchild)[3] === String(grandchild), 'the setsid');
      child.kill('SIGKILL');
      await once(child, 'exit');
      await waitDead(grandchild, "the setsid'd grandchild of a SIGKILLed parent");
      // Nobody is left to remove the directory but the next process that makes a cgroup: this
      // test's sweeper below, or one of the other test files running meanwhile (then it is gone
      // already, which is as good).
      const gone = () => !existsSync(dir);
      /** fn(), or `removed` once the directory is gone. */
      const unlessGone = (fn, removed) => {
        try {
          return fn();
        } catch (error) {
          if (error.code === 'ENOENT') return removed;
          throw error;
        }
      };
      await until(() => unlessGone(() => readFileSync(join(dir, 'cgroup.procs'), 'utf8') === '', true), 'the cgroup to be empty');
      // A leftover is swept once it is a second old (see sweepLeftovers in src/cgroup/cgroup.ts).
      await until(() => unlessGone(() => Date.now() - statSync(dir).ctimeMs > 1100, true), 'the leftover to be a second old');
      const sweeper = cpSpawn(process.execPath, ['--input-type=module', '-e', `import { run } from ${JSON.stringify(join(runFixtures, '..', '..', '..', 'dist', 'index.js'))}; await run('true');`], {
        stdio: 'inherit',
      });
      assert.deepEqual(await once(sweeper, 'exit'), [0, null]);
      assert.equal(gone(), true, 'the next process swept it');
    } finally {
      killIfAlive(grandchild);
    }
  });
});

// One rule for every kind of tree (treeSignalRule in src/signals.ts): SIGKILL follows the run's
// killSignal alone, and SIGCONT follows a signal that would end a process, not a stop signal.
for (const [kind, skip] of [['a per-run cgroup', noCgroup], ['a process group', false]]) {
  /** run(), with the tree of this kind. */
  const runAs = (file, args, options) => {
    const saved = process.env.PIDFD_CGROUP_PARENT;
    if (kind === 'a process group') process.env.PIDFD_CGROUP_PARENT = '/nonexistent-pidfd-parent';
    try {
      const running = run(file, args, options);
      return running;
    } finally {
      if (saved === undefined) delete process.env.PIDFD_CGROUP_PARENT;
      else process.env.PIDFD_CGROUP_PARENT = saved;
    }
  };
  const hasCgroup = (error) => assert.equal(error.cgroup !== undefined, kind === 'a per-run cgroup', `the tree is ${kind}`);

  describe(`signals sent to ${kind}`, { skip }, () => {
    test('kill(SIGSTOP) stops every member (no SIGCONT follows); kill() then continues and ends them', leakFree(async () => {
      const running = runAs('sh', withGrandchild(), { stdout: 'stream' });
      const grandchild = await firstNumber(running);
      assert.equal(running.kill('SIGSTOP'), true);
      await until(() => stateOf(running.pid) === 'T' && stateOf(grandchild) === 'T', 'both members to be stopped');
      assert.equal(running.kill(), true);
      const error = await running.catch((e) => e);
      assert.equal(error.signal, 'SIGTERM', 'SIGCONT followed SIGTERM: the stopped leader acted on it');
      hasCgroup(error);
      await waitDead(grandchild);
      await running.closed;
    }));

    test('kill(SIGUSR1) is not followed by SIGKILL after forceKillAfterDelay; killSignal is', leakFree(async () => {
      // The command says so for each SIGUSR1 it gets, and ignores SIGTERM (its killSignal here):
      // only a SIGKILL ends it.
      const running = runAs('sh', ['-c', 'trap "echo usr1" USR1; trap "" TERM; echo ready; while :; do sleep 0.01; done'], { forceKillAfterDelay: 20 });
      const lines = running[Symbol.asyncIterator]();
      assert.deepEqual(await lines.next(), { value: 'ready', done: false });
      assert.equal(running.kill('SIGUSR1'), true);
      assert.deepEqual(await lines.next(), { value: 'usr1', done: false });
      // A SIGKILL wrongly armed by the SIGUSR1 fires 20 ms after it, before this longer timer:
      // timers fire in the order they expire. The command would then never answer again.
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(running.kill('SIGUSR1'), true);
      assert.deepEqual(await lines.next(), { value: 'usr1', done: false }, 'still there: no SIGKILL came');
      // killSignal is followed by SIGKILL.
      assert.equal(running.kill('SIGTERM'), true);
      const error = await (async () => {
        for (;;) if ((await lines.next()).done) break;
      })().catch((e) => e);
      assert.equal(error.signal, 'SIGKILL');
      hasCgroup(error);
    }));

    test('SIGCONT follows a signal other than killSignal that would end a stopped member, which then acts on it', leakFree(async () => {
      const running = runAs('sh', ['-c', 'kill -STOP $$; echo never'], { forceKillAfterDelay: 20 });
      await until(() => stateOf(running.pid) === 'T', 'the command to stop itself');
      assert.equal(running.kill('SIGINT'), true);
      const error = await running.catch((e) => e);
      assert.equal(error.signal, 'SIGINT', 'continued, it acted on SIGINT; no SIGKILL was needed');
      assert.equal(error.stdout, '');
      hasCgroup(error);
    }));
  });
}
