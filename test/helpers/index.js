// Shared test helpers: fd snapshots, zombie scans, reaping checks, stream reading, waiting for a
// state, the warm-up before fd comparisons, assertions on spawn errors, fresh Node processes
// running the library, cgroups.

import assert from 'node:assert/strict';
import { spawn as cpSpawn, execFileSync } from 'node:child_process';
import { once } from 'node:events';
import {
  chmodSync,
  closeSync,
  cpSync,
  fstatSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statfsSync,
  statSync,
  watch,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { spawn, SpawnError, Subprocess } from '../../dist/index.js';
import { kTestFault, native } from '../../dist/internal/testing.js';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const fixtures = join(root, 'test', 'fixtures');
export const helperBin = join(root, 'test', 'helpers', 'bin');

/** Which pass of the suite this is ('default', 'clone', 'fork', 'seccomp-enosys'). */
export const pass = process.env.PIDFD_TEST_PASS ?? 'default';

/** Whether the addon is the sanitizers' build (npm run test:asan): everything is 3–5× slower. */
export const sanitized = process.env.PIDFD_TEST_ADDON !== undefined;

/**
 * How long a test waits for something that must happen before it calls it lost: a hang guard,
 * not a schedule. Generous, since a CI machine at a load of 10 per core is that much slower; four
 * times that under the sanitizers, where the fork pass's 800 forks of an instrumented Node (J1)
 * took over two minutes on a loaded machine.
 */
export const GUARD_MS = sanitized ? 240000 : 60000;

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
  return processes()
    .filter((p) => Number(p.stat[1]) === process.pid)
    .map((p) => ({ pid: p.pid, state: p.stat[0] }))
    .sort((a, b) => a.pid - b.pid);
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

/** The text of a /proc/<pid>/status file → its fields (State, SigIgn, SigBlk, SigCgt, PPid, ...). */
export function parseStatus(text) {
  const fields = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) fields[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return fields;
}

/** Fields of /proc/<pid>/status (State, SigIgn, SigBlk, SigCgt, PPid, ...). */
export function procStatus(pid) {
  return parseStatus(readFileSync(`/proc/${pid}/status`, 'latin1'));
}

/** The text of a /proc/<pid>/stat file → its command name and the fields after it. `pid (comm)
 * state ppid ...`: comm may hold spaces and parentheses. The tests' one stat parser. */
function parseStat(text) {
  return { comm: text.slice(text.indexOf('(') + 1, text.lastIndexOf(')')), fields: text.slice(text.lastIndexOf(')') + 2).split(' ') };
}

/** Fields of /proc/<pid>/stat after the command name: [state, ppid, pgrp, session, ...]. Throws
 * once the process is gone. */
export function procStat(pid) {
  return parseStat(readFileSync(`/proc/${pid}/stat`, 'latin1')).fields;
}

/** procStat(pid), or null once the process is gone. */
export function procStatOrNull(pid) {
  try {
    return procStat(pid);
  } catch {
    return null;
  }
}

/** Whether a process is more than a zombie (false once it is gone). */
export function aliveNotZombie(pid) {
  const state = procStatOrNull(pid)?.[0];
  return state !== undefined && state !== 'Z' && state !== 'X';
}

/** Every process in /proc now: [{ pid, comm, stat }] (stat: procStat's fields). */
export function processes() {
  const found = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let text;
    try {
      text = readFileSync(`/proc/${name}/stat`, 'latin1');
    } catch {
      continue; // gone meanwhile
    }
    const { comm, fields } = parseStat(text);
    found.push({ pid: Number(name), comm, stat: fields });
  }
  return found;
}

/** Whether signal `sig` (a number) is in a /proc/<pid>/status mask (SigIgn, SigBlk, SigCgt). */
export function inMask(mask, sig) {
  return ((BigInt(`0x${mask}`) >> BigInt(sig - 1)) & 1n) === 1n;
}

/** The first letter of pid's State ('R', 'S', 'Z', ...), or 'gone' once it has no /proc entry. */
function stateOf(pid) {
  try {
    return procStatus(pid).State[0];
  } catch {
    return 'gone';
  }
}

/**
 * Polls /proc/<pid>/status until State starts with one of `states` (glibc's
 * process_state_wait); 'gone' in `states` accepts a process that no longer exists.
 */
export async function waitForState(pid, states, timeoutMs = GUARD_MS) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = stateOf(pid);
    if (states.includes(state)) return state;
    if (Date.now() > deadline) throw new Error(`pid ${pid} stayed in state ${state}, wanted ${states}`);
    await sleep(5);
  }
}

/**
 * Polls `check` (which may be async) until it returns a truthy value, and resolves with that
 * value: for what no event announces (a reap by another thread, a thread count in /proc).
 * Rejects after timeoutMs, naming `what`.
 */
export async function eventually(check, what, timeoutMs = GUARD_MS) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`never happened in ${timeoutMs} ms: ${what}`);
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

/**
 * Rejects if `promise` takes longer than ms: tests never hang on a lost exit. `onTimeout` runs
 * first when it does (to kill what the test waited for, so that nothing is left running).
 */
export function withTimeout(promise, ms, what, onTimeout = () => {}) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(new Error(`timed out after ${ms} ms: ${what}`));
    }, ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The status and the complete stdout/stderr of a subprocess. A child that takes longer than
 * timeoutMs is killed, and the call rejects.
 */
export async function collect(sub, timeoutMs = GUARD_MS) {
  const work = Promise.all([readAll(sub.stdout), readAll(sub.stderr), sub.exited]);
  const [stdout, stderr, status] = await withTimeout(work, timeoutMs, `pid ${sub.pid} (${sub.spawnfile}) to finish`, () =>
    sub.kill('SIGKILL'),
  );
  return { status, stdout, stderr };
}

/**
 * Like collect(), for a long child that reports its progress: it is given up on (killed, and the
 * call rejects) only when it has written nothing on stdout or stderr for quietMs, however long
 * it takes in all. A loaded machine makes it slower, not wrong.
 */
export async function collectWhileBusy(sub, quietMs = GUARD_MS) {
  let last = Date.now();
  const chunks = { stdout: '', stderr: '' };
  for (const name of ['stdout', 'stderr']) {
    sub[name].setEncoding('utf8').on('data', (chunk) => {
      chunks[name] += chunk;
      last = Date.now();
    });
  }
  let silent = false;
  const watchdog = setInterval(() => {
    if (Date.now() - last < quietMs) return;
    silent = true;
    sub.kill('SIGKILL');
  }, 1000);
  try {
    const [status] = await Promise.all([sub.exited, once(sub.stdout, 'close'), once(sub.stderr, 'close')]);
    if (silent) throw new Error(`pid ${sub.pid} (${sub.spawnfile}) said nothing for ${quietMs} ms and was killed:\n${chunks.stderr}`);
    return { status, ...chunks };
  } finally {
    clearInterval(watchdog);
  }
}

/**
 * Kills each of `things` when test `t` ends, however it ends: a Subprocess or a
 * node:child_process child with SIGKILL (nothing is sent to one that has exited), a Worker with
 * terminate(). So a test that fails half-way leaves nothing running that would keep its file's
 * process alive. Returns the first.
 */
export function killAtEnd(t, ...things) {
  t.after(async () => {
    for (const thing of things) {
      if (typeof thing.terminate === 'function') await thing.terminate();
      else if (thing.exitCode === undefined || (thing.exitCode === null && thing.signalCode === null)) thing.kill('SIGKILL');
    }
  });
  return things[0];
}

/** Resolves once a stream (or null) has closed, that is, released its fd. */
export function closed(stream) {
  return stream === null || stream.closed ? undefined : once(stream, 'close');
}

/**
 * Ends stdin, reads every other stream to its end, waits for the exit and for every fd to close.
 * `outputs[fd]` is what the child wrote to that fd.
 */
export async function settle(sub) {
  sub.stdin?.end();
  const work = Promise.all([sub.exited, ...sub.stdio.map((s, fd) => (fd === 0 ? '' : readAll(s)))]);
  const [status, ...outputs] = await withTimeout(work, GUARD_MS, `pid ${sub.pid} to finish`, () => sub.kill('SIGKILL'));
  await withTimeout(Promise.all(sub.stdio.map(closed)), GUARD_MS, `pid ${sub.pid}'s streams to close`);
  assert.equal(reaped(sub.pid), true, `pid ${sub.pid} is reaped`);
  return { status, outputs };
}

/**
 * Opens what Node, libuv and the library open on first use and keep for the life of the
 * process: the library's epoll set, libuv's signal pipe (first child_process child, first signal
 * listener), its reserve /dev/null (first stream), the inotify fd (first fs.watch). Use as
 * `before(warmUp)` in a file whose tests compare fd snapshots, so that a snapshot sees only what
 * a test leaves behind.
 */
export async function warmUp() {
  await settle(spawn('/bin/sh', ['-c', 'exit 0'], { stdio: ['pipe', 'pipe', 'pipe', 'pipe'] }));
  thrown(() => spawn('/nonexistent/program'));
  await once(cpSpawn('/bin/true', [], { stdio: 'ignore' }), 'close');
  const noop = () => {};
  process.on('SIGUSR2', noop).off('SIGUSR2', noop);
  watch(tmpdir()).close();
  assert.equal(hasChildren(), false, 'children exist before the tests start');
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

/** Calls fn, which must throw a SpawnError (a child it started by mistake is killed); returns it. */
export function spawnThrows(fn) {
  const error = thrownNotStarted(fn);
  assert.ok(error instanceof SpawnError, `expected a SpawnError, got ${error?.stack ?? error}`);
  return error;
}

/**
 * Spawns `sh -c 'exit 0'` with pipes at fds 0-3 and the test hook `fault` (a Fault from
 * dist/internal/testing.js), which must make spawn() throw; returns the SpawnError.
 */
export function spawnWithFault(fault, options = {}) {
  const stdio = ['pipe', 'pipe', 'pipe', 'pipe'];
  return spawnThrows(() => spawn('/bin/sh', ['-c', 'exit 0'], { stdio, ...options, [kTestFault]: fault }));
}

/**
 * Asserts the fields of a SpawnError that `expected` gives (code, errno, syscall, path, fd,
 * spawnfile, spawnargs: any of them), and that its message names every string in `names`.
 */
export function assertSpawnError(error, { names = [], ...expected }) {
  assert.ok(error instanceof SpawnError, `expected a SpawnError, got ${error?.stack ?? error}`);
  const actual = Object.fromEntries(Object.keys(expected).map((key) => [key, error[key]]));
  assert.deepEqual(actual, expected, error.message);
  for (const name of names) assert.ok(error.message.includes(name), `message does not name ${name}: ${error.message}`);
}

/** Calls spawn(...args), which must throw a SpawnError and leave nothing behind; returns it. */
export function spawnFailure(...args) {
  const fdsBefore = fdSnapshot();
  const error = spawnThrows(() => spawn(...args));
  assertNothingLeft(fdsBefore, `spawn(${JSON.stringify(args[0])})`);
  return error;
}

/**
 * Calls fn, which must throw exactly `type` with `code`, and a message naming every string in
 * `names`, before creating anything: no child and no new fd. Returns the error.
 */
export function refused(fn, { type, code, names }) {
  const fdsBefore = fdSnapshot();
  const childrenBefore = childPids(); // non-empty only after an earlier test failed
  const error = thrownNotStarted(fn);
  assert.equal(
    error?.constructor,
    type,
    `expected a ${type.name}, got ${error?.constructor?.name}: ${error?.message}`,
  );
  assert.equal(error.code, code, `wrong code; message: ${error.message}`);
  for (const name of names) {
    assert.ok(error.message.includes(name), `message does not name ${name}: ${error.message}`);
  }
  assert.equal(fdDiff(fdsBefore, fdSnapshot()), '', 'the fd table changed');
  assert.deepEqual(childPids().filter((pid) => !childrenBefore.includes(pid)), [], 'a child was created');
  if (childrenBefore.length === 0) assert.equal(hasChildren(), false, 'a child was created');
  return error;
}

/** An fd number that is closed now (it was open a moment ago, so it is in range). */
export function closedFd() {
  const fd = openSync('/dev/null', 'r');
  closeSync(fd);
  assert.equal(thrown(() => fstatSync(fd)).code, 'EBADF');
  return fd;
}

/**
 * Runs body(sub) with a `sleep 30` child spawned with `options`; afterwards the child is killed
 * and its exit awaited, however the body ended.
 */
export async function withSleeper(body, options = { stdio: 'ignore' }) {
  const sub = spawn('sleep', ['30'], options);
  try {
    return await body(sub);
  } finally {
    sub.kill('SIGKILL');
    await withTimeout(sub.exited, GUARD_MS, `the sleeper ${sub.pid} to exit`);
  }
}

/** A shell script that lists the shell's own fds; ls runs as its child, so its fds do not show. */
export const LIST_FDS = 'ls -l /proc/$$/fd; exit $?';

/** `ls -l /proc/<pid>/fd` output → Map(fd → target), in fd order. */
export function parseListing(text) {
  const fds = [];
  for (const line of text.split('\n')) {
    const match = / (\d+) -> (.*)$/.exec(line);
    if (match) fds.push([Number(match[1]), match[2]]);
  }
  return new Map(fds.sort(([a], [b]) => a - b));
}

/** The fds of a child started with `stdio` (its stdout must be 'pipe'): fd → target. */
export async function childFds(stdio) {
  const { status, outputs } = await settle(spawn('/bin/sh', ['-c', LIST_FDS], { stdio }));
  assert.equal(status.code, 0, `listing failed: ${outputs[2]}`);
  return parseListing(outputs[1]);
}

/** A pid no process has, or ever will: pid_max itself (pids are given out below it). */
export function neverAPid() {
  return Number(readFileSync('/proc/sys/kernel/pid_max', 'latin1'));
}

/** Makes a tree readable by every user: directories 0755, files a+r (and a+x where u+x). */
function openToAll(path) {
  const st = statSync(path);
  if (st.isDirectory()) {
    chmodSync(path, 0o755);
    for (const name of readdirSync(path)) openToAll(join(path, name));
  } else {
    chmodSync(path, (st.mode & 0o7777) | 0o444 | (st.mode & 0o100 ? 0o111 : 0));
  }
}

/**
 * Why another user cannot run this node (process.execPath), or null if it can: a test that runs
 * node as another user skips with this reason. The node of a runtime cache under /root (CI's
 * Node 22-26) sits in a directory only root may enter.
 */
export function nodeClosedToOthers() {
  const parts = process.execPath.split('/').filter(Boolean);
  for (let i = 0; i <= parts.length; i++) {
    const path = `/${parts.slice(0, i).join('/')}`;
    const mode = statSync(path).mode;
    if ((mode & 0o001) === 0) return `${process.execPath} cannot be run by another user: ${path} is closed to them (mode ${(mode & 0o777).toString(8)})`;
  }
  return null;
}

/** What a copy needs to load the library: the package, the compiled code and the addon. */
export const LIBRARY_FILES = ['package.json', 'dist', join('build', 'Release', 'pidfd.node')];

/**
 * A copy of `paths` (files or directories, relative to the repository root, kept at the same
 * places) in a fresh directory under os.tmpdir() that every user can read and search, for what
 * a test runs as another user: the checkout may sit where only its owner can enter (a clone
 * under /root, or in a 0700 `mktemp -d`). Removed when test or suite `t` ends. Returns its root.
 */
export function readableCopy(t, paths) {
  const copy = mkdtempSync(join(tmpdir(), 'pidfd-readable-'));
  t.after(() => rmSync(copy, { recursive: true, force: true }));
  for (const path of paths) cpSync(join(root, path), join(copy, path), { recursive: true });
  openToAll(copy);
  return copy;
}

/**
 * The source of an ES module that imports the library as `pidfd` (from `from`, the root of a
 * checkout or of a copy) and then runs `body`.
 */
export function libraryScript(body, from = root) {
  return `import * as pidfd from ${JSON.stringify(pathToFileURL(join(from, 'dist', 'index.js')).href)};\n${body}`;
}

/**
 * Runs libraryScript(body) in a fresh Node, optionally under the seccomp launcher's `rules`
 * ('clone3=38'), and parses the JSON it prints. `env` is added to this process's environment.
 */
export function runScript(body, { rules = [], env = {} } = {}) {
  const command = [process.execPath, '--input-type=module', '-e', libraryScript(body)];
  const [file, ...args] = rules.length > 0 ? [join(helperBin, 'seccomp-launcher'), ...rules, '--', ...command] : command;
  const out = execFileSync(file, args, {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: GUARD_MS,
    killSignal: 'SIGKILL',
  });
  return JSON.parse(out);
}

/**
 * Runs `node ...args` in a user and pid namespace of its own (`unshare -Urpf --mount-proc`),
 * where it makes the only new pids, and returns what it printed, parsed as JSON. Where such
 * namespaces are not available, or the program exits 77 (`why77` says what that means), test t
 * is skipped with the reason and the result is undefined.
 */
export function inPidNamespace(t, args, why77 = 'the program could not do its work here') {
  try {
    const out = execFileSync('unshare', ['-Urpf', '--mount-proc', process.execPath, ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: GUARD_MS,
      killSignal: 'SIGKILL',
    });
    return JSON.parse(out);
  } catch (error) {
    if (error.status === 77) return void t.skip(why77);
    if (/unshare failed|Operation not permitted|No such file/.test(String(error.stderr))) {
      return void t.skip(`user and pid namespaces are not available: ${String(error.stderr).trim()}`);
    }
    throw error;
  }
}

const CGROUP2_SUPER_MAGIC = 0x63677270;

/** The cgroup v2 directory this process is in ('/sys/fs/cgroup/…'), or why there is none. */
export function ownCgroup() {
  const own = readFileSync('/proc/self/cgroup', 'utf8').match(/^0::(.*)$/m)?.[1];
  if (own === undefined) return { skip: 'this process has no cgroup v2 membership' };
  for (const mount of ['/sys/fs/cgroup', '/sys/fs/cgroup/unified']) {
    try {
      if (statfsSync(mount).type === CGROUP2_SUPER_MAGIC) return { dir: join(mount, own), path: own };
    } catch {}
  }
  return { skip: 'no cgroup v2 hierarchy is mounted' };
}
