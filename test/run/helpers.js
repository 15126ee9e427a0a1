// What the tests of run() share: the state of a process by pid, the watchdog among this
// process's children, and a leak check that allows for the watchdog (which lives as long as
// runs are guarded, and is let go when the event loop empties).

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

import { run } from '../../dist/index.js';
import { fdDiff, fdSnapshot, processes, procStatOrNull, zombies } from '../helpers/index.js';

export const runFixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
export const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : null;

/** A process's state letter ('S', 'R', 'Z', 'T', ...), or 'gone'. */
export function stateOf(pid) {
  return procStatOrNull(pid)?.[0] ?? 'gone';
}

/** Whether a process is dead: a zombie (not reaped yet by its parent) or gone. */
export function isDead(pid) {
  const state = stateOf(pid);
  return state === 'Z' || state === 'X' || state === 'gone';
}

/** Waits until `pid` is dead (a state, not a delay), or fails after `timeoutMs`. */
export async function waitDead(pid, what = `pid ${pid}`, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!isDead(pid)) {
    if (Date.now() > deadline) throw new Error(`${what} is still alive (state ${stateOf(pid)})`);
    await sleep(5);
  }
}

/** Waits until check() is true, polling, or fails naming `what`. */
export async function until(check, what, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** This process's children by pid, with their command names. */
export function children(parent = process.pid) {
  return processes()
    .filter((p) => Number(p.stat[1]) === parent)
    .map((p) => ({ pid: p.pid, comm: p.comm, state: p.stat[0] }));
}

/** The pid of this process's watchdog, or null. */
export function watchdogOf(parent = process.pid) {
  return children(parent).find((c) => c.comm === 'pidfd-watchdog' && c.state !== 'Z')?.pid ?? null;
}

/** Kills a process we started by accident or on purpose, by pid, if it still lives. Anything but
 * a positive pid is refused: process.kill(0) would kill this process's whole group (the test
 * runner's; seen in a guest of the kernel matrix, where a read that came back empty gave 0). */
export function killIfAlive(pid) {
  if (!Number.isSafeInteger(pid) || pid <= 0) throw new Error(`killIfAlive: not a pid: ${pid}`);
  try {
    process.kill(pid, 'SIGKILL');
  } catch {}
}

/**
 * Wraps a test body: a first run starts the watchdog (which then stays for the whole file);
 * afterwards this process has exactly its old fds, no zombie, and no child but the watchdog.
 */
export function leakFree(body) {
  return async (t) => {
    await run('true');
    const fdsBefore = fdSnapshot();
    await body(t);
    assertNothingLeft(fdsBefore);
  };
}

/** No new fd, no zombie, no child but the watchdog. */
export function assertNothingLeft(fdsBefore) {
  assert.equal(fdDiff(fdsBefore), '', 'fds left behind');
  assert.deepEqual(zombies(), [], 'zombies left behind');
  const others = children().filter((c) => c.comm !== 'pidfd-watchdog');
  assert.deepEqual(others, [], 'children left behind');
}
