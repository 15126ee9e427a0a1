// ExitStatus: how a process ended, and what it cost; decoded from the addon's exit records.

import { constants, type NativeConstants } from '../binding.js';
import { errno, errnoName, pidfdError } from '../errors.js';
import { signalName } from '../signals.js';

/** Resources a child used, from the rusage that waitid returns with the status. */
export interface Rusage {
  /** User CPU time, in microseconds. */
  userCPUTime: number;
  /** System CPU time, in microseconds. */
  systemCPUTime: number;
  /**
   * Peak resident set size, in KiB. Note: with the clone3 and clone backends the kernel records
   * the parent's peak at the moment of execve (the child shared the parent's memory until then),
   * so this is at least the parent's peak; the fork backend gives the child's own figure.
   */
  maxRSS: number;
  /** Page faults served without I/O. */
  minorFaults: number;
  /** Page faults that needed I/O. */
  majorFaults: number;
  voluntaryContextSwitches: number;
  involuntaryContextSwitches: number;
}

/** How a process ended: what `subprocess.exited` and `pidfd.exited()` give. */
export interface ExitStatus {
  pid: number;
  /** The exit code, when the process exited; null when a signal ended it or the status is unknown. */
  code: number | null;
  /** The name of the signal that ended the process ('SIGKILL', 'SIGRTMIN+3'), or null. */
  signal: string | null;
  /** Whether the process dumped core. */
  coreDumped: boolean;
  /**
   * Resources used, or null when the status did not come from our own reap: a process that is
   * not our child, or a child that something else in this process reaped first (Linux 6.15+
   * keeps the status then, not the rusage).
   */
  rusage: Rusage | null;
  /** Why `code` and `signal` are both null (the status is unknown); null when it is known. */
  reason: string | null;
  /**
   * Whether the OOM killer ended it: the child of a per-run cgroup with the memory controller,
   * killed by SIGKILL, in a tree where the OOM killer acted (memory.events). Otherwise false.
   */
  oomKilled: boolean;
}

const CLD_EXITED = 1;
const CLD_DUMPED = 3;

/** The addon's tables (they never change), once read. */
let table: NativeConstants | undefined;

/** How a process ended, from waitid's si_code and si_status. */
function decode(siCode: number, siStatus: number): Pick<ExitStatus, 'code' | 'signal' | 'coreDumped'> {
  const exited = siCode === CLD_EXITED;
  return { code: exited ? siStatus : null, signal: exited ? null : signalName(siStatus), coreDumped: siCode === CLD_DUMPED };
}

/** The status in a wait status (42 << 8 for exit(42)), as PIDFD_INFO_EXIT gives it. */
export function exitStatusFromWaitStatus(pid: number, status: number): ExitStatus {
  const signal = status & 0x7f;
  const how = signal === 0 ? decode(CLD_EXITED, (status >> 8) & 0xff) : decode(status & 0x80 ? CLD_DUMPED : 2, signal);
  return { pid, ...how, rusage: null, reason: null, oomKilled: false };
}

/** A status that nobody can tell: code and signal null, and why. */
export function unknownExitStatus(pid: number, reason: string): ExitStatus {
  return { pid, code: null, signal: null, coreDumped: false, rusage: null, reason, oomKilled: false };
}

/** Why a record says "lost": the errno PIDFD_GET_INFO gave (or EOPNOTSUPP without it). */
function lostReason(code: number): string {
  return code === errno.EOPNOTSUPP || code === errno.ENOTTY || code === errno.EINVAL || code === errno.ESRCH
    ? 'its exit status is lost: this kernel keeps no exit status once a process has been reaped (PIDFD_INFO_EXIT needs Linux 6.15)'
    : `its exit status is lost: PIDFD_GET_INFO failed with ${errnoName(code)}`;
}

/**
 * The ExitStatus in the exit record at `at` of a native batch (or of the blocking wait). A
 * record whose status is lost gives an ExitStatus with a `reason`; a pending record (an observed
 * process exited, its parent has not reaped it yet) is the caller's to handle.
 */
export function exitStatusFromRecord(pid: number, records: Float64Array, at: number, whose: 'child' | 'process'): ExitStatus {
  const { exitField: F, exitHow } = (table ??= constants());
  const how = records[at + F.how];
  const code = records[at + F.code]!;
  const status = records[at + F.status]!;
  if (how === exitHow.lost) {
    return unknownExitStatus(
      pid,
      whose === 'child'
        ? `process ${pid} was reaped by something else in this process (a waitpid(-1) loop, or SIGCHLD set to SIG_IGN), and ${lostReason(code)}`
        : `process ${pid} exited, and ${lostReason(code)}`,
    );
  }
  // One object literal, fields in ExitStatus's order, with no spread of decode()'s object (an
  // allocation, and a property copy, per exit).
  const exited = code === CLD_EXITED;
  return {
    pid,
    code: exited ? status : null,
    signal: exited ? null : signalName(status),
    coreDumped: code === CLD_DUMPED,
    rusage:
      how === exitHow.waitid
        ? {
            userCPUTime: records[at + F.utimeUs]!,
            systemCPUTime: records[at + F.stimeUs]!,
            maxRSS: records[at + F.maxRssKiB]!,
            minorFaults: records[at + F.minFlt]!,
            majorFaults: records[at + F.majFlt]!,
            voluntaryContextSwitches: records[at + F.nvcsw]!,
            involuntaryContextSwitches: records[at + F.nivcsw]!,
          }
        : null,
    reason: null,
    oomKilled: false,
  };
}

/** The error `subprocess.exited` rejects with when a child's status is lost. */
export function statusLostError(status: ExitStatus): Error & { code: string; status: ExitStatus } {
  return Object.assign(pidfdError('ERR_PIDFD_STATUS_LOST', `pidfd: ${status.reason}`), { status });
}
