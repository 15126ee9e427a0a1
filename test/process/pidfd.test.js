// PidFd (src/process/pidfd.ts): a pidfd for any process. Each method against a live, an
// exited-but-unreaped, a reaped, a foreign and a non-existent process; pid reuse forced in a
// namespace (case ids from docs/reliability.md: B4, B5, D5, G8, I6).

import assert from 'node:assert/strict';
import { spawn as cpSpawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, fstatSync, openSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { Worker } from 'node:worker_threads';

import { PidFd, spawn, support } from '../../dist/index.js';
import { native } from '../../dist/internal/testing.js';
import {
  closedFd,
  collect,
  eventually,
  fdDiff,
  fdSnapshot,
  fixtures,
  GUARD_MS,
  inPidNamespace,
  killAtEnd,
  LIBRARY_FILES,
  libraryScript,
  nodeClosedToOthers,
  neverAPid,
  readableCopy,
  refused,
  settle,
  thrown,
  waitForState,
  warmUp,
  withTimeout,
} from '../helpers/index.js';

const quiet = { stdio: 'ignore' };
const features = support().features;
const FD_CLOEXEC = 1;
const EBADF = 9;
const ESRCH = 3;

before(warmUp);

/**
 * A process that has exited but is not reaped: the child of a shell that is stopped. The shell
 * is killed when test t ends (a stopped process would otherwise stay for good).
 */
async function zombie(t) {
  const parent = spawn('/bin/sh', ['-c', 'sleep 30 & echo $!; kill -STOP $$'], { stdio: ['ignore', 'pipe', 'ignore'] });
  killAtEnd(t, parent);
  const [line] = await withTimeout(once(parent.stdout, 'data'), GUARD_MS, "the zombie's pid");
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

describe('PidFd.open()', () => {
  test('pid, id, isAlive, sendSignal(0), info and openProcDir describe a live process', async () => {
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
        const cmdline = await eventually(() => dir.readFile('cmdline', 'utf8'), 'the new argv in cmdline');
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

  test('a pid no process has throws ESRCH from pidfd_open naming the pid, and leaves no fd behind', () => {
    const pid = neverAPid();
    const error = refused(() => PidFd.open(pid), { type: Error, code: 'ESRCH', names: [String(pid)] });
    assert.equal(error.errno, -ESRCH);
    assert.equal(error.syscall, 'pidfd_open');
  });

  const bad = [
    { value: -1, shown: '-1' },
    { value: 0, shown: '0' },
    { value: 1.5, shown: '1.5' },
    { value: 2 ** 31, shown: String(2 ** 31) },
  ];
  for (const { value, shown } of bad) {
    test(`G8: PidFd.open(${shown}) throws ERR_OUT_OF_RANGE naming the pid`, () => {
      refused(() => PidFd.open(value), { type: RangeError, code: 'ERR_OUT_OF_RANGE', names: ['pid', shown] });
    });
  }

  test('G8: PidFd.open("1") throws ERR_INVALID_ARG_TYPE naming the pid: a string is not a number', () => {
    refused(() => PidFd.open('1'), { type: TypeError, code: 'ERR_INVALID_ARG_TYPE', names: ['pid', '"1"'] });
  });

  test("G8: a `thread` option that is not a boolean throws ERR_INVALID_ARG_TYPE", () => {
    refused(() => PidFd.open(1, { thread: 'yes' }), {
      type: TypeError,
      code: 'ERR_INVALID_ARG_TYPE',
      names: ['`thread`', '"yes"'],
    });
  });

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
});

describe('PidFd.fromFd()', () => {
  test("G8: the fd of /dev/null throws EBADF naming the fd, and leaves the caller's fd open", () => {
    const fd = openSync('/dev/null', 'r');
    try {
      const error = refused(() => PidFd.fromFd(fd), { type: Error, code: 'EBADF', names: [`fd ${fd}`, 'not a pidfd'] });
      assert.equal(error.errno, -EBADF);
      fstatSync(fd); // still the caller's, still open
    } finally {
      closeSync(fd);
    }
  });

  test('G8: stdout throws EBADF: not a pidfd', () => {
    refused(() => PidFd.fromFd(1), { type: Error, code: 'EBADF', names: ['not a pidfd'] });
  });

  test('G8: a closed fd throws EBADF naming the fd', () => {
    const fd = closedFd();
    const error = refused(() => PidFd.fromFd(fd), { type: Error, code: 'EBADF', names: [`fd ${fd}`] });
    assert.equal(error.errno, -EBADF);
  });

  test('G8: -1 throws ERR_OUT_OF_RANGE naming the fd', () => {
    refused(() => PidFd.fromFd(-1), { type: RangeError, code: 'ERR_OUT_OF_RANGE', names: ['fd', '-1'] });
  });

  test('a pidfd whose process was reaped throws ESRCH naming the fd', async () => {
    const sub = spawn('/bin/sh', ['-c', 'exit 0'], quiet);
    const raw = native().dup(sub.pidfd.fd); // an fd no PidFd owns, as one handed over would be
    try {
      await sub.exited;
      const error = thrown(() => PidFd.fromFd(raw));
      assert.equal(error.constructor, Error);
      assert.equal(error.code, 'ESRCH');
      assert.equal(error.errno, -ESRCH);
      assert.ok(error.message.includes(`fd ${raw}`), `message does not name the fd: ${error.message}`);
    } finally {
      native().close(raw);
    }
  });
});

describe('pidfd.fd', () => {
  test("D5: a Subprocess's pidfd, its dup() and PidFd.open() all have FD_CLOEXEC", async () => {
    const sub = spawn('sleep', ['30'], quiet);
    const copy = sub.pidfd.dup();
    const opened = PidFd.open(sub.pid);
    try {
      for (const [name, fd] of [['pidfd', sub.pidfd.fd], ['dup()', copy.fd], ['open()', opened.fd]]) {
        const flags = native().test.fdFlags(fd);
        assert.ok(flags >= 0, `${name}: fcntl failed with ${flags}`);
        assert.equal(flags & FD_CLOEXEC, FD_CLOEXEC, `${name} (fd ${fd}) is close-on-exec`);
      }
    } finally {
      copy.close();
      opened.close();
      sub.kill('SIGKILL');
      await sub.exited;
    }
  });

  test("D5: no child sees another child's pidfd, nor its own", async () => {
    const sleepers = [1, 2, 3].map(() => spawn('sleep', ['30'], quiet));
    const copies = sleepers.map((s) => s.pidfd.dup());
    try {
      const sub = spawn('/bin/sh', ['-c', 'ls -l /proc/$$/fd'], { stdio: ['ignore', 'pipe', 'ignore'] });
      const { status, outputs } = await settle(sub);
      assert.equal(status.code, 0);
      const fds = [...outputs[1].matchAll(/ (\d+) -> (.*)$/gm)].map((m) => [Number(m[1]), m[2]]);
      assert.deepEqual(fds.map(([fd]) => fd), [0, 1, 2], outputs[1]);
      for (const [fd, target] of fds) assert.doesNotMatch(target, /pidfd/, `fd ${fd}`);
    } finally {
      for (const copy of copies) copy.close();
      for (const s of sleepers) s.kill('SIGKILL');
      await Promise.all(sleepers.map((s) => s.exited));
    }
  });
});

describe('pidfd.id', () => {
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
});

describe('pidfd.getFd()', () => {
  test('duplicates one of its fds into this process, close-on-exec', async () => {
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
});

describe('pidfd.exited()', () => {
  test('resolves for a process that is not our child, without polling', async (t) => {
    // It exits when told to, so that it is still there to be opened, however slow this machine.
    const child = killAtEnd(t, cpSpawn('/bin/sh', ['-c', 'read go; exit 7'], { stdio: ['pipe', 'ignore', 'ignore'] }));
    const childExit = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    const handle = PidFd.open(child.pid);
    try {
      child.stdin.end('go\n');
      const info = await withTimeout(handle.exited(), GUARD_MS, 'observed exit');
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

  test('resolves with null when the PidFd is closed first', async (t) => {
    const sub = killAtEnd(t, spawn('sleep', ['30'], quiet));
    const handle = PidFd.open(sub.pid);
    const pending = handle.exited();
    handle.close();
    assert.equal(await pending, null);
    sub.kill('SIGKILL');
    await sub.exited;
  });
});

describe('pidfd.sendSignal()', () => {
  test('I6: { processGroup: true } reaches the whole group', async (t) => {
    if (!features.pidfdThread.available) return t.skip('PIDFD_SIGNAL_PROCESS_GROUP came with Linux 6.9');
    const leader = spawn('sleep', ['30'], { ...quiet, processGroup: true });
    const member = spawn('sleep', ['30'], { ...quiet, processGroup: leader.pid });
    killAtEnd(t, leader, member);
    assert.equal(leader.pidfd.sendSignal('SIGKILL', { processGroup: true }), true);
    const statuses = await withTimeout(Promise.all([leader.exited, member.exited]), GUARD_MS, 'group');
    assert.deepEqual(statuses.map((s) => s.signal), ['SIGKILL', 'SIGKILL']);
  });

  test("another user's process refuses signals and fd copies with EPERM", async (t) => {
    if (process.getuid() !== 0) return t.skip('needs root to start a process as another user');
    if (nodeClosedToOthers() !== null) return t.skip(nodeClosedToOthers());
    const other = spawn('sleep', ['30'], { ...quiet, uid: 65534, gid: 65534 });
    try {
      // A copy of the library that uid 4242 can read, wherever this checkout is.
      const library = readableCopy(t, LIBRARY_FILES);
      const script = libraryScript(`
        const h = pidfd.PidFd.open(${other.pid});
        const out = {};
        for (const [name, fn] of [['signal', () => h.sendSignal('SIGKILL')], ['getFd', () => h.getFd(0)]]) {
          try { out[name] = fn(); } catch (e) { out[name] = e.code; }
        }
        out.info = h.info().uids.real;
        console.log(JSON.stringify(out));`, library);
      // Run as a third user, who owns neither process.
      const me = spawn(process.execPath, ['--input-type=module', '-e', script], {
        stdio: ['ignore', 'pipe', 'pipe'],
        uid: 4242,
        gid: 4242,
        cwd: library,
      });
      const { status, stdout, stderr } = await collect(me);
      assert.equal(status.code, 0, stderr);
      assert.deepEqual(JSON.parse(stdout), { signal: 'EPERM', getFd: 'EPERM', info: 65534 });
      assert.equal(other.kill(0), true, 'still alive');
    } finally {
      other.kill('SIGKILL');
      await other.exited;
    }
  });

  test('B4: after its pid is reused, nothing aimed at the old child reaches the new process', async (t) => {
    const r = inPidNamespace(t, [join(fixtures, 'pid-reuse.mjs')], 'could not make the kernel reuse the pid (ns_last_pid)');
    if (r === undefined) return;
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

describe('PidFd: a process that has exited but is not reaped (a zombie)', () => {
  test('is not alive, still accepts signals, still has its pid and its /proc directory', async (t) => {
    const z = await zombie(t);
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

  test('exited() waits for the reap to give the status, or says why there is none', async (t) => {
    const z = await zombie(t);
    try {
      const info = await withTimeout(z.handle.exited(), GUARD_MS, 'zombie exit');
      assert.equal(info.pid, z.pid);
      assert.equal(info.code, null);
      assert.equal(info.signal, null);
      assert.match(info.reason, /not reaped|6\.15/);
    } finally {
      await z.cleanup();
    }
  });
});

describe('PidFd: a reaped process', () => {
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
        assert.deepEqual(await handle.exited(), { pid: sub.pid, code: 3, signal: null, coreDumped: false, rusage: null, reason: null, oomKilled: false });
      } else {
        assert.equal(thrown(() => handle.info()).code, 'ESRCH');
      }
    } finally {
      handle.close();
    }
  });

  test('B5: a dup() outlives the child: signals report ESRCH (false), fdinfo says Pid: -1', async (t) => {
    const sub = killAtEnd(t, spawn('sleep', ['30'], quiet));
    const mine = sub.pidfd.dup();
    try {
      assert.notEqual(mine.fd, sub.pidfd.fd);
      assert.equal(mine.sendSignal(0), true);
      sub.kill('SIGKILL');
      await sub.exited;
      assert.equal(mine.sendSignal(0), false, 'ESRCH, not EBADF: the fd is still ours');
      assert.equal(mine.sendSignal('SIGKILL'), false);
      const info = readFileSync(`/proc/self/fdinfo/${mine.fd}`, 'latin1');
      assert.match(info, /^Pid:\s+-1$/m);
      const raw = native().dup(mine.fd);
      try {
        assert.equal(thrown(() => PidFd.fromFd(raw)).code, 'ESRCH');
      } finally {
        native().close(raw);
      }
    } finally {
      mine.close();
    }
  });
});

describe('pidfd.close(), pidfd[Symbol.dispose]()', () => {
  test('[Symbol.dispose]() closes the pidfd: its fd is gone from this process', async (t) => {
    const sub = killAtEnd(t, spawn('sleep', ['30'], quiet));
    const fdsBefore = fdSnapshot();
    const opened = PidFd.open(sub.pid);
    const fd = opened.fd;
    assert.equal(opened.sendSignal(0), true);
    opened[Symbol.dispose]();
    assert.deepEqual([opened.closed, opened.fd], [true, -1]);
    assert.equal(thrown(() => fstatSync(fd)).code, 'EBADF');
    assert.equal(fdDiff(fdsBefore, fdSnapshot()), '');
    assert.equal(sub.kill(0), true, 'closing a pidfd does not touch the process');
  });

  // Every use after close() is a clear error, never an answer about another fd that took the
  // number, nor a silent no-op.
  const uses = [
    ['pid', (p) => p.pid],
    ['isAlive', (p) => p.isAlive()],
    ['sendSignal', (p) => p.sendSignal(0)],
    ['sendSignal', (p) => p.sendSignal('SIGKILL')],
    ['info', (p) => p.info()],
    ['getFd', (p) => p.getFd(0)],
    ['openProcDir', (p) => p.openProcDir()],
    ['dup', (p) => p.dup()],
  ];
  if (features.pidfs.available) uses.push(['id', (p) => p.id]);
  for (const [method, use] of uses) {
    test(`${use.toString().replace(/^\(p\) => p/, 'pidfd')} after close() throws ERR_PIDFD_CLOSED naming PidFd.${method}`, async (t) => {
      const sub = killAtEnd(t, spawn('sleep', ['30'], quiet));
      const pidfd = PidFd.open(sub.pid);
      pidfd.close();
      // A new fd may get the old number now: it must not be used.
      const other = openSync('/dev/null', 'r');
      try {
        refused(() => use(pidfd), { type: Error, code: 'ERR_PIDFD_CLOSED', names: [`PidFd.${method}`, 'closed'] });
      } finally {
        closeSync(other);
      }
      assert.equal(sub.kill(0), true, 'the process was not touched');
    });
  }

  test('exited() after close() resolves with null (what a pending exited() gives at close), and touches nothing', async (t) => {
    const sub = killAtEnd(t, spawn('sleep', ['30'], quiet));
    const pidfd = PidFd.open(sub.pid);
    pidfd.close();
    const other = openSync('/dev/null', 'r');
    try {
      assert.equal(await pidfd.exited(), null);
    } finally {
      closeSync(other);
    }
    assert.equal(sub.kill(0), true, 'the process was not touched');
  });

  test('close() again does nothing', () => {
    const pidfd = PidFd.open(process.pid);
    pidfd.close();
    const fdsBefore = fdSnapshot();
    pidfd.close();
    pidfd[Symbol.dispose]();
    assert.equal(fdDiff(fdsBefore, fdSnapshot()), '');
  });
});
