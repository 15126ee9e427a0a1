// The code between clone and execve (native/child.c), seen from outside: each of its steps
// failing on its real path, the signal dispositions and mask the program starts with, and the
// fds it keeps (case ids from docs/reliability.md: D3 child steps, D4, D6, D7, E1-E5).

import assert from 'node:assert/strict';
import { spawn as cpSpawn, execFileSync, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, rmSync, watch, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { spawn, support } from '../../dist/index.js';
import { ChildStep, Fault, native } from '../../dist/internal/testing.js';
import {
  assertNothingLeft,
  childFds,
  closed,
  collect,
  collectWhileBusy,
  fdSnapshot,
  fixtures,
  GUARD_MS,
  helperBin,
  inMask,
  killAtEnd,
  leakFree,
  parseListing,
  parseStatus,
  procStatus,
  reaped,
  root,
  runScript,
  settle,
  spawnWithFault,
  warmUp,
  withTimeout,
} from '../helpers/index.js';

const SIGINT = 2;
const SIGUSR1 = 10;
const SIGPIPE = 13;
const SIGTERM = 15;
const SIGXFSZ = 25;
const FD_CLOEXEC = 1;
const NONE = '0000000000000000';
const isRoot = process.getuid() === 0;

/** Runs `node test/fixtures/<file> ...args` and returns its stdout parsed as JSON. */
async function fixtureReport(file, args, options = {}) {
  const { status, outputs } = await settle(spawn(process.execPath, [join(fixtures, file), ...args], options));
  assert.equal(status.code, 0, `${file} failed: ${outputs[2]}`);
  return JSON.parse(outputs[1]);
}

let dir;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pidfd-child-'));
  await warmUp();
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** The /proc/self/status of a `cat` spawned now: what a freshly exec'd child starts with. */
async function childStatus() {
  const sub = spawn('/bin/cat', ['/proc/self/status'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const { status, stdout, stderr } = await collect(sub);
  assert.equal(status.code, 0, stderr);
  return parseStatus(stdout);
}

/** Spawns a sleeper, checks its /proc status with `check`, sends it `signal`: its exit status. */
async function sleeperKilledBy(signal, check = () => {}) {
  const sub = spawn('sleep', ['30'], { stdio: 'ignore' });
  try {
    check(procStatus(sub.pid)); // spawn returns after execve: this is sleep's own status
    assert.equal(sub.kill(signal), true);
    return await withTimeout(sub.exited, GUARD_MS, `the sleeper to die of ${signal}`);
  } finally {
    sub.kill('SIGKILL');
    await withTimeout(sub.exited, GUARD_MS, 'the sleeper to exit');
  }
}

/** The parent's own status: SigCgt is process-wide; SigBlk is the main (spawning) thread's. */
const parentStatus = () => procStatus(process.pid);

describe('child.c: each step, failing (D3)', () => {
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
    // Not SIGKILL, and not clone3 for no_new_privs: on Linux 7.1+ the kernel does those at
    // creation (CLONE_PIDFD_AUTOKILL, CLONE_NNP), and the child has no step to fail.
    { step: 'pdeathsig', syscall: 'prctl', options: { killOnParentExit: 'SIGTERM' } },
    { step: 'noNewPrivileges', syscall: 'prctl', options: { noNewPrivileges: true, backend: 'clone' } },
    { step: 'sigmask', syscall: 'rt_sigprocmask' },
    { step: 'exec', syscall: 'execve', path: '/bin/sh' },
    // Without clone3 the child joins its cgroup itself, first: a per-run cgroup and the clone
    // backend make it. The failed spawn leaves no cgroup directory (the invariant hook checks).
    {
      step: 'cgroupJoin',
      syscall: 'write',
      options: { cgroup: true, backend: 'clone' },
      path: new RegExp(`/pidfd-${process.pid}-\\d+$`),
      skip: !support().features.perRunCgroup.available && `no per-run cgroup here: ${support().features.perRunCgroup.reason}`,
    },
  ];

  test('the table covers every ChildStep but sync (no injection point) and fault (not a step)', () => {
    const covered = new Set(steps.map((s) => s.step));
    const missing = Object.keys(ChildStep).filter((name) => !covered.has(name));
    assert.deepEqual(missing.sort(), ['fault', 'sync']);
  });

  for (const { step, syscall, options = {}, path, skip } of steps) {
    test(`ChildStep.${step}: EIO from ${syscall}, 10 times, with no fd, child or zombie left`, (t) => {
      if (skip) return t.skip(skip);
      const fdsBefore = fdSnapshot();
      for (let i = 0; i < 10; i++) {
        const error = spawnWithFault({ kind: Fault.failStep, arg: ChildStep[step] }, options);
        assert.equal(error.code, 'EIO');
        assert.equal(error.errno, -5);
        assert.equal(error.syscall, syscall);
        if (path instanceof RegExp) assert.match(error.path, path);
        else assert.equal(error.path, path);
        assert.equal(error.spawnfile, '/bin/sh');
        assert.match(error.message, new RegExp(`^spawn /bin/sh EIO: .*, ${syscall}\\b`));
      }
      assertNothingLeft(fdsBefore, `ChildStep.${step}`);
    });
  }
});

describe('child.c: signals, E1: those the parent ignores are at their default', () => {
  test(
    'E1: the child ignores no signal, though Node ignores SIGPIPE and SIGXFSZ',
    leakFree(async () => {
      const parent = parentStatus().SigIgn;
      assert.ok(inMask(parent, SIGPIPE) && inMask(parent, SIGXFSZ), `precondition: parent SigIgn ${parent}`);
      assert.equal((await childStatus()).SigIgn, NONE);
    }),
  );

  test(
    "E1: the child's ignored and blocked signals are those of a child_process child",
    leakFree(async () => {
      const options = { encoding: 'utf8', timeout: GUARD_MS, killSignal: 'SIGKILL' };
      const theirs = parseStatus(spawnSync('/bin/cat', ['/proc/self/status'], options).stdout);
      const ours = await childStatus();
      assert.deepEqual([ours.SigIgn, ours.SigBlk], [theirs.SigIgn, theirs.SigBlk]);
    }),
  );
});

describe('child.c: signals, E2: SIGPIPE ends a child writing into a closed pipe', () => {
  test(
    'E2: `yes | head -n 1` exits 0 with nothing on stderr',
    leakFree(async () => {
      const sub = spawn('/bin/sh', ['-c', 'yes | head -n 1'], { stdio: ['ignore', 'pipe', 'pipe'] });
      const { status, stdout, stderr } = await collect(sub);
      assert.deepEqual([status.code, status.signal, stdout, stderr], [0, null, 'y\n', '']);
    }),
  );

  test(
    'E2: a child writing to a pipe whose reading end the parent closed dies of SIGPIPE',
    leakFree(async () => {
      const sub = spawn('yes', [], { stdio: ['ignore', 'pipe', 'ignore'] });
      await once(sub.stdout, 'data');
      sub.stdout.destroy();
      const status = await withTimeout(sub.exited, GUARD_MS, 'yes to die of SIGPIPE', () => sub.kill('SIGKILL'));
      assert.deepEqual([status.code, status.signal], [null, 'SIGPIPE']);
      assert.equal(reaped(sub.pid), true);
    }),
  );
});

describe('child.c: signals, E3: handlers of the parent are not installed', () => {
  const handled = [
    ['SIGUSR1', SIGUSR1],
    ['SIGINT', SIGINT],
    ['SIGTERM', SIGTERM],
  ];
  const handler = () => {};
  before(() => {
    for (const [signal] of handled) process.on(signal, handler);
  });
  after(() => {
    for (const [signal] of handled) process.off(signal, handler);
  });

  // execve itself resets caught signals, so SigCgt is 0 in any exec'd child; what can break is
  // the mask the parent holds while handling them, which would keep the child from dying.
  for (const [signal, number] of handled) {
    test(
      `E3: the child of a parent that handles ${signal} catches nothing and is killed by ${signal}`,
      leakFree(async () => {
        const parent = parentStatus().SigCgt;
        assert.ok(inMask(parent, number), `precondition: parent catches ${signal} (SigCgt ${parent})`);
        const status = await sleeperKilledBy(signal, (s) => assert.equal(s.SigCgt, NONE));
        assert.deepEqual([status.code, status.signal], [null, signal]);
      }),
    );
  }
});

describe('child.c: signals, E4: the spawning thread\'s mask and SIG_IGN do not reach it', () => {
  /**
   * Runs fn with SIGTERM blocked on this (the spawning) thread and/or set to SIG_IGN, then
   * restores both. Node installs a SIGTERM handler of its own at startup (it resets the
   * terminal, then dies); the test hook can only restore SIG_DFL, which ends this process the
   * same way.
   */
  async function withSigterm({ blocked = false, ignored = false }, fn) {
    const wasBlocked = blocked ? native().test.blockSignal(SIGTERM, true) : undefined;
    if (ignored) assert.equal(native().test.ignoreSignal(SIGTERM, true), 0);
    try {
      const parent = parentStatus();
      if (blocked) assert.ok(inMask(parent.SigBlk, SIGTERM), 'precondition: SIGTERM blocked in the parent');
      if (ignored) assert.ok(inMask(parent.SigIgn, SIGTERM), 'precondition: SIGTERM ignored in the parent');
      return await fn();
    } finally {
      if (ignored) assert.equal(native().test.ignoreSignal(SIGTERM, false), 0);
      if (blocked) native().test.blockSignal(SIGTERM, wasBlocked);
    }
  }

  const states = [
    { title: 'blocked', state: { blocked: true } },
    { title: 'ignored', state: { ignored: true } },
    { title: 'ignored and blocked', state: { ignored: true, blocked: true } },
  ];
  for (const { title, state } of states) {
    test(
      `E4: a child spawned while SIGTERM is ${title} starts with no signal blocked or ignored`,
      leakFree(async () => {
        const status = await withSigterm(state, childStatus);
        assert.deepEqual([status.SigBlk, status.SigIgn], [NONE, NONE]);
      }),
    );

    test(
      `E4: a child spawned while SIGTERM is ${title} is killed by SIGTERM`,
      leakFree(async () => {
        const status = await withSigterm(state, () =>
          sleeperKilledBy('SIGTERM', (s) => assert.deepEqual([s.SigBlk, s.SigIgn], [NONE, NONE])),
        );
        assert.deepEqual([status.code, status.signal], [null, 'SIGTERM']);
      }),
    );
  }
});

describe('child.c: signals, E5: signals arriving during spawns', () => {
  /** Runs the signal-storm fixture; `group` makes it the leader of a process group of its own. */
  async function storm(t, count, mode) {
    const command = [join(fixtures, 'signal-storm.mjs'), String(count), mode];
    const options = { stdio: ['ignore', 'pipe', 'pipe'], processGroup: mode === 'group' };
    const sub = killAtEnd(t, spawn(process.execPath, command, options));
    // The fixture reports every 100 spawns on stderr: on a loaded machine it is slow, and it is
    // given up on (killed) only when it stops making progress.
    const { status, stdout, stderr } = await collectWhileBusy(sub);
    assert.deepEqual([status.code, status.signal], [0, null], `the fixture crashed or failed: ${stderr}`);
    return JSON.parse(stdout);
  }

  /** Handlers ran in this process for both signals, never more often than they were sent. */
  function assertHandled(r) {
    for (const signal of ['SIGUSR1', 'SIGUSR2']) {
      assert.ok(r.handled[signal] > 0, `${signal} reached its handler during the spawns`);
      assert.ok(r.handled[signal] <= r.sent[signal], `${signal}: handled ${r.handled[signal]} of ${r.sent[signal]}`);
    }
  }

  const zero = '0000000000000000';
  const clean = { SigPnd: zero, SigBlk: zero, SigIgn: zero, SigCgt: zero };

  test('E5: 2000 spawns while a worker signals this process: no crash, every status right', async (t) => {
    const r = await storm(t, 2000, 'process');
    assert.deepEqual(r.problems, []);
    assertHandled(r);
    assert.equal(r.children.length, 40);
    for (const child of r.children) assert.deepEqual(child, clean, 'a child spawned in the storm');
  });

  test('E5: 1000 spawns while the whole process group is signalled: children hit before exec die of it', async (t) => {
    // Each child leaves the group during its setup; one hit before that has its handlers reset,
    // then dies of the signal when its mask is emptied. Any other outcome is a problem.
    const r = await storm(t, 1000, 'group');
    assert.deepEqual(r.problems, []);
    assertHandled(r);
    for (const child of r.children) assert.deepEqual(child, clean, 'a child spawned in the storm');
    t.diagnostic(`${r.killedBeforeExec} of 1000 children were hit before execve`);
  });

  test('E5: the C core: a handler of the parent never runs in a child that shares its memory', (t) => {
    // test/helpers/core/core-spawn.c: the handler records when it runs in another process; with
    // CLONE_VM that record lands in the parent's memory. (With the fork backend the child has a
    // copy, and nothing of it could be seen: the count is then trivially 0.)
    const out = execFileSync(join(helperBin, 'core-spawn'), ['signals', '2000'], {
      encoding: 'utf8',
      timeout: 3 * GUARD_MS, // 2000 spawns of C, at a load of 20 on 2 cores: under a minute
      killSignal: 'SIGKILL',
    });
    const r = JSON.parse(out);
    assert.equal(r.backend, support().backend);
    assert.equal(r.problems, 0, r.firstProblem);
    assert.equal(r.exited + r.killedBeforeExec, 2000);
    assert.ok(r.handledHere > 0, 'the storm reached the parent');
    assert.equal(r.handledElsewhere, 0, 'a handler ran in a child');
    assert.equal(r.children, 0);
    assert.equal(r.fdsLeft, '');
    t.diagnostic(`${r.killedBeforeExec} of 2000 children were hit before execve`);
  });
});
/** A parent with a bit of everything open: sockets, pipes to other children, pidfds, files. */
async function openEverything() {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection');
  const client = net.connect(server.address().port, '127.0.0.1');
  await once(client, 'connect');
  const [serverSide] = await accepted;
  const udp = dgram.createSocket('udp4');
  udp.bind(0, '127.0.0.1');
  await once(udp, 'listening');
  const cpChild = cpSpawn('sleep', ['30']);
  const sleeper = spawn('sleep', ['30'], { stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
  const pidfdCopy = sleeper.pidfd.dup();
  const file = openSync(join(dir, 'held'), 'w');
  const watcher = watch(dir);
  return async function closeEverything() {
    watcher.close();
    closeSync(file);
    pidfdCopy.close();
    sleeper.kill('SIGKILL');
    await settle(sleeper);
    const cpClosed = once(cpChild, 'close');
    cpChild.kill('SIGKILL');
    await cpClosed;
    await new Promise((resolve) => udp.close(resolve));
    client.destroy();
    serverSide.destroy();
    server.close();
    await Promise.all([once(server, 'close'), closed(client), closed(serverSide)]);
  };
}

describe('child.c: fds, D4: only those it was given', () => {
  test(
    'D4: a child sees only fds 0-2 while the parent holds sockets, pipes, pidfds and files',
    leakFree(async () => {
      const closeEverything = await openEverything();
      try {
        const fds = await childFds(['ignore', 'pipe', 'ignore']);
        assert.deepEqual([...fds.keys()], [0, 1, 2], [...fds].join('\n'));
        assert.equal(fds.get(0), '/dev/null');
        assert.match(fds.get(1), /^pipe:/);
        assert.equal(fds.get(2), '/dev/null');
      } finally {
        await closeEverything();
      }
    }),
  );

  test(
    'D4: an fd passed at 3 is the only fd the child sees besides 0-2',
    leakFree(async () => {
      const closeEverything = await openEverything();
      const passed = openSync(join(dir, 'passed'), 'w');
      try {
        const fds = await childFds(['ignore', 'pipe', 'ignore', passed]);
        assert.deepEqual([...fds.keys()], [0, 1, 2, 3], [...fds].join('\n'));
        assert.equal(fds.get(3), join(dir, 'passed'));
      } finally {
        closeSync(passed);
        await closeEverything();
      }
    }),
  );
});

describe('child.c: fds, D6: inheritable fds only when passed', () => {
  // Node marks fds 0-15 it inherits close-on-exec (libuv's uv_disable_stdio_inheritance), so a
  // Node process holds an inheritable fd only at a higher number: the fixture inherits 40 and 41.
  const [first, second] = [40, 41];
  let report;
  const inheritedReport = async () => {
    if (report !== undefined) return report;
    writeFileSync(join(dir, 'first'), '');
    writeFileSync(join(dir, 'second'), '');
    const stdio = ['ignore', 'pipe', 'pipe'];
    stdio[first] = openSync(join(dir, 'first'), 'r');
    stdio[second] = openSync(join(dir, 'second'), 'r');
    try {
      report = fixtureReport('inherited-fds.mjs', [String(first), String(second)], { stdio });
    } finally {
      closeSync(stdio[first]);
      closeSync(stdio[second]);
    }
    return report;
  };

  test(
    'D6: inheritable fds the child was not given are closed in the child',
    leakFree(async () => {
      const r = await inheritedReport();
      assert.deepEqual([r.flagsBefore[first], r.flagsBefore[second]], [0, 0], 'precondition: inheritable');
      assert.deepEqual([...parseListing(r.notPassed).keys()], [0, 1, 2], r.notPassed);
    }),
  );

  test(
    'D6: passed fds arrive at the numbers asked for, inheritable or close-on-exec',
    leakFree(async () => {
      const r = await inheritedReport();
      const fds = parseListing(r.passed);
      assert.deepEqual([...fds.keys()], [0, 1, 2, 3, 5, first], r.passed);
      assert.equal(fds.get(3), join(dir, 'second'));
      assert.equal(fds.get(5), r.targets[r.cloexecFd]);
      assert.equal(fds.get(first), join(dir, 'first'));
    }),
  );

  test(
    "D6: passing fds leaves the parent's close-on-exec flags as they were",
    leakFree(async () => {
      const r = await inheritedReport();
      assert.deepEqual(r.flagsAfter, r.flagsBefore);
      assert.equal(r.flagsAfter[r.cloexecFd], FD_CLOEXEC);
    }),
  );
});

describe('child.c: fds, without close_range (the /proc/self/fd scan)', () => {
  test('without close_range (Linux < 5.9) the /proc/self/fd scan closes every fd the child was not given', () => {
    const result = runScript(
      `import { openSync } from 'node:fs';
       const extra = openSync('/dev/null', 'r'); // an inheritable fd the child must not see
       const sub = pidfd.spawn('/bin/sh', ['-c', 'ls /proc/$$/fd']);
       let out = ''; sub.stdout.setEncoding('utf8').on('data', (d) => (out += d));
       await Promise.all([sub.exited, new Promise((r) => sub.stdout.on('close', r))]);
       console.log(JSON.stringify({ extra, fds: out.split(/\\s+/).filter(Boolean).map(Number).sort((a, b) => a - b),
         closeRange: pidfd.support().features.closeRange.available }));`,
      { rules: ['close_range=38'] },
    );
    assert.equal(result.closeRange, false);
    assert.ok(result.extra > 2);
    // 0-2, plus the fd the shell's `ls` listing itself uses; never the parent's extra fd.
    assert.ok(!result.fds.includes(result.extra), `fd ${result.extra} leaked: ${result.fds}`);
    assert.deepEqual(result.fds.slice(0, 3), [0, 1, 2]);
  });
});

// Node marks the fds 0-15 it inherits close-on-exec, so the inheritable ones sit higher: the
// fixture inherits 40 of them at 30-69, then lowers its limit to 29.
const FIRST = 30;
const LAST = 69;
const LIMIT = 29;

/**
 * Runs the fixture (optionally under seccomp rules, and with `backend` forced) with the marker
 * file at fds FIRST..LAST.
 */
async function loweredReport(rules, backend) {
  const marker = join(dir, 'above-the-limit');
  writeFileSync(marker, '');
  const fd = openSync(marker, 'r');
  try {
    const stdio = ['ignore', 'pipe', 'pipe'];
    for (let target = FIRST; target <= LAST; target++) stdio[target] = fd;
    const command = [process.execPath, join(fixtures, 'lowered-nofile.mjs'), String(FIRST), String(LAST), String(LIMIT)];
    const [file, ...args] = rules ? [join(helperBin, 'seccomp-launcher'), ...rules, '--', ...command] : command;
    const env = backend === undefined ? process.env : { ...process.env, PIDFD_BACKEND: backend };
    const { status, stdout, stderr } = await collect(spawn(file, args, { stdio, env }));
    assert.equal(status.code, 0, stderr);
    return { marker, report: JSON.parse(stdout) };
  } finally {
    closeSync(fd);
  }
}

describe('child.c: fds, D7: above a lowered RLIMIT_NOFILE', () => {
  const variants = [
    { title: 'with close_range', rules: null, closeRange: true },
    { title: 'with the /proc/self/fd scan (close_range refused)', rules: ['close_range=38'], closeRange: false },
    // The fork backend's child holds more of the parent's fds: under Node 22 and later (some 20
    // fds at start-up) none is left below the limit, and opening /proc/self/fd fails with EMFILE
    // unless the child first closes the fds it was going to close anyway.
    { title: 'with the /proc/self/fd scan, fork backend', rules: ['close_range=38'], closeRange: false, backend: 'fork' },
  ];
  for (const { title, rules, closeRange, backend } of variants) {
    test(`D7: 40 inheritable fds above the limit never reach the child (${title})`, async () => {
      const { marker, report: r } = await loweredReport(rules, backend);
      // The premise: 40 inheritable fds on the marker, all above a limit that now applies.
      assert.equal(r.inherited.length, LAST - FIRST + 1);
      for (const { fd, target, flags } of r.inherited) {
        assert.equal(target, marker, `fd ${fd}`);
        assert.equal(flags, 0, `fd ${fd} is inheritable`);
      }
      assert.deepEqual(r.limit, [LIMIT, LIMIT]);
      assert.equal(r.closeRange, closeRange);

      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(
        r.listing.map((e) => e.fd),
        [0, 1, 2],
        `the child has only its stdio: ${JSON.stringify(r.listing)}`,
      );
      assert.ok(r.listing.every((e) => e.target !== marker));
    });
  }
});

describe('child.c: no AddressSanitizer code in the child (the sanitizer build)', () => {
  // With CLONE_VM the child runs on a stack ASan does not know, in the parent's memory: every
  // function of child.c carries PF_CHILD_CODE, which turns the instrumentation off (child.h,
  // docs/reliability.md). One that lacked it would touch the shared shadow memory from the child
  // in `npm run test:asan` only, where a false report or a poisoned stack would be the first sign.
  // So: child.c compiled as test/sanitize/asan.js builds it, and no function of it calls into
  // ASan (UBSan's checks stay, on purpose); only the object's constructor and destructor, which
  // register its globals and never run in a child, may.
  test('child.c built with -fsanitize=address,undefined: no function of it calls an __asan_ routine', () => {
    const object = join(dir, 'child-asan.o');
    const nativeDir = join(root, 'native');
    const flags = ['-std=gnu11', '-D_GNU_SOURCE', `-I${nativeDir}`, '-O3', '-fsanitize=address,undefined', '-fno-omit-frame-pointer'];
    execFileSync('cc', [...flags, '-c', join(nativeDir, 'child.c'), '-o', object]);
    const listing = execFileSync('objdump', ['-dr', '--no-show-raw-insn', object], {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    const calls = new Map(); // function → the ASan routines it refers to
    let fn = null;
    for (const line of listing.split('\n')) {
      const start = /^[0-9a-f]+ <(.+)>:$/.exec(line);
      if (start) fn = start[1];
      const reloc = /R_\w+\s+(__asan_\w+)/.exec(line);
      if (reloc && fn !== null) calls.set(fn, new Set([...(calls.get(fn) ?? []), reloc[1]]));
    }
    // The premise: the compiler did instrument the object (its constructor registers it).
    assert.ok([...calls.values()].some((names) => names.has('__asan_init')), 'no ASan constructor: not instrumented?');
    const constructors = /^(_sub_[ID]_|asan\.module_[cd]tor)/; // gcc's and clang's
    const inChild = [...calls]
      .filter(([name]) => !constructors.test(name))
      .map(([name, names]) => `${name}: ${[...names].join(', ')}`);
    assert.deepEqual(inChild, [], 'functions of child.c instrumented by ASan (missing PF_CHILD_CODE)');
  });
});
