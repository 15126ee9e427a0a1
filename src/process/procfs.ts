// Reading /proc: the one reader of a process's `stat` file, and reading (and signalling) a
// process found by its pid race-free: through a pidfd and its /proc directory, opened through
// that pidfd, so that a pid reused meanwhile answers for nothing.

import { readdirSync, readFileSync } from 'node:fs';

import { PidFd, type ProcDir } from './pidfd.js';

/** The fields of /proc/<pid>/stat that the library reads (proc(5)). */
export interface ProcStat {
  /** R, S, D, T (stopped), t (traced), Z (zombie), X (dead), I (idle kernel thread)... */
  state: string;
  ppid: number;
  pgrp: number;
  session: number;
  /** The foreground process group of the controlling terminal, -1 without one. */
  tpgid: number;
  /** PF_* flags (PF_EXITING 0x4, PF_KTHREAD 0x200000). */
  flags: number;
  /** CPU time in user and kernel mode, in clock ticks (USER_HZ, 100 on Linux). */
  utime: number;
  stime: number;
  /** Threads in the process (1 for a single-threaded one). */
  threads: number;
}

/** PF_EXITING in ProcStat's flags: the process is in exit(), past closing its files. */
export const PF_EXITING = 0x4;
/** PF_KTHREAD in ProcStat's flags: a kernel thread. */
export const PF_KTHREAD = 0x00200000;

/** The text of a stat file → its fields. `pid (comm) state ppid ...`: comm may hold spaces and
 * parentheses, so the fields start after the last ')'. */
export function parseStat(text: string): ProcStat {
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ', 18);
  return {
    state: f[0]!,
    ppid: Number(f[1]),
    pgrp: Number(f[2]),
    session: Number(f[3]),
    tpgid: Number(f[5]),
    flags: Number(f[6]),
    utime: Number(f[11]),
    stime: Number(f[12]),
    threads: Number(f[17]),
  };
}

/**
 * /proc/<pid>/stat (or /proc/<pid>/task/<tid>/stat), or undefined when it cannot be read (the
 * process is gone). By number: the answer may be that of a process given the pid since, which
 * callers must allow for (statOf() reads through a pidfd instead).
 */
export function readStat(pid: number | 'self', tid?: number): ProcStat | undefined {
  try {
    return parseStat(readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'latin1'));
  } catch {
    return undefined;
  }
}

/** The stat of the process of a /proc directory opened through its pidfd: its own, race-free. */
export function statOf(dir: ProcDir): ProcStat {
  return parseStat(dir.readFile('stat', 'latin1'));
}

/** The pids in /proc now (null without /proc). */
export function processIds(): number[] | null {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return null;
  }
  const pids: number[] = [];
  for (const name of names) {
    const c = name.charCodeAt(0);
    if (c >= 48 && c <= 57) pids.push(Number(name));
  }
  return pids;
}

/**
 * The processes of group `pgid` that are more than zombies, from /proc (null without /proc);
 * with `first`, only the first one found. Signal 0 reaches zombies too, and the orphans of a
 * killed tree are zombies until their new parent reaps them, which some container inits do late
 * or never. The number names that group while any process has it as its group id (a pid stays
 * allocated); group-tree.ts also holds a pidfd of the leader, the portable engine (run/portable.ts)
 * only the number.
 */
export function groupMembers(pgid: number, first = false): number[] | null {
  const pids = processIds();
  if (pids === null) return null;
  const found: number[] = [];
  for (const pid of pids) {
    const stat = readStat(pid);
    if (stat !== undefined && stat.pgrp === pgid && stat.state !== 'Z' && stat.state !== 'X') {
      found.push(pid);
      if (first) break;
    }
  }
  return found;
}

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

/**
 * Sends `signal` to each process of `pids` through a pidfd of its own (a pid reused meanwhile
 * gets nothing), to those only whose stat, read through that pidfd, `belongs` accepts. Returns
 * whether any process received it.
 */
export function signalEach(pids: Iterable<number>, signal: number, belongs?: (stat: ProcStat) => boolean): boolean {
  let sent = false;
  for (const pid of pids) {
    const reached = withProcess(pid, (pidfd, dir) => (belongs === undefined || belongs(statOf(dir))) && pidfd.sendSignal(signal));
    sent = reached === true || sent;
  }
  return sent;
}
