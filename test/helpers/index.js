// Shared test helpers: fd snapshots, zombie scans, reaping checks, stream reading, timeouts.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

import { Subprocess } from '../../dist/index.js';
import { native } from '../../dist/internal/testing.js';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const fixtures = join(root, 'test', 'fixtures');
export const helperBin = join(root, 'test', 'helpers', 'bin');

/** Which pass of the suite this is ('default', 'clone', 'fork', 'seccomp-enosys'). */
export const pass = process.env.PIDFD_TEST_PASS ?? 'default';

/** One reading of /proc/self/fd: number → "target dev:ino" (glibc's support_descriptors). */
function readFds() {
  const fds = new Map();
  for (const name of readdirSync('/proc/self/fd')) {
    let desc;
    try {
      const target = readlinkSync(`/proc/self/fd/${name}`);
      const st = statSync(`/proc/self/fd/${name}`);
      desc = `${target} ${st.dev}:${st.ino}`;
    } catch {
      continue; // the fd readdir itself used, already closed
    }
    fds.set(Number(name), desc);
  }
  return fds;
}

const pause = new Int32Array(new SharedArrayBuffer(4));

function sameFds(a, b) {
  if (a.size !== b.size) return false;
  for (const [fd, desc] of a) if (b.get(fd) !== desc) return false;
  return true;
}

/**
 * The open fds of this process. Node's own threads open files for a moment (V8 reads
 * /proc/sys/vm/overcommit_memory when it grows a heap), so a snapshot is a reading that the next
 * one, 5 ms later, agrees with (up to 200 ms): a passing fd is then in neither the "before" nor
 * the "after" snapshot of a comparison, and a leak stays in the "after" one.
 */
export function fdSnapshot() {
  let fds = readFds();
  for (let i = 0; i < 40; i++) {
    Atomics.wait(pause, 0, 0, 5);
    const again = readFds();
    if (sameFds(fds, again)) return fds;
    fds = again;
  }
  return fds;
}

function diffOnce(before, after) {
  const lines = [];
  for (const [fd, desc] of after) {
    if (!before.has(fd)) lines.push(`new fd ${fd}: ${desc}`);
    else if (before.get(fd) !== desc) lines.push(`changed fd ${fd}: ${before.get(fd)} -> ${desc}`);
  }
  for (const [fd, desc] of before) if (!after.has(fd)) lines.push(`closed fd ${fd}: ${desc}`);
  return lines.join('\n');
}

/**
 * The differences between a snapshot and now (or `after`), or '' when there are none. A
 * difference is looked at again for up to 200 ms: a leak stays, a passing fd does not.
 */
export function fdDiff(before, after = fdSnapshot()) {
  let diff = diffOnce(before, after);
  for (let i = 0; i < 40 && diff !== ''; i++) {
    Atomics.wait(pause, 0, 0, 5);
    diff = diffOnce(before, fdSnapshot());
  }
  return diff;
}

/** This process's children, running or zombie, from /proc: [{ pid, state }], by pid. */
function children() {
  const found = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'latin1');
    } catch {
      continue;
    }
    // pid (comm) state ppid ...: comm may contain spaces and parentheses.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(rest[1]) === process.pid) found.push({ pid: Number(name), state: rest[0] });
  }
  return found.sort((a, b) => a.pid - b.pid);
}

/** Pids of this process's children, running or zombie. */
export function childPids() {
  return children().map((c) => c.pid);
}

/** Pids of zombie children of this process. */
export function zombies() {
  return children()
    .filter((c) => c.state === 'Z')
    .map((c) => c.pid);
}

/** Whether pid is no longer our child in any form (waitid(P_PID, WNOWAIT|__WALL) → ECHILD). */
export function reaped(pid) {
  return native().test.reaped(pid);
}

/** Whether this process has any child at all, running or zombie. */
export function hasChildren() {
  return native().test.hasChildren();
}

/** Whether this process has a handler installed for SIGCHLD (bit 17 of SigCgt). */
export function sigchldCaught() {
  const mask = /^SigCgt:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'latin1'))[1];
  return ((BigInt(`0x${mask}`) >> 16n) & 1n) === 1n;
}

/** Fields of /proc/<pid>/status (State, SigIgn, SigBlk, SigCgt, PPid, ...). */
export function procStatus(pid) {
  const fields = {};
  for (const line of readFileSync(`/proc/${pid}/status`, 'latin1').split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) fields[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return fields;
}

/** Polls /proc/<pid>/status until State starts with one of `states` (glibc's process_state_wait). */
export async function waitForState(pid, states, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let state;
    try {
      state = procStatus(pid).State[0];
    } catch {
      state = 'gone';
    }
    if (states.includes(state)) return state;
    if (Date.now() > deadline) throw new Error(`pid ${pid} stayed in state ${state}, wanted ${states}`);
    await sleep(5);
  }
}

/** Everything a readable stream yields, as a string. */
export async function readAll(stream) {
  if (stream === null) return '';
  stream.setEncoding('utf8');
  let text = '';
  for await (const chunk of stream) text += chunk;
  return text;
}

/** Rejects if `promise` takes longer than ms: tests never hang on a lost exit. */
export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The status and the complete stdout/stderr of a subprocess. */
export async function collect(sub) {
  const [stdout, stderr, status] = await Promise.all([readAll(sub.stdout), readAll(sub.stderr), sub.exited]);
  return { status, stdout, stderr };
}

/** Like thrown(), but a child started by mistake is killed, so a regression fails, not hangs. */
export function thrownNotStarted(fn) {
  let started;
  try {
    started = fn();
  } catch (error) {
    return error;
  }
  if (started instanceof Subprocess) {
    started.unref();
    started.kill('SIGKILL');
    for (const stream of started.stdio) stream?.destroy();
  }
  throw new Error(`expected a throw; got ${started?.constructor?.name ?? started}`);
}

/**
 * Asserts that nothing outlived what a test did since `fdsBefore`: no new fd, no zombie, and no
 * child at all (the tests that use it run no other child meanwhile).
 */
export function assertNothingLeft(fdsBefore, what) {
  assert.equal(fdDiff(fdsBefore), '', `${what}: the fd table changed`);
  assert.deepEqual(zombies(), [], `${what}: zombie children are left`);
  assert.equal(hasChildren(), false, `${what}: a child is left (waitid(P_ALL, __WALL) found one)`);
}

/** Wraps a test body: afterwards this process has exactly its old fds, and no zombie. */
export function leakFree(body) {
  return async (t) => {
    const fdsBefore = fdSnapshot();
    await body(t);
    assert.equal(fdDiff(fdsBefore), '', 'fds left behind');
    assert.deepEqual(zombies(), [], 'zombies left behind');
  };
}

/** Asserts that a function throws synchronously and returns the error. */
export function thrown(fn) {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

/** Waits until check() is true (polling every 10 ms), or fails naming `what` after timeoutMs. */
export async function eventually(check, what, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}
