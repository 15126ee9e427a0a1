// The native contract, declared once, and the loader of the addon.
//
// Everything in `native/` is reached through `NativeBinding`. Outcomes come back as values
// (a negative errno, or a failure object): the TypeScript layer adds the context and throws.

import { createRequire } from 'node:module';

import { unsupportedPlatformError } from './errors.js';

/** Encodings of a stdio entry's kind; see native/js_api.c. */
export const StdioKind = {
  /** Put this parent fd at the target. */
  fd: 0,
  /** /dev/null, opened by the child. */
  devnull: 1,
  /** A pipe the child reads (its stdin). */
  pipeIn: 2,
  /** A pipe the child writes (stdout, stderr). */
  pipeOut: 3,
  /** A socketpair: both directions (fds 3 and up). */
  socket: 4,
} as const;

/** How a watched pidfd is treated when its process exits; see native/watch.h. */
export const WatchKind = {
  /** Our child: reaped with waitid, then its pidfd is closed by the addon. */
  child: 0,
  /** Any process: its exit read with PIDFD_GET_INFO; the pidfd stays open. */
  observe: 1,
} as const;

/** Fields of one exit record in the Float64Array batches; see native/watch.h. */
export const ExitField = {
  fd: 0,
  pid: 1,
  how: 2,
  code: 3,
  status: 4,
  utimeUs: 5,
  stimeUs: 6,
  maxRssKiB: 7,
  minFlt: 8,
  majFlt: 9,
  nvcsw: 10,
  nivcsw: 11,
  count: 12,
} as const;

/** How an exit record's status was obtained. */
export const ExitHow = { waitid: 0, info: 1, lost: 2, pending: 3 } as const;

/** Test hooks the child can be told to run; see native/child.h. */
export const Fault = {
  none: 0,
  reportGarbage: 1,
  reportShort: 2,
  killBeforeExec: 3,
  exitBeforeExec: 4,
  failStep: 5,
  parentStep: 6,
} as const;

/** Parent-side steps that Fault.parentStep can make fail; see native/child.h. */
export const ParentStep = {
  pipe: 1,
  cgroup: 2,
  stack: 3,
  clone: 4,
  pidfdOpen: 5,
  watch: 6,
} as const;

/** Steps of the child's setup; see native/child.h. */
export const ChildStep = {
  sync: 1,
  sigaction: 2,
  setsid: 3,
  setpgid: 4,
  chdir: 5,
  devnull: 6,
  fdMove: 7,
  fdDup: 8,
  fdClose: 9,
  setgroups: 10,
  setgid: 11,
  setuid: 12,
  pdeathsig: 13,
  sigmask: 14,
  exec: 15,
  fault: 16,
} as const;

/** Everything one spawn needs, in one object. */
export interface NativeSpawnPlan {
  /** execve candidates, argv, envp and (if hasCwd) the cwd, joined with NUL. */
  strings: string;
  npaths: number;
  nargv: number;
  /** -1: no envp in `strings`; the child gets this process's `environ` as it is at the call. */
  nenv: number;
  hasCwd: boolean;
  /** (target, kind, fd) triples, targets strictly ascending. */
  stdio: Int32Array;
  setsid: boolean;
  /** -1: leave; 0: a new group; > 0: join that group. */
  pgid: number;
  /** -1: leave. */
  uid: number;
  gid: number;
  groups: Uint32Array | null;
  /** 0: none. */
  pdeathsig: number;
  /** -1: none. */
  cgroupFd: number;
  cgroupPath: string | null;
  /** Whether the exit watch keeps the event loop alive. */
  ref: boolean;
  fault: number;
  faultArg: number;
}

export interface NativeSpawnSuccess {
  pid: number;
  pidfd: number;
  /** Per stdio entry: the parent's end of its pipe, or -1. */
  fds: Int32Array;
}

export interface NativeSpawnFailure {
  /** Positive errno. */
  errno: number;
  syscall: string;
  /** A child step (ChildStep) or -1 for a failure in the parent. */
  step: number;
  /** The stdio entry or PATH candidate concerned, or -1. */
  index: number;
  /** The bytes of a malformed child report. */
  raw?: Buffer;
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
  /** Starts exit watching for this environment; batches of exits go to onExit. 0 or -errno. */
  init(onExit: (records: Float64Array) => void): number;
  support(): NativeSupport;
  spawn(plan: NativeSpawnPlan): NativeSpawnSuccess | NativeSpawnFailure;
  watch(fd: number, kind: number, ref: boolean): number;
  watchRef(fd: number, kind: number, oldRef: boolean, ref: boolean): number;
  unwatch(fd: number, ref: boolean): number;
  sendSignal(fd: number, signal: number, flags: number): number;
  pidfdOpen(pid: number, flags: number): number;
  close(fd: number): number;
  dup(fd: number): number;
  /** pidfd_getfd(fd, targetFd, 0): a close-on-exec copy of another process's fd, or -errno. */
  pidfdGetfd(fd: number, targetFd: number): number;
  /** 1 if the pidfd is readable (its process exited), 0 if not, or -errno. */
  pidfdExited(fd: number): number;
  /** PIDFD_GET_INFO (6.13): the fields the kernel filled, or -errno. */
  pidfdGetInfo(fd: number): NativePidfdInfo | number;
  testWaitidNoWall(fd: number): number;
  testReaped(pid: number): boolean;
  testHasChildren(): boolean;
  testBlockSignal(signal: number, block: boolean): boolean;
  testIgnoreSignal(signal: number, ignore: boolean): number;
  testFdFlags(fd: number): number;
}

let loaded: NativeBinding | undefined;

/** The addon, loaded on first use. Throws ENOSYS off Linux, and a clear error if unbuilt. */
export function binding(): NativeBinding {
  if (loaded !== undefined) return loaded;
  if (process.platform !== 'linux') throw unsupportedPlatformError();
  const require = createRequire(import.meta.url);
  try {
    loaded = require('../build/Release/pidfd.node') as NativeBinding;
  } catch (cause) {
    throw Object.assign(
      new Error(
        'pidfd: the native addon (build/Release/pidfd.node) could not be loaded; ' +
          'run `npm install` (or `npm rebuild pidfd`) with python3, make and a C compiler present',
        { cause },
      ),
      { code: 'ERR_PIDFD_ADDON' },
    );
  }
  return loaded;
}
