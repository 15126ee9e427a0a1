// runSync() and `$.sync`: run() to its end on this thread. The child is started by the library's
// engine and run in native code (native/sync.c, the loop under the drop-in's spawnSync): its
// input written, its output read, `timeout` and `maxBuffer` enforced by killing its tree (its
// cgroup, or its process group, as run()'s), and its exit reaped through its pidfd. No event
// loop runs meanwhile, no second one is made, and this process is never forked: the latency does
// not grow with this process's heap.

import { closeSync, constants as fs, openSync, rmdirSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { isatty } from 'node:tty';
import { isMainThread } from 'node:worker_threads';

import { binding, constants, type NativeSyncResult } from '../binding.js';
import { createRunCgroup, disownCgroup, discardCgroup, type Cgroup } from '../cgroup/cgroup.js';
import { probeCgroups } from '../cgroup/hierarchy.js';
import { errno as errnos, invalidArgValue, systemError } from '../errors.js';
import { exitStatusFromRecord, type ExitStatus } from '../process/exit-status.js';
import { buildPlan, type ChildSpec } from '../process/options.js';
import { spawnError } from '../process/start.js';
import type { StdioEntry } from '../process/stdio.js';
import { signalName, treeSignalRule } from '../signals.js';
import { ByteStore, decodeOutput, MAX_CAPTURE, type Output } from './capture.js';
import { RunError } from './error.js';
import { isTextEncoding, normalizeRun, type NormalizedRun, type RunInput, type RunOptions, type StdioSetting } from './options.js';
import type { CgroupFigures } from './tree.js';
import type { RunFields, RunResult } from './result.js';
import { ensureWatchdog, guard, unguard } from './watchdog.js';

const SIGKILL = 9;
/** native/sync.h's enum pf_sync_tree. */
const TREE = { child: 0, group: 1, cgroup: 2 } as const;

/** The options of runSync() and `$.sync`: run()'s, but those that need the event loop to work
 * (`signal`, a `'stream'` output, a stdin to write to, an input read asynchronously). */
export type RunSyncOptions = Omit<RunOptions, 'signal' | 'input' | 'stdin' | 'stdout' | 'stderr'> & {
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
      // A FIFO as stdin is opened as `cmd < fifo` opens it: this waits for its writer. An output
      // FIFO without a reader fails at once (ENXIO), as with run().
      const flags = target === 0 ? fs.O_RDONLY : fs.O_WRONLY | fs.O_CREAT | (setting.append ? fs.O_APPEND : fs.O_TRUNC) | fs.O_NONBLOCK;
      let fd: number;
      try {
        fd = openSync(setting.path, flags, 0o666);
      } catch (error) {
        const e = error as { code?: string; errno?: number };
        if (e.code !== 'ENXIO' || target === 0) throw error;
        throw systemError(-e.errno!, 'open', { path: setting.path, context: 'a FIFO that no process has open for reading (runSync() does not wait for one)' });
      }
      opened.push(fd);
      return { entry: { target, kind: kind.fd, fd }, input: null };
    }
    case 'stream':
    case 'stdout':
      throw new Error('unreachable: refused or handled before');
  }
}

/** Whether an error of making the default cgroup means "no cgroup here" (then: a process group). */
function cgroupUnavailable(error: unknown): boolean {
  const e = error as { code?: string; syscall?: string };
  return e.code === 'ERR_PIDFD_CGROUP_UNAVAILABLE' || e.syscall === 'mkdir';
}

/** How a killed command's first process ended, for its message (as run()'s messages say it). */
function killedWith(status: ExitStatus | undefined, before: boolean): string {
  if (status?.signal) {
    return before ? ` (it had been killed with ${status.signal} before that; what it left running was killed)` : ` and was killed with ${status.signal}`;
  }
  if (status?.code == null) return '';
  return before ? ` (it had exited with code ${status.code} before that; what it left running was killed)` : ` (it then exited with code ${status.code})`;
}

/** What the native loop reported, beyond the exit. */
interface SyncReport {
  timedOut: boolean;
  maxBuffer: false | { which: 'stdout' | 'stderr'; lines: boolean };
  exitedBefore: boolean;
  forced: boolean;
  /** The first failed write of the input (EPIPE aside: a child that did not read it all). */
  inputError: Error | undefined;
}

/** How the command failed, in run()'s words, and the error behind it; undefined if it did not. */
function syncFailure(
  n: NormalizedRun,
  status: ExitStatus | undefined,
  report: SyncReport,
  decodeError: unknown,
  oomKills: number,
): { how: string; cause?: unknown } | undefined {
  const forcedWith = report.forced
    ? ` (${signalName(n.killSignal)} had not ended its tree within forceKillAfterDelay, ${n.forceKillAfterDelay} ms: it was sent SIGKILL)`
    : '';
  const killed = `${killedWith(status, report.exitedBefore)}${forcedWith}`;
  let failure: { how: string; cause?: unknown } | undefined;
  if (report.timedOut) failure = { how: `timed out after ${n.timeout} ms${killed}` };
  else if (report.maxBuffer) {
    const limit = report.maxBuffer.lines
      ? `maxBuffer (${n.maxBuffer} line${n.maxBuffer === 1 ? '' : 's'})`
      : n.lines || n.maxBuffer > MAX_CAPTURE
        ? `${MAX_CAPTURE} bytes, the most a Buffer holds`
        : `maxBuffer (${n.maxBuffer} bytes)`;
    failure = { how: `wrote more than ${limit} to ${report.maxBuffer.which}${killed}` };
  } else if (report.inputError !== undefined) {
    failure = { how: `failed: its input failed (${report.inputError.message})`, cause: report.inputError };
  } else if (status?.oomKilled) failure = { how: `was killed with ${status.signal} by the OOM killer (its tree reached memory.max)` };
  else if (status?.signal) failure = { how: `was killed with ${status.signal}` };
  else if (status !== undefined && status.code !== 0) failure = { how: `failed with exit code ${status.code}` };
  else if (status === undefined) failure = { how: 'ended with an unknown status' };
  else if (decodeError !== undefined) {
    failure = { how: `wrote output that could not be decoded (${(decodeError as Error).message}; use \`encoding: 'buffer'\`)`, cause: decodeError };
  }
  if (failure === undefined || oomKills === 0 || status?.oomKilled) return failure;
  const processes = oomKills === 1 ? 'a process' : `${oomKills} processes`;
  return { ...failure, how: `${failure.how} (the OOM killer ended ${processes} of its tree)` };
}

/** The tree of a synchronous run: its cgroup (made here, guarded by the watchdog), else its
 * process group (or its first process alone). */
interface SyncTree {
  kind: (typeof TREE)[keyof typeof TREE];
  cgroup: Cgroup | null;
  guardId: bigint | undefined;
  dirfd: number;
}

function makeTree(n: NormalizedRun, spec: ChildSpec): SyncTree {
  const usesTerminal = spec.stdio.some((e) => e.target <= 2 && e.kind === constants().stdioKind.fd && isatty(e.fd));
  const group = n.tree.enabled && !usesTerminal;
  spec.pgid = group ? 0 : -1;
  spec.pdeathsig = n.cleanup && isMainThread ? SIGKILL : 0;
  const tree: SyncTree = { kind: group ? TREE.group : TREE.child, cgroup: null, guardId: undefined, dirfd: -1 };
  let settings = n.tree.cgroup;
  if (settings !== null && !n.tree.required && probeCgroups().reason !== null) settings = null;
  if (settings === null) return tree;
  try {
    tree.cgroup = createRunCgroup(settings);
  } catch (error) {
    if (n.tree.required || !cgroupUnavailable(error)) throw error;
    return tree;
  }
  tree.kind = TREE.cgroup;
  spec.cgroup = { path: tree.cgroup.path, fd: -1, run: null, given: tree.cgroup.path };
  if (n.cleanup) {
    // Guarded before the child exists: if this process dies while it blocks here, the watchdog
    // kills the tree.
    try {
      ensureWatchdog();
      tree.dirfd = openSync(tree.cgroup.path, fs.O_RDONLY | fs.O_DIRECTORY);
      const dirfd = tree.dirfd;
      tree.guardId = guard({ kind: 'addCgroup', pid: 0, fd: () => dirfd, alive: () => false, released: () => closeSync(dirfd) });
    } catch (error) {
      if (tree.dirfd >= 0 && tree.guardId === undefined) closeSync(tree.dirfd);
      discardCgroup(tree.cgroup);
      throw error;
    }
  }
  return tree;
}

/** The run is over: the cgroup's figures, and its directory removed (what the command left
 * running on purpose, a daemon, is moved out to the cgroup's parent first, as run() does). */
function releaseTree(tree: SyncTree): CgroupFigures | undefined {
  const cgroup = tree.cgroup;
  if (tree.guardId !== undefined) unguard(tree.guardId, true);
  if (cgroup === null) return undefined;
  const figures = { path: cgroup.path, ...cgroup.stats() };
  try {
    // Empty (the common case: the tree ended with its first process): removed at once.
    rmdirSync(cgroup.path);
    discardCgroup(cgroup);
  } catch {
    try {
      if (disownCgroup(cgroup)) discardCgroup(cgroup);
    } catch {
      // Still busy for a moment, or held: a later per-run cgroup's sweep removes it.
    }
  }
  return figures;
}

/** runSync(): run() to its end on this thread; its RunResult, or its RunError (thrown unless
 * `reject: false`). */
export function runSyncNormalized(n: NormalizedRun, startedAt = performance.now()): RunResult<any> | RunError {
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
    const spec: ChildSpec = { file: n.file, argv: n.argv, env: n.env, path: n.path, cwd: n.cwd, stdio: fds.map((f) => f.entry) };
    tree = makeTree(n, spec);
    const plan = buildPlan(spec);
    const maxBytes = n.lines ? MAX_CAPTURE : Math.min(n.maxBuffer, MAX_CAPTURE);
    const result = binding().spawnSync(plan.plan, {
      input: fds.map((f) => f.input),
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
    if ('errno' in result) throw spawnError(plan, result);
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

/** The RunResult or RunError of a synchronous run, built as run() builds them. */
function outcome(n: NormalizedRun, native: NativeSyncResult | undefined, startError: unknown, cgroup: CgroupFigures | undefined, startedAt: number): RunResult<any> | RunError {
  let status: ExitStatus | undefined;
  const stores: (ByteStore | undefined)[] = [undefined, undefined, undefined];
  let all: ByteStore | undefined;
  let report: SyncReport = { timedOut: false, maxBuffer: false, exitedBefore: false, forced: false, inputError: undefined };
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
    const exceeded = native.exceededPipe!;
    report = {
      timedOut: native.killed === 1 && exceeded < 0 && errno === errnos.ETIMEDOUT,
      maxBuffer: exceeded >= 0 ? { which: exceeded === 1 ? 'stdout' : 'stderr', lines: native.exceededLines === 1 } : false,
      exitedBefore: native.exitedBefore === 1,
      forced: native.forced === 1,
      inputError: undefined,
    };
    // A write that failed other than with EPIPE (the child closed its stdin) is the input's error.
    if (errno !== 0 && !report.timedOut && exceeded < 0 && errno !== errnos.EPIPE) {
      report.inputError = systemError(errno, 'write', { context: 'runSync() input' });
    }
  }
  let decodeError: unknown;
  const decode = (store: ByteStore | undefined): Output | undefined => {
    if (store === undefined) return undefined;
    try {
      return decodeOutput(store, n);
    } catch (error) {
      decodeError ??= error;
      return undefined;
    }
  };
  const stdout = decode(stores[1]);
  const stderr = decode(stores[2]);
  const fields: RunFields<RunOptions> = {
    command: n.command,
    escapedCommand: n.escapedCommand,
    cwd: n.resolvedCwd,
    pid: native?.pid,
    exitCode: status?.code ?? undefined,
    signal: status?.signal ?? undefined,
    stdout,
    stderr,
    all: decode(all),
    stdio: [undefined, stdout, stderr],
    durationMs: performance.now() - startedAt,
    rusage: status?.rusage ?? undefined,
    cgroup,
    failed: false,
    timedOut: report.timedOut,
    isCanceled: false,
    isMaxBuffer: report.maxBuffer !== false,
    isTerminated: status?.signal != null,
    isForcefullyTerminated: report.forced,
    pipedFrom: [],
  };
  const start = startError as Error | undefined;
  const failure = start !== undefined ? { how: `could not start (${start.message})`, cause: start } : syncFailure(n, status, report, decodeError, cgroup?.oomKills ?? 0);
  if (failure === undefined) return fields;
  fields.failed = true;
  const text = (store: ByteStore | undefined, decoded: Output | undefined): Output | undefined =>
    isTextEncoding(n.encoding) || store === undefined ? decoded : store.bytes();
  const quoted = all !== undefined ? [text(all, fields.all)] : [text(stores[2], stderr), text(stores[1], stdout)];
  return new RunError(fields, failure.how, failure.cause, quoted);
}

/** Checks runSync()'s options (those of run() that can work synchronously). */
export function normalizeRunSync(file: unknown, args: unknown, options: unknown, call: string): NormalizedRun {
  refuseAsyncOptions(options, call);
  const n = normalizeRun(file, args, options);
  if (n.stderr.kind === 'stdout' && n.stdout.kind === 'pipe') {
    // The native loop reads the pipes the engine made, one per fd.
    throw invalidArgValue('stderr', 'stdout', `cannot be combined with a captured stdout in ${call} (yet): capture both with \`all: true\`, or give stdout a file or an fd`);
  }
  return n;
}
