// Reading (and signalling) a process found by its pid race-free: through a pidfd and its /proc
// directory, opened through that pidfd, so that a pid reused meanwhile answers for nothing.

import { PidFd, type ProcDir } from './pidfd.js';

/**
 * Calls fn with a pidfd of `pid` and its /proc directory, opened race-free (a recycled pid
 * cannot answer), and closes both; undefined when the process is gone.
 */
export function withProcess<T>(pid: number, fn: (pidfd: PidFd, dir: ProcDir) => T): T | undefined {
  let pidfd: PidFd;
  try {
    pidfd = PidFd.open(pid);
  } catch {
    return undefined;
  }
  try {
    const dir = pidfd.openProcDir();
    try {
      return fn(pidfd, dir);
    } finally {
      dir.close();
    }
  } catch {
    return undefined; // gone meanwhile
  } finally {
    pidfd.close();
  }
}

/** The fields of /proc/<pid>/stat after the command name: [state, ppid, pgrp, ...]. */
export function statFields(dir: ProcDir): string[] {
  const stat = dir.readFile('stat', 'latin1');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}
