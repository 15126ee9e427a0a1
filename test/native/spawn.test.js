// Fault injection: every step of a spawn, in the child and in the parent, made to fail on its
// real cleanup path. Each failure is a SpawnError naming the step, and leaves no fd, no child
// and no zombie; a child that dies before execve is never lost (TESTPLAN C4, D3, I5).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { spawn, SpawnError, support } from '../../dist/index.js';
import { ChildStep, Fault, kTestFault, ParentStep } from '../../dist/internal/testing.js';
import { assertNothingLeft, fdSnapshot, fixtures, hasChildren, readAll, reaped, thrown, withTimeout, zombies } from '../helpers/index.js';

const GUARD_MS = 20000; // hang guard only
const isRoot = process.getuid() === 0;
const backend = support().backend;
const PIPES = ['pipe', 'pipe', 'pipe', 'pipe'];

/** Spawns with a fault that must make spawn() throw; returns the SpawnError. */
function failedSpawn(fault, options = {}, file = '/bin/sh') {
  const error = thrown(() => spawn(file, ['-c', 'exit 0'], { stdio: PIPES, ...options, [kTestFault]: fault }));
  assert.ok(error instanceof SpawnError, `expected a SpawnError, got ${error?.stack ?? error}`);
  return error;
}

/** The cgroup v2 directory this process is in, or null. */
function ownCgroup() {
  const own = readFileSync('/proc/self/cgroup', 'utf8').match(/^0::(.*)$/m)?.[1];
  if (own === undefined) return null;
  for (const mount of ['/sys/fs/cgroup', '/sys/fs/cgroup/unified']) {
    try {
      if (statfsSync(mount).type === 0x63677270) return join(mount, own);
    } catch {}
  }
  return null;
}

describe('D3: a failing step of the child is a SpawnError naming it, and leaves nothing', () => {
  // Every step of native/child.c with an injection point, the system call it is named after,
  // and the options that make the step do real work. (ChildStep.sync has no injection point: the
  // fork backend's child only waits there, and exits 127 without a report if the parent goes.)
  const steps = [
    { step: 'sigaction', syscall: 'rt_sigaction' },
    { step: 'setsid', syscall: 'setsid', options: { detached: true } },
    { step: 'setpgid', syscall: 'setpgid', options: { processGroup: true } },
    { step: 'chdir', syscall: 'chdir', options: { cwd: '/' }, path: '/' },
    { step: 'devnull', syscall: 'open', options: { stdio: ['ignore', 'ignore', 'ignore', 'pipe'] } },
    { step: 'fdMove', syscall: 'fcntl' },
    { step: 'fdDup', syscall: 'dup3' },
    { step: 'fdClose', syscall: 'close_range' },
    { step: 'setgroups', syscall: 'setgroups', options: isRoot ? { groups: [0] } : {} },
    { step: 'setgid', syscall: 'setgid', options: isRoot ? { gid: 0 } : {} },
    { step: 'setuid', syscall: 'setuid', options: isRoot ? { uid: 0 } : {} },
    { step: 'pdeathsig', syscall: 'prctl', options: { killOnParentExit: true } },
    { step: 'sigmask', syscall: 'rt_sigprocmask' },
    { step: 'exec', syscall: 'execve', path: '/bin/sh' },
  ];

  test('the table covers every ChildStep but sync (no injection point) and fault (not a step)', () => {
    const covered = new Set(steps.map((s) => s.step));
    const missing = Object.keys(ChildStep).filter((name) => !covered.has(name));
    assert.deepEqual(missing.sort(), ['fault', 'sync']);
  });

  for (const { step, syscall, options = {}, path } of steps) {
    test(`ChildStep.${step}: EIO from ${syscall}, 10 times, with no fd, child or zombie left`, () => {
      const fdsBefore = fdSnapshot();
      for (let i = 0; i < 10; i++) {
        const error = failedSpawn({ kind: Fault.failStep, arg: ChildStep[step] }, options);
        assert.equal(error.code, 'EIO');
        assert.equal(error.errno, -5);
        assert.equal(error.syscall, syscall);
        assert.equal(error.path, path);
        assert.equal(error.spawnfile, '/bin/sh');
        assert.match(error.message, new RegExp(`^spawn /bin/sh EIO: .*, ${syscall}\\b`));
      }
      assertNothingLeft(fdsBefore, `ChildStep.${step}`);
    });
  }
});

describe('D3: a failing step of the parent is a SpawnError naming it, and leaves nothing', () => {
  const cgroup = ownCgroup();
  // [name, errno, syscall, options, why it does not apply to this backend (or null)]
  const steps = [
    { step: 'pipe', code: 'EMFILE', syscall: 'pipe2', fd: 0, options: { stdio: 'pipe' } },
    {
      step: 'pipe',
      title: 'pipe (a socketpair at fd 3)',
      code: 'EMFILE',
      syscall: 'socketpair',
      fd: 3,
      options: { stdio: ['ignore', 'inherit', 'inherit', 'pipe'] },
    },
    {
      step: 'cgroup',
      code: 'EMFILE',
      syscall: 'open',
      path: cgroup,
      options: { cgroup },
      skip:
        cgroup === null
          ? 'this process is in no cgroup v2 directory'
          : backend !== 'clone3' && `the cgroup option needs clone3; this pass uses ${backend}`,
    },
    {
      step: 'stack',
      code: 'ENOMEM',
      syscall: 'mmap',
      skip: backend === 'fork' && 'the fork backend uses no stack of its own',
    },
    { step: 'clone', code: 'EAGAIN', syscall: backend },
    {
      step: 'pidfdOpen',
      code: 'EMFILE',
      syscall: 'pidfd_open',
      skip: backend !== 'fork' && `only the fork backend calls pidfd_open (this pass uses ${backend}; I5 below forces it)`,
    },
    { step: 'watch', code: 'ENOSPC', syscall: 'epoll_ctl' },
  ];

  test('the table covers every ParentStep', () => {
    assert.deepEqual([...new Set(steps.map((s) => s.step))].sort(), Object.keys(ParentStep).sort());
  });

  for (const { step, title = step, code, syscall, fd, path, options = {}, skip } of steps) {
    test(`ParentStep.${title}: ${code} from ${syscall}, 10 times, with no fd, child or zombie left`, (t) => {
      if (skip) return t.skip(skip);
      const fdsBefore = fdSnapshot();
      for (let i = 0; i < 10; i++) {
        const error = failedSpawn({ kind: Fault.parentStep, arg: ParentStep[step] }, options);
        assert.equal(error.code, code);
        assert.equal(error.syscall, syscall);
        assert.equal(error.fd, fd);
        assert.equal(error.path, path ?? undefined);
        assert.match(error.message, new RegExp(`^spawn /bin/sh ${code}: .*, ${syscall}\\b`));
      }
      assertNothingLeft(fdsBefore, `ParentStep.${title}`);
    });
  }

  test('a spawn after a failure of each parent step works, and its exit arrives', async () => {
    for (const { step, options = {}, skip } of steps) {
      if (!skip) failedSpawn({ kind: Fault.parentStep, arg: ParentStep[step] }, options);
    }
    const sub = spawn('/bin/sh', ['-c', 'exit 3'], { stdio: 'ignore' });
    assert.equal((await withTimeout(sub.exited, GUARD_MS, 'the exit')).code, 3);
  });
});

describe('I5: the fork backend cannot get the pidfd (pidfd_open fails)', () => {
  test('the child is killed and reaped, EMFILE is thrown, and no fd is left', () => {
    // A fresh process with PIDFD_BACKEND=fork, so that every pass of the suite checks it.
    for (const stdio of ['pipe', 'ignore']) {
      const out = execFileSync(
        process.execPath,
        [join(fixtures, 'spawn-fault.mjs'), JSON.stringify({ kind: Fault.parentStep, arg: ParentStep.pidfdOpen, stdio })],
        { encoding: 'utf8', env: { ...process.env, PIDFD_BACKEND: 'fork' }, timeout: GUARD_MS },
      );
      const r = JSON.parse(out);
      assert.equal(r.backend, 'fork');
      assert.equal(r.started, false, 'spawn() threw');
      assert.equal(r.error.name, 'SpawnError');
      assert.equal(r.error.code, 'EMFILE');
      assert.equal(r.error.errno, -24);
      assert.equal(r.error.syscall, 'pidfd_open');
      assert.equal(r.fdsLeft, '', `stdio ${stdio}`);
      // The child existed (it was waiting for our go-ahead): nothing of it is left.
      assert.equal(r.hasChildren, false, `stdio ${stdio}`);
      assert.deepEqual(r.zombies, []);
    }
  });
});

describe('C4: a child that dies before execve is never lost', () => {
  const cases = [
    {
      title: 'killed (SIGKILL) before execve',
      fault: { kind: Fault.killBeforeExec },
      expect: { code: null, signal: 'SIGKILL' },
    },
    { title: 'exiting (33) before execve', fault: { kind: Fault.exitBeforeExec, arg: 33 }, expect: { code: 33, signal: null } },
  ];
  for (const { title, fault, expect } of cases) {
    test(`a child ${title}: spawn() returns, exited has that status once, and it is reaped (x30)`, async () => {
      const fdsBefore = fdSnapshot();
      const subs = [];
      for (let i = 0; i < 30; i++) subs.push(spawn('/bin/sh', ['-c', 'echo ran'], { stdio: PIPES, [kTestFault]: fault }));
      let settled = 0;
      const results = await withTimeout(
        Promise.all(
          subs.map(async (sub) => {
            sub.stdin.end();
            sub.stdio[3].resume();
            const [status, stdout] = await Promise.all([
              sub.exited.finally(() => settled++),
              readAll(sub.stdout),
              readAll(sub.stderr),
            ]);
            await new Promise((resolve) => (sub.stdio[3].closed ? resolve() : sub.stdio[3].once('close', resolve)));
            return { sub, status, stdout };
          }),
        ),
        GUARD_MS,
        'the exits of children that died before execve',
      );
      assert.equal(settled, 30);
      for (const { sub, status, stdout } of results) {
        assert.deepEqual([status.pid, status.code, status.signal], [sub.pid, expect.code, expect.signal]);
        assert.notEqual(status.rusage, null);
        assert.equal(stdout, '', 'the program never ran');
        assert.equal(sub.kill('SIGTERM'), false, 'the exit is final');
        assert.ok(reaped(sub.pid));
      }
      await new Promise(setImmediate); // let the destroyed streams release their fds
      assertNothingLeft(fdsBefore, title);
    });
  }
});
