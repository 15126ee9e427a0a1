// Living with the rest of the process: the library installs no SIGCHLD handler, survives the
// kernel reaping its children for it (SIGCHLD set to SIG_IGN), and shares the process with
// node:child_process without either side losing or stealing an exit (TESTPLAN A10, J5).

import assert from 'node:assert/strict';
import { execFileSync, execSync, spawn as cpSpawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { spawn } from '../dist/index.js';
import { fixtures, hasChildren, reaped, withTimeout, zombies } from './helpers/index.js';

const GUARD_MS = 30000; // hang guard only
const quiet = { stdio: 'ignore' };

/** Runs test/fixtures/sigchld.mjs in a fresh Node process and parses its report. */
function sigchldFixture(mode) {
  const out = execFileSync(process.execPath, [join(fixtures, 'sigchld.mjs'), mode], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: GUARD_MS,
  });
  return JSON.parse(out);
}

describe('A10: no SIGCHLD handler, and children reaped by someone else', () => {
  test('spawning and reaping 50 children installs no SIGCHLD handler and adds no listener', () => {
    const r = sigchldFixture('handler');
    assert.equal(r.atStart, false, 'a fresh Node catches no SIGCHLD (else this test shows nothing)');
    assert.equal(r.whileRunning, false, 'no handler while children run');
    assert.equal(r.atEnd, false, 'no handler after they were reaped');
    assert.deepEqual([r.listenersAtStart, r.listenersAtEnd], [0, 0]);
    assert.deepEqual(r.codes, Array.from({ length: 50 }, (_, i) => i));
  });

  test('with SIGCHLD ignored (the kernel reaps exec’d children), every exit still settles', () => {
    const r = sigchldFixture('ignored');
    assert.equal(r.ignore, 0, 'SIGCHLD was set to SIG_IGN');
    for (const { what, expect, got } of r.cases) {
      const label = `${what} (pid ${got.expectedPid ?? '?'})`;
      if (what === 'pre-exec exit') {
        // Exit signal 0 until execve: the kernel leaves such a child to us, status and rusage.
        assert.deepEqual(got, { pid: got.expectedPid, expectedPid: got.expectedPid, ...expect, rusage: true }, label);
      } else if (r.infoExit) {
        // Linux 6.15+: the status comes from PIDFD_INFO_EXIT, without rusage.
        assert.deepEqual(got, { pid: got.expectedPid, expectedPid: got.expectedPid, ...expect, rusage: false }, label);
      } else {
        assert.equal(got.error, 'ERR_PIDFD_STATUS_LOST', label);
        assert.match(got.message, /reaped by something else/, label);
      }
    }
    assert.deepEqual(r.zombies, []);
    assert.equal(r.hasChildren, false);
    assert.equal(r.fdsLeft, '', 'every pidfd was closed');
  });
});

describe('J5: side by side with node:child_process', () => {
  test('interleaved spawns, kills and execSync: every status is right on both sides', async () => {
    const ours = [];
    const theirs = [];
    const sync = [];
    for (let i = 0; i < 240; i++) {
      if (i % 10 === 9) {
        const sub = spawn('sleep', ['30'], quiet);
        sub.kill('SIGKILL');
        ours.push({ sub, code: null, signal: 'SIGKILL' });
      } else {
        ours.push({ sub: spawn('/bin/sh', ['-c', `exit ${i % 200}`], quiet), code: i % 200, signal: null });
      }
      if (i % 4 === 0) {
        const killed = i % 20 === 0;
        const child = cpSpawn('/bin/sh', ['-c', killed ? 'sleep 30' : `exit ${(i + 7) % 200}`], quiet);
        if (killed) child.kill('SIGTERM');
        theirs.push({
          done: once(child, 'exit'),
          code: killed ? null : (i + 7) % 200,
          signal: killed ? 'SIGTERM' : null,
        });
      }
      if (i % 40 === 20) {
        // Blocks the event loop while our children exit: their exits wait in the epoll set.
        let status = 0;
        try {
          execSync(`exit ${i % 100}`, quiet);
        } catch (error) {
          status = error.status;
        }
        sync.push([status, i % 100]);
      }
    }
    const [ourStatuses, theirExits] = await withTimeout(
      Promise.all([Promise.all(ours.map((o) => o.sub.exited)), Promise.all(theirs.map((t) => t.done))]),
      GUARD_MS,
      'every child of both kinds',
    );
    ourStatuses.forEach((status, k) => {
      const { sub, code, signal } = ours[k];
      assert.deepEqual([status.pid, status.code, status.signal], [sub.pid, code, signal], `our child ${k}`);
      // Reaped by our own waitid, not recovered after libuv's waitpid took it.
      assert.notEqual(status.rusage, null, `our child ${k} was reaped by us`);
      assert.ok(reaped(sub.pid));
    });
    theirExits.forEach(([code, signal], k) => {
      assert.deepEqual([code, signal], [theirs[k].code, theirs[k].signal], `child_process child ${k}`);
    });
    for (const [got, expected] of sync) assert.equal(got, expected);
    assert.deepEqual(zombies(), []);
    assert.equal(hasChildren(), false);
  });
});
