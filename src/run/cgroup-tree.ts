// A run's tree that is a per-run cgroup (issue 9, src/cgroup/): the first process started inside
// a cgroup of its own, so that every descendant, setsid'd and double-forked ones included, is a
// member. kill() is the cgroup's kill() (cgroup.kill, or freeze, signal each member, thaw),
// empty() its `empty` promise (`populated 0`, an event), figures() its stats(); the directory is
// removed by the cgroup itself once the tree is empty. The other kind: group-tree.ts.

import { closeSync, constants as fs, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { disownCgroup, type Cgroup } from '../cgroup/cgroup.js';
import { signalName, signalTree } from '../signals.js';
import { PF_EXITING, readStat, signalEach } from '../process/procfs.js';
import type { Subprocess } from '../process/subprocess.js';
import type { CgroupFigures, Reach, Tree } from './tree.js';
import { guard, unguard } from './watchdog.js';

/** Whether a cgroup still holds a process, as the kernel says now (cgroup.events). */
function populated(cgroup: Cgroup): boolean {
  try {
    return !/^populated 0$/m.test(readFileSync(join(cgroup.path, 'cgroup.events'), 'latin1'));
  } catch {
    return false; // removed: empty
  }
}

/** Whether process `pid` is exiting (or gone). */
function exiting(pid: number): boolean {
  const stat = readStat(pid);
  return stat === undefined || (stat.flags & PF_EXITING) !== 0;
}

export class CgroupTree implements Tree {
  readonly reach: Reach;
  readonly hasCgroup = true;
  readonly #subprocess: Subprocess;
  readonly #cgroup: Cgroup;
  /** The cgroup's `empty` has resolved: it is empty and its directory removed. */
  #emptied = false;
  /** The cgroup's directory, open for the watchdog while it guards the tree; else -1. */
  #dirfd = -1;
  #guardId: bigint | undefined;

  constructor(subprocess: Subprocess, cgroup: Cgroup, reach: Reach) {
    this.reach = reach;
    this.#subprocess = subprocess;
    this.#cgroup = cgroup;
    void cgroup.empty.then(() => {
      this.#emptied = true;
    });
  }

  guard(): void {
    // Opened while the directory cannot have been removed yet (we are still in the call that
    // started the child: its exit is delivered in a later turn at the earliest).
    this.#dirfd = openSync(this.#cgroup.path, fs.O_RDONLY | fs.O_DIRECTORY);
    this.#guardId = guard({
      kind: 'addCgroup',
      pid: 0,
      fd: () => this.#dirfd,
      alive: () => this.alive(),
      released: () => this.#close(),
    });
  }

  kill(signal: number): boolean {
    const cgroup = this.#cgroup;
    if (this.#emptied || cgroup.pids().length === 0) return false;
    // SIGKILL is written to cgroup.kill here and now; another signal freezes the tree first,
    // which the kernel reports in a later turn. Cgroup.kill() follows treeSignalRule().
    cgroup.kill(signal).catch((error: Error) => {
      // Not expected (cgroup.freeze exists since Linux 5.2). The members are signalled one by
      // one instead, without the freeze, and the failure is said.
      process.emitWarning(`pidfd: ${signalName(signal)} to the tree in ${cgroup.path} failed (${error.message}); its members were signalled one by one`, {
        code: 'PIDFD_TREE_KILL',
      });
      signalTree((n) => signalEach(cgroup.pids(), n), signal);
    });
    return true;
  }

  members(): number[] {
    return this.#emptied ? [] : this.#cgroup.pids();
  }

  alive(): boolean {
    return !this.#emptied && populated(this.#cgroup);
  }

  async empty(limitMs: number): Promise<boolean> {
    if (this.#emptied) return true;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<false>((resolve) => {
      if (limitMs !== Infinity) timer = setTimeout(resolve, limitMs, false);
    });
    try {
      return await Promise.race([this.#cgroup.empty.then(() => true), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  async settled(): Promise<void> {
    const cgroup = this.#cgroup;
    if (!this.#emptied && cgroup.pids().every(exiting)) await cgroup.empty;
  }

  figures(): CgroupFigures {
    return { path: this.#cgroup.path, ...this.#cgroup.stats() };
  }

  /**
   * The members left in a run that was not killed (a daemon) move to the cgroup's parent, where
   * a process started without a cgroup of its own would have been, so that the directory goes as
   * soon as the kernel reports it empty (a moment later; the watch keeps Node alive until then);
   * where they cannot be moved (a parent that enables controllers holds no process), the
   * directory stays until they end, and the watch no longer keeps Node alive. A killed run's
   * tree that has not emptied yet stays guarded until it is empty, and its watch does not keep
   * Node alive.
   */
  release(killed: boolean): void {
    const cgroup = this.#cgroup;
    if (this.#emptied) {
      this.#unguard(!killed);
      return;
    }
    if (killed) {
      this.#subprocess.unref();
      void cgroup.empty.then(() => this.#unguard(false));
      return;
    }
    this.#unguard(true);
    // Moved out, the tree is empty, and the kernel says so within 10 ms: the watch stays ref'd
    // until then, so that a process about to exit still removes the directory.
    if (!disownCgroup(cgroup)) this.#subprocess.unref();
  }

  #unguard(over: boolean): void {
    if (this.#guardId !== undefined) unguard(this.#guardId, over);
    else this.#close();
  }

  #close(): void {
    if (this.#dirfd >= 0) closeSync(this.#dirfd);
    this.#dirfd = -1;
  }
}
