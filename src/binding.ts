// The native contract, declared once, and the loader of the addon.
//
// Everything in `native/` is reached through `NativeBinding`. Outcomes come back as values
// (a negative errno, or a failure object): the TypeScript layer adds the context and throws.
// (Over 350 lines on purpose: the whole contract, every entry point with its documentation, in
// one place; then the loader.)

import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { unsupportedPlatformError } from './errors.js';

/** A list of strings as the addon takes it: every element followed by a NUL ("a\0b\0"). */
export type NulList = string;

/** The list `items` as a NulList. */
export function nulList(items: readonly string[]): NulList {
  return items.length === 0 ? '' : `${items.join('\0')}\0`;
}

/**
 * The numbers that a plan carries and an exit record holds, by name: exported by the addon
 * (native/addon.c), so that no table is written twice.
 */
export interface NativeConstants {
  /** What a child fd is connected to (native/spawn.h, enum pf_stdio_kind). */
  stdioKind: Record<'fd' | 'devnull' | 'pipeIn' | 'pipeOut' | 'socket', number>;
  /** How children are created (enum pf_backend); `none` in a plan means "the current one". */
  backend: Record<'none' | 'clone3' | 'clone' | 'fork', number>;
  /** How a watched pidfd is treated when its process exits (native/watch.h). */
  watchKind: Record<'child' | 'observe' | 'cgroup', number>;
  /** How the exit watcher learns that its epoll set is readable (native/watch.h). */
  watcher: Record<'uv_poll' | 'thread', number>;
  /** What a record to the watchdog asks (native/watchdog.h, enum pf_watchdog_op). */
  watchdogOp: Record<'none' | 'addGroup' | 'addLeader' | 'addCgroup' | 'remove', number>;
  /** The size of one record to the watchdog, in bytes: op (u32), reserved (u32), id (u64). */
  watchdogRecordSize: number;
  /** By signal number (0 to 64): whether the C side's tree rule follows it with SIGCONT
   * (native/tree_signal.h, which the watchdog applies; treeSignalRule() is the TypeScript side). */
  treeSignalContinues: boolean[];
  /** How an exit record's status was obtained (native/exit.h). */
  exitHow: Record<'waitid' | 'info' | 'lost' | 'pending' | 'cgroup', number>;
  /** The fields of an exit record, and `count`, the number of fields (native/exit.h). */
  exitField: Record<
    | 'fd'
    | 'pid'
    | 'how'
    | 'code'
    | 'status'
    | 'utimeUs'
    | 'stimeUs'
    | 'maxRssKiB'
    | 'minFlt'
    | 'majFlt'
    | 'nvcsw'
    | 'nivcsw'
    | 'count',
    number
  >;
  /** The integers of a plan, by index in the plan array (native/js_plan.h); `stdio` is the index
   * of the first (target, kind, fd) triple, and `nstdio` says how many follow. */
  planField: Record<
    | 'pgid'
    | 'uid'
    | 'gid'
    | 'pdeathsig'
    | 'setsid'
    | 'noNewPrivs'
    | 'autoReap'
    | 'autoKill'
    | 'cgroupFd'
    | 'backend'
    | 'fault'
    | 'faultArg'
    | 'nstdio'
    | 'stdio',
    number
  >;
  /** The calls a tee's record or failed start names, by number (native/tee.h, enum pf_tee_call). */
  teeCall: Record<string, number>;
}

/** A started child, as one Int32Array: [pid, pidfd, then per stdio entry the parent's end of
 * its pipe, or -1]. The addon reuses the array (it may be longer): read it before the next spawn. */
export type NativeSpawnSuccess = Int32Array;

export interface NativeSpawnFailure {
  /** Positive errno. */
  errno: number;
  syscall: string;
  /** The step that failed: a step of the child ('chdir', 'exec', 'fdDup', ...) or of the parent
   * ('stdioCheck', 'pipe', 'cgroup', 'clone', 'watch', ...); 'report' for a malformed report. */
  step: string;
  /** Whether the step is the child's. */
  child: boolean;
  /** The stdio entry or PATH candidate concerned, or -1. */
  index: number;
  /** The bytes of a malformed child report. */
  raw?: Buffer;
}

/** The limits and the input of a synchronous spawn (child_process.spawnSync). */
export interface NativeSyncOptions {
  /** Per stdio entry: the bytes to write to its pipe, which is then closed; null: read it. */
  input: (Uint8Array | null)[];
  /** 0: no limit. */
  timeoutMs: number;
  /** Output bytes over all pipes before the child is killed; 0: no limit. */
  maxBuffer: number;
  killSignal: number;
  /** runSync (run()'s rules): how the tree is killed and how output is limited (native/sync.h). */
  run?: { tree: number; continueStopped: number; forceKillMs: number; maxLines: number; lineUnit: number; recordRuns: number };
}

/** A child run to its end by spawnSync. */
export interface NativeSyncResult {
  pid: number;
  /** 0, or -errno: ETIMEDOUT, ENOBUFS (the child then got killSignal), or the first failed write
   * of the input (EPIPE). */
  error: number;
  /** The child's exit record (the fields of constants.exitField). */
  record: Float64Array;
  /** Per stdio entry: what was read from its pipe, or null (no pipe, or an input pipe). */
  output: (Buffer | null)[];
  /** With `run`: the entry that went beyond maxBuffer (-1: none), in lines (1) or bytes (0). */
  exceededPipe?: number;
  exceededLines?: number;
  /** With `run`: a limit killed the tree; the child had exited by then; SIGKILL had to follow. */
  killed?: number;
  exitedBefore?: number;
  forced?: number;
  /** With `run` and `recordRuns`: (entry, bytes) pairs in the order they were read. */
  runs?: Int32Array;
}

export interface NativeFeature {
  ok: boolean;
  probed: boolean;
  /** The errno the probe saw (0 when ok or not probed). */
  errno: number;
}

export interface NativeSupport {
  kernel: string;
  backend: 'none' | 'clone3' | 'clone' | 'fork';
  probedBackend: 'none' | 'clone3' | 'clone' | 'fork';
  forced: boolean;
  forcedName: string;
  pidfdOpen: NativeFeature;
  waitidPidfd: NativeFeature;
  clone3: NativeFeature;
  clone3Spawn: NativeFeature;
  cloneSpawn: NativeFeature;
  forkSpawn: NativeFeature;
  vmShared: NativeFeature;
  closeRange: NativeFeature;
  pidfdThread: NativeFeature;
  pidfs: NativeFeature;
  pidfdInfo: NativeFeature;
  pidfdInfoExit: NativeFeature;
  autoReap: NativeFeature;
  pidfdAutoKill: NativeFeature;
  cloneNnp: NativeFeature;
}

export interface NativePidfdInfo {
  pid?: number;
  tgid?: number;
  ppid?: number;
  ruid?: number;
  euid?: number;
  suid?: number;
  fsuid?: number;
  rgid?: number;
  egid?: number;
  sgid?: number;
  fsgid?: number;
  cgroupId?: bigint;
  /** A wait status (PIDFD_INFO_EXIT, 6.15): 42 << 8 for exit(42). */
  exitStatus?: number;
}

export interface NativeBinding {
  constants: NativeConstants;
  /** Starts exit watching for this environment with the watcher `watcher` (from
   * constants.watcher); batches of exits go to onExit, as the first `length` doubles of
   * `records`, an array that is reused for the next batch. 0 or -errno. */
  init(onExit: (records: Float64Array, length: number) => void, watcher: number): number;
  support(): NativeSupport;
  /**
   * This environment's plan array: an Int32Array of at least `count` elements, off the
   * JavaScript heap, that spawn() and spawnSync() read a plan's integers and stdio triples from
   * (the fields of constants.planField; src/process/spec.ts writes them). A new array when the
   * one made before is shorter.
   */
  planArray(count: number): Int32Array;
  /**
   * Starts the child of the plan: its strings here (`paths`, the execve candidates in execvp's
   * order, and `argv` as NulLists; `env` a NulList, or null for this process's `environ` as it is;
   * `cwd` and `cgroupPath` null for none; `groups` null to leave them), the rest in the plan
   * array. `watch`: whether to add the child's pidfd to the exit watcher (which then reaps it and
   * closes the pidfd); without it the caller owns the pidfd and the reap. `ref`, with `watch`:
   * whether the watch keeps the event loop alive.
   */
  spawn(
    paths: NulList,
    argv: NulList,
    env: NulList | null,
    cwd: string | null,
    cgroupPath: string | null,
    groups: Uint32Array | null,
    watch: boolean,
    ref: boolean,
  ): NativeSpawnSuccess | NativeSpawnFailure;
  /** Starts the child of the plan (as spawn(), not watched) and runs it to its end on this
   * thread: its input written, its output read, the limits enforced, and reaped. */
  spawnSync(
    paths: NulList,
    argv: NulList,
    env: NulList | null,
    cwd: string | null,
    cgroupPath: string | null,
    groups: Uint32Array | null,
    sync: NativeSyncOptions,
  ): NativeSyncResult | NativeSpawnFailure;
  /** Two connected AF_UNIX stream sockets, close-on-exec, at fd 3 or above; or -errno. */
  socketpair(): Int32Array | number;
  /** Blocks until the child behind fd exits (at most timeoutMs; -1: no limit) and reaps it:
   * its exit record, or -ETIMEDOUT, or -errno. For a child started without `watch`. */
  wait(fd: number, timeoutMs: number): Float64Array | number;
  watch(fd: number, kind: number, ref: boolean): number;
  watchRef(fd: number, kind: number, oldRef: boolean, ref: boolean): number;
  /** Stops watching fd: an observed process's fd stays open; a cgroup watch's fd is closed. */
  unwatch(fd: number, ref: boolean): number;
  /** Watches a cgroup directory's cgroup.events: records of how 'cgroup' (code: populated,
   * status: frozen) at every change, until the tree is empty; the fd (the watcher's), or -errno. */
  watchCgroup(dir: string, ref: boolean): number;
  sendSignal(fd: number, signal: number, flags: number): number;
  pidfdOpen(pid: number, flags: number): number;
  close(fd: number): number;
  /** Takes ownership of fd: it is closed by closeOwned(), by the garbage collector once the
   * returned object is unreachable, or when this environment ends, whichever comes first. */
  own(fd: number): object;
  /** Owns a copy of fd, a cgroup's directory (fd stays the caller's): closeOwned() closes the
   * copy; if this environment ends first, the directory is also removed where it is empty
   * (runSync's cgroup, in a worker terminated while the call blocked). -errno if fd cannot be
   * copied. */
  ownCgroupDir(fd: number): object | number;
  /** Closes an owned fd now (once): 0 or -errno. */
  closeOwned(owned: object): number;
  /** Who owns fd in this environment: 1 a PidFd (own()), 2 the exit watcher (a child's pidfd),
   * 0 neither. */
  ownerOf(fd: number): number;
  dup(fd: number): number;
  /** fstat(fd).st_ino as a bigint, or -errno. (Not node:fs: Deno refuses fds it did not open.) */
  inode(fd: number): bigint | number;
  /** A close-on-exec, read-only fd on the directory at path, or -errno. */
  openDirectory(path: string): number;
  /** access(path, mode) as the kernel answers it: 0 or -errno. (Not node:fs: Deno's checks the
   * mode bits itself, and refuses root what the kernel allows.) */
  access(path: string, mode: number): number;
  /** pidfd_getfd(fd, targetFd, 0): a close-on-exec copy of another process's fd, or -errno. */
  pidfdGetfd(fd: number, targetFd: number): number;
  /** 1 if the pidfd is readable (its process exited), 0 if not, or -errno. */
  pidfdExited(fd: number): number;
  /** PIDFD_GET_INFO (6.13): the fields the kernel filled, or -errno. */
  pidfdGetInfo(fd: number): NativePidfdInfo | number;
  /** One sendmsg of `bytes` on a unix socket, carrying a copy of `fd` (SCM_RIGHTS; none for -1):
   * the number of bytes sent, or -errno (EPIPE when the peer has gone). */
  sendWithFd(socket: number, bytes: Uint8Array, fd: number): number;
  /** A new pipe, both ends close-on-exec and blocking: [readFd, writeFd], or -errno. */
  pipe(): Int32Array | number;
  /** Copies everything of pipe `source` to each fd of `targets`, in order, on a thread of its
   * own (tee(2)/splice(2): native/tee.c); each failure is written to pipe `status` as three
   * int32s [index (-1: the copying itself), errno, call (constants.teeCall)], and `status` is
   * closed when it ends. Every fd is duplicated: the caller closes its own. The tee's id (for
   * teeStop()), or [-errno, the call that failed]. */
  tee(source: number, targets: Int32Array, status: number): number | [number, string];
  /** Tells tee `id` to stop waiting (its run was killed and its tree is gone): it copies what
   * its source holds where that can be written now, gives up the rest, and ends. Whether it was
   * still running. */
  teeStop(id: number): boolean;
  /** madvise(MADV_HUGEPAGE) over the first `reserved` bytes of the buffer's memory: 0 or -errno. */
  adviseHugePages(buffer: ArrayBuffer, reserved: number): number;
  /** Grows a pipe to `bytes` (fcntl F_SETPIPE_SZ): its new capacity, 0 if it held as much
   * already (never shrunk), or -errno. */
  setPipeSize(fd: number, bytes: number): number;
}

let loaded: NativeBinding | undefined;

/** The package's root directory: where build/ and prebuilds/ are. */
const packageRoot = fileURLToPath(new URL('..', import.meta.url));

/** Where the addon and its watchdog are taken from. */
export interface AddonLocation {
  /** 'build': a local build (build/Release, made by node-gyp); 'prebuild': prebuilds/<target>. */
  from: 'build' | 'prebuild';
  addon: string;
  watchdog: string;
}

/**
 * The C library this process runs on: 'musl' when the running program's ELF interpreter is
 * musl's (/lib/ld-musl-<arch>.so.1), on any musl system, Alpine or not, and for a musl runtime
 * on a glibc system. A static program has no interpreter: then Node's process report says (its
 * glibcVersionRuntime is there only on glibc). PIDFD_LIBC=glibc|musl overrides both.
 */
export function detectLibc(): 'glibc' | 'musl' {
  const forced = process.env.PIDFD_LIBC;
  if (forced === 'glibc' || forced === 'musl') return forced;
  const interp = elfInterpreter('/proc/self/exe');
  if (interp !== null) return interp.includes('ld-musl') ? 'musl' : 'glibc';
  const report = (process.report as { getReport?: () => { header?: { glibcVersionRuntime?: string } } } | undefined)
    ?.getReport?.();
  return report?.header !== undefined && report.header.glibcVersionRuntime === undefined ? 'musl' : 'glibc';
}

/** The PT_INTERP path of the 64-bit little-endian ELF file at path, or null (none, or unreadable). */
function elfInterpreter(path: string): string | null {
  let fd = -1;
  try {
    fd = openSync(path, 'r');
    const head = Buffer.alloc(64);
    if (readSync(fd, head, 0, 64, 0) < 64 || head.readUInt32BE(0) !== 0x7f454c46) return null;
    if (head[4] !== 2 || head[5] !== 1) return null;
    const phoff = Number(head.readBigUInt64LE(32));
    const phentsize = head.readUInt16LE(54);
    const phnum = head.readUInt16LE(56);
    const phdrs = Buffer.alloc(phentsize * phnum);
    readSync(fd, phdrs, 0, phdrs.length, phoff);
    for (let i = 0; i < phnum; i++) {
      const p = i * phentsize;
      if (phdrs.readUInt32LE(p) !== 3 /* PT_INTERP */) continue;
      const name = Buffer.alloc(Math.min(Number(phdrs.readBigUInt64LE(p + 32)), 4096));
      readSync(fd, name, 0, name.length, Number(phdrs.readBigUInt64LE(p + 8)));
      const end = name.indexOf(0);
      return name.toString('latin1', 0, end < 0 ? name.length : end);
    }
    return null;
  } catch {
    return null;
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/** The prebuild directory name for this process: linux-<arch>-<libc> (linux-x64-musl, ...). */
export function prebuildTarget(): string {
  return `${process.platform}-${process.arch}-${detectLibc()}`;
}

/**
 * The addon this process loads: a local build (build/Release/pidfd.node, what `npm install`
 * makes in a checkout or with --build-from-source) wins; else the prebuild for this platform,
 * architecture and libc (prebuilds/linux-<arch>-<libc>/pidfd.node); else null. The watchdog is
 * the one beside it. PIDFD_ADDON=build or PIDFD_ADDON=prebuild considers only that one.
 */
export function addonLocation(): AddonLocation | null {
  const only = process.env.PIDFD_ADDON;
  const build = join(packageRoot, 'build', 'Release');
  if (only !== 'prebuild' && existsSync(join(build, 'pidfd.node'))) {
    return { from: 'build', addon: join(build, 'pidfd.node'), watchdog: join(build, 'pidfd-watchdog') };
  }
  const prebuild = join(packageRoot, 'prebuilds', prebuildTarget());
  if (only !== 'build' && existsSync(join(prebuild, 'pidfd.node'))) {
    return { from: 'prebuild', addon: join(prebuild, 'pidfd.node'), watchdog: join(prebuild, 'pidfd-watchdog') };
  }
  return null;
}

let location: AddonLocation | null | undefined;

function chosenLocation(): AddonLocation | null {
  if (location === undefined) location = addonLocation();
  return location;
}

/** The path of the watchdog program (native/watchdog.c), beside the addon that is loaded. */
export function watchdogPath(): string {
  return chosenLocation()?.watchdog ?? join(packageRoot, 'build', 'Release', 'pidfd-watchdog');
}

/** The addon's tables of numbers (loads the addon). */
export function constants(): NativeConstants {
  return binding().constants;
}

/** The addon, loaded on first use. Throws ENOSYS off Linux, and a clear error if unbuilt. */
export function binding(): NativeBinding {
  if (loaded !== undefined) return loaded;
  if (process.platform !== 'linux') throw unsupportedPlatformError();
  const require = createRequire(import.meta.url);
  const where = chosenLocation();
  try {
    if (where === null) throw new Error(`no build/Release/pidfd.node and no prebuilds/${prebuildTarget()}/pidfd.node`);
    loaded = require(where.addon) as NativeBinding;
  } catch (cause) {
    throw Object.assign(
      new Error(
        `pidfd: the native addon (${where?.addon ?? `build/Release/pidfd.node or prebuilds/${prebuildTarget()}/pidfd.node`}) ` +
          'could not be loaded; run `npm rebuild pidfd --build-from-source` with python3, make and a C compiler present',
        { cause },
      ),
      { code: 'ERR_PIDFD_ADDON' },
    );
  }
  return loaded;
}
