// The process tree of a run: how its first process is started so that every descendant can be
// reached, and the Tree interface through which run() signals the whole tree, waits for it to be
// empty and releases it. Two implementations, as the exit watcher has (native/watch.h):
//  - cgroup-tree.ts, wherever a per-run cgroup can be made (issue 9, src/cgroup/): the first
//    process starts inside a cgroup of its own, and every descendant is a member;
//  - group-tree.ts elsewhere: the first process leads a process group of its own, or is alone.
// Either way the first process stays in this process's group when it uses this process's
// terminal (kills then reach it alone, unless a cgroup holds the tree), the watchdog guards the
// tree when `cleanup` is on, and a signal is followed by SIGCONT after the same signals
// (treeSignalRule(), src/signals.ts).

import { isatty } from 'node:tty';
import { isMainThread } from 'node:worker_threads';

import { constants } from '../binding.js';
import type { CgroupStats } from '../cgroup/cgroup.js';
import { probeCgroups } from '../cgroup/hierarchy.js';
import type { CgroupSettings, ParsedCgroupSettings } from '../cgroup/settings.js';
import { SpawnError } from '../errors.js';
import { SIGKILL } from '../signals.js';
import type { Backend } from '../process/spec.js';
import { startSubprocess } from '../process/spawn.js';
import type { StdioEntry } from '../process/stdio.js';
import type { Subprocess } from '../process/subprocess.js';
import { runChildSpec, type RunChild, type TreePlacement } from './child-spec.js';
import { CgroupTree } from './cgroup-tree.js';
import { GroupTree } from './group-tree.js';
import { ensureWatchdog } from './watchdog.js';

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
  onStart?: (tree: Tree) => void;
}

/**
 * Whether a child given these stdio fds would use this process's terminal. A child that reads
 * the terminal from a process group of its own is stopped (SIGTTIN), as is one that sets its
 * modes (SIGTTOU): such a child stays in this process's group, as under a shell's `time`.
 */
export function usesTerminal(stdio: readonly StdioEntry[]): boolean {
  const fdKind = constants().stdioKind.fd;
  return stdio.some((entry) => entry.target <= 2 && entry.kind === fdKind && isatty(entry.fd));
}

/** The tree of one run: a per-run cgroup (CgroupTree) or a process group, or the first process
 * alone (GroupTree). */
export interface Tree {
  /** How the first process was started: leading a group of its own, or in this process's. */
  readonly reach: Reach;
  /** Whether the tree is a cgroup of its own. */
  readonly hasCgroup: boolean;
  /** Has the watchdog kill the tree if this process dies. */
  guard(): void;
  /**
   * Sends `signal` to every process of the tree, then SIGCONT where treeSignalRule() says so
   * (after a signal that would end a process, SIGKILL aside, so that stopped members act on it,
   * as timeout(1) does; a stop signal stops the tree). Returns whether any process received it
   * (a cgroup: whether the tree had a member when it was sent).
   */
  kill(signal: number): boolean;
  /** The pids of the tree now: its cgroup's, its process group's (from /proc), or the first
   * process's while it runs. */
  members(): number[];
  /** Whether any process of the tree is left, zombies aside. */
  alive(): boolean;
  /** Resolves with true once the tree is empty (zombies aside), or with false after `limitMs`. */
  empty(limitMs: number): Promise<boolean>;
  /**
   * Resolves once a cgroup whose members have all exited, or are exiting, has been seen empty by
   * the library: a process closes its files (the run's output reaches EOF) before it leaves its
   * cgroup, and `populated 0` is notified a moment after that. Then the figures are final and the
   * directory removed when the run settles. A tree with a live member (a daemon the command
   * left), or a process group, resolves at once.
   */
  settled(): Promise<void>;
  /** The tree's own figures: only a per-run cgroup has them (its final ones once empty). */
  figures(): CgroupFigures | undefined;
  /**
   * The run is over. A run that was not killed is over whatever its tree still holds: what the
   * command left running on purpose (a daemon: `ssh-agent`, `tmux new -d`) is on its own, as
   * with execa, and the watchdog forgets the tree. A killed run's tree that has not emptied yet
   * (a member out of SIGKILL's reach for a moment) stays guarded until it is empty or the event
   * loop empties: until then, this process's death kills it too. Our copy of the pidfd, or of
   * the cgroup's directory, is closed once the tree is no longer guarded.
   */
  release(killed: boolean): void;
}

/** A started run: its first process, and its tree. */
export interface StartedTree {
  subprocess: Subprocess;
  tree: Tree;
}

/** Whether an error of a start with a per-run cgroup came from making the cgroup (no cgroup v2,
 * a parent this process cannot write or make directories in), before any child existed. */
export function cgroupUnavailable(error: unknown): boolean {
  if (error instanceof SpawnError) return false;
  const e = error as { code?: string; syscall?: string };
  return e.code === 'ERR_PIDFD_CGROUP_UNAVAILABLE' || e.syscall === 'mkdir';
}

/** Starts the first process of the run: in a cgroup of its own when `cgroup` is given, else in
 * the existing cgroup `join` when that is given. */
function startFirst(
  n: RunChild,
  stdio: readonly StdioEntry[],
  place: Omit<TreePlacement, 'cgroup'>,
  cgroup: ParsedCgroupSettings | null,
  join: string | undefined,
): Subprocess {
  const choice: TreePlacement['cgroup'] =
    cgroup !== null ? { kind: 'own', settings: cgroup } : join === undefined ? { kind: 'none' } : { kind: 'path', path: join };
  return startSubprocess(runChildSpec(n, stdio, { ...place, cgroup: choice }));
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
export function startTree(
  n: RunChild,
  stdio: readonly StdioEntry[],
  settings: TreeSettings,
  cleanup: boolean,
  launch?: Launch,
): StartedTree {
  const reach: Reach = launch?.reach ?? (settings.enabled && !usesTerminal(stdio) ? 'group' : 'leader');
  const join = launch?.cgroupPath;
  // Without settings, a cgroup is tried where the probe made one (once per process); where it
  // made none, the process group is the tree without a failed attempt per run.
  let cgroup = join === undefined ? settings.cgroup : null;
  if (cgroup !== null && !settings.required && probeCgroups().reason !== null) cgroup = null;
  // In the main thread a lone process is already covered by the parent-death signal.
  const guarded = cleanup && (cgroup !== null || reach === 'group' || !isMainThread);
  if (guarded) ensureWatchdog();
  const place = { pgid: reach === 'group' ? 0 : -1, pdeathsig: cleanup && isMainThread ? SIGKILL : 0, backend: launch?.backend };
  let subprocess: Subprocess;
  try {
    subprocess = startFirst(n, stdio, place, cgroup, join);
  } catch (error) {
    // The default tree falls back to the process group where its cgroup cannot be made after
    // all (the parent named by $PIDFD_CGROUP_PARENT went away, or lost its write access).
    if (cgroup === null || settings.required || !cgroupUnavailable(error)) throw error;
    subprocess = startFirst(n, stdio, place, null, join);
  }
  const tree: Tree = subprocess.cgroup === null ? new GroupTree(subprocess, reach) : new CgroupTree(subprocess, subprocess.cgroup, reach);
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

