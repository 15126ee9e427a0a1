// Property-based fuzzing of spawn() with fast-check (issue 5, item 3): every generated input
// either starts test/helpers/c/echo-self, which reports what it saw (argv, env, cwd, fds, ids,
// group, session, parent-death signal) and must match the input, or throws exactly the
// documented error; either way the parent keeps exactly its fds and has no child left.
//
// PIDFD_FUZZ_RUNS=5000 node --test test/process/spawn.fuzz.test.js    a longer run (default 300 per pass)
// PIDFD_FUZZ_SEED=<seed>                                 replay a failure fast-check reported

import assert from 'node:assert/strict';
import { chmodSync, closeSync, copyFileSync, mkdirSync, mkdtempSync, openSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { constants as osConstants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import fc from 'fast-check';

import { spawn, SpawnError, support } from '../../dist/index.js';
import { buildHelpers } from '../helpers/build.js';
import { fdDiff, fdSnapshot, GUARD_MS, hasChildren, withTimeout } from '../helpers/index.js';
import { readSelfReport } from '../helpers/self-report.js';
import { spawnInputs } from '../helpers/spawn-inputs.js';
import { expectation, selfIds } from '../helpers/spawn-model.js';

const runs = Number(process.env.PIDFD_FUZZ_RUNS ?? 300);
const seed = process.env.PIDFD_FUZZ_SEED === undefined ? undefined : Number(process.env.PIDFD_FUZZ_SEED);

function setUp() {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'pidfd-fuzz-')));
  chmodSync(dir, 0o777); // children spawned with another uid write their reports here
  // The fixture, where every uid can reach it: the checkout may sit in a directory only its
  // owner can enter (a clone under /root, or in a 0700 `mktemp -d`).
  const bin = join(dir, 'bin');
  mkdirSync(bin, { mode: 0o755 });
  copyFileSync(join(buildHelpers(), 'echo-self'), join(bin, 'echo-self'));
  chmodSync(join(bin, 'echo-self'), 0o755);
  const noexec = join(dir, 'not-executable');
  writeFileSync(noexec, '#!/bin/sh\nexit 0\n', { mode: 0o644 });
  const noShebang = join(dir, 'no-shebang');
  writeFileSync(noShebang, 'this is not a program\n', { mode: 0o755 });
  return {
    bin,
    fixture: join(bin, 'echo-self'),
    dir,
    noexec,
    noShebang,
    devnullFd: openSync('/dev/null', 'r'),
    ids: selfIds(),
    backend: support().backend,
    get uid() {
      return this.ids.uid;
    },
    get gid() {
      return this.ids.gid;
    },
    get pgid() {
      return this.ids.pgid;
    },
  };
}

/** Destroys the parent's ends of the pipes, waits for them to close, and for the exit. */
async function settle(sub) {
  const closing = sub.stdio
    .filter(Boolean)
    .map((s) => (s.closed ? null : new Promise((r) => s.once('close', r))));
  for (const stream of sub.stdio) stream?.destroy();
  await Promise.all(closing);
  return withTimeout(sub.exited, GUARD_MS, `exit of ${sub.pid}`);
}

function checkChild(want, sub, status, report) {
  assert.deepEqual([status.code, status.signal], [0, null], 'echo-self exits 0');
  const seen = readSelfReport(report);
  assert.equal(seen.pid, sub.pid);
  assert.deepEqual(seen.argv, want.argv, 'argv');
  assert.deepEqual(want.envSorted ? seen.env.sort() : seen.env, want.env, 'env');
  assert.equal(seen.cwd, want.cwd, 'cwd');
  assert.deepEqual(
    seen.fds.sort((a, b) => a - b),
    want.fds,
    'open fds',
  );
  assert.deepEqual([seen.uid, seen.gid], [want.uid, want.gid], 'uid, gid');
  assert.deepEqual([...new Set(seen.groups)].sort(), [...new Set(want.groups)].sort(), 'groups');
  assert.equal(seen.pdeathsig, want.pdeathsig, 'parent-death signal');
  const ids = selfIds();
  assert.equal(seen.sid, want.session === 'own' ? seen.pid : ids.sid, 'session');
  assert.equal(
    seen.pgid,
    want.group === 'own' ? seen.pid : want.group === 'parent' ? ids.pgid : want.group,
    'group',
  );
}

function checkError(expected, error) {
  if (expected.error !== undefined) {
    assert.ok(
      error instanceof (expected.error === 'ERR_OUT_OF_RANGE' ? RangeError : TypeError),
      String(error),
    );
    assert.equal(error.code, expected.error, error.message);
  } else if (expected.abort) {
    assert.deepEqual([error.name, error.code], ['AbortError', 'ABORT_ERR']);
  } else {
    assert.ok(error instanceof SpawnError, String(error));
    assert.ok(
      expected.spawnError.codes.includes(error.code),
      `${error.code} (${error.message}), wanted ${expected.spawnError.codes}`,
    );
    assert.equal(error.syscall, expected.spawnError.syscall, error.message);
    assert.equal(error.errno, -osConstants.errno[error.code], `errno ${error.errno} for ${error.code}`);
  }
}

describe('spawn(file, args?, options?)', () => {
  test(`${runs} generated inputs each spawn correctly or throw the documented error, and leave no fd or child behind`, async (t) => {
    const ctx = setUp();
    // The first spawn creates the library's epoll set for this thread: one fd, kept for good.
    await spawn('/bin/true', [], { stdio: 'ignore' }).exited;
    const tally = new Map();
    let n = 0;
    const count = (what) => tally.set(what, (tally.get(what) ?? 0) + 1);
    try {
      const property = fc.asyncProperty(spawnInputs(ctx), async (parts) => {
        const report = join(ctx.dir, `report-${n++}`);
        const before = fdSnapshot();
        const { call, expected } = expectation(ctx, parts, report);
        let sub;
        let error;
        try {
          sub = spawn(...call);
        } catch (e) {
          error = e;
        }
        try {
          if (sub !== undefined) {
            const status = await settle(sub);
            assert.ok(expected.child, `spawned, but wanted ${JSON.stringify(expected)}`);
            checkChild(expected.child, sub, status, report);
            count('spawned');
          } else {
            assert.ok(!expected.child, `threw ${error?.stack}, but wanted a child`);
            checkError(expected, error);
            count(error.code);
          }
        } finally {
          if (sub !== undefined && sub.exitStatus === null) {
            sub.kill('SIGKILL');
            await settle(sub);
          }
          rmSync(report, { force: true });
        }
        assert.equal(fdDiff(before), '', 'the parent has exactly the fds it had');
        // waitid(P_ALL, WNOWAIT | __WALL): no child at all, zombie or running (stricter than a
        // /proc zombie scan, and cheaper on a busy machine).
        assert.equal(hasChildren(), false, 'no child at all');
      });
      await fc.assert(property, { numRuns: runs, seed, includeErrorInReport: true });
    } finally {
      closeSync(ctx.devnullFd);
      rmSync(ctx.dir, { recursive: true, force: true });
      t.diagnostic(
        `outcomes: ${[...tally]
          .sort((a, b) => b[1] - a[1])
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}`,
      );
    }
  });
});
