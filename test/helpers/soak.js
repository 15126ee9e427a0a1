// The soak (issue 5, item 5): many spawn/kill/await cycles, then many children at once, with
// the parent's fds, children and exit records checked throughout. Shared by test/soak.test.js
// (small counts, in every pass of npm test) and test/soak/run.js (`npm run soak`, full counts).

import { readdirSync } from 'node:fs';

import { constants } from '../../dist/binding.js';
import { spawn } from '../../dist/index.js';
import { observeBatches } from '../../dist/internal/testing.js';
import { fdDiff, fdSnapshot, GUARD_MS, hasChildren, withTimeout, zombies } from './index.js';

const fdCount = () => readdirSync('/proc/self/fd').length - 1; // less readdir's own

/**
 * Counts the exit records the addon delivers, per pid. Returns the Map pid → records seen, after
 * one warm-up spawn (which also opens the library's epoll set before any fd snapshot).
 */
export async function countExitRecords() {
  const seen = new Map();
  observeBatches((records) => {
    const { exitField: ExitField, exitHow: ExitHow } = constants();
    for (let at = 0; at < records.length; at += ExitField.count) {
      if (records[at + ExitField.how] === ExitHow.pending) continue;
      const pid = records[at + ExitField.pid];
      seen.set(pid, (seen.get(pid) ?? 0) + 1);
    }
  });
  const warmUp = spawn('/bin/true', [], { stdio: 'ignore' });
  await warmUp.exited;
  if (seen.get(warmUp.pid) !== 1) throw new Error('the warm-up exit was not counted once');
  seen.clear();
  return seen;
}

/** Destroys a subprocess's pipes and waits until they are closed. */
async function closePipes(sub) {
  const open = sub.stdio.filter((s) => s !== null && !s.closed);
  const closed = open.map((s) => new Promise((resolve) => s.once('close', resolve)));
  for (const s of open) s.destroy();
  await Promise.all(closed);
}

/** Asserts each pid's exit was delivered exactly once. */
function exactlyOnce(records, pids, what) {
  const wrong = pids.filter((pid) => records.get(pid) !== 1).map((pid) => `${pid}: ${records.get(pid) ?? 0}`);
  if (wrong.length > 0)
    throw new Error(
      `${what}: exits not delivered exactly once (pid: times): ${wrong.slice(0, 10).join(', ')}`,
    );
  for (const pid of pids) records.delete(pid);
  if (records.size > 0)
    throw new Error(`${what}: exit records for unknown pids ${[...records.keys()].slice(0, 10)}`);
}

/**
 * `cycles` times: spawn `sleep 30`, kill it with SIGKILL, await its exit; every third with its
 * stdio on pipes, every tenth followed by a spawn that fails (ENOENT). After each cycle the
 * parent has no child; at the end exactly the fds it started with.
 */
export async function soakCycles(records, cycles) {
  const before = fdSnapshot();
  const start = fdCount();
  let maxFds = start;
  const pids = [];
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < cycles; i++) {
    const sub = spawn('sleep', ['30'], { stdio: i % 3 === 0 ? 'pipe' : 'ignore' });
    pids.push(sub.pid);
    maxFds = Math.max(maxFds, fdCount());
    if (!sub.kill('SIGKILL')) throw new Error(`cycle ${i}: kill() found the sleeper already gone`);
    const status = await withTimeout(sub.exited, GUARD_MS, `cycle ${i}: exit of ${sub.pid}`);
    if (status.signal !== 'SIGKILL') throw new Error(`cycle ${i}: ${JSON.stringify(status)}`);
    await closePipes(sub);
    if (i % 10 === 0) {
      try {
        spawn('/nonexistent-pidfd-soak', [], { stdio: 'pipe' });
        throw new Error(`cycle ${i}: a missing program was spawned`);
      } catch (error) {
        if (error.code !== 'ENOENT') throw error;
      }
    }
    if (hasChildren()) throw new Error(`cycle ${i}: a child is left after its exit was delivered`);
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  exactlyOnce(records, pids, 'cycles');
  const leaked = fdDiff(before);
  if (leaked !== '') throw new Error(`cycles: the parent's fds changed:\n${leaked}`);
  if (zombies().length > 0) throw new Error(`cycles: zombies ${zombies()}`);
  return {
    cycles,
    failedSpawns: Math.ceil(cycles / 10),
    seconds,
    startFds: start,
    maxFds,
    endFds: fdCount(),
  };
}

/**
 * `children` children at once: even ones `sleep 30`, killed together; odd ones `sh -c 'exit N'`,
 * which end by themselves. Every status must be the right one, each exit delivered once.
 */
export async function soakConcurrent(records, children) {
  const before = fdSnapshot();
  const start = fdCount();
  const t0 = process.hrtime.bigint();
  const subs = [];
  for (let i = 0; i < children; i++) {
    subs.push(
      i % 2 === 0
        ? spawn('sleep', ['30'], { stdio: 'ignore' })
        : spawn('/bin/sh', ['-c', `exit ${i % 256}`], { stdio: 'ignore' }),
    );
  }
  const peakFds = fdCount();
  for (const sub of subs.filter((_, i) => i % 2 === 0)) sub.kill('SIGKILL');
  const statuses = await withTimeout(Promise.all(subs.map((s) => s.exited)), GUARD_MS, `${children} exits`);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  statuses.forEach((status, i) => {
    const want = i % 2 === 0 ? [null, 'SIGKILL'] : [i % 256, null];
    if (status.code !== want[0] || status.signal !== want[1]) {
      throw new Error(`child ${i}: ${JSON.stringify(status)}, wanted code ${want[0]} signal ${want[1]}`);
    }
  });
  exactlyOnce(
    records,
    subs.map((s) => s.pid),
    'concurrent',
  );
  const leaked = fdDiff(before);
  if (leaked !== '') throw new Error(`concurrent: the parent's fds changed:\n${leaked}`);
  if (hasChildren() || zombies().length > 0) throw new Error('concurrent: children left behind');
  return { children, seconds, startFds: start, peakFds, endFds: fdCount() };
}
