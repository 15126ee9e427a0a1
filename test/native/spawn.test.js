// The parent side of a spawn (native/spawn.c, js_api.c): each parent step failing on its real
// cleanup path, the child's failure report read three ways, a child that dies before execve,
// and what a failed spawn leaves behind: nothing (case ids from docs/reliability.md: C2, C4,
// D2, D3 parent steps, D9, F5, I5).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';

import { spawn, support } from '../../dist/index.js';
import { ChildStep, Fault, kTestFault, ParentStep } from '../../dist/internal/testing.js';
import {
  assertNothingLeft,
  collect,
  fdSnapshot,
  fixtures,
  GUARD_MS,
  hasChildren,
  helperBin,
  leakFree,
  ownCgroup,
  readAll,
  reaped,
  settle,
  spawnFailure,
  spawnThrows,
  spawnWithFault,
  thrown,
  warmUp,
  withTimeout,
} from '../helpers/index.js';

const backend = support().backend;
const PIPES = ['pipe', 'pipe', 'pipe', 'pipe'];
const EPROTO = 71;

before(warmUp);

/** This process's environment without a forced backend: the probe must choose the fork backend. */
function unforcedEnv() {
  const env = { ...process.env };
  delete env.PIDFD_BACKEND;
  return env;
}

/** Runs a program (through spawn) and returns its stdout parsed as JSON. */
async function jsonOutput(file, args, options = {}) {
  const { status, outputs } = await settle(spawn(file, args, options));
  assert.equal(status.code, 0, `${args.join(' ')} failed: ${outputs[2]}`);
  return JSON.parse(outputs[1]);
}

describe('spawn.c: each parent step, failing (D3)', () => {
  const own = ownCgroup();
  const cgroup = own.dir ?? null;
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
        cgroup === null && 'this process is in no cgroup v2 directory',
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
    { step: 'backend', code: 'ENOSYS', syscall: 'spawn' },
    { step: 'stdioCheck', code: 'EBADF', syscall: 'fcntl', fd: 2, options: { stdio: ['ignore', 'ignore', 'inherit'] } },
    { step: 'stdioMove', code: 'EMFILE', syscall: 'fcntl', fd: 1, options: { stdio: ['ignore', 'pipe', 'ignore'] } },
    {
      step: 'channel',
      code: 'EMFILE',
      syscall: 'socketpair',
      skip: backend !== 'fork' && `only the fork backend has a report channel (this pass uses ${backend})`,
    },
  ];

  test('the table covers every ParentStep', () => {
    assert.deepEqual([...new Set(steps.map((s) => s.step))].sort(), Object.keys(ParentStep).sort());
  });

  for (const { step, title = step, code, syscall, fd, path, options = {}, skip } of steps) {
    test(`ParentStep.${title}: ${code} from ${syscall}, 10 times, with no fd, child or zombie left`, (t) => {
      if (skip) return t.skip(skip);
      const fdsBefore = fdSnapshot();
      for (let i = 0; i < 10; i++) {
        const error = spawnWithFault({ kind: Fault.parentStep, arg: ParentStep[step] }, options);
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
      if (!skip) spawnWithFault({ kind: Fault.parentStep, arg: ParentStep[step] }, options);
    }
    const sub = spawn('/bin/sh', ['-c', 'exit 3'], { stdio: 'ignore' });
    assert.equal((await withTimeout(sub.exited, GUARD_MS, 'the exit')).code, 3);
  });
});

describe('spawn.c: the fork backend cannot get the pidfd (I5)', () => {
  test('I5: when pidfd_open fails, the child is killed and reaped, EMFILE is thrown, and no fd is left', () => {
    // A fresh process with PIDFD_BACKEND=fork, so that every pass of the suite checks it.
    for (const stdio of ['pipe', 'ignore']) {
      const out = execFileSync(
        process.execPath,
        [join(fixtures, 'spawn-fault.mjs'), JSON.stringify({ kind: Fault.parentStep, arg: ParentStep.pidfdOpen, stdio })],
        { encoding: 'utf8', env: { ...process.env, PIDFD_BACKEND: 'fork' }, timeout: GUARD_MS, killSignal: 'SIGKILL' },
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

describe('spawn.c: a child that dies before execve (C4)', () => {
  const cases = [
    {
      title: 'killed (SIGKILL) before execve',
      fault: { kind: Fault.killBeforeExec },
      expect: { code: null, signal: 'SIGKILL' },
    },
    { title: 'exiting (33) before execve', fault: { kind: Fault.exitBeforeExec, arg: 33 }, expect: { code: 33, signal: null } },
  ];
  for (const { title, fault, expect } of cases) {
    test(`C4: a child ${title}: spawn() returns, exited has that status once, and it is reaped (x30)`, async () => {
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
describe('spawn.c: the child\'s failure report, malformed (F5)', () => {
  // What the hooks write (native/child.c pf_fail_corrupt): {magic, step ChildStep.fault, err 5,
  // index 0x41414141, check 0x42424242}, little-endian; "garbage" has a wrong magic, "short" is a
  // correct magic with half a record (fork backend) or a wrong check (shared-memory backends).
  function record(magic) {
    const b = Buffer.alloc(20);
    b.writeUInt32LE(magic, 0);
    b.writeInt32LE(ChildStep.fault, 4);
    b.writeInt32LE(5, 8);
    b.writeUInt32LE(0x41414141, 12);
    b.writeUInt32LE(0x42424242, 16);
    return b.toString('hex');
  }
  const cases = [
    { title: 'garbage', kind: Fault.reportGarbage, full: record(0xdeadbeef), exact: true },
    { title: 'a short or unchecked record', kind: Fault.reportShort, full: record(0x70696466), exact: false },
  ];
  for (const { title, kind, full, exact } of cases) {
    test(`F5: a report of ${title} fails with ERR_PIDFD_CHILD_REPORT showing the raw bytes`, () => {
      const error = spawnFailure('/bin/sh', ['-c', 'exit 0'], { [kTestFault]: { kind } });
      assert.equal(error.code, 'ERR_PIDFD_CHILD_REPORT');
      assert.equal(error.errno, -EPROTO);
      assert.equal(error.syscall, 'spawn');
      assert.equal(error.spawnfile, '/bin/sh');
      assert.deepEqual(error.spawnargs, ['/bin/sh', '-c', 'exit 0']);
      const shown = /\((\d+) bytes: ([0-9a-f]*)\)/.exec(error.message);
      assert.ok(shown, `message does not show the raw bytes: ${error.message}`);
      const [, length, hex] = shown;
      assert.equal(hex.length, 2 * Number(length));
      assert.ok(Number(length) > 0);
      if (exact) assert.equal(hex, full);
      else assert.ok(full.startsWith(hex), `raw bytes ${hex} are not a prefix of the record ${full}`);
    });
  }
});

describe('spawn.c: a failed spawn leaves nothing behind (C2, D2)', () => {
  const stdios = [
    { title: "stdio 'pipe'", stdio: 'pipe' },
    { title: "stdio 'ignore'", stdio: 'ignore' },
    { title: "stdio 'inherit'", stdio: 'inherit' },
    { title: 'a socketpair at fd 3', stdio: ['pipe', 'pipe', 'pipe', 'pipe'] },
    { title: 'a passed fd', stdio: ['ignore', 2, 'ignore'] },
  ];
  const failures = [
    { title: 'a missing program', code: 'ENOENT', syscall: 'execve', run: (stdio) => spawn('/nonexistent/program', [], { stdio }) },
    {
      title: 'a bad cwd',
      code: 'ENOENT',
      syscall: 'chdir',
      run: (stdio) => spawn('/bin/sh', [], { stdio, cwd: '/nonexistent/directory' }),
    },
    {
      title: 'a malformed report',
      code: 'ERR_PIDFD_CHILD_REPORT',
      syscall: 'spawn',
      run: (stdio) => spawn('/bin/sh', [], { stdio, [kTestFault]: { kind: Fault.reportGarbage } }),
    },
  ];
  for (const failure of failures) {
    for (const { title, stdio } of stdios) {
      test(`C2, D2: 50 spawns of ${failure.title} with ${title} leave no child, zombie or fd`, () => {
        const fdsBefore = fdSnapshot();
        for (let i = 0; i < 50; i++) {
          const error = spawnThrows(() => failure.run(stdio));
          assert.deepEqual([error.code, error.syscall], [failure.code, failure.syscall]);
        }
        assertNothingLeft(fdsBefore, `${failure.title} with ${title}`);
      });
    }
  }

  test('D2: 10 spawns failing on a closed fd in stdio leave no fd and no child behind', () => {
    const fdsBefore = fdSnapshot();
    for (let i = 0; i < 10; i++) {
      const error = spawnThrows(() => spawn('/bin/true', [], { stdio: ['pipe', 'pipe', 'pipe', 4000] }));
      assert.deepEqual([error.code, error.syscall, error.fd], ['EBADF', 'fcntl', 3]);
    }
    assertNothingLeft(fdsBefore, 'a closed fd in stdio');
  });

  test(
    'D2: 1024 spawns of a missing program with pipes at fds 0-3 leave no fd and no child behind',
    leakFree(() => {
      const probe = () => {
        const fd = openSync('/dev/null', 'r');
        closeSync(fd);
        return fd;
      };
      const nextFd = probe();
      const stdio = ['pipe', 'pipe', 'pipe', 'pipe'];
      for (let i = 0; i < 1024; i++) {
        const error = thrown(() => spawn('/noSuchExecutable', [], { stdio }));
        assert.equal(error.code, 'ENOENT');
      }
      assert.equal(probe(), nextFd, 'the lowest free fd number is unchanged');
      assert.equal(hasChildren(), false);
    }),
  );

  test('a spawn that works after many failures is reaped and leaves nothing either', async () => {
    const fdsBefore = fdSnapshot();
    for (let i = 0; i < 20; i++) spawnThrows(() => spawn('/nonexistent/program'));
    const sub = spawn('/bin/sh', ['-c', 'exit 3'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const { status } = await collect(sub);
    assert.equal(status.code, 3);
    assertNothingLeft(fdsBefore, 'after the successful spawn');
  });
});

describe('spawn.c: a full fd table (D9)', () => {
  const reports = new Map();
  /** The emfile.mjs report for one stdio setting, from one run under RLIMIT_NOFILE 64. */
  const emfileReport = (stdio) => {
    if (!reports.has(stdio)) {
      const script = join(fixtures, 'emfile.mjs');
      reports.set(stdio, jsonOutput('prlimit', ['--nofile=64:64', process.execPath, script, stdio]));
    }
    return reports.get(stdio);
  };

  for (const stdio of ['ignore', 'inherit', 'pipe']) {
    test(
      `D9: with the fd table full, spawn (stdio '${stdio}') fails with EMFILE and leaves no fd or child`,
      leakFree(async () => {
        const { attempts } = await emfileReport(stdio);
        assert.equal(attempts[0].free, 0);
        assert.equal(attempts[0].code, 'EMFILE', JSON.stringify(attempts[0]));
        assert.equal(attempts[0].leftOpen, '');
        assert.equal(attempts[0].children, false);
      }),
    );

    test(
      `D9: freeing fds one by one, spawn (stdio '${stdio}') fails cleanly until it succeeds`,
      leakFree(async () => {
        const { attempts } = await emfileReport(stdio);
        const last = attempts.at(-1);
        assert.equal(last.exitCode, 0, `no success in ${JSON.stringify(attempts)}`);
        for (const attempt of attempts.slice(0, -1)) {
          assert.equal(attempt.code, 'EMFILE', JSON.stringify(attempt));
        }
        for (const attempt of attempts) {
          assert.equal(attempt.leftOpen, '', `with ${attempt.free} free fds`);
          assert.equal(attempt.children, false, `with ${attempt.free} free fds`);
        }
      }),
    );
  }

  test(
    "D9: one free fd is enough for spawn (stdio 'ignore') to succeed",
    leakFree(async (t) => {
      const { backend, attempts } = await emfileReport('ignore');
      if (backend === 'fork') {
        t.skip('the fork backend needs two more fds, a socketpair for the child to report through');
        return;
      }
      assert.deepEqual(
        attempts.map((a) => [a.free, a.code ?? a.exitCode]),
        [
          [0, 'EMFILE'],
          [1, 0],
        ],
      );
    }),
  );
});

describe('spawn.c: the fork backend\'s go-ahead byte to the child', () => {
  test(
    'never raises SIGPIPE in the parent, even when the child is already gone (1000 probes)',
    () => {
      // The probe child exits without reading the byte: a plain write() could hit a closed socket.
      // SIGPIPE blocked in the C core's host: a raised one stays pending, and is counted.
      const out = execFileSync(join(helperBin, 'core-spawn'), ['sigpipe', '1000'], {
        encoding: 'utf8',
        env: unforcedEnv(),
        timeout: GUARD_MS,
        killSignal: 'SIGKILL',
      });
      const r = JSON.parse(out);
      assert.equal(r.failed, 0);
      assert.equal(r.sigpipes, 0, `${r.sigpipes} of 1000 probes raised SIGPIPE`);
      assert.equal(r.children, 0);
      assert.equal(r.fdsLeft, '');
    },
  );
});

describe('the plan array (native/js_plan.h): integers and stdio triples read in place', () => {
  test('constants.planField names every field once, the stdio triples last', async () => {
    const { constants } = await import('../../dist/binding.js');
    const fields = constants().planField;
    const names = ['pgid', 'uid', 'gid', 'pdeathsig', 'setsid', 'noNewPrivs', 'autoReap', 'autoKill', 'cgroupFd', 'backend', 'fault', 'faultArg', 'nstdio', 'stdio'];
    assert.deepEqual(Object.keys(fields).sort(), [...names].sort());
    assert.equal(new Set(Object.values(fields)).size, names.length, 'distinct indexes');
    assert.equal(Math.max(...Object.values(fields)), fields.stdio, 'the triples come after every integer');
  });

  test('a plan with more fds than the first array holds gets a longer one', leakFree(async () => {
    // 16 pipes: more triples than the plan array is made with at first.
    const stdio = Array.from({ length: 16 }, () => 'pipe');
    const sub = spawn('/bin/sh', ['-c', 'for fd in 3 9 15; do test -S /proc/self/fd/$fd || exit 1; done; echo ok >&9'], { stdio });
    const out = readAll(sub.stdio[9]); // (sh names fds up to 9)
    const status = await withTimeout(sub.exited, GUARD_MS, 'exit');
    assert.equal(status.code, 0, 'fds 3, 9 and 15 are sockets in the child');
    assert.equal(await withTimeout(out, GUARD_MS, 'fd 9'), 'ok\n');
    for (const stream of sub.stdio) stream?.destroy();
  }));

  test('a stdio count beyond the array is refused as misuse of the binding, before anything starts', async () => {
    const { native } = await import('../../dist/internal/testing.js');
    const { constants } = await import('../../dist/binding.js');
    const plan = native().planArray(1);
    const F = constants().planField;
    const saved = plan[F.nstdio];
    plan[F.nstdio] = plan.length; // more triples than fit
    const children = hasChildren();
    try {
      const error = thrown(() => native().spawn('/bin/true\0', '/bin/true\0', null, null, null, null, false, false));
      assert.equal(error.code, 'ERR_PIDFD_BINDING');
      assert.equal(hasChildren(), children, 'nothing was started');
    } finally {
      plan[F.nstdio] = saved;
    }
  });
});
