// The one start path beneath every layer: a ChildSpec in; the child's pid, pidfd and the
// parent's ends of its pipes out, as raw numbers. The caller chooses whether the exit watcher
// takes the child (Subprocess, the compat ChildProcess) or not (a blocking wait), and what the
// fds become (streams, an IPC channel, or a native poll loop). startSync() is the same door for
// a child run to its end on this thread (the drop-in's spawnSync).

import { existsSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { binding, constants, type NativeSpawnFailure, type NativeSyncOptions, type NativeSyncResult } from '../binding.js';
import { createRunCgroup, discardCgroup, noteCgroupEvents, type Cgroup } from '../cgroup/cgroup.js';
import { errno, errnoDescription, errnoName, SpawnError, systemError } from '../errors.js';
import { describeSupport } from '../support.js';
import { ensureWatcher, onExit } from './exit-watcher.js';
import { spawnNative, spawnSyncNative, type ChildSpec } from './spec.js';

/** A child that has started (its execve passed the point of no return). */
export interface Started {
  pid: number;
  /** Owned by the exit watcher when the child is watched (closed at the reap), else by the
   * caller. */
  pidfd: number;
  /** Per entry of `spec.stdio`: the parent's end of its pipe or socket, or -1. The caller owns them. */
  fds: Int32Array;
  /** The child's per-run cgroup (when the plan asked for one), watched in the event loop, and
   * the fd of that watch (the watcher's; -1 once the tree is empty). */
  cgroup: Cgroup | null;
  cgroupWatch: { fd: number } | null;
}

/** Whether the exit watcher takes the child, and if so whether it keeps the event loop alive. */
export type Watch = { ref: boolean } | null;

/**
 * Starts the child of `spec`. Throws a SpawnError when it could not start the program. A per-run
 * cgroup is created first (its limits written), the child placed in it from its first
 * instruction, and its tree watched, which needs the exit watcher.
 */
export function start(spec: ChildSpec, watch: Watch): Started {
  if (watch !== null) ensureWatcher();
  const own = spec.cgroup.kind === 'own' ? spec.cgroup.settings : null;
  if (own !== null && watch === null) throw new Error('pidfd: a per-run cgroup needs the exit watcher');
  const cgroup = own === null ? null : createRunCgroup(own);
  // watch and ref go as arguments, and the result comes in an Int32Array that the addon reuses
  // (copied out here): an object spread here made V8 build a new hidden class on every spawn
  // (docs/benchmarks.md, parent CPU).
  const result = spawnNative(spec, cgroup === null ? null : cgroup.path, watch !== null, watch?.ref ?? false);
  if ('errno' in result) {
    if (cgroup !== null) discardCgroup(cgroup);
    throw spawnError(spec, result, cgroup?.path);
  }
  return {
    pid: result[0]!,
    pidfd: result[1]!,
    fds: result.slice(2, 2 + spec.stdio.length),
    cgroup,
    cgroupWatch: cgroup === null ? null : watchTree(cgroup, watch!.ref),
  };
}

/**
 * Starts the child of `spec`, not watched, and runs it to its end on this thread (native/sync.c):
 * its input written, its output read, the limits of `sync` enforced, and reaped. Throws a
 * SpawnError when it could not start the program. No per-run cgroup: that needs the watcher.
 */
export function startSync(spec: ChildSpec, sync: NativeSyncOptions): NativeSyncResult {
  if (spec.cgroup.kind === 'own') throw new Error('pidfd: a per-run cgroup needs the exit watcher');
  const result = spawnSyncNative(spec, sync);
  if ('errno' in result) throw spawnError(spec, result);
  return result;
}

/** Watches a tree's cgroup.events; the watch ends (and its fd is closed) when the tree is empty. */
function watchTree(cgroup: Cgroup, ref: boolean): { fd: number } {
  const fd = binding().watchCgroup(cgroup.path, ref);
  if (fd < 0) {
    // The child runs, but its tree could not be watched (EMFILE, ENOMEM): end it rather than
    // hand out a Subprocess whose cgroup would never be removed.
    void cgroup.kill('SIGKILL');
    throw systemError(-fd, 'open', { path: `${cgroup.path}/cgroup.events`, context: 'pidfd: watching a per-run cgroup' });
  }
  const watch = { fd };
  const F = constants().exitField;
  onExit(fd, (records, at) => {
    const populated = records[at + F.code]!;
    if (populated === 0) watch.fd = -1;
    noteCgroupEvents(cgroup, populated, records[at + F.status]!);
  });
  return watch;
}

/** The cgroup a spawn named, by path or fd, for error messages: `made`, the per-run cgroup's
 * directory, for one of its own. */
function namedCgroup(spec: ChildSpec, made: string | undefined): string | number | undefined {
  const c = spec.cgroup;
  return c.kind === 'path' ? c.path : c.kind === 'fd' ? c.fd : made;
}

/** The path a failing step worked on, and the fd, for the error's fields and message. */
function failureSubject(n: ChildSpec, f: NativeSpawnFailure, cgroup: string | number | undefined): { path?: string; fd?: number } {
  const fd = f.index >= 0 && f.index < n.stdio.length ? { fd: n.stdio[f.index]!.target } : {};
  switch (f.step) {
    case 'exec':
      return { path: n.file };
    case 'chdir':
      return n.cwd === undefined ? {} : { path: n.cwd };
    case 'fdMove':
    case 'fdDup':
    case 'devnull':
    case 'stdioCheck':
    case 'pipe':
    case 'stdioMove':
      return fd;
    case 'cgroup':
    case 'cgroupJoin':
    case 'clone':
      return typeof cgroup === 'string' ? { path: cgroup } : {};
  }
  return {};
}

/** A file of the cgroup a spawn named (by path or fd), or null if it cannot be read. */
function cgroupFile(cgroup: string | number, name: string): string | null {
  try {
    return readFileSync(join(typeof cgroup === 'number' ? `/proc/self/fd/${cgroup}` : cgroup, name), 'latin1').trim();
  } catch {
    return null;
  }
}

/**
 * Why the kernel refused a child in the cgroup that a spawn named (the clone3 backend's
 * CLONE_INTO_CGROUP, or the clone and fork backends' write to cgroup.procs: both see the same
 * errors), or '' if nothing more can be said.
 */
function cgroupHint(cgroup: string | number, f: NativeSpawnFailure): string {
  const placing = f.step === 'clone' || f.step === 'cgroup' || f.step === 'cgroupJoin';
  if (!placing) return '';
  switch (f.errno) {
    case errno.ENOTSUP: {
      // A threaded cgroup's plain children are "domain invalid": they can hold no process.
      const type = cgroupFile(cgroup, 'cgroup.type');
      if (type !== null && type !== 'domain' && type !== 'domain threaded') {
        return `the cgroup's type is "${type}" (its cgroup.type), which can hold no process: under a threaded cgroup, make it threaded too (cgroups(7))`;
      }
      // native/spawn.c turns clone3's E2BIG, a clone_args larger than the kernel knows, into ENOTSUP.
      return f.step === 'clone' ? 'this kernel has no CLONE_INTO_CGROUP (Linux 5.7+)' : '';
    }
    case errno.EBUSY: {
      const control = cgroupFile(cgroup, 'cgroup.subtree_control');
      return control
        ? `the cgroup enables controllers for its children (cgroup.subtree_control: ${control}), and the kernel ` +
            'lets such a cgroup hold no process of its own ("no internal processes"): start the child in a leaf cgroup'
        : '';
    }
    case errno.EBADF:
      // clone3 refuses an fd that is open but on no cgroup v2 directory (cgroup_get_from_fd).
      if (f.step !== 'clone') return '';
      return typeof cgroup === 'number' && !existsSync(`/proc/self/fd/${cgroup}`) ? `fd ${cgroup} is not open` : 'not a cgroup v2 directory';
    case errno.ENOENT:
    case errno.ENODEV: {
      // ENODEV, and ENOENT from clone3 or the child's join, mean a cgroup that was removed. At
      // the directory's own open (step 'cgroup') ENOENT is a path that does not exist (the
      // message says so) or a directory with no cgroup.procs: a removed cgroup (an fd's link
      // then ends in " (deleted)"), or no cgroup v2 directory at all.
      const removed = typeof cgroup === 'number' ? `the cgroup that fd ${cgroup} is open on has been removed` : 'the cgroup has been removed';
      if (f.step !== 'cgroup' || f.errno !== errno.ENOENT) return removed;
      try {
        if (typeof cgroup === 'number' && readlinkSync(`/proc/self/fd/${cgroup}`).endsWith(' (deleted)')) return removed;
        const dir = statSync(typeof cgroup === 'number' ? `/proc/self/fd/${cgroup}` : cgroup);
        return dir.isDirectory() ? 'not a cgroup v2 directory: it has no cgroup.procs' : '';
      } catch {
        return '';
      }
    }
  }
  return '';
}

/** Why a spawn failed, in words that say what to do. */
function failureHint(n: ChildSpec, f: NativeSpawnFailure, subject: { fd?: number }, cgroup: string | number | undefined): string {
  if (f.step === 'backend') return describeSupport().reason;
  if (cgroup !== undefined) {
    const hint = cgroupHint(cgroup, f);
    if (hint !== '') return hint;
  }
  if (f.step === 'stdioCheck' && subject.fd !== undefined) {
    return `stdio[${subject.fd}] names fd ${n.stdio[f.index]!.fd}, which is not open in this process`;
  }
  if (f.step === 'exec' && f.errno === errno.ENOEXEC) {
    return 'the file is not an executable format the kernel knows (a script needs a #! line)';
  }
  return '';
}

/** The SpawnError for a failure the addon reported (`made`: the directory of the per-run cgroup
 * the child was to start in). */
export function spawnError(n: ChildSpec, f: NativeSpawnFailure, made?: string): SpawnError {
  if (f.step === 'report' && f.raw !== undefined) {
    return new SpawnError(
      `spawn ${n.file}: the child's failure report was malformed ` +
        `(${f.raw.length} bytes: ${f.raw.toString('hex')}); the child was reaped`,
      { code: 'ERR_PIDFD_CHILD_REPORT', errno: -errno.EPROTO, syscall: 'spawn', spawnfile: n.file, spawnargs: n.argv },
    );
  }
  const cgroup = namedCgroup(n, made);
  const subject = failureSubject(n, f, cgroup);
  const code = errnoName(f.errno);
  const where =
    subject.path !== undefined
      ? `${f.syscall} '${subject.path}'`
      : subject.fd !== undefined
        ? `${f.syscall} (fd ${subject.fd})`
        : f.syscall;
  const hint = failureHint(n, f, subject, cgroup);
  return new SpawnError(`spawn ${n.file} ${code}: ${errnoDescription(f.errno)}, ${where}${hint ? ` (${hint})` : ''}`, {
    code,
    errno: -f.errno,
    syscall: f.syscall,
    ...subject,
    spawnfile: n.file,
    spawnargs: n.argv,
  });
}
