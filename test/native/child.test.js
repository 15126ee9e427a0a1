// Signal dispositions and mask in the child: whatever the Node parent ignores, handles or blocks,
// the child starts with every signal at its default and none blocked, as libuv's children do
// (TESTPLAN E1-E4).

import assert from 'node:assert/strict';
import { spawn as cpSpawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';

import { spawn } from '../../dist/index.js';
import { native } from '../../dist/internal/testing.js';
import { collect, leakFree, procStatus, reaped, withTimeout } from '../helpers/index.js';

const SIGINT = 2;
const SIGUSR1 = 10;
const SIGPIPE = 13;
const SIGTERM = 15;
const SIGXFSZ = 25;
const NONE = '0000000000000000';
const GUARD_MS = 20000; // hang guard only

/** Whether signal `sig` is in a /proc/<pid>/status mask (SigIgn, SigBlk, SigCgt). */
function inMask(mask, sig) {
  return ((BigInt(`0x${mask}`) >> BigInt(sig - 1)) & 1n) === 1n;
}

/** /proc/<pid>/status text → its fields. */
function parseStatus(text) {
  return Object.fromEntries(
    text
      .split('\n')
      .filter((line) => line.includes(':'))
      .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()]),
  );
}

/** The /proc/self/status of a `cat` spawned now: what a freshly exec'd child starts with. */
async function childStatus() {
  const sub = spawn('/bin/cat', ['/proc/self/status'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const { status, stdout, stderr } = await withTimeout(collect(sub), GUARD_MS, 'cat /proc/self/status');
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

before(async () => {
  // Open the fds Node and the library create on first use: the exit watcher, libuv's signal pipe.
  await childStatus();
  const noop = () => {};
  process.on('SIGUSR2', noop).off('SIGUSR2', noop);
  await once(cpSpawn('/bin/true'), 'close');
});

describe('E1: signals the parent ignores are at their default in the child', () => {
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
      const theirs = parseStatus(spawnSync('/bin/cat', ['/proc/self/status'], { encoding: 'utf8' }).stdout);
      const ours = await childStatus();
      assert.deepEqual([ours.SigIgn, ours.SigBlk], [theirs.SigIgn, theirs.SigBlk]);
    }),
  );
});

describe('E2: SIGPIPE ends a child writing into a closed pipe', () => {
  test(
    'E2: `yes | head -n 1` exits 0 with nothing on stderr',
    leakFree(async () => {
      const sub = spawn('/bin/sh', ['-c', 'yes | head -n 1'], { stdio: ['ignore', 'pipe', 'pipe'] });
      const { status, stdout, stderr } = await withTimeout(collect(sub), GUARD_MS, 'yes | head');
      assert.deepEqual([status.code, status.signal, stdout, stderr], [0, null, 'y\n', '']);
    }),
  );

  test(
    'E2: a child writing to a pipe whose reading end the parent closed dies of SIGPIPE',
    leakFree(async () => {
      const sub = spawn('yes', [], { stdio: ['ignore', 'pipe', 'ignore'] });
      await once(sub.stdout, 'data');
      sub.stdout.destroy();
      const status = await withTimeout(sub.exited, GUARD_MS, 'yes to die of SIGPIPE');
      assert.deepEqual([status.code, status.signal], [null, 'SIGPIPE']);
      assert.equal(reaped(sub.pid), true);
    }),
  );
});

describe('E3: handlers installed in the parent are not installed in the child', () => {
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

describe('E4: the mask and SIG_IGN of the spawning thread do not reach the child', () => {
  /** Runs fn with SIGTERM blocked on this (the spawning) thread, then restores the mask. */
  async function withSigtermBlocked(fn) {
    const wasBlocked = native().testBlockSignal(SIGTERM, true);
    try {
      assert.ok(inMask(parentStatus().SigBlk, SIGTERM), 'precondition: SIGTERM blocked in the parent');
      return await fn();
    } finally {
      native().testBlockSignal(SIGTERM, wasBlocked);
    }
  }

  /** Runs fn with SIGTERM set to SIG_IGN, then sets it back to SIG_DFL. */
  async function withSigtermIgnored(fn) {
    // Node installs a SIGTERM handler of its own at startup (it resets the terminal, then dies);
    // the test hook can only restore SIG_DFL, which ends this process the same way.
    assert.equal(native().testIgnoreSignal(SIGTERM, true), 0);
    try {
      assert.ok(inMask(parentStatus().SigIgn, SIGTERM), 'precondition: SIGTERM ignored in the parent');
      return await fn();
    } finally {
      assert.equal(native().testIgnoreSignal(SIGTERM, false), 0);
    }
  }

  test(
    'E4: a child spawned while SIGTERM is blocked starts with an empty signal mask',
    leakFree(async () => {
      const status = await withSigtermBlocked(childStatus);
      assert.equal(status.SigBlk, NONE);
    }),
  );

  test(
    'E4: a child spawned while SIGTERM is blocked is killed by SIGTERM',
    leakFree(async () => {
      const status = await withSigtermBlocked(() =>
        sleeperKilledBy('SIGTERM', (s) => assert.equal(s.SigBlk, NONE)),
      );
      assert.deepEqual([status.code, status.signal], [null, 'SIGTERM']);
    }),
  );

  test(
    'E4: a child spawned while SIGTERM is ignored does not ignore it',
    leakFree(async () => {
      const status = await withSigtermIgnored(childStatus);
      assert.equal(status.SigIgn, NONE);
    }),
  );

  test(
    'E4: a child spawned while SIGTERM is ignored and blocked is killed by SIGTERM',
    leakFree(async () => {
      const status = await withSigtermIgnored(() =>
        withSigtermBlocked(() =>
          sleeperKilledBy('SIGTERM', (s) => assert.deepEqual([s.SigIgn, s.SigBlk], [NONE, NONE])),
        ),
      );
      assert.deepEqual([status.code, status.signal], [null, 'SIGTERM']);
    }),
  );
});
