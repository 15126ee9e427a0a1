// The process tree of a run: how its first process is started so that every descendant can be
// reached, how the whole tree is signalled, and how to know that it is empty. Everything run()
// does to "the tree" goes through here.
//
// Today the tree is a process group: the child leads a new group, and the group is signalled
// through the leader's pidfd (PIDFD_SIGNAL_PROCESS_GROUP, Linux 6.9; before that, the leader
// alone). A descendant that leaves the group (setsid, setpgid: daemons, some shells' job control)
// is out of reach. The per-run cgroups of issue 9 are the tree's boundary where they can be
// made: startTree() then asks spawn for one (`cgroup: true` or the limits), kill() is the
// cgroup's kill(), empty() its `empty` promise, figures() its stats(), and release() removes it.

import { readdirSync, readFileSync } from 'node:fs';
import { isatty } from 'node:tty';
import { isMainThread } from 'node:worker_threads';

import { constants } from '../binding.js';
import { errno, pidfdError } from '../errors.js';
import { buildPlan, type ChildSpec } from '../process/options.js';
import type { PidFd } from '../process/pidfd.js';
import { start } from '../process/start.js';
import { handOver } from '../process/stdio.js';
import { createSubprocess, type Subprocess } from '../process/subprocess.js';
import { ensureWatchdog, guard, unguard, type GuardKind } from './watchdog.js';

const SIGKILL = 9;
const SIGCONT = 18;

/** Limits for a tree in a per-run cgroup (issue 9), passed through to it. */
export interface TreeLimits {
  /** The cgroup v2 directory under which the run's cgroup is made (default: the library's). */
  parent?: string;
  /** memory.max, in bytes. */
  memoryMax?: number;
  /** pids.max: how many processes and threads the tree may have at once. */
  pidsMax?: number;
  /** cpu.max as a number of CPUs (1.5: one and a half CPUs' worth of time). */
  cpuMax?: number;
}

/** The `tree` option, checked: whether the run is a tree, and its limits. */
export interface TreeSettings {
  enabled: boolean;
  limits: TreeLimits | undefined;
}

/** The tree's own figures, from its cgroup: present only when the run had one. */
export interface CgroupFigures {
  /** The cgroup's directory. */
  path: string;
  /** CPU time of every process that was in the tree, in microseconds (cpu.stat). */
  cpu: { usageUs: number; userUs: number; systemUs: number };
  /** Memory of the tree: now and at its peak, in bytes (memory.current, memory.peak), where the
   * memory controller is enabled. */
  memory?: { current: number; peak: number };
  /** Processes in the tree: now and at the peak (pids.current, pids.peak), where the pids
   * controller is enabled. */
  pids?: { current: number; peak: number };
  /** How many times the kernel's OOM killer killed a process of the tree (memory.events). */
  oomKills?: number;
}

/** How the tree is reached: its whole process group, or its first process alone. */
type Reach = 'group' | 'leader';

/** Whether this kernel lets a pidfd signal a process group (6.9); learnt at the first try. */
let groupSignals = true;

/**
 * Whether a child given these stdio fds would use this process's terminal. A child that reads
 * the terminal from a process group of its own is stopped (SIGTTIN), as is one that sets its
 * modes (SIGTTOU): such a child stays in this process's group, as under a shell's `time`.
 */
function usesTerminal(spec: ChildSpec): boolean {
  const fdKind = constants().stdioKind.fd;
  return spec.stdio.some((entry) => entry.target <= 2 && entry.kind === fdKind && isatty(entry.fd));
}

/**
 * Whether a process of group `pgid` is still running. Signal 0 reaches zombies too, and the
 * orphans of a killed tree are zombies until their new parent reaps them, which some container
 * inits do late or never: so when signal 0 says the group has members, /proc says whether one is
 * more than a zombie. The number cannot name another group meanwhile: a pid stays allocated
 * while any process has it as its group id.
 */
function groupHasLiveMember(pgid: number): boolean {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return true; // no /proc: take signal 0's word
  }
  for (const name of names) {
    const first = name.charCodeAt(0);
    if (first < 48 || first > 57) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'latin1');
    } catch {
      continue; // gone meanwhile
    }
    // pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ', 3);
    if (Number(fields[2]) === pgid && fields[0] !== 'Z' && fields[0] !== 'X') return true;
  }
  return false;
}

/** A started run: its first process, and its tree. */
export interface StartedTree {
  subprocess: Subprocess;
  tree: Tree;
}

/**
 * Starts the first process of a run as a tree: in a new process group (unless it uses this
 * process's terminal, or the run is not a tree), with the kernel's parent-death SIGKILL when
 * `cleanup` is on in the main thread (the thread that spawns is the kernel's "parent": in a
 * worker, that would be the worker), and guarded by the watchdog when `cleanup` is on. Throws
 * a SpawnError if the program could not start, and an error with code ENOTSUP for limits, which
 * need a per-run cgroup.
 */
export function startTree(spec: ChildSpec, settings: TreeSettings, cleanup: boolean): StartedTree {
  if (settings.limits !== undefined) {
    throw Object.assign(
      pidfdError(
        'ENOTSUP',
        'the `tree` option\'s limits need a per-run cgroup, which this version of pidfd cannot make yet ' +
          '(its trees are process groups); pass `tree: true`',
      ),
      { errno: -errno.ENOTSUP, syscall: 'mkdir' },
    );
  }
  const reach: Reach = settings.enabled && !usesTerminal(spec) ? 'group' : 'leader';
  // In the main thread a lone process is already covered by the parent-death signal.
  const guarded = cleanup && (reach === 'group' || !isMainThread);
  if (guarded) ensureWatchdog();
  spec.pgid = reach === 'group' ? 0 : -1;
  spec.pdeathsig = cleanup && isMainThread ? SIGKILL : 0;
  const n = buildPlan(spec);
  const subprocess = createSubprocess(start(n, { ref: true }), n);
  handOver(n.stdio);
  const tree = new Tree(subprocess, reach);
  if (guarded) {
    try {
      tree.guard();
    } catch (error) {
      // Unguarded, the tree must not run: it is killed, and the run fails as if it had not
      // started (the subprocess is still reaped by the exit watcher).
      tree.kill(SIGKILL);
      tree.release();
      for (const stream of subprocess.stdio) stream?.destroy();
      throw error;
    }
  }
  return { subprocess, tree };
}

/** The tree of one run. */
export class Tree {
  readonly reach: Reach;
  readonly #subprocess: Subprocess;
  /** The leader's pidfd, our own copy: a group can still be signalled after the leader has
   * been reaped (the subprocess's pidfd is closed then), and no pid number is ever used. */
  #pidfd: PidFd | null;
  #guardId: bigint | undefined;

  constructor(subprocess: Subprocess, reach: Reach) {
    this.reach = reach;
    this.#subprocess = subprocess;
    this.#pidfd = reach === 'group' ? subprocess.pidfd.dup() : null;
  }

  /** Has the watchdog kill the tree if this process dies. */
  guard(): void {
    const kind: GuardKind = this.reach === 'group' ? 'addGroup' : 'addLeader';
    // A lone process is guarded through a copy of its pidfd, taken while it cannot have been
    // reaped yet (we are still in the call that started it).
    this.#pidfd ??= this.#subprocess.pidfd.dup();
    const pidfd = this.#pidfd;
    this.#guardId = guard({
      kind,
      pid: this.reach === 'group' ? this.#subprocess.pid : 0,
      fd: () => pidfd.fd,
      alive: () => this.alive(),
      released: () => this.#close(),
    });
  }

  /**
   * Sends `signal` to every process of the tree; a signal other than SIGKILL is followed by
   * SIGCONT, so that a stopped process acts on it (as timeout(1) does). Returns whether any
   * process received it.
   */
  kill(signal: number): boolean {
    const sent = this.#signal(signal);
    if (sent && signal !== SIGKILL && signal !== SIGCONT) this.#signal(SIGCONT);
    return sent;
  }

  /** Whether any process of the tree is left, zombies aside. */
  alive(): boolean {
    if (!this.#signal(0)) return false;
    return this.reach === 'leader' || this.#pidfd === null || groupHasLiveMember(this.#subprocess.pid);
  }

  /**
   * Resolves with true once the tree is empty (zombies aside), or with false after `limitMs`. A
   * process group gives no event when it empties: it is checked (alive()) at growing intervals,
   * 5 ms to 50 ms. The cgroup path resolves on `populated 0` instead.
   */
  async empty(limitMs: number): Promise<boolean> {
    const deadline = Date.now() + limitMs;
    for (let pause = 5; this.alive(); pause = Math.min(pause * 2, 50)) {
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
    return true;
  }

  /** The tree's own figures: only a per-run cgroup has them. */
  figures(): CgroupFigures | undefined {
    return undefined;
  }

  /** The run is over: our copy of the pidfd is closed, unless the watchdog still guards a group
   * that has members left (then when it is found empty). */
  release(): void {
    if (this.#guardId !== undefined) unguard(this.#guardId);
    else this.#close();
  }

  #close(): void {
    this.#pidfd?.close();
    this.#pidfd = null;
  }

  #signal(signal: number): boolean {
    const pidfd = this.#pidfd;
    if (this.reach === 'leader' || pidfd === null) return this.#subprocess.kill(signal);
    if (groupSignals) {
      try {
        return pidfd.sendSignal(signal, { processGroup: true });
      } catch (error) {
        if ((error as { code?: string }).code !== 'EINVAL') throw error;
        // Before Linux 6.9 a pidfd cannot address a group: the leader alone (see docs/run.md).
        groupSignals = false;
      }
    }
    return pidfd.sendSignal(signal);
  }
}
