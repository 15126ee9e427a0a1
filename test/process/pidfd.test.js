// PidFd for any process: each method against a live, an exited-but-unreaped, a reaped, a foreign
// and a non-existent process; pid reuse forced in a namespace (TESTPLAN B4, B7, G8, I6).

import assert from 'node:assert/strict';
import { execFileSync, spawn as cpSpawn } from 'node:child_process';
import { closeSync, fstatSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Worker } from 'node:worker_threads';

import { PidFd, spawn, support } from '../../dist/index.js';
import { fixtures, fdDiff, fdSnapshot, readAll, thrown, waitForState, withTimeout } from '../helpers/index.js';

const quiet = { stdio: 'ignore' };
const features = support().features;

/** A process that has exited but is not reaped: the child of a shell that is stopped. */
async function zombie() {
  const parent = spawn('/bin/sh', ['-c', 'sleep 30 & echo $!; kill -STOP $$'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const line = await new Promise((resolve) => parent.stdout.once('data', resolve));
  const pid = Number(String(line).trim());
  const handle = PidFd.open(pid);
  await waitForState(parent.pid, ['T']);
  process.kill(pid, 'SIGKILL');
  await waitForState(pid, ['Z']);
  return {
    pid,
    handle,
    async cleanup() {
      handle.close();
      parent.kill('SIGKILL');
      await parent.exited;
    },
  };
}

/** A pid above pid_max: no process has it, or ever will. */
function impossiblePid() {
  return Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8')) + 1;
}

describe('PidFd of a live process', () => {
  test('pid, id, isAlive, sendSignal(0), info and openProcDir describe that process', async () => {
    const sub = spawn('sleep', ['30'], quiet);
    const handle = PidFd.open(sub.pid);
    try {
      assert.equal(handle.pid, sub.pid);
      assert.equal(handle.isAlive(), true);
      assert.equal(handle.sendSignal(0), true);
      const info = handle.info();
      assert.equal(info.pid, sub.pid);
      assert.equal(info.ppid, process.pid);
      assert.equal(info.uids.real, process.getuid());
      assert.equal(info.gids.effective, process.getegid());
      assert.equal(info.exit, null);
      const dir = handle.openProcDir();
      try {
        // spawn() returns once execve is past its point of no return (CLONE_VFORK resumes the
        // parent there), which can be before the kernel has set up the new argv: cmdline is
        // empty for that moment (seen in about half of back-to-back spawns).
        let cmdline = dir.readFile('cmdline', 'utf8');
        for (let i = 0; i < 1000 && cmdline === ''; i++) {
          await new Promise((resolve) => setTimeout(resolve, 1));
          cmdline = dir.readFile('cmdline', 'utf8');
        }
        assert.deepEqual(cmdline.split('\0'), ['sleep', '30', '']);
        assert.match(dir.readFile('status', 'latin1'), new RegExp(`^Pid:\\s+${sub.pid}$`, 'm'));
      } finally {
        dir.close();
      }
    } finally {
      handle.close();
      sub.kill('SIGKILL');
      await sub.exited;
    }
  });

  test('I6: id is the same for every pidfd of a process and differs between processes (pidfs)', async (t) => {
    if (!features.pidfs.available) return t.skip(`no pidfs: ${features.pidfs.reason}`);
    const a = spawn('sleep', ['30'], quiet);
    const b = spawn('sleep', ['30'], quiet);
    const a2 = PidFd.open(a.pid);
    try {
      assert.equal(typeof a.pidfd.id, 'bigint');
      assert.equal(a2.id, a.pidfd.id);
      assert.notEqual(b.pidfd.id, a.pidfd.id);
    } finally {
      a2.close();
      a.kill('SIGKILL');
      b.kill('SIGKILL');
      await Promise.all([a.exited, b.exited]);
    }
  });

  test('getFd duplicates one of its fds into this process, close-on-exec', async () => {
    const sub = spawn('sleep', ['30'], { stdio: ['pipe', 'ignore', 'ignore'] });
    try {
      const fd = sub.pidfd.getFd(0);
      try {
        assert.equal(fstatSync(fd).isFIFO(), true, "the child's stdin is our pipe");
      } finally {
        closeSync(fd);
      }
      assert.equal(thrown(() => sub.pidfd.getFd(999)).code, 'EBADF');
      assert.equal(thrown(() => sub.pidfd.getFd(-1)).code, 'ERR_OUT_OF_RANGE');
    } finally {
      sub.kill('SIGKILL');
      await sub.exited;
    }
  });

  test('exited() resolves for a process that is not our child, without polling', async () => {
    const child = cpSpawn('/bin/sh', ['-c', 'sleep 0.2; exit 7'], { stdio: 'ignore' });
    const childExit = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    const handle = PidFd.open(child.pid);
    try {
      const info = await withTimeout(handle.exited(), 10000, 'observed exit');
      assert.equal(info.pid, child.pid);
      if (features.pidfdInfoExit.available) {
        assert.deepEqual([info.code, info.signal, info.reason], [7, null, null]);
      } else {
        assert.equal(info.code, null);
        assert.match(info.reason, /6\.15/);
      }
      assert.equal(handle.exited(), handle.exited(), 'the same promise every time');
    } finally {
      handle.close();
    }
    // node:child_process reaped its own child: PidFd never took that from it.
    assert.equal(await childExit, 7);
  });

  test('exited() resolves with null when the PidFd is closed first', async () => {
    const sub = spawn('sleep', ['30'], quiet);
    const handle = PidFd.open(sub.pid);
    const pending = handle.exited();
    handle.close();
    assert.equal(await pending, null);
    sub.kill('SIGKILL');
    await sub.exited;
  });

  test("the Subprocess's pidfd reports the child's exit through exited()", async () => {
    const sub = spawn('/bin/sh', ['-c', 'exit 12'], quiet);
    const info = await sub.pidfd.exited();
    assert.deepEqual([info.pid, info.code, info.signal], [sub.pid, 12, null]);
  });
});

describe('PidFd of an exited process that its parent has not reaped (a zombie)', () => {
  test('is not alive, still accepts signals, still has its pid and its /proc directory', async () => {
    const z = await zombie();
    try {
      assert.equal(z.handle.isAlive(), false);
      assert.equal(z.handle.sendSignal(0), true, 'the kernel accepts signals to a zombie');
      assert.equal(z.handle.pid, z.pid);
      const info = z.handle.info();
      assert.equal(info.pid, z.pid);
      assert.equal(info.exit, null, 'the status exists only once its parent reaps it');
      const dir = z.handle.openProcDir();
      try {
        assert.equal(dir.readFile('cmdline', 'utf8'), '');
        assert.match(dir.readFile('status', 'latin1'), /^State:\s+Z/m);
      } finally {
        dir.close();
      }
      const error = thrown(() => z.handle.getFd(0));
      assert.equal(error.syscall, 'pidfd_getfd');
    } finally {
      await z.cleanup();
    }
  });

  test('exited() waits for the reap to give the status, or says why there is none', async () => {
    const z = await zombie();
    try {
      const info = await withTimeout(z.handle.exited(), 10000, 'zombie exit');
      assert.equal(info.pid, z.pid);
      assert.equal(info.code, null);
      assert.equal(info.signal, null);
      assert.match(info.reason, /not reaped|6\.15/);
    } finally {
      await z.cleanup();
    }
  });
});

describe('PidFd of a reaped process', () => {
  test('signals return false, pid throws ESRCH, the /proc directory is refused; id stays', async () => {
    const sub = spawn('/bin/sh', ['-c', 'exit 3'], quiet);
    const handle = sub.pidfd.dup();
    const id = features.pidfs.available ? handle.id : null;
    await sub.exited;
    try {
      assert.equal(handle.isAlive(), false);
      assert.equal(handle.sendSignal('SIGKILL'), false);
      assert.equal(thrown(() => handle.pid).code, 'ESRCH');
      assert.equal(thrown(() => handle.openProcDir()).code, 'ESRCH');
      assert.ok(['ESRCH', 'EBADF'].includes(thrown(() => handle.getFd(0)).code));
      if (id !== null) assert.equal(handle.id, id, 'the identity outlives the process');
      if (features.pidfdInfoExit.available) {
        const info = handle.info();
        assert.deepEqual([info.pid, info.exit.code, info.exit.signal], [sub.pid, 3, null]);
        assert.deepEqual(await handle.exited(), { pid: sub.pid, code: 3, signal: null, coreDumped: false, reason: null });
      } else {
        assert.equal(thrown(() => handle.info()).code, 'ESRCH');
      }
    } finally {
      handle.close();
    }
  });
});

describe('PidFd of a foreign process', () => {
  test('pid 1 can be opened and read; its parent is 0', () => {
    const handle = PidFd.open(1);
    try {
      assert.equal(handle.pid, 1);
      assert.equal(handle.isAlive(), true);
      const info = handle.info();
      assert.equal(info.pid, 1);
      assert.equal(info.ppid, 0);
      const dir = handle.openProcDir();
      try {
        assert.ok(dir.readFile('cmdline').length > 0);
      } finally {
        dir.close();
      }
    } finally {
      handle.close();
    }
  });

  test("another user's process refuses signals and fd copies with EPERM", async (t) => {
    if (process.getuid() !== 0) return t.skip('needs root to start a process as another user');
    const other = spawn('sleep', ['30'], { ...quiet, uid: 65534, gid: 65534 });
    try {
      const script = `
        import { PidFd } from ${JSON.stringify(new URL('../../dist/index.js', import.meta.url).href)};
        const h = PidFd.open(${other.pid});
        const out = {};
        for (const [name, fn] of [['signal', () => h.sendSignal('SIGKILL')], ['getFd', () => h.getFd(0)]]) {
          try { out[name] = fn(); } catch (e) { out[name] = e.code; }
        }
        out.info = h.info().uids.real;
        console.log(JSON.stringify(out));`;
      // Run as a third user, who owns neither process.
      const me = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'], uid: 4242, gid: 4242 });
      const [out, err] = await Promise.all([readAll(me.stdout), readAll(me.stderr), me.exited]);
      if (/EACCES|permission denied/i.test(err)) return t.skip(`the library is not readable by uid 4242: ${err.split('\n')[0]}`);
      assert.deepEqual(JSON.parse(out), { signal: 'EPERM', getFd: 'EPERM', info: 65534 });
      assert.equal(other.kill(0), true, 'still alive');
    } finally {
      other.kill('SIGKILL');
      await other.exited;
    }
  });
});

describe('PidFd of a process that does not exist', () => {
  test('open() throws ESRCH naming pidfd_open, and leaves no fd behind', () => {
    const before = fdSnapshot();
    const error = thrown(() => PidFd.open(impossiblePid()));
    assert.equal(error.code, 'ESRCH');
    assert.equal(error.syscall, 'pidfd_open');
    assert.equal(fdDiff(before, fdSnapshot()), '');
  });

  test('G8: bad pids, bad flags and non-pidfd fds are refused with the kernel\'s answer', () => {
    for (const pid of [0, -1, 1.5, 2 ** 31, '1']) {
      assert.equal(thrown(() => PidFd.open(pid)).code, 'ERR_OUT_OF_RANGE', `PidFd.open(${pid})`);
    }
    assert.equal(thrown(() => PidFd.open(1, { thread: 'yes' })).code, 'ERR_INVALID_ARG_TYPE');
    const stdoutCopy = thrown(() => PidFd.fromFd(1));
    assert.equal(stdoutCopy.code, 'EBADF');
    assert.match(stdoutCopy.message, /not a pidfd/);
  });
});

describe('threads and groups (Linux 6.9)', () => {
  test('I6: a thread pidfd opens for a non-leader thread only with { thread: true }', async (t) => {
    if (!features.pidfdThread.available) return t.skip(`no PIDFD_THREAD: ${features.pidfdThread.reason}`);
    const worker = new Worker('setInterval(() => {}, 1000)', { eval: true });
    await new Promise((resolve) => worker.once('online', resolve));
    try {
      const tids = readdirSync('/proc/self/task').map(Number).filter((tid) => tid !== process.pid);
      const handle = PidFd.open(tids[0], { thread: true });
      assert.equal(handle.info().tgid, process.pid);
      handle.close();
      // A plain pidfd needs a thread-group leader: EINVAL, or ENOENT on newer kernels.
      assert.ok(['EINVAL', 'ENOENT'].includes(thrown(() => PidFd.open(tids[0])).code));
    } finally {
      await worker.terminate();
    }
  });

  test('I6: sendSignal({ processGroup: true }) reaches the whole group', async (t) => {
    if (!features.pidfdThread.available) return t.skip('PIDFD_SIGNAL_PROCESS_GROUP came with Linux 6.9');
    const leader = spawn('sleep', ['30'], { ...quiet, processGroup: true });
    const member = spawn('sleep', ['30'], { ...quiet, processGroup: leader.pid });
    assert.equal(leader.pidfd.sendSignal('SIGKILL', { processGroup: true }), true);
    const statuses = await withTimeout(Promise.all([leader.exited, member.exited]), 5000, 'group');
    assert.deepEqual(statuses.map((s) => s.signal), ['SIGKILL', 'SIGKILL']);
  });
});

describe('races', () => {
  test('B7: killing 1000 children that exit at once never throws; each ends by exit 0 or SIGKILL', async () => {
    const outcomes = { exit: 0, kill: 0 };
    for (let round = 0; round < 10; round++) {
      const subs = Array.from({ length: 100 }, () => spawn('/bin/true', [], quiet));
      for (const sub of subs) sub.kill('SIGKILL');
      for (const status of await withTimeout(Promise.all(subs.map((s) => s.exited)), 20000, 'race round')) {
        if (status.code === 0) outcomes.exit++;
        else if (status.signal === 'SIGKILL') outcomes.kill++;
        else assert.fail(`unexpected status ${JSON.stringify(status)}`);
      }
    }
    assert.equal(outcomes.exit + outcomes.kill, 1000);
  });

  test('B4: after its pid is reused, nothing aimed at the old child reaches the new process', async (t) => {
    let out;
    try {
      out = execFileSync('unshare', ['-Urpf', '--mount-proc', process.execPath, join(fixtures, 'pid-reuse.mjs')], {
        encoding: 'utf8',
        timeout: 30000,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (error) {
      if (error.status === 77) return t.skip('could not make the kernel reuse the pid (ns_last_pid)');
      if (/unshare failed|Operation not permitted|No such file/.test(String(error.stderr))) {
        return t.skip(`user and pid namespaces are not available: ${String(error.stderr).trim()}`);
      }
      throw error;
    }
    const r = JSON.parse(out);
    assert.equal(r.newPid, r.oldPid, 'the pid was reused');
    assert.equal(r.subprocessKill, false, 'Subprocess.kill() of the old child sends nothing');
    assert.equal(r.pidfdSignal, false, "the old child's pidfd reports ESRCH");
    if (features.pidfs.available) {
      assert.equal(r.newIdDiffers, true, 'the stable id tells the two apart');
      assert.equal(r.cliStatus, 1, 'pidfd kill --expect-id refuses');
      assert.match(r.cliStderr, /another process/);
    }
    assert.equal(r.newAlive, true, 'the new process was never signalled');
    assert.equal(r.newStatus, 'SIGKILL');
  });
});
