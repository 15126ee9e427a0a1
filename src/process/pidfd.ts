// PidFd: an owned process file descriptor.

import { readFileSync } from 'node:fs';

import { binding } from '../binding.js';
import { describe, pidfdError, systemError } from '../errors.js';
import { signalNumber, type Signal } from '../signals.js';

const ESRCH = 3;
const EBADF = 9;

/** Passed by the library's own code to construct a PidFd around an fd it already owns. */
const kInternal = Symbol('PidFd.internal');

/** Who may close the fd: the user, or a Subprocess that still needs it to reap its child. */
type CloseGuard = () => string | undefined;

/**
 * A process file descriptor: a handle on one process that, unlike a pid, can never come to mean
 * another process. The fd is close-on-exec and owned by this object: `close()` (or `using`)
 * releases it, once.
 */
export class PidFd {
  #fd: number;
  #pid: number;
  #guard: CloseGuard | undefined;

  /** @internal Use PidFd.open(), PidFd.fromFd() or Subprocess.pidfd. */
  constructor(token: symbol, fd: number, pid: number, guard?: CloseGuard) {
    if (token !== kInternal) {
      throw new TypeError('PidFd has no public constructor: use PidFd.open(pid) or PidFd.fromFd(fd)');
    }
    this.#fd = fd;
    this.#pid = pid;
    this.#guard = guard;
  }

  /** Opens a pidfd for a running process (pidfd_open, Linux 5.3+). */
  static open(pid: number): PidFd {
    if (!Number.isInteger(pid) || pid <= 0 || pid > 0x7fffffff) {
      throw Object.assign(
        new RangeError(`PidFd.open(pid): pid must be a positive integer; got ${describe(pid)}`),
        { code: 'ERR_OUT_OF_RANGE' },
      );
    }
    const fd = binding().pidfdOpen(pid, 0);
    if (fd < 0) throw systemError(-fd, 'pidfd_open', { context: `PidFd.open(${pid})` });
    return new PidFd(kInternal, fd, pid);
  }

  /**
   * Adopts an fd that already is a pidfd (one a supervisor handed over, say). The PidFd owns it
   * from now on. Throws EBADF if the fd is not a pidfd, and ESRCH if its process was reaped.
   */
  static fromFd(fd: number): PidFd {
    if (!Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) {
      throw Object.assign(
        new RangeError(`PidFd.fromFd(fd): fd must be a non-negative integer; got ${describe(fd)}`),
        { code: 'ERR_OUT_OF_RANGE' },
      );
    }
    const pid = pidOfPidfd(fd, 'PidFd.fromFd');
    return new PidFd(kInternal, fd, pid);
  }

  /** @internal For Subprocess: a PidFd around the fd the addon returned with the child. */
  static fromSpawn(fd: number, pid: number, guard: CloseGuard): PidFd {
    return new PidFd(kInternal, fd, pid, guard);
  }

  /** The file descriptor, or -1 once closed. */
  get fd(): number {
    return this.#fd;
  }

  /** Whether the fd has been closed. */
  get closed(): boolean {
    return this.#fd < 0;
  }

  /** The pid of the process, as it was when this PidFd was created. */
  get pid(): number {
    return this.#pid;
  }

  /**
   * Sends a signal (pidfd_send_signal): never to another process, even once the pid is reused.
   * Returns true if it was sent, false if the process has been reaped. Signal 0 only checks.
   */
  sendSignal(signal: Signal = 'SIGTERM'): boolean {
    const number = signalNumber(signal, 'signal', true);
    const fd = this.#liveFd('sendSignal');
    const r = binding().sendSignal(fd, number, 0);
    if (r === 0) return true;
    if (r === -ESRCH) return false;
    throw systemError(-r, 'pidfd_send_signal', { context: `pid ${this.#pid}` });
  }

  /** A second, independent PidFd for the same process (the new fd is close-on-exec). */
  dup(): PidFd {
    const fd = binding().dup(this.#liveFd('dup'));
    if (fd < 0) throw systemError(-fd, 'fcntl', { context: 'PidFd.dup()' });
    return new PidFd(kInternal, fd, this.#pid);
  }

  /** Closes the fd. Calling it again does nothing. */
  close(): void {
    if (this.#fd < 0) return;
    const refusal = this.#guard?.();
    if (refusal !== undefined) throw pidfdError('ERR_PIDFD_OWNED', refusal);
    const fd = this.#fd;
    this.#fd = -1;
    binding().close(fd);
  }

  /** Closes the fd (for `using`). */
  [Symbol.dispose](): void {
    this.close();
  }

  /** @internal The addon closed the fd (a child's pidfd, after the reap). */
  markClosed(): void {
    this.#fd = -1;
  }

  #liveFd(method: string): number {
    if (this.#fd < 0) {
      throw pidfdError('ERR_PIDFD_CLOSED', `PidFd.${method}(): the pidfd of pid ${this.#pid} is closed`);
    }
    return this.#fd;
  }
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
    throw systemError(ESRCH, 'pidfd_getpid', {
      context: `${context}: the process behind fd ${fd} has been reaped`,
    });
  }
  if (pid === 0) {
    throw systemError(66 /* EREMOTE */, 'pidfd_getpid', {
      context: `${context}: the process behind fd ${fd} is outside this pid namespace`,
    });
  }
  return pid;
}
