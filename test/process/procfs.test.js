// The one reader of /proc/<pid>/stat (src/process/procfs.ts): a command name with spaces and
// parentheses cannot shift the fields, a gone process reads as undefined, and the race-free read
// through a pidfd gives the process's own fields.

import assert from 'node:assert/strict';
import { execFileSync, spawn as cpSpawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { test } from 'node:test';

import { PidFd } from '../../dist/index.js';
import { parseStat, readStat, statOf } from '../../dist/process/procfs.js';
import { GUARD_MS, killAtEnd, waitForState, withTimeout } from '../helpers/index.js';

test('a command name with spaces and parentheses does not shift the fields', () => {
  // As the kernel writes it: pid (comm) state ppid pgrp session tty_nr tpgid flags minflt
  // cminflt majflt cmajflt utime stime cutime cstime priority nice num_threads ...
  const text = '4242 (a) S 1 (b) T 7 8 9 0 -1 4194560 11 0 0 0 25 5 0 0 20 0 3 0 1234 0\n';
  assert.deepEqual(parseStat(text), { state: 'T', ppid: 7, pgrp: 8, session: 9, tpgid: -1, flags: 4194560, utime: 25, stime: 5, threads: 3 });
});

test("this process's stat: its parent, its group, its threads", () => {
  const stat = readStat('self');
  assert.equal(stat.ppid, process.ppid);
  assert.equal(stat.state, 'R');
  assert.ok(stat.threads > 1, 'Node runs threads beside the main one');
  assert.deepEqual(readStat(process.pid, process.pid).ppid, process.ppid, "the main thread's own stat");
});

test('a process that is gone reads as undefined', async () => {
  const child = cpSpawn('/bin/true', [], { stdio: 'ignore' });
  await once(child, 'exit');
  assert.equal(readStat(child.pid), undefined);
});

test("through a pidfd, a process with an odd name reads as itself: its parent and its own group", async (t) => {
  let python = true;
  try {
    execFileSync('python3', ['-c', 'import ctypes'], { stdio: 'ignore' });
  } catch {
    python = false;
  }
  if (!python) return t.skip('needs python3 (ctypes) to name a process');
  // PR_SET_NAME (15): "x) R 1 (y", then setpgid(0, 0), then its pid, then sleep.
  const script = 'import ctypes, os, sys, time; ctypes.CDLL(None).prctl(15, b"x) R 1 (y", 0, 0, 0); os.setpgid(0, 0); print(os.getpid(), flush=True); time.sleep(600)';
  const child = killAtEnd(t, cpSpawn('python3', ['-c', script], { stdio: ['ignore', 'pipe', 'inherit'] }));
  const [line] = await withTimeout(once(createInterface({ input: child.stdout }), 'line'), GUARD_MS, 'the child to name itself');
  assert.equal(Number(line), child.pid);
  await waitForState(child.pid, ['S']);
  const pidfd = PidFd.open(child.pid);
  const dir = pidfd.openProcDir();
  try {
    const stat = statOf(dir);
    assert.deepEqual([stat.state, stat.ppid, stat.pgrp, stat.threads], ['S', process.pid, child.pid, 1]);
    assert.deepEqual(readStat(child.pid), stat);
  } finally {
    dir.close();
    pidfd.close();
  }
});
