// Cgroup: the per-run cgroup v2 directory of a child, and the tree of every process it starts.
// Created before the child (limits written first), placed from the child's first instruction
// (clone3's CLONE_INTO_CGROUP, or the child's own write to cgroup.procs before execve), watched
// through cgroup.events by the process layer, and removed once the tree is empty and the child
// reaped.
//
// Over 350 lines on purpose: one cgroup's life (create, place, watch, freeze, kill, measure,
// disown, remove) is one class whose private state every step reads; the leftovers' sweep and
// the small file readers above it are what it alone uses.

import { closeSync, constants as fsConstants, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

import { binding } from '../binding.js';
import { errno, pidfdError, systemError } from '../errors.js';
import { SIGCONT, SIGKILL, signalNumber, treeSignalRule, type Signal } from '../signals.js';
import { availableControllers, cgroupParent, enabledControllers, writable } from './hierarchy.js';
import type { ParsedCgroupSettings } from './settings.js';

/** What a tree has used, from its cgroup's interface files. */
export interface CgroupStats {
  /** CPU time of every process that ran in the tree, waited for or not (cpu.stat), in µs. */
  cpu: { usageUs: number; userUs: number; systemUs: number };
  /** Bytes, where the memory controller is enabled for the tree (memory.current, memory.peak). */
  memory: { current: number; peak: number | null } | null;
  /** Processes, where the pids controller is enabled (pids.current, pids.peak). */
  pids: { current: number; peak: number | null } | null;
  /** Processes the OOM killer ended in the tree (memory.events), where the controller is enabled. */
  oomKills: number | null;
  /** Bytes read and written by the tree (io.stat), where the io controller is enabled. */
  io: { readBytes: number; writeBytes: number } | null;
}

let sequence = 0;

/** Creates the per-run cgroup for one spawn (the process layer only). */
export let createRunCgroup: (settings: ParsedCgroupSettings) => Cgroup;
/** The tree's state changed (a cgroup.events record): populated and frozen, -1 if unknown. */
export let noteCgroupEvents: (cgroup: Cgroup, populated: number, frozen: number) => void;
/**
 * The child that leads the tree has been reaped. Returns whether the tree is empty now: a child's
 * exit leaves its cgroup at once (before its pidfd is readable), so a tree without daemons is
 * known to be empty here, without waiting for cgroup.events's notification, which the kernel
 * holds back for up to 10 ms after the previous one (CGROUP_FILE_NOTIFY_MIN_INTV).
 */
export let noteLeaderReaped: (cgroup: Cgroup) => boolean;
/**
 * The run of the tree is over while some of its processes still run (daemons it left): they move
 * to the cgroup's parent, and the directory, empty then, is removed when the kernel says so (its
 * watch, a moment later). Returns whether the tree is empty now; false where they cannot be
 * moved (a parent that enables controllers for its children may hold no process: EBUSY; no
 * write access: EACCES): they stay, and the directory goes once they have ended.
 */
export let disownCgroup: (cgroup: Cgroup) => boolean;
/** The spawn failed: remove the directory at once. */
export let discardCgroup: (cgroup: Cgroup) => void;
/**
 * The run of a tree that is most likely empty is over (runSync(): its first process reaped, no
 * kill): one rmdir, and true if the directory is gone (or was removed from outside); false, with
 * nothing changed, where it cannot go yet (members left, or cgroups a workload made inside it).
 */
export let removeEmptyCgroup: (cgroup: Cgroup) => boolean;
/** Test hook: kill() through freeze → signal → thaw even for SIGKILL, as without cgroup.kill. */
export let forceFreezeKill: (on: boolean) => void;
let freezeKillForced = false;

const smallFile = Buffer.allocUnsafe(4096);

/**
 * A small interface file's text (cpu.stat, cgroup.controllers, cgroup.events...): open, read and
 * close, without readFileSync's fstat, chunk buffers and concatenation, a quarter of its cost
 * (stats() runs on every runSync() and every run() with a cgroup). A file that fills the buffer is
 * read again whole.
 */
function readSmall(path: string): string {
  const fd = openSync(path, fsConstants.O_RDONLY);
  let length = 0;
  try {
    for (;;) {
      const got = readSync(fd, smallFile, length, smallFile.length - length, null);
      if (got === 0) break;
      length += got;
      if (length === smallFile.length) return readFileSync(path, 'latin1');
    }
  } finally {
    closeSync(fd);
  }
  return smallFile.toString('latin1', 0, length);
}

function readNumber(path: string): number | null {
  try {
    const text = readSmall(path).trim();
    return text === 'max' ? Infinity : Number(text);
  } catch {
    return null;
  }
}

/** "key value" lines (cpu.stat, memory.events) as a map. */
function readKeyed(path: string): Map<string, number> | null {
  try {
    const map = new Map<string, number>();
    for (const line of readSmall(path).split('\n')) {
      const [key, value] = line.split(' ');
      if (key && value !== undefined) map.set(key, Number(value));
    }
    return map;
  } catch {
    return null;
  }
}

/** Removes a cgroup directory and the cgroups a workload made inside it, deepest first. */
function removeTree(dir: string): void {
  try {
    rmdirSync(dir);
    return;
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return;
    if ((error as { code?: string }).code !== 'EBUSY') throw error;
  }
  for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) removeTree(join(dir, entry.name));
  rmdirSync(dir);
}

/** How old a leftover directory must be before sweepLeftovers() takes it (see there). */
const LEFTOVER_AGE_MS = 1000;
const swept = new Set<string>();

/**
 * Removes the per-run cgroups that processes which died without removing them left in `parent`:
 * a process killed by SIGKILL runs no code, its watchdog kills its trees (native/watchdog.c), and
 * nobody is left to remove their directories. Taken: `pidfd-<pid>-<n>` directories whose
 * process is gone (no /proc/<pid>; this process's own pid too, for a directory older than this
 * process: a pid reused, as a container's pid 1 always is), whose tree is empty (`populated 0`:
 * nested cgroups included, so nothing inside is touched otherwise), and at least a second old.
 * A live owner that /proc cannot show (another pid namespace, hidepid) may lose a directory
 * whose tree has just ended; its watch then reads the removal as the empty tree it is
 * (native/exit.c), so it still settles. Once per parent in each process: the first per-run
 * cgroup made there sweeps it.
 */
function sweepLeftovers(parent: string): void {
  if (swept.has(parent)) return;
  swept.add(parent);
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return;
  }
  const started = performance.timeOrigin;
  for (const name of names) {
    const owner = /^pidfd-(\d+)-(?:\d+|probe)$/.exec(name)?.[1];
    if (owner === undefined) continue;
    const mine = Number(owner) === process.pid;
    if (!mine && existsSync(`/proc/${owner}`)) continue;
    const dir = join(parent, name);
    try {
      const born = statSync(dir).ctimeMs;
      if (Date.now() - born < LEFTOVER_AGE_MS || (mine && born >= started)) continue;
      if (!/^populated 0$/m.test(readFileSync(join(dir, 'cgroup.events'), 'latin1'))) continue;
      removeTree(dir);
    } catch {
      // removed meanwhile by another sweep, or populated again: left
    }
  }
}

/** The per-run cgroup of a Subprocess: the boundary of every process the child starts. */
export class Cgroup {
  /** The cgroup's directory (it exists until the tree is empty and the child reaped). */
  readonly path: string;
  /**
   * Resolves once the tree is empty (no process left in the cgroup: `populated 0`, watched in
   * the event loop, never polled) and the child reaped, with the tree's final figures; the
   * directory has been removed by then.
   */
  readonly empty: Promise<CgroupStats>;

  #populated = true;
  #frozen = false;
  #leaderReaped = false;
  #removed = false;
  #final: CgroupStats | null = null;
  #resolveEmpty!: (stats: CgroupStats) => void;
  #frozenWaiters: { want: boolean; resolve: () => void }[] = [];

  private constructor(path: string) {
    this.path = path;
    this.empty = new Promise((resolve) => {
      this.#resolveEmpty = resolve;
    });
  }

  static {
    createRunCgroup = (settings) => Cgroup.#create(settings);
    noteCgroupEvents = (cgroup, populated, frozen) => cgroup.#onEvents(populated, frozen);
    noteLeaderReaped = (cgroup) => {
      cgroup.#leaderReaped = true;
      let populated = -1;
      if (!cgroup.#removed && cgroup.#populated) {
        try {
          if (/^populated 0$/m.test(readSmall(join(cgroup.path, 'cgroup.events')))) populated = 0;
        } catch (error) {
          // Removed from outside: only an empty cgroup can be.
          if ((error as { code?: string }).code === 'ENOENT') populated = 0;
        }
      }
      // As if the notification had come: a freeze() or thaw() waiting on it settles too.
      cgroup.#onEvents(populated, -1);
      return !cgroup.#populated;
    };
    disownCgroup = (cgroup) => cgroup.#disown();
    discardCgroup = (cgroup) => {
      cgroup.#removed = true;
      removeTree(cgroup.path);
    };
    removeEmptyCgroup = (cgroup) => {
      if (cgroup.#removed) return true;
      try {
        rmdirSync(cgroup.path);
      } catch (error) {
        if ((error as { code?: string }).code !== 'ENOENT') return false;
      }
      cgroup.#removed = true;
      return true;
    };
    forceFreezeKill = (on) => {
      freezeKillForced = on;
    };
  }

  static #create(settings: ParsedCgroupSettings): Cgroup {
    const parent = cgroupParent(settings.parent);
    if ('reason' in parent) {
      throw pidfdError('ERR_PIDFD_CGROUP_UNAVAILABLE', `pidfd: a per-run cgroup cannot be made: ${parent.reason}`);
    }
    const notWritable = writable(parent.path);
    if (notWritable !== null) {
      throw Object.assign(pidfdError('ERR_PIDFD_CGROUP_UNAVAILABLE', `pidfd: a per-run cgroup cannot be made in ${parent.path}: ${notWritable}`), {
        path: parent.path,
      });
    }
    sweepLeftovers(parent.path);
    let path = join(parent.path, `pidfd-${process.pid}-${++sequence}`);
    // A name taken (EEXIST) is a leftover of an earlier process with this pid that the sweep
    // could not take (its tree still running): the next number is free.
    for (let tries = 0; ; tries++) {
      try {
        mkdirSync(path);
        break;
      } catch (error) {
        const e = error as Error & { errno: number; code: string };
        if (e.code === 'EEXIST' && tries < 100) {
          path = join(parent.path, `pidfd-${process.pid}-${++sequence}`);
          continue;
        }
        throw systemError(-e.errno, 'mkdir', { path, context: 'pidfd: creating a per-run cgroup' });
      }
    }
    const cgroup = new Cgroup(path);
    try {
      for (const limit of settings.limits) {
        // A controller that the parent does not enable has no files here (and cgroupfs refuses
        // to create one: EACCES), so look before writing.
        if (existsSync(join(path, limit.file))) {
          try {
            writeFileSync(join(path, limit.file), limit.value);
            continue;
          } catch (error) {
            const e = error as Error & { errno: number; code: string };
            throw systemError(-e.errno, 'write', {
              path: join(path, limit.file),
              context: `pidfd: ${limit.name} = ${JSON.stringify(limit.value)}`,
            });
          }
        }
        {
          const enabled = enabledControllers(parent.path);
          const offered = availableControllers(parent.path);
          throw Object.assign(
            pidfdError(
              'ERR_PIDFD_CGROUP_CONTROLLER',
              `pidfd: ${limit.name} needs the ${limit.controller} controller, which ${parent.path} does not enable ` +
                `for its children (cgroup.subtree_control: ${enabled.join(' ') || 'nothing'}), ` +
                (offered.includes(limit.controller)
                  ? 'though it could: the kernel allows that only in a cgroup with no process of its own, so run under a ' +
                    'delegated cgroup (systemd: Delegate=yes) or call setupCgroupSubtree() first'
                  : `and which this hierarchy does not offer there (cgroup.controllers: ${offered.join(' ') || 'nothing'}; ` +
                    'on a hybrid layout it may be on cgroup v1)'),
            ),
            { controller: limit.controller, path: parent.path },
          );
        }
      }
    } catch (error) {
      removeTree(path);
      throw error;
    }
    return cgroup;
  }

  /**
   * Sends a signal to every process of the tree, setsid'd and double-forked ones included.
   * SIGKILL goes through cgroup.kill (Linux 5.14), all at once; any other signal (or SIGKILL
   * without cgroup.kill) freezes the tree, signals each member through a pidfd, and thaws it, so
   * that no member can fork a new one meanwhile; stopped members are then continued after a
   * signal that would end them, so that they act on it (not after SIGSTOP, SIGTSTP, SIGCONT...:
   * treeSignalRule() in src/signals.ts, the rule of every kind of tree).
   */
  async kill(signal: Signal = 'SIGKILL'): Promise<void> {
    const n = signalNumber(signal, 'signal', false, 'argument');
    const { continueStopped } = treeSignalRule(n);
    if (this.#removed || !this.#populated) return;
    if (n === SIGKILL && !freezeKillForced && existsSync(join(this.path, 'cgroup.kill'))) {
      writeFileSync(join(this.path, 'cgroup.kill'), '1');
      return;
    }
    await this.freeze();
    const native = binding();
    const members: number[] = [];
    try {
      for (const pid of this.pids()) {
        const fd = native.pidfdOpen(pid, 0);
        if (fd < 0) continue; // gone since the list was read (it had already exited: frozen tasks do not)
        native.sendSignal(fd, n, 0);
        members.push(fd);
      }
    } finally {
      await this.thaw();
      for (const fd of members) {
        if (continueStopped) native.sendSignal(fd, SIGCONT, 0);
        native.close(fd);
      }
    }
  }

  #disown(): boolean {
    if (this.#removed || !this.#populated) return true;
    const target = join(dirname(this.path), 'cgroup.procs');
    let previous = '';
    // A member may fork while it is moved (its child then starts here): rounds until none is
    // left, or until a round finds the very members of the one before (exiting ones, which
    // cgroup.procs may still list, cannot move and do not keep the cgroup populated).
    for (let round = 0; round < 100; round++) {
      const pids = this.pids();
      const listed = pids.join(' ');
      if (pids.length === 0 || listed === previous) break;
      previous = listed;
      for (const pid of pids) {
        try {
          writeFileSync(target, String(pid));
        } catch (error) {
          if ((error as { code?: string }).code !== 'ESRCH') return false;
        }
      }
    }
    // The kernel notifies `populated 0` a moment later (up to 10 ms), and the watch removes the
    // directory then. Not here: removed before the notification, the directory would take it
    // along, and the watch would never end.
    try {
      return /^populated 0$/m.test(readSmall(join(this.path, 'cgroup.events')));
    } catch {
      return true; // removed meanwhile: only an empty cgroup can be
    }
  }

  /** Freezes every process of the tree (cgroup.freeze); resolves once the kernel says it is. */
  freeze(): Promise<void> {
    return this.#setFrozen(true);
  }

  /** Thaws the tree. */
  thaw(): Promise<void> {
    return this.#setFrozen(false);
  }

  /** The pids of every process in the tree now, nested cgroups included. */
  pids(): number[] {
    if (this.#removed) return [];
    const found: number[] = [];
    const walk = (dir: string): void => {
      let procs: string;
      try {
        procs = readFileSync(join(dir, 'cgroup.procs'), 'latin1');
      } catch {
        return; // removed meanwhile
      }
      for (const line of procs.split('\n')) if (line !== '') found.push(Number(line));
      let entries;
      try {
        entries = readdirSync(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const entry of entries) if (entry.isDirectory()) walk(join(dir, entry.name));
    };
    walk(this.path);
    return found;
  }

  /** The tree's figures now (after the tree is gone: its final figures). */
  stats(): CgroupStats {
    if (this.#final !== null) return this.#final;
    // A controller's files exist only where it is enabled (cgroup.controllers): the others are
    // not tried (a failed read costs an exception; runSync pays this on every call).
    let enabled: ReadonlySet<string> | null = null;
    try {
      enabled = new Set(readSmall(join(this.path, 'cgroup.controllers')).trim().split(/\s+/));
    } catch {
      // unreadable: every file is tried
    }
    const has = (controller: string): boolean => enabled === null || enabled.has(controller);
    const cpu = readKeyed(join(this.path, 'cpu.stat'));
    const memoryCurrent = has('memory') ? readNumber(join(this.path, 'memory.current')) : null;
    const pidsCurrent = has('pids') ? readNumber(join(this.path, 'pids.current')) : null;
    const events = has('memory') ? readKeyed(join(this.path, 'memory.events')) : null;
    let io: CgroupStats['io'] = null;
    if (has('io')) {
      try {
        io = { readBytes: 0, writeBytes: 0 };
        for (const line of readFileSync(join(this.path, 'io.stat'), 'latin1').split('\n')) {
          io.readBytes += Number(/\brbytes=(\d+)/.exec(line)?.[1] ?? 0);
          io.writeBytes += Number(/\bwbytes=(\d+)/.exec(line)?.[1] ?? 0);
        }
      } catch {
        io = null;
      }
    }
    return {
      cpu: { usageUs: cpu?.get('usage_usec') ?? 0, userUs: cpu?.get('user_usec') ?? 0, systemUs: cpu?.get('system_usec') ?? 0 },
      memory: memoryCurrent === null ? null : { current: memoryCurrent, peak: readNumber(join(this.path, 'memory.peak')) },
      pids: pidsCurrent === null ? null : { current: pidsCurrent, peak: readNumber(join(this.path, 'pids.peak')) },
      oomKills: events?.get('oom_kill') ?? null,
      io,
    };
  }

  #setFrozen(want: boolean): Promise<void> {
    if (this.#removed) return Promise.resolve();
    try {
      writeFileSync(join(this.path, 'cgroup.freeze'), want ? '1' : '0');
    } catch (error) {
      const e = error as Error & { errno: number };
      if (e.errno === -errno.ENOENT) {
        return Promise.reject(pidfdError('ERR_PIDFD_CGROUP_FREEZE', 'pidfd: this kernel has no cgroup.freeze (Linux 5.2+)'));
      }
      throw systemError(-e.errno, 'write', { path: join(this.path, 'cgroup.freeze') });
    }
    if (!this.#populated || this.#frozen === want) return Promise.resolve();
    return new Promise((resolve) => this.#frozenWaiters.push({ want, resolve }));
  }

  #onEvents(populated: number, frozen: number): void {
    if (frozen >= 0) this.#frozen = frozen === 1;
    if (populated === 0) this.#populated = false;
    const waiting = this.#frozenWaiters;
    this.#frozenWaiters = [];
    for (const waiter of waiting) {
      if (!this.#populated || waiter.want === this.#frozen) waiter.resolve();
      else this.#frozenWaiters.push(waiter);
    }
    this.#maybeRemove();
  }

  #maybeRemove(): void {
    if (this.#removed || this.#populated || !this.#leaderReaped) return;
    this.#final = this.stats();
    this.#removed = true;
    try {
      removeTree(this.path);
    } catch (error) {
      // Not expected (the tree is empty); said, not thrown into exit delivery.
      process.emitWarning(`pidfd: the per-run cgroup ${this.path} could not be removed: ${(error as Error).message}`, {
        code: 'PIDFD_CGROUP_LEFT',
      });
    }
    this.#resolveEmpty(this.#final);
  }
}
