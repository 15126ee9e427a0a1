// The tree of processes `pidfd run` answers for: a per-run cgroup where one can be made (every
// descendant, whatever it does), else the command's process group (which a descendant leaves
// with setsid), else the command alone (in the foreground on a terminal, where the command shares
// pidfd's own process group).

import { readdirSync, readFileSync } from 'node:fs';

import { PidFd, type CgroupStats, type ProcDir, type Subprocess } from '../index.js';

export type TreeKind = 'cgroup' | 'process-group' | 'command';

export interface Tree {
  kind: TreeKind;
  /** Sends `signal` to every process of the tree. */
  kill(signal: number): Promise<void>;
  /** Sends `signal` to the tree's processes that are not in process group `pgrp`. */
  killOutside(signal: number, pgrp: number): Promise<void>;
  /** The pids of the tree now. */
  members(): number[];
  /** Resolves once the tree is empty (the command reaped, and, with a cgroup, every
   * descendant gone), with its cgroup's final figures where there is one. */
  done(): Promise<CgroupStats | null>;
  /** The cgroup's figures now, or null. */
  stats(): CgroupStats | null;
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

/** The fields of /proc/<pid>/stat after the command name: [state, ppid, pgrp, ...]. */
export function statFields(dir: ProcDir): string[] {
  const stat = dir.readFile('stat', 'latin1');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** Members of a process group, from /proc (for the fallback's timeline). */
function processGroupMembers(pgid: number): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]) === pgid) found.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** The tree of a command started by `pidfd run`. */
export function treeOf(child: Subprocess, ownGroup: boolean): Tree {
  const cgroup = child.cgroup;
  if (cgroup !== null) {
    return {
      kind: 'cgroup',
      kill: (signal) => cgroup.kill(signal),
      killOutside: async (signal, pgrp) => {
        for (const pid of cgroup.pids()) {
          withProcess(pid, (pidfd, dir) => {
            if (Number(statFields(dir)[2]) !== pgrp) pidfd.sendSignal(signal);
          });
        }
      },
      members: () => cgroup.pids(),
      done: async () => {
        await child.exited.catch(() => {});
        return cgroup.empty;
      },
      stats: () => cgroup.stats(),
    };
  }
  if (ownGroup) {
    return {
      kind: 'process-group',
      kill: async (signal) => {
        // The group outlives its leader: signal it through the leader's pidfd while the leader
        // is ours (Linux 6.9), else by number — the leader's pid is its id and cannot be reused
        // while any member lives.
        try {
          if (!child.pidfd.closed && child.pidfd.sendSignal(signal, { processGroup: true })) return;
        } catch {
          // before Linux 6.9: below
        }
        try {
          process.kill(-child.pid, signal);
        } catch {
          // the group is empty
        }
      },
      killOutside: async () => {},
      members: () => processGroupMembers(child.pid),
      done: async () => {
        await child.exited.catch(() => {});
        return null;
      },
      stats: () => null,
    };
  }
  return {
    kind: 'command',
    kill: async (signal) => {
      child.kill(signal);
    },
    killOutside: async () => {},
    members: () => (child.exitStatus === null ? [child.pid] : []),
    done: async () => {
      await child.exited.catch(() => {});
      return null;
    },
    stats: () => null,
  };
}
