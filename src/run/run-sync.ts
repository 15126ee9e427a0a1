// runSync() and `$.sync`: run() to its end on this thread. On the pidfd engine the child is
// started by the library's engine and run in native code (native/sync.c, the loop under the
// drop-in's spawnSync): its input written, its output read, `timeout` and `maxBuffer` enforced by killing its tree (its
// cgroup, or its process group, as run()'s), and its exit reaped through its pidfd. No event
// loop runs meanwhile, no second one is made, and this process is never forked: the latency does
// not grow with this process's heap. On the portable engine (src/engine-choice.ts) the run goes
// through Node's spawnSync instead: portable-sync.ts, which says what differs there.

import { closeSync, constants as fs, openSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { isMainThread } from 'node:worker_threads';

import { binding, constants, type NativeSyncResult } from '../binding.js';
import { portableEngine } from '../engine-choice.js';
import { createRunCgroup, disownCgroup, discardCgroup, removeEmptyCgroup, type Cgroup } from '../cgroup/cgroup.js';
import { probeCgroups } from '../cgroup/hierarchy.js';
import { errno as errnos, invalidArgValue, systemError } from '../errors.js';
import { exitStatusFromRecord, type ExitStatus } from '../process/exit-status.js';
import { startSync } from '../process/start.js';
import type { StdioEntry } from '../process/stdio.js';
import { SIGKILL, signalName, treeSignalRule } from '../signals.js';
import { ByteStore, MAX_CAPTURE } from './capture.js';
import { runChildSpec, type TreePlacement } from './child-spec.js';
import { RunError } from './error.js';
import { normalizeRun, type NormalizedRun, type RunInput, type RunOptions, type StdioSetting } from './options.js';
import { withFormats } from './formats.js';
import { noKills, outcomeOf, type Exceeded, type KillState } from './outcome.js';
import { runSyncPortable } from './portable-sync.js';
import { cgroupUnavailable, usesTerminal, type CgroupFigures } from './tree.js';
import type { RunResult } from './result.js';
import { ensureWatchdog, guard, unguard } from './watchdog.js';

/** native/sync.h's enum pf_sync_tree. */
const TREE = { child: 0, group: 1, cgroup: 2 } as const;

/** The options of runSync() and `$.sync`: run()'s, but those that need the event loop to work
 * (`signal`, a `'stream'` output, a stdin to write to, an input read asynchronously, an IPC
 * channel) and `halt` (a synchronous run starts and ends in its call). */
export type RunSyncOptions = Omit<RunOptions, 'signal' | 'input' | 'stdin' | 'stdout' | 'stderr' | 'ipc' | 'serialization' | 'gracefulCancel' | 'halt'> & {
  /** Written to the child's stdin, which is then closed: a string, bytes, or a (synchronous)
   * iterable of them, read whole before the child starts. */
  input?: string | Uint8Array | Iterable<string | Uint8Array>;
  stdin?: Exclude<RunOptions['stdin'], 'pipe'>;
  stdout?: Exclude<RunOptions['stdout'], 'stream'>;
  stderr?: Exclude<RunOptions['stderr'], 'stream'>;
};

/** Refuses, with a TypeError naming it, an option that cannot work while this thread blocks. */
function refuseAsyncOptions(options: unknown, call: string): void {
  if (options === null || typeof options !== 'object') return;
  const o = options as RunOptions;
  if (o.signal !== undefined) {
    throw invalidArgValue('signal', o.signal, `cannot be given to ${call}: nothing can abort a run while this thread blocks in it (use \`timeout\`)`);
  }
  if (o.halt !== undefined && o.halt !== false) {
    throw invalidArgValue('halt', o.halt, `cannot be given to ${call}: a synchronous run starts and ends in its call (use run() or \`$\` with \`halt\`, then runProcess.run())`);
  }
  if (o.ipc !== undefined && o.ipc !== false) {
    throw invalidArgValue('ipc', o.ipc, `cannot be given to ${call}: no message can be sent or read while this thread blocks (use run())`);
  }
  for (const name of ['stdout', 'stderr'] as const) {
    if (o[name] === 'stream') {
      throw invalidArgValue(name, 'stream', `cannot be 'stream' in ${call}: nothing can read a stream while this thread blocks (use 'pipe', a file or an fd)`);
    }
  }
  if (o.stdin === 'pipe') {
    throw invalidArgValue('stdin', 'pipe', `cannot be 'pipe' in ${call}: nothing can write to it while this thread blocks (give \`input\`)`);
  }
  const input = o.input as unknown;
  if (input instanceof Readable || (input !== null && typeof input === 'object' && typeof (input as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function')) {
    throw invalidArgValue('input', input, `cannot be a stream or an async iterable in ${call}: it cannot be read while this thread blocks (give a string, a Uint8Array or an iterable of them)`);
  }
}

/** The bytes of `input`, whole (an iterable is read here, before the child starts). */
function inputBytes(input: RunInput): Uint8Array {
  if (typeof input === 'string') return Buffer.from(input);
  if (input instanceof Uint8Array) return input;
  const parts: Buffer[] = [];
  for (const part of input as Iterable<unknown>) {
    if (typeof part === 'string') parts.push(Buffer.from(part));
    else if (part instanceof Uint8Array) parts.push(Buffer.from(part.buffer, part.byteOffset, part.byteLength));
    else throw invalidArgValue('input', part, 'must yield strings or Uint8Arrays');
  }
  return Buffer.concat(parts);
}

/** One child fd of a synchronous run: the engine's entry, and what the loop does with its pipe. */
interface SyncFd {
  entry: StdioEntry;
  input: Uint8Array | null;
}

function syncFd(setting: StdioSetting, target: number, n: NormalizedRun, opened: number[]): SyncFd {
  const kind = constants().stdioKind;
  switch (setting.kind) {
    case 'pipe':
      if (target === 0) return { entry: { target, kind: kind.pipeIn, fd: -1 }, input: inputBytes(n.input ?? '') };
      return { entry: { target, kind: kind.pipeOut, fd: -1 }, input: null };
    case 'ignore':
      return { entry: { target, kind: kind.devnull, fd: -1 }, input: null };
    case 'inherit':
      return { entry: { target, kind: kind.fd, fd: target }, input: null };
    case 'fd': {
      const value = setting.fd;
      const fd = typeof value === 'number' ? value : ((value as { fd?: number }).fd ?? (value as { _handle?: { fd: number } })._handle!.fd);
      return { entry: { target, kind: kind.fd, fd }, input: null };
    }
    case 'file': {
      const fd = openSyncFile(setting, target);
      opened.push(fd);
      return { entry: { target, kind: kind.fd, fd }, input: null };
    }
    case 'stream':
    case 'stdout':
    case 'tee':
      throw new Error('unreachable: refused or handled before');
  }
}

/** The tree of a synchronous run: its cgroup (made here, guarded by the watchdog), else its
 * process group (or its first process alone). */
interface SyncTree {
  kind: (typeof TREE)[keyof typeof TREE];
  cgroup: Cgroup | null;
  guardId: bigint | undefined;
  dirfd: number;
  /** The directory outlived the run (a daemon that could not move out): the watchdog is told
   * at once to forget it, rather than with the next record. */
  left: boolean;
}

interface PlacedTree {
  tree: SyncTree;
  place: TreePlacement;
}

/** The tree of a synchronous run, as startTree() (tree.ts) decides it for run(); the cgroup is
 * made here (the native loop needs its path; startSync() makes none). */
function makeTree(n: NormalizedRun, stdio: readonly StdioEntry[]): PlacedTree {
  const group = n.tree.enabled && !usesTerminal(stdio);
  const place: TreePlacement = { pgid: group ? 0 : -1, pdeathsig: n.cleanup && isMainThread ? SIGKILL : 0, cgroup: { kind: 'none' }, backend: undefined };
  const tree: SyncTree = { kind: group ? TREE.group : TREE.child, cgroup: null, guardId: undefined, dirfd: -1, left: false };
  let settings = n.tree.cgroup;
  if (settings !== null && !n.tree.required && probeCgroups().reason !== null) settings = null;
  if (settings === null) return { tree, place };
  try {
    tree.cgroup = createRunCgroup(settings);
  } catch (error) {
    if (n.tree.required || !cgroupUnavailable(error)) throw error;
    return { tree, place };
  }
  tree.kind = TREE.cgroup;
  place.cgroup = { kind: 'path', path: tree.cgroup.path };
  if (n.cleanup) {
    // Guarded before the child exists: if this process dies while it blocks here, the watchdog
    // kills the tree.
    // A worker terminated while the call blocks runs no more JavaScript once it returns (not
    // even a `finally`): the addon then removes the directory when the worker ends, unless
    // releaseTree() let go of it first (ownCgroupDir; Node closes a worker's fs fds itself).
    let held: object | number = -1;
    try {
      ensureWatchdog();
      tree.dirfd = openSync(tree.cgroup.path, fs.O_RDONLY | fs.O_DIRECTORY);
      const dirfd = tree.dirfd;
      held = binding().ownCgroupDir(dirfd);
      const owned = held;
      const release = (): void => {
        if (typeof owned === 'object') binding().closeOwned(owned);
        closeSync(dirfd);
      };
      tree.guardId = guard({ kind: 'addCgroup', pid: 0, fd: () => dirfd, alive: () => tree.left, released: release });
    } catch (error) {
      if (typeof held === 'object' && tree.guardId === undefined) binding().closeOwned(held);
      if (tree.dirfd >= 0 && tree.guardId === undefined) closeSync(tree.dirfd);
      discardCgroup(tree.cgroup);
      throw error;
    }
  }
  return { tree, place };
}

/** The run is over: the cgroup's figures, and its directory removed (what the command left
 * running on purpose, a daemon, is moved out to the cgroup's parent first, as run() does). */
function releaseTree(tree: SyncTree): CgroupFigures | undefined {
  const cgroup = tree.cgroup;
  if (cgroup === null) {
    if (tree.guardId !== undefined) unguard(tree.guardId, true);
    return undefined;
  }
  const figures = { path: cgroup.path, ...cgroup.stats() };
  try {
    // Empty (the common case: the tree ended with its first process): removed at once, with one
    // rmdir (a second one, which fails, cost an exception on every call).
    if (!removeEmptyCgroup(cgroup)) {
      tree.left = true;
      if (disownCgroup(cgroup)) {
        discardCgroup(cgroup);
        tree.left = false;
      }
    }
  } catch {
    // Still busy for a moment, or held: a later per-run cgroup's sweep removes it.
  }
  // Unguarded once its directory's fate is known: a directory left keeps what it holds out of
  // the watchdog's reach at once (a daemon is on its own, as with run()).
  if (tree.guardId !== undefined) unguard(tree.guardId, true);
  return figures;
}

/** runSync(): run() to its end on this thread; its RunResult, or its RunError (thrown unless
 * `reject: false`). */
export function runSyncNormalized(n: NormalizedRun, startedAt = performance.now()): RunResult<any> | RunError {
  // The engine (src/engine-choice.ts): Node's spawnSync where pidfds cannot be had, or forced.
  if (portableEngine()) return runSyncPortable(n, inputBytes, startedAt);
  const opened: number[] = [];
  let tree: SyncTree | undefined;
  let native: NativeSyncResult | undefined;
  let startError: unknown;
  let fds: SyncFd[] = [];
  try {
    const stdout = syncFd(n.stdout, 1, n, opened);
    // `stderr: 'stdout'` (2>&1): stdout's file, fd or /dev/null (a captured stdout is refused).
    const stderr = n.stderr.kind === 'stdout' ? { entry: { ...stdout.entry, target: 2 }, input: null } : syncFd(n.stderr, 2, n, opened);
    fds = [syncFd(n.stdin, 0, n, opened), stdout, stderr];
    const placed = makeTree(n, fds.map((f) => f.entry));
    tree = placed.tree;
    // The child spec is run()'s (uid, gid, argv0 and stdio[3+] included).
    const spec = runChildSpec(n, fds.map((f) => f.entry), placed.place);
    const maxBytes = n.lines ? MAX_CAPTURE : Math.min(n.maxBuffer, MAX_CAPTURE);
    const result = startSync(spec, {
      // stdio[3+] are fds of this process, never pipes: nothing to write or read there.
      input: spec.stdio.map((_, i) => fds[i]?.input ?? null),
      timeoutMs: n.timeout,
      maxBuffer: maxBytes,
      killSignal: n.killSignal,
      run: {
        tree: tree.kind,
        continueStopped: treeSignalRule(n.killSignal, n.killSignal).continueStopped ? 1 : 0,
        forceKillMs: n.forceKillAfterDelay,
        maxLines: n.lines && n.maxBuffer !== Infinity ? n.maxBuffer : -1,
        lineUnit: n.encoding === 'utf16le' ? 2 : 1,
        recordRuns: n.all ? 1 : 0,
      },
    });
    native = result;
  } catch (error) {
    // As with run(): a file that cannot be opened, a cgroup that cannot be made, a program that
    // cannot start: the run fails (a RunError), it does not throw something else.
    startError = error;
  } finally {
    for (const fd of opened) closeSync(fd);
  }
  const figures = tree !== undefined ? releaseTree(tree) : undefined;
  return outcome(n, native, startError, figures, startedAt);
}

/** The RunResult or RunError of a synchronous run: the record of a run (outcome.ts's RunState)
 * from what the native loop reported, given to the same function as run()'s, for the same
 * result and the same words. */
function outcome(n: NormalizedRun, native: NativeSyncResult | undefined, startError: unknown, cgroup: CgroupFigures | undefined, startedAt: number): RunResult<any> | RunError {
  let status: ExitStatus | undefined;
  const stores: (ByteStore | undefined)[] = [undefined, undefined, undefined];
  let all: ByteStore | undefined;
  const kills: KillState = noKills();
  const exceeded: { stdout: Exceeded; stderr: Exceeded } = { stdout: false, stderr: false };
  if (native !== undefined) {
    status = exitStatusFromRecord(native.pid, native.record, 0, 'child');
    if (status.signal === 'SIGKILL' && (cgroup?.oomKills ?? 0) > 0) status.oomKilled = true;
    const limit = n.lines ? MAX_CAPTURE : n.maxBuffer;
    for (const i of [1, 2]) {
      const bytes = native.output[i];
      if (bytes == null || (i === 1 ? n.stdout : n.stderr).kind !== 'pipe') continue;
      const store = new ByteStore(limit);
      store.append(bytes);
      stores[i] = store;
    }
    if (n.all) {
      all = new ByteStore(2 * Math.min(limit, MAX_CAPTURE), true);
      const at = [0, 0, 0];
      const runs = native.runs!;
      for (let r = 0; r < runs.length; r += 2) {
        const i = runs[r]!;
        const length = runs[r + 1]!;
        all.append(native.output[i]!.subarray(at[i]!, at[i]! + length), i);
        at[i]! += length;
      }
    }
    const errno = -native.error;
    const over = native.exceededPipe!;
    if (over === 1 || over === 2) exceeded[over === 1 ? 'stdout' : 'stderr'] = native.exceededLines === 1 ? 'lines' : 'bytes';
    kills.timedOut = native.killed === 1 && over < 0 && errno === errnos.ETIMEDOUT;
    kills.maxBuffer = over >= 0;
    kills.exitedBeforeKill = native.exitedBefore === 1;
    kills.forced = native.forced === 1;
    // A write that failed other than with EPIPE (the child closed its stdin) is the input's error.
    if (errno !== 0 && !kills.timedOut && over < 0 && errno !== errnos.EPIPE) {
      kills.inputError = systemError(errno, 'write', { context: 'runSync() input' });
    }
  }
  const outcome = outcomeOf({
    n,
    startError,
    pid: native?.pid,
    status,
    statusError: undefined,
    kills,
    stdout: stores[1],
    stderr: stores[2],
    all,
    exceeded,
    durationMs: performance.now() - startedAt,
    cgroup,
  });
  return outcome instanceof RunError ? outcome : withFormats(outcome);
}

/** Checks runSync()'s options (those of run() that can work synchronously). */
export function normalizeRunSync(file: unknown, args: unknown, options: unknown, call: string): NormalizedRun {
  refuseAsyncOptions(options, call);
  const n = normalizeRun(file, args, options);
  for (const name of ['stdout', 'stderr'] as const) {
    if (n[name].kind === 'tee') {
      throw invalidArgValue(
        name,
        (options as RunOptions)[name],
        `cannot be several places in ${call}: the copies are made on a thread that the run waits for with the event loop (use run(), or one place: 'pipe', a file or an fd)`,
      );
    }
  }
  if (n.forceKillAfterDelay < 0 && n.killSignal !== SIGKILL) {
    // run() waits for such a tree as long as it takes, and its caller can still kill() it or
    // give up on it; here nothing could, and a command that ignores killSignal would hold this
    // thread for ever (Node's spawnSync, and so execaSync, do just that).
    const name = signalName(n.killSignal);
    throw invalidArgValue(
      'forceKillAfterDelay',
      false,
      `cannot be false in ${call} with killSignal ${name}: a command that ignores ${name} after a timeout or maxBuffer would keep this thread blocked for ever, and nothing can end the call (give the time it may take to end, in ms: SIGKILL follows after it; or killSignal: 'SIGKILL'; or use run())`,
    );
  }
  if (n.stderr.kind === 'stdout' && n.stdout.kind === 'pipe') {
    // The native loop reads the pipes the engine made, one per fd.
    throw invalidArgValue('stderr', 'stdout', `cannot be combined with a captured stdout in ${call} (yet): capture both with \`all: true\`, or give stdout a file or an fd`);
  }
  return n;
}

/**
 * Opens a `{ file }` stdio setting of runSync() (either engine). A FIFO as stdin is opened as
 * `cmd < fifo` opens it: this waits for its writer. An output FIFO without a reader fails at once
 * (ENXIO), as with run().
 */
export function openSyncFile(setting: { path: string; append: boolean }, target: number): number {
  const nonblock = (fs as { O_NONBLOCK?: number }).O_NONBLOCK ?? 0;
  const flags = target === 0 ? fs.O_RDONLY : fs.O_WRONLY | fs.O_CREAT | (setting.append ? fs.O_APPEND : fs.O_TRUNC) | nonblock;
  try {
    return openSync(setting.path, flags, 0o666);
  } catch (error) {
    const e = error as { code?: string; errno?: number };
    if (e.code !== 'ENXIO' || target === 0) throw error;
    throw systemError(-e.errno!, 'open', { path: setting.path, context: 'a FIFO that no process has open for reading (runSync() does not wait for one)' });
  }
}
