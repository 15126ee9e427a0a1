// PidFd: an owned process file descriptor, for any process.
//
// Over 350 lines on purpose: one public class, each method with the documentation users read in
// their editor, and the private helpers its methods share (#liveFd, #observe, #infoFromProc).
// ProcDir, its companion, is 50 lines of it; the rest cannot be split without splitting the class.

import { readFileSync } from 'node:fs';

import { binding, constants } from '../binding.js';
import { errno, invalidArgValue, pidfdError, systemError } from '../errors.js';
import { signalName, signalNumber, type Signal } from '../signals.js';
import { validateBoolean, validateFd, validateInteger, validateObject } from '../validate.js';
import { exitStatusFromRecord, exitStatusFromWaitStatus, unknownExitStatus, type ExitStatus } from './exit-status.js';
import { ensureWatcher, forgetExit, onExit } from './exit-watcher.js';
import { killTree, type KillTreeResult } from './kill-tree.js';

const { ESRCH, EBADF, EINVAL, ENOSYS, ENOTTY, EREMOTE } = errno;
const PIDFD_THREAD = 0x80; // O_EXCL, Linux 6.9
const PIDFD_SIGNAL_PROCESS_GROUP = 4; // Linux 6.9

/** How long exited() waits, after an observed process died, for its parent to reap it (only
 * then does the kernel have its exit status). */
const REAP_GRACE_MS = 1000;

/** A ProcDir around a directory fd that openProcDir() opened. */
let openedProcDir: (fd: number, pid: number) => ProcDir;

/** User or group ids of a process. */
export interface Ids {
  real: number;
  effective: number;
  saved: number;
  fs: number;
}

/** What PidFd.info() knows about a process. */
export interface ProcessInfo {
  /** The pid, in this process's pid namespace. */
  pid: number;
  /** Thread group id (equals pid for a process; differs for a PIDFD_THREAD pidfd). */
  tgid: number | null;
  /** The parent's pid; null once the process has been reaped. */
  ppid: number | null;
  uids: Ids | null;
  gids: Ids | null;
  /** The cgroup v2 id (the inode of its cgroup directory); null where the kernel does not say. */
  cgroupId: bigint | null;
  /** Set once the process has exited and been reaped, where the kernel keeps it (6.15). */
  exit: ExitStatus | null;
  /** 'PIDFD_GET_INFO' (Linux 6.13+) or '/proc' (read, then checked against the pidfd). */
  source: 'PIDFD_GET_INFO' | '/proc';
}

/** Who may close the fd, and how a Subprocess reports its child's exit. */
interface Owner {
  /** A reason the fd may not be closed now, or undefined. */
  refuseClose(): string | undefined;
  exited(): Promise<ExitStatus>;
}

/** A PidFd around the pidfd of a child that `owner` (its Subprocess) manages. */
export let adoptChildPidfd: (fd: number, pid: number, owner: Owner) => PidFd;

/** Marks a child's PidFd closed: the addon closed the fd at the reap. */
export let markPidfdClosed: (pidfd: PidFd) => void;

/**
 * A race-free view of /proc/<pid>: the directory was opened while the process was known to be
 * alive, so every file read through it belongs to that process, even if its pid is reused.
 */
export class ProcDir {
  #fd: number;
  #owned: object;
  readonly pid: number;

  /** Use PidFd.openProcDir(). */
  private constructor(fd: number, pid: number) {
    this.#fd = fd;
    this.pid = pid;
    // Closed by close(), or else when this ProcDir is garbage-collected or its worker ends.
    this.#owned = binding().own(fd);
  }

  static {
    openedProcDir = (fd, pid) => new ProcDir(fd, pid);
  }

  /** The directory's fd, or -1 once closed. */
  get fd(): number {
    return this.#fd;
  }

  /** A path that reaches this very directory for as long as it is open. */
  get path(): string {
    return `/proc/self/fd/${this.#fd}`;
  }

  /** Reads a file of the process (`status`, `cmdline`, `cgroup`, ...). ESRCH-class errors mean
   * the process is gone, never that another process answered. */
  readFile(name: string): Buffer;
  readFile(name: string, encoding: BufferEncoding): string;
  readFile(name: string, encoding?: BufferEncoding): Buffer | string {
    if (this.#fd < 0) throw pidfdError('ERR_PIDFD_CLOSED', `ProcDir of pid ${this.pid} is closed`);
    if (typeof name !== 'string' || name.includes('\0') || name.startsWith('/') || name.split('/').includes('..')) {
      throw invalidArgValue('name', name, 'must be a relative path inside /proc/<pid>', 'argument');
    }
    const path = `${this.path}/${name}`;
    return encoding === undefined ? readFileSync(path) : readFileSync(path, encoding);
  }

  close(): void {
    if (this.#fd < 0) return;
    this.#fd = -1;
    binding().closeOwned(this.#owned);
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * A process file descriptor: a handle on one process that, unlike a pid, can never come to mean
 * another process. The fd is close-on-exec and owned by this object: `close()` releases it, once.
 */
export class PidFd {
  #fd: number;
  #pid: number;
  #owner: Owner | undefined;
  /** The addon's hold on a pidfd this PidFd owns (not a child's, which its Subprocess owns). */
  #owned: object | undefined;
  #exited: Promise<ExitStatus | null> | undefined;
  #stopObserving: (() => void) | undefined;

  /** Use PidFd.open(), PidFd.fromFd(), PidFd.self() or Subprocess.pidfd. */
  private constructor(fd: number, pid: number, owner?: Owner) {
    this.#fd = fd;
    this.#pid = pid;
    this.#owner = owner;
    // A pidfd of its own is closed by close(), or else when this PidFd is garbage-collected or
    // its worker ends (the addon holds it: see native/owned.h).
    if (owner === undefined) this.#owned = binding().own(fd);
  }

  static {
    adoptChildPidfd = (fd, pid, owner) => new PidFd(fd, pid, owner);
    markPidfdClosed = (pidfd) => {
      pidfd.#fd = -1;
    };
  }

  /**
   * Opens a pidfd for a process (pidfd_open, Linux 5.3), or for one thread with
   * `{ thread: true }` (PIDFD_THREAD, Linux 6.9). Throws ESRCH if there is no such process.
   */
  static open(pid: number, options: { thread?: boolean } = {}): PidFd {
    validateInteger(pid, 'pid', 1, 0x7fffffff, { what: 'argument', expected: 'a pid (an integer from 1 to 2147483647)' });
    validateObject(options, 'options');
    const thread = options.thread === undefined ? false : validateBoolean(options.thread, 'thread');
    const fd = binding().pidfdOpen(pid, thread ? PIDFD_THREAD : 0);
    if (fd < 0) throw systemError(-fd, 'pidfd_open', { context: `PidFd.open(${pid})${openHint(pid, thread, -fd)}` });
    return new PidFd(fd, pid);
  }

  /** A pidfd for this process. */
  static self(): PidFd {
    return PidFd.open(process.pid);
  }

  /**
   * Adopts an fd that already is a pidfd (one a supervisor handed over, say). The PidFd owns it
   * from now on. Throws EBADF if the fd is not a pidfd, and ESRCH if its process was reaped.
   */
  static fromFd(fd: number): PidFd {
    validateFd(fd, 'fd', 'argument');
    const owner = binding().ownerOf(fd);
    if (owner !== 0) {
      throw pidfdError(
        'ERR_PIDFD_OWNED',
        `PidFd.fromFd(${fd}): fd ${fd} already belongs to ${owner === 1 ? 'a PidFd' : "a Subprocess (its child's pidfd)"} of this library, ` +
          'which will close it; call .dup() on that PidFd for one of your own',
      );
    }
    const pid = pidOfPidfd(fd, 'PidFd.fromFd');
    return new PidFd(fd, pid);
  }

  /** The file descriptor, or -1 once closed. */
  get fd(): number {
    return this.#fd;
  }

  /** Whether the fd has been closed. */
  get closed(): boolean {
    return this.#fd < 0;
  }

  /**
   * The process's pid now, with pidfd_getpid's rules: throws ESRCH once the process has been
   * reaped (its pid may already be someone else's), EREMOTE if it lives in a pid namespace that
   * this process cannot see into, and ERR_PIDFD_CLOSED after close().
   */
  get pid(): number {
    return pidOfPidfd(this.#liveFd('pid'), 'PidFd.pid');
  }

  /**
   * A stable identity for the process: the pidfs inode number (Linux 6.9), the same for every
   * pidfd of the process and never given to another process, unlike a pid.
   */
  get id(): bigint {
    const fd = this.#liveFd('id');
    if (!binding().support().pidfs.ok) {
      throw pidfdError(
        'ERR_PIDFD_NO_STABLE_ID',
        'PidFd.id: this kernel keeps pidfds on an anonymous inode shared by all of them; a stable process identity needs pidfs (Linux 6.9)',
      );
    }
    const ino = binding().inode(fd);
    if (typeof ino === 'number') throw systemError(-ino, 'fstat', { context: 'PidFd.id' });
    return ino;
  }

  /**
   * Resolves when the process exits, without polling and whether or not it is our child, with
   * its exit code and signal where the kernel gives them (PIDFD_INFO_EXIT, Linux 6.15; the
   * status appears once the process's parent has reaped it), else null fields and a reason.
   * Resolves with null if this PidFd is closed first. The same promise every time.
   */
  exited(): Promise<ExitStatus | null> {
    if (this.#exited !== undefined) return this.#exited;
    if (this.#owner !== undefined) {
      this.#exited = this.#owner.exited();
      return this.#exited;
    }
    // Closed before anyone asked: the same answer as closed while being watched.
    if (this.#fd < 0) return Promise.resolve(null);
    this.#exited = this.#observe(this.#fd);
    return this.#exited;
  }

  /** Whether the process is still running (its pidfd is not readable). A zombie is not alive. */
  isAlive(): boolean {
    const r = binding().pidfdExited(this.#liveFd('isAlive'));
    if (r < 0) throw systemError(-r, 'poll', { context: 'PidFd.isAlive()' });
    return r === 0;
  }

  /**
   * Sends a signal (pidfd_send_signal): never to another process, even once the pid is reused.
   * `processGroup: true` signals the process's whole group (Linux 6.9). Returns true if it was
   * sent, false if the process has been reaped. Signal 0 only checks.
   */
  sendSignal(signal: Signal = 'SIGTERM', options: { processGroup?: boolean } = {}): boolean {
    const number = signalNumber(signal, 'signal', true, 'argument');
    validateObject(options, 'options');
    const group = options.processGroup === undefined ? false : validateBoolean(options.processGroup, 'processGroup');
    const fd = this.#liveFd('sendSignal');
    const r = binding().sendSignal(fd, number, group ? PIDFD_SIGNAL_PROCESS_GROUP : 0);
    if (r === 0) return true;
    if (r === -ESRCH) return false;
    const hint = group && r === -EINVAL ? ' (signalling a process group through a pidfd needs Linux 6.9)' : '';
    throw systemError(-r, 'pidfd_send_signal', { context: `PidFd.sendSignal(${signalName(number)})${hint}` });
  }

  /**
   * Signals the process and every descendant of it, found by walking parentage in /proc through
   * pidfds, for a process this library did not start: every member is stopped as it is found (so
   * the tree cannot grow while it is walked), the walk repeats until a pass finds nobody new, then
   * the signal goes to each member through its pidfd (never to a recycled pid) and SIGCONT after
   * it (see docs/trees.md). Throws ESRCH if the process is gone, EPERM if it cannot be signalled,
   * ERR_PIDFD_TREE_OF_SELF for this process or an ancestor of it; members that cannot be
   * signalled are listed in `denied`.
   */
  killTree(signal: Signal = 'SIGTERM'): KillTreeResult {
    this.#liveFd('killTree');
    return killTree(this, signal, 'PidFd.killTree()');
  }

  /**
   * What the kernel knows about the process: ids, parent, credentials, cgroup, and, once it has
   * been reaped, its exit (Linux 6.15). Uses PIDFD_GET_INFO (6.13); on older kernels and under
   * QEMU user mode, reads /proc/<pid>/status and then checks through the pidfd that the pid still
   * meant this process.
   * Throws ESRCH when the process is gone and the kernel keeps nothing about it.
   */
  info(): ProcessInfo {
    const fd = this.#liveFd('info');
    const r = binding().pidfdGetInfo(fd);
    if (typeof r === 'number') {
      // ENOTTY, EINVAL: a kernel before 6.13; ENOSYS: QEMU user mode, which does not pass
      // ioctls it does not know on to the kernel.
      if (r === -ENOTTY || r === -EINVAL || r === -ENOSYS) return this.#infoFromProc(fd);
      throw systemError(-r, 'ioctl', { context: `PidFd.info(): PIDFD_GET_INFO for pid ${this.#pid}` });
    }
    const ids = (real?: number, effective?: number, saved?: number, fs?: number): Ids | null =>
      real === undefined ? null : { real, effective: effective!, saved: saved!, fs: fs! };
    return {
      pid: r.pid ?? this.#pid,
      tgid: r.tgid ?? null,
      ppid: r.ppid ?? null,
      uids: ids(r.ruid, r.euid, r.suid, r.fsuid),
      gids: ids(r.rgid, r.egid, r.sgid, r.fsgid),
      cgroupId: r.cgroupId ?? null,
      exit: r.exitStatus === undefined ? null : exitStatusFromWaitStatus(this.#pid, r.exitStatus),
      source: 'PIDFD_GET_INFO',
    };
  }

  /**
   * Duplicates the process's fd `targetFd` into this process (pidfd_getfd, Linux 5.6; needs
   * ptrace rights over the process). The returned fd is close-on-exec and yours to close.
   */
  getFd(targetFd: number): number {
    validateFd(targetFd, 'targetFd', 'argument');
    const r = binding().pidfdGetfd(this.#liveFd('getFd'), targetFd);
    if (r < 0) throw systemError(-r, 'pidfd_getfd', { context: `PidFd.getFd(${targetFd}) of pid ${this.#pid}` });
    return r;
  }

  /**
   * Opens /proc/<pid> race-free: the directory is opened, then the pidfd proves that the process
   * had not been reaped by then, so the directory is that process's and no other's, for as long
   * as it stays open (the pattern of the CLONE_PIDFD patch's sample program).
   */
  openProcDir(): ProcDir {
    const fd = this.#liveFd('openProcDir');
    const pid = pidOfPidfd(fd, 'PidFd.openProcDir');
    // Opened by the addon, whose fd it is to close (ProcDir owns it through binding().own).
    const dirfd = binding().openDirectory(`/proc/${pid}`);
    if (dirfd < 0) {
      const context = dirfd === -errno.ENOENT ? `PidFd.openProcDir(): pid ${pid} is gone` : 'PidFd.openProcDir()';
      throw systemError(dirfd === -errno.ENOENT ? ESRCH : -dirfd, 'open', { context, path: `/proc/${pid}` });
    }
    if (binding().sendSignal(fd, 0, 0) === -ESRCH) {
      binding().close(dirfd);
      throw systemError(ESRCH, 'pidfd_send_signal', {
        context: `PidFd.openProcDir(): pid ${pid} was reaped while /proc/${pid} was being opened`,
      });
    }
    return openedProcDir(dirfd, pid);
  }

  /** A second, independent PidFd for the same process (the new fd is close-on-exec). */
  dup(): PidFd {
    const fd = binding().dup(this.#liveFd('dup'));
    if (fd < 0) throw systemError(-fd, 'fcntl', { context: 'PidFd.dup()' });
    return new PidFd(fd, this.#pid);
  }

  /** Closes the fd. Calling it again does nothing. A pending exited() resolves with null. */
  close(): void {
    if (this.#fd < 0) return;
    const refusal = this.#owner?.refuseClose();
    if (refusal !== undefined) throw pidfdError('ERR_PIDFD_OWNED', refusal);
    this.#stopObserving?.();
    this.#fd = -1;
    binding().closeOwned(this.#owned!);
  }

  /** Closes the fd (for `using`). */
  [Symbol.dispose](): void {
    this.close();
  }

  #liveFd(method: string): number {
    if (this.#fd < 0) {
      throw pidfdError('ERR_PIDFD_CLOSED', `PidFd.${method}: the pidfd of pid ${this.#pid} is closed`);
    }
    return this.#fd;
  }

  #observe(fd: number): Promise<ExitStatus | null> {
    const native = binding();
    ensureWatcher();
    const r = native.watch(fd, constants().watchKind.observe, true);
    if (r < 0) return Promise.reject(systemError(-r, 'epoll_ctl', { context: 'PidFd.exited()' }));
    return new Promise<ExitStatus | null>((resolve) => {
      let grace: NodeJS.Timeout | undefined;
      const finish = (status: ExitStatus | null, unwatch: boolean): void => {
        if (grace !== undefined) clearTimeout(grace);
        this.#stopObserving = undefined;
        if (unwatch) {
          forgetExit(fd);
          native.unwatch(fd, true);
        }
        resolve(status);
      };
      this.#stopObserving = () => finish(null, true);
      onExit(fd, (records, at) => {
        if (records[at + constants().exitField.how] !== constants().exitHow.pending) {
          finish(exitStatusFromRecord(this.#pid, records, at, 'process'), false);
          return;
        }
        // It died; its parent has not reaped it yet, and until then the kernel has no status.
        grace = setTimeout(() => {
          const why = `process ${this.#pid} exited, but its parent had not reaped it ${REAP_GRACE_MS} ms later, so the kernel had no exit status to give`;
          finish(unknownExitStatus(this.#pid, why), true);
        }, REAP_GRACE_MS);
      });
    });
  }

  #infoFromProc(fd: number): ProcessInfo {
    const pid = pidOfPidfd(fd, 'PidFd.info');
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/status`, 'latin1');
    } catch {
      throw systemError(ESRCH, 'open', { context: `PidFd.info(): pid ${pid} is gone`, path: `/proc/${pid}/status` });
    }
    // The pid was read from the pidfd, then the file by pid: if the process was reaped in
    // between, the file may be another process's. Not reaped now means not reaped then.
    if (binding().sendSignal(fd, 0, 0) === -ESRCH) {
      throw systemError(ESRCH, 'pidfd_send_signal', { context: `PidFd.info(): pid ${pid} was reaped while being read` });
    }
    const field = (name: string): number[] =>
      (new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(text)?.[1] ?? '').split(/\s+/).filter(Boolean).map(Number);
    const [ruid, euid, suid, fsuid] = field('Uid');
    const [rgid, egid, sgid, fsgid] = field('Gid');
    return {
      pid,
      tgid: field('Tgid')[0] ?? null,
      ppid: field('PPid')[0] ?? null,
      uids: ruid === undefined ? null : { real: ruid, effective: euid!, saved: suid!, fs: fsuid! },
      gids: rgid === undefined ? null : { real: rgid, effective: egid!, saved: sgid!, fs: fsgid! },
      cgroupId: null,
      exit: null,
      source: '/proc',
    };
  }
}

/**
 * Why pidfd_open refused `pid`, in words, when the errno alone does not say: a thread id without
 * `{ thread: true }` gives ENOENT (the kernel finds no process led by it), and PIDFD_THREAD is
 * unknown before Linux 6.9.
 */
function openHint(pid: number, thread: boolean, err: number): string {
  if (thread && err === EINVAL) return ' (a thread pidfd needs Linux 6.9)';
  if (!thread && (err === errno.ENOENT || err === EINVAL)) {
    let tgid: number | undefined;
    try {
      tgid = Number(/^Tgid:\s*(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1]);
    } catch {
      return '';
    }
    if (tgid !== undefined && tgid !== pid) {
      return ` (${pid} is a thread of process ${tgid}, not a process: pass { thread: true } for a pidfd of the thread (Linux 6.9), or open ${tgid})`;
    }
  }
  return '';
}

/**
 * The pid behind a pidfd, from /proc/self/fdinfo (pidfd_getpid's semantics): EBADF if fd is
 * not a pidfd, ESRCH if the process was reaped, EREMOTE if it is outside our pid namespace.
 */
export function pidOfPidfd(fd: number, context: string): number {
  let text: string;
  try {
    text = readFileSync(`/proc/self/fdinfo/${fd}`, 'latin1');
  } catch {
    throw systemError(EBADF, 'pidfd_getpid', { context: `${context}: fd ${fd} is not open` });
  }
  const match = /^Pid:\s*(-?\d+)$/m.exec(text);
  if (match === null) {
    throw systemError(EBADF, 'pidfd_getpid', { context: `${context}: fd ${fd} is not a pidfd` });
  }
  const pid = Number(match[1]);
  if (pid === -1) {
    throw systemError(ESRCH, 'pidfd_getpid', { context: `${context}: the process behind fd ${fd} has been reaped` });
  }
  if (pid === 0) {
    throw systemError(EREMOTE, 'pidfd_getpid', { context: `${context}: the process behind fd ${fd} is outside this pid namespace` });
  }
  return pid;
}
