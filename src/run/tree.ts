// The process tree of a run: how its first process is started so that every descendant can be
// reached, how the whole tree is signalled, and how to know that it is empty. Everything run()
// does to "the tree" goes through here.
//
// Wherever a per-run cgroup can be made (issue 9, src/cgroup/), the tree is one: the first process
// starts inside a cgroup of its own (spawn's `cgroup` settings, limits written first), kill() is
// the cgroup's kill() (cgroup.kill, or freeze, signal each member, thaw), which reaches setsid'd
// and double-forked descendants too, empty() is its `empty` promise (`populated 0`, an event),
// figures() its stats(), and the directory is removed by the cgroup itself once the tree is
// empty. Elsewhere the tree is a process group: the child leads a new group, and the group is
// signalled through the leader's pidfd (PIDFD_SIGNAL_PROCESS_GROUP, Linux 6.9; before that, each
// member through a pidfd of its own); a descendant that leaves the group (setsid, setpgid) is out of reach, and
// "empty" is checked at growing intervals. Either way the first process stays in this process's
// group when it uses this process's terminal (kills then reach it alone, unless a cgroup holds
// the tree), and the watchdog guards the tree when `cleanup` is on.

import { closeSync, constants as fs, openSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isatty } from 'node:tty';
import { isMainThread } from 'node:worker_threads';

import { constants } from '../binding.js';
import { disownCgroup, type Cgroup, type CgroupStats } from '../cgroup/cgroup.js';
import { probeCgroups } from '../cgroup/hierarchy.js';
import type { CgroupSettings, ParsedCgroupSettings } from '../cgroup/settings.js';
import { SpawnError } from '../errors.js';
import { treeSignalRule } from '../signals.js';
import { buildPlan, type Backend, type ChildSpec } from '../process/options.js';
import { PidFd } from '../process/pidfd.js';
import { statFields, withProcess } from '../process/procfs.js';
import { start } from '../process/start.js';
import { handOver } from '../process/stdio.js';
import { createSubprocess, type Subprocess } from '../process/subprocess.js';
import type { RunTree } from './portable.js';
import { ensureWatchdog, guard, unguard, type GuardKind } from './watchdog.js';

const SIGKILL = 9;
const SIGCONT = 18;

/** The `tree` option's object: the settings of the run's cgroup, as spawn's `cgroup` option
 * takes them (where it is made, and limits for the whole tree). */
export type TreeLimits = CgroupSettings;

/** The `tree` option, checked. */
export interface TreeSettings {
  /** false: `tree: false`, the command alone. */
  enabled: boolean;
  /** The cgroup to make for the run: null for none. */
  cgroup: ParsedCgroupSettings | null;
  /** An object was given (limits, a parent): the run fails where its cgroup cannot be made,
   * rather than running without its limits. With `tree: true` (the default) it falls back to a
   * process group. */
  required: boolean;
}

/** The tree's own figures, from its cgroup: present only when the run had one (its cgroup's
 * stats() when the run ended, and where it was). */
export interface CgroupFigures extends CgroupStats {
  /** The cgroup's directory (removed once the tree is empty). */
  path: string;
}

/** How the tree is reached: its whole process group, or its first process alone. */
export type Reach = 'group' | 'leader';

/**
 * How `pidfd run` starts a run where run() decides by itself; not options of run(), set by the
 * command on the checked options (NormalizedRun's `launch`).
 */
export interface Launch {
  /** A process group of its own ('group') or this process's ('leader'), whatever the stdio. */
  reach?: Reach;
  /** Start the first process in this existing cgroup v2 directory (no cgroup of its own). */
  cgroupPath?: string;
  /** The spawn backend of this start. */
  backend?: Backend;
  /** With a per-run cgroup, the run ends once the whole tree has: daemons are waited for. */
  waitForTree?: boolean;
  /** Called with the tree once the first process has started. */
  onStart?: (tree: RunTree) => void;
}

/** Whether this kernel lets a pidfd signal a process group (6.9); learnt at the first try. */
let groupSignals = true;

/** Test hook (src/internal/testing.ts): signal a group's members one by one, as before 6.9. */
export let forceMemberSignals: (on: boolean) => void;
let memberSignalsForced = false;

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
 * The processes of group `pgid` that are more than zombies, from /proc (null without /proc);
 * with `first`, only the first one found. Signal 0 reaches zombies too, and the orphans of a
 * killed tree are zombies until their new parent reaps them, which some container inits do late
 * or never. The number cannot name another group meanwhile: a pid stays allocated while any
 * process has it as its group id.
 */
function groupMembers(pgid: number, first = false): number[] | null {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return null;
  }
  const found: number[] = [];
  for (const name of names) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'latin1');
    } catch {
      continue; // gone meanwhile
    }
    // pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ', 3);
    if (Number(fields[2]) === pgid && fields[0] !== 'Z' && fields[0] !== 'X') {
      found.push(Number(name));
      if (first) break;
    }
  }
  return found;
}

/** A started run: its first process, and its tree. */
export interface StartedTree {
  subprocess: Subprocess;
  tree: Tree;
}

/** Whether an error of a start with a per-run cgroup came from making the cgroup (no cgroup v2,
 * a parent this process cannot write or make directories in), before any child existed. */
function cgroupUnavailable(error: unknown): boolean {
  if (error instanceof SpawnError) return false;
  const e = error as { code?: string; syscall?: string };
  return e.code === 'ERR_PIDFD_CGROUP_UNAVAILABLE' || e.syscall === 'mkdir';
}

/** Starts the first process of `spec`: in a cgroup of its own when `cgroup` is given, else in
 * the existing cgroup `join` when that is given. */
function startFirst(spec: ChildSpec, cgroup: ParsedCgroupSettings | null, join: string | undefined): Subprocess {
  if (cgroup !== null) spec.cgroup = { path: null, fd: -1, run: cgroup, given: true };
  else spec.cgroup = join === undefined ? undefined : { path: join, fd: -1, run: null, given: join };
  const n = buildPlan(spec);
  const subprocess = createSubprocess(start(n, { ref: true }), n);
  handOver(n.stdio);
  return subprocess;
}

/**
 * Starts the first process of a run as a tree: in a per-run cgroup wherever one can be made (a
 * `tree` object requires one: its limits are written before the child starts, and a cgroup that
 * cannot be made, or a limit whose controller is not delegated, fails the run before anything
 * runs); in a new process group unless it uses this process's terminal or the run is not a
 * tree; with the kernel's parent-death SIGKILL when `cleanup` is on in the main thread (the
 * thread that spawns is the kernel's "parent": in a worker, that would be the worker); and
 * guarded by the watchdog when `cleanup` is on. Throws a SpawnError if the program could not
 * start, and the cgroup's error (code ERR_PIDFD_CGROUP_*, or errno, syscall and path) if a
 * required cgroup could not be made.
 */
export function startTree(spec: ChildSpec, settings: TreeSettings, cleanup: boolean, launch?: Launch): StartedTree {
  const reach: Reach = launch?.reach ?? (settings.enabled && !usesTerminal(spec) ? 'group' : 'leader');
  const join = launch?.cgroupPath;
  spec.backend = launch?.backend;
  // Without settings, a cgroup is tried where the probe made one (once per process); where it
  // made none, the process group is the tree without a failed attempt per run.
  let cgroup = join === undefined ? settings.cgroup : null;
  if (cgroup !== null && !settings.required && probeCgroups().reason !== null) cgroup = null;
  // In the main thread a lone process is already covered by the parent-death signal.
  const guarded = cleanup && (cgroup !== null || reach === 'group' || !isMainThread);
  if (guarded) ensureWatchdog();
  spec.pgid = reach === 'group' ? 0 : -1;
  spec.pdeathsig = cleanup && isMainThread ? SIGKILL : 0;
  let subprocess: Subprocess;
  try {
    subprocess = startFirst(spec, cgroup, join);
  } catch (error) {
    // The default tree falls back to the process group where its cgroup cannot be made after
    // all (the parent named by $PIDFD_CGROUP_PARENT went away, or lost its write access).
    if (cgroup === null || settings.required || !cgroupUnavailable(error)) throw error;
    subprocess = startFirst(spec, null, join);
  }
  const tree = new Tree(subprocess, reach);
  if (guarded) {
    try {
      tree.guard();
    } catch (error) {
      // Unguarded, the tree must not run: it is killed, and the run fails as if it had not
      // started (the subprocess is still reaped by the exit watcher, and its cgroup removed).
      tree.kill(SIGKILL);
      tree.release(true);
      for (const stream of subprocess.stdio) stream?.destroy();
      throw error;
    }
  }
  return { subprocess, tree };
}

/** Whether a cgroup still holds a process, as the kernel says now (cgroup.events). */
function populated(cgroup: Cgroup): boolean {
  try {
    return !/^populated 0$/m.test(readFileSync(join(cgroup.path, 'cgroup.events'), 'latin1'));
  } catch {
    return false; // removed: empty
  }
}

/** PF_EXITING in /proc/<pid>/stat's flags: the process is in exit(), past closing its files. */
const PF_EXITING = 0x4;

/** Whether process `pid` is exiting (or gone). */
function exiting(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // pid (comm) state ppid pgrp session tty_nr tpgid flags ...
    return (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ', 7)[6]) & PF_EXITING) !== 0;
  } catch {
    return true;
  }
}

/** The tree of one run. */
export class Tree {
  readonly reach: Reach;
  readonly #subprocess: Subprocess;
  /** The run's cgroup, or null: then the tree is the process group (or the leader). */
  readonly #cgroup: Cgroup | null;
  /** The cgroup's `empty` has resolved: it is empty and its directory removed. */
  #emptied = false;
  /** The cgroup's directory, open for the watchdog while it guards the tree; else -1. */
  #dirfd = -1;
  /** The leader's pidfd, our own copy: a group can still be signalled after the leader has
   * been reaped (the subprocess's pidfd is closed then), and no pid number is ever used. */
  #pidfd: PidFd | null = null;
  #guardId: bigint | undefined;

  constructor(subprocess: Subprocess, reach: Reach) {
    this.reach = reach;
    this.#subprocess = subprocess;
    this.#cgroup = subprocess.cgroup;
    if (this.#cgroup !== null) {
      void this.#cgroup.empty.then(() => {
        this.#emptied = true;
      });
    } else if (reach === 'group') {
      this.#pidfd = subprocess.pidfd.dup();
    }
  }

  /** Has the watchdog kill the tree if this process dies. */
  guard(): void {
    const cgroup = this.#cgroup;
    if (cgroup !== null) {
      // Opened while the directory cannot have been removed yet (we are still in the call that
      // started the child: its exit is delivered in a later turn at the earliest).
      this.#dirfd = openSync(cgroup.path, fs.O_RDONLY | fs.O_DIRECTORY);
      this.#guardId = guard({
        kind: 'addCgroup',
        pid: 0,
        fd: () => this.#dirfd,
        alive: () => this.alive(),
        released: () => this.#close(),
      });
      return;
    }
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
   * Sends `signal` to every process of the tree; after a signal that would end a process
   * (SIGKILL aside), stopped processes get SIGCONT, so that they act on it (as timeout(1) does);
   * a stop signal stops the tree. One rule for every kind of tree: treeSignalRule(). Returns
   * whether any process received it (with a cgroup: whether the tree had a member when it was
   * sent).
   */
  kill(signal: number): boolean {
    const cgroup = this.#cgroup;
    const { continueStopped } = treeSignalRule(signal);
    if (cgroup !== null) {
      if (this.#emptied) return false;
      const members = cgroup.pids();
      if (members.length === 0) return false;
      // SIGKILL is written to cgroup.kill here and now; another signal freezes the tree first,
      // which the kernel reports in a later turn.
      cgroup.kill(signal).catch((error: Error) => {
        // Not expected (cgroup.freeze exists since Linux 5.2). The members are signalled one by
        // one instead, without the freeze, and the failure is said.
        process.emitWarning(`pidfd: killing the tree in ${cgroup.path} failed (${error.message}); its members were signalled one by one`, {
          code: 'PIDFD_TREE_KILL',
        });
        for (const pid of cgroup.pids()) {
          try {
            const pidfd = PidFd.open(pid);
            pidfd.sendSignal(signal);
            if (continueStopped) pidfd.sendSignal(SIGCONT);
            pidfd.close();
          } catch {
            // gone meanwhile
          }
        }
      });
      return true;
    }
    const sent = this.#signal(signal);
    if (sent && continueStopped) this.#signal(SIGCONT);
    return sent;
  }

  /** Whether the tree is a cgroup of its own (else a process group, or the first process). */
  get hasCgroup(): boolean {
    return this.#cgroup !== null;
  }

  /** The pids of the tree now: its cgroup's, its process group's (from /proc), or the first
   * process's while it runs. */
  members(): number[] {
    if (this.#cgroup !== null) return this.#emptied ? [] : this.#cgroup.pids();
    if (this.reach === 'group' && this.#pidfd !== null) return groupMembers(this.#subprocess.pid) ?? [];
    return this.#subprocess.exitStatus === null ? [this.#subprocess.pid] : [];
  }

  /** Whether any process of the tree is left, zombies aside. */
  alive(): boolean {
    if (this.#cgroup !== null) return !this.#emptied && populated(this.#cgroup);
    if (!this.#signal(0)) return false;
    if (this.reach === 'leader' || this.#pidfd === null) return true;
    // Signal 0 said the group has members: whether one is more than a zombie (no /proc: take
    // signal 0's word).
    return (groupMembers(this.#subprocess.pid, true)?.length ?? 1) > 0;
  }

  /**
   * Resolves with true once the tree is empty (zombies aside), or with false after `limitMs`. A
   * cgroup says when it is empty (`populated 0`); a process group gives no event: it is checked
   * (alive()) at growing intervals, 5 ms to 50 ms.
   */
  async empty(limitMs: number): Promise<boolean> {
    const cgroup = this.#cgroup;
    if (cgroup !== null) {
      if (this.#emptied) return true;
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<false>((resolve) => {
        if (limitMs !== Infinity) timer = setTimeout(resolve, limitMs, false);
      });
      try {
        return await Promise.race([cgroup.empty.then(() => true), late]);
      } finally {
        clearTimeout(timer);
      }
    }
    const deadline = Date.now() + limitMs;
    for (let pause = 5; this.alive(); pause = Math.min(pause * 2, 50)) {
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
    return true;
  }

  /**
   * Resolves once a cgroup whose members have all exited, or are exiting, has been seen empty by
   * the library: a process closes its files (the run's output reaches EOF) before it leaves its
   * cgroup, and `populated 0` is notified a moment after that. Then the figures are final and the
   * directory removed when the run settles. A tree with a live member (a daemon the command
   * left), or a process group, resolves at once.
   */
  async settled(): Promise<void> {
    const cgroup = this.#cgroup;
    if (cgroup !== null && !this.#emptied && cgroup.pids().every(exiting)) await cgroup.empty;
  }

  /** The tree's own figures: only a per-run cgroup has them (its final ones once empty). */
  figures(): CgroupFigures | undefined {
    const cgroup = this.#cgroup;
    return cgroup === null ? undefined : { path: cgroup.path, ...cgroup.stats() };
  }

  /**
   * The run is over. A run that was not killed is over whatever its tree still holds: what the
   * command left running on purpose (a daemon: `ssh-agent`, `tmux new -d`) is on its own, as
   * with execa. The watchdog forgets the tree, and the members left in its cgroup move to the
   * cgroup's parent (where a process started without a cgroup of its own would have been), so
   * that the directory goes as soon as the kernel reports it empty (a moment later; the watch
   * keeps Node alive until then) and is never left behind; where they cannot be moved (a parent
   * that enables controllers holds no process), the directory stays until they end, and the
   * watch no longer keeps Node alive. A killed run's tree that has not emptied yet (a member out
   * of SIGKILL's reach for a moment) stays guarded until it is empty or the event loop empties:
   * until then, this process's death kills it too, and its watch does not keep Node alive (as a
   * process group, which has no watch, does not). Our copy of the pidfd, or of the cgroup's
   * directory, is closed once the tree is no longer guarded.
   */
  release(killed: boolean): void {
    const cgroup = this.#cgroup;
    if (cgroup !== null && !this.#emptied) {
      if (killed) {
        this.#subprocess.unref();
        void cgroup.empty.then(() => this.#unguard(false));
        return;
      }
      this.#unguard(true);
      // Moved out, the tree is empty, and the kernel says so within 10 ms: the watch stays ref'd
      // until then, so that a process about to exit still removes the directory.
      if (!disownCgroup(cgroup)) this.#subprocess.unref();
      return;
    }
    this.#unguard(!killed);
  }

  #unguard(over: boolean): void {
    if (this.#guardId !== undefined) unguard(this.#guardId, over);
    else this.#close();
  }

  #close(): void {
    this.#pidfd?.close();
    this.#pidfd = null;
    if (this.#dirfd >= 0) closeSync(this.#dirfd);
    this.#dirfd = -1;
  }

  static {
    forceMemberSignals = (on) => {
      memberSignalsForced = on;
    };
  }

  #signal(signal: number): boolean {
    const pidfd = this.#pidfd;
    if (this.reach === 'leader' || pidfd === null) return this.#subprocess.kill(signal);
    if (groupSignals && !memberSignalsForced) {
      try {
        return pidfd.sendSignal(signal, { processGroup: true });
      } catch (error) {
        if ((error as { code?: string }).code !== 'EINVAL') throw error;
        groupSignals = false; // before Linux 6.9
      }
    }
    return this.#signalMembers(pidfd, signal);
  }

  /**
   * Before Linux 6.9 a pidfd cannot address a group, and kill(-pgid) could hit an unrelated group
   * once the group is empty and its number reused. The leader gets the signal through its
   * pidfd, and every other member found in /proc through a pidfd of its own, once its /proc
   * entry (read through that pidfd) says it is still in the group. A process forked after the
   * scan is missed; see docs/run.md.
   */
  #signalMembers(leader: PidFd, signal: number): boolean {
    const pgid = this.#subprocess.pid;
    let sent = leader.sendSignal(signal);
    for (const pid of groupMembers(pgid) ?? []) {
      if (pid === pgid) continue;
      const reached = withProcess(pid, (pidfd, dir) => Number(statFields(dir)[2]) === pgid && pidfd.sendSignal(signal));
      sent = reached === true || sent;
    }
    return sent;
  }
}
