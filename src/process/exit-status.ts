// ExitStatus: how a process ended, and what it cost.

import { ExitField, ExitHow } from '../binding.js';
import { errnoName, pidfdError } from '../errors.js';
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

/** How a process ended. */
export interface ExitStatus {
  pid: number;
  /** The exit code, when the process exited; null when a signal ended it. */
  code: number | null;
  /** The name of the signal that ended the process ('SIGKILL'), or null. */
  signal: string | null;
  /** Whether the process dumped core. */
  coreDumped: boolean;
  /**
   * Resources used, or null when the status was recovered through PIDFD_GET_INFO because
   * something else in this process reaped the child first (Linux 6.15+ keeps the status, not
   * the rusage).
   */
  rusage: Rusage | null;
}

const CLD_EXITED = 1;
const CLD_KILLED = 2;
const CLD_DUMPED = 3;

/** How a process ended, from waitid's si_code and si_status. */
export function decodeExit(siCode: number, siStatus: number): Pick<ExitStatus, 'code' | 'signal' | 'coreDumped'> {
  const exited = siCode === CLD_EXITED;
  return {
    code: exited ? siStatus : null,
    signal: exited ? null : signalName(siStatus),
    coreDumped: siCode === CLD_DUMPED,
  };
}

/** How a process ended, from a wait status (42 << 8 for exit(42)), as PIDFD_INFO_EXIT gives it. */
export function decodeWaitStatus(status: number): Pick<ExitStatus, 'code' | 'signal' | 'coreDumped'> {
  const signal = status & 0x7f;
  if (signal === 0) return decodeExit(CLD_EXITED, (status >> 8) & 0xff);
  return decodeExit(status & 0x80 ? CLD_DUMPED : CLD_KILLED, signal);
}

/** The ExitStatus in one record of a native exit batch, or the error that replaces it. */
export function exitStatusFromRecord(
  pid: number,
  records: Float64Array,
  at: number,
): ExitStatus | Error {
  const how = records[at + ExitField.how];
  const code = records[at + ExitField.code]!;
  const status = records[at + ExitField.status]!;
  if (how === ExitHow.lost) {
    const reason =
      code === 95 /* EOPNOTSUPP */ || code === 25 /* ENOTTY */ || code === 22 /* EINVAL */
        ? 'this kernel keeps no exit status for a reaped process (PIDFD_INFO_EXIT needs Linux 6.15)'
        : `PIDFD_GET_INFO failed with ${errnoName(code)}`;
    return pidfdError(
      'ERR_PIDFD_STATUS_LOST',
      `pidfd: process ${pid} was reaped by something else in this process ` +
        `(a waitpid(-1) loop, or SIGCHLD set to SIG_IGN), and its exit status is lost: ${reason}`,
    );
  }
  return {
    pid,
    ...decodeExit(code, status),
    rusage:
      how === ExitHow.waitid
        ? {
            userCPUTime: records[at + ExitField.utimeUs]!,
            systemCPUTime: records[at + ExitField.stimeUs]!,
            maxRSS: records[at + ExitField.maxRssKiB]!,
            minorFaults: records[at + ExitField.minFlt]!,
            majorFaults: records[at + ExitField.majFlt]!,
            voluntaryContextSwitches: records[at + ExitField.nvcsw]!,
            involuntaryContextSwitches: records[at + ExitField.nivcsw]!,
          }
        : null,
  };
}
