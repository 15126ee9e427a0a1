// support(): what this kernel and process can do, which backend spawns, and why.

import { binding, type NativeFeature, type NativeSupport } from './binding.js';
import { cgroupHierarchy, probeCgroups } from './cgroup/hierarchy.js';
import { childProcessEngine, engine, type EngineChoice } from './engine-choice.js';
import { errnoName } from './errors.js';
import { runtime, watcherChoice, type Runtime, type WatcherChoice } from './runtime.js';

/** One kernel feature: whether it works here, and why not. */
export interface Feature {
  available: boolean;
  /** Why it is unavailable (or was not probed); null when available. */
  reason: string | null;
  /** The first Linux version that has it. */
  since: string;
}

/** The features the library looks for. */
export interface Features {
  /** pidfd_open(): a pidfd for an existing process. */
  pidfdOpen: Feature;
  /** waitid(P_PIDFD): reaping through a pidfd (the library's minimum). */
  waitidPidfd: Feature;
  /** clone3(): the preferred way to create children, and the only one for cgroups. */
  clone3: Feature;
  /** CLONE_VM really shares memory (not the case under some emulators). */
  vmShared: Feature;
  /** close_range(): closing every other fd in the child in one call. */
  closeRange: Feature;
  /** PIDFD_THREAD: a pidfd for one thread. */
  pidfdThread: Feature;
  /** pidfs: pidfds with a stable inode number, an identity that is never reused. */
  pidfs: Feature;
  /** PIDFD_GET_INFO: credentials, cgroup and more from a pidfd. */
  pidfdGetInfo: Feature;
  /** PIDFD_INFO_EXIT: the exit status, even after someone else reaped the process. */
  pidfdInfoExit: Feature;
  /** Per-run cgroups (`spawn(..., { cgroup: true })`): a cgroup v2 directory this process can
   * make cgroups in (see `cgroups` for where). */
  perRunCgroup: Feature;
  /** cgroup.kill: SIGKILL to a whole tree at once (otherwise freeze, signal each, thaw). */
  cgroupKill: Feature;
  /** CLONE_AUTOREAP: the kernel reaps the child itself (`autoReap`), and its exit status stays
   * readable through PIDFD_INFO_EXIT. */
  autoReap: Feature;
  /** CLONE_PIDFD_AUTOKILL: the child is killed when the last copy of its pidfd closes (used for
   * `killOnParentExit` with SIGKILL). Without CAP_SYS_ADMIN the kernel takes it only with
   * `noNewPrivileges`: then `available` is false and `reason` says so. */
  pidfdAutoKill: Feature;
  /** CLONE_NNP: no_new_privs set at creation (`noNewPrivileges`; elsewhere the child calls
   * prctl(PR_SET_NO_NEW_PRIVS), which every supported kernel has). */
  cloneNnp: Feature;
}

/** Where per-run cgroups are made, and what they can do. */
export interface CgroupSupport {
  /** The cgroup v2 mount, or null. */
  mount: string | null;
  /** The parent per-run cgroups are made in, or null; and where it came from. */
  parent: string | null;
  parentFrom: 'option' | 'environment' | 'own' | 'setup' | null;
  /** The controllers per-run cgroups get (the parent's cgroup.subtree_control): what their
   * limits can use (memory, pids, cpu). */
  controllers: string[];
}

/** Which engine each layer of the library uses here, and why (docs/runtimes.md). */
export interface Engines {
  /** run(), `$` and `pidfd run`: the pidfd engine, or the portable one (Node's child_process). */
  run: EngineChoice;
  /** pidfd/child_process and pidfd/register: the same engine as run() on Node, the portable one
   * on Bun and Deno; on the portable one they are the runtime's own child_process, and register
   * changes nothing. */
  childProcess: EngineChoice;
  /** spawn(), Subprocess and PidFd: pidfd only. `available` false: they throw (ENOSYS off Linux). */
  spawn: { name: 'pidfd'; available: boolean; reason: string };
}

/** The library's view of this system. */
export interface Support {
  /** Which engine each layer uses, and why. */
  engines: Engines;
  platform: NodeJS.Platform;
  /** The kernel release, e.g. '6.18.2', or null off Linux. */
  kernel: string | null;
  /** How children are created, or null when they cannot be. */
  backend: 'clone3' | 'clone' | 'fork' | null;
  /** Why this backend was chosen, or why spawning is impossible. */
  reason: string;
  /** The PIDFD_BACKEND environment variable, when set. */
  forced: string | null;
  features: Features;
  /** Per-run cgroups: where and what; null off Linux. */
  cgroups: CgroupSupport | null;
  /** The JavaScript runtime (from process.versions.bun / process.versions.deno). */
  runtime: Runtime;
  /** How exits reach the event loop: a uv_poll handle (Node) or a thread (Bun, Deno); null
   * off Linux. */
  watcher: WatcherChoice | null;
}

function errnoReason(errno: number, since: string): string {
  switch (errnoName(errno)) {
    case 'ENOSYS':
      return `the kernel does not have it (Linux ${since}+ needed), or a seccomp filter answers ENOSYS (Docker's default profile does for clone3)`;
    case 'EPERM':
      return 'a seccomp filter or security policy refuses it (EPERM)';
    case 'EINVAL':
      return `the kernel rejects it (EINVAL): Linux ${since}+ needed`;
    case 'ENOTTY':
      return `the kernel does not know it (ENOTTY): Linux ${since}+ needed`;
    case 'EOPNOTSUPP':
    case 'ENOTSUP': // the same number on Linux, and the name errnoName gives it
      return `the kernel does not provide it: Linux ${since}+ needed`;
    case 'EFAULT':
      return 'CLONE_VM does not share memory here (an emulator such as QEMU user mode or WSL1)';
    case 'EBADF':
      return 'CLONE_PIDFD returned no pidfd (Linux 5.2+ needed)';
    default:
      return `the probe failed with ${errnoName(errno)}`;
  }
}

/** Why clone3 is unavailable: no entry code for this architecture (not probed), or what the
 * probe saw. */
function clone3Missing(s: NativeSupport): string {
  if (!s.clone3.probed) {
    return `pidfd has no clone3 entry code for this architecture (${process.arch}) yet: clone is used`;
  }
  if (errnoName(s.clone3.errno) === 'ENOSYS' && s.pidfdOpen.ok) {
    // pidfd_open came with clone3 (5.3): the kernel has it, something in between answers.
    return 'this kernel has it (pidfd_open works, Linux 5.3+), but a seccomp filter (Docker\'s default profile) or an emulator (QEMU user mode) answers ENOSYS';
  }
  return errnoReason(s.clone3.errno, '5.3');
}

function feature(f: NativeFeature, since: string, unprobed = 'not probed'): Feature {
  if (f.ok) return { available: true, reason: null, since };
  return { available: false, reason: f.probed ? errnoReason(f.errno, since) : unprobed, since };
}

/** Linux 7.1's clone3 flags: probed with a real child of the clone3 backend (native/probe.c). */
function newFlag(s: NativeSupport, f: NativeFeature, flag: string): Feature {
  const since = '7.1';
  if (f.ok) return { available: true, reason: null, since };
  if (s.backend !== 'clone3') {
    return { available: false, reason: `${flag} is a clone3 flag, and the backend is ${s.backend}`, since };
  }
  switch (errnoName(f.errno)) {
    case 'EINVAL':
      return { available: false, reason: `the kernel rejects ${flag} (EINVAL): Linux ${since}+ needed`, since };
    case 'EPERM':
      return {
        available: false,
        reason: `${flag} needs CAP_SYS_ADMIN, or noNewPrivileges (CLONE_NNP) on the same spawn: used only with it`,
        since,
      };
    case 'EOPNOTSUPP':
    case 'ENOTSUP':
      return { available: false, reason: `${flag} works, but PIDFD_INFO_EXIT gave no exit status for the auto-reaped child`, since };
    default:
      return { available: false, reason: errnoReason(f.errno, since), since };
  }
}

/** Why the backend of `s` was chosen, or why none works. */
export function backendReason(s: NativeSupport): string {
  if (s.forced && s.probedBackend === 'none') {
    if (!['clone3', 'clone', 'fork'].includes(s.forcedName)) {
      return `PIDFD_BACKEND=${s.forcedName} is not one of clone3, clone, fork`;
    }
  }
  if (!s.pidfdOpen.ok) return `pidfd_open is unavailable: ${errnoReason(s.pidfdOpen.errno, '5.3')}`;
  if (!s.waitidPidfd.ok) return `waitid(P_PIDFD) is unavailable: ${errnoReason(s.waitidPidfd.errno, '5.4')}`;
  const clone3Why = !s.clone3.ok
    ? clone3Missing(s)
    : s.clone3Spawn.probed && !s.clone3Spawn.ok
      ? errnoReason(s.clone3Spawn.errno, '5.3')
      : 'not tried';
  const cloneWhy = !s.cloneSpawn.probed
    ? 'not tried'
    : errnoName(s.cloneSpawn.errno) === 'EINVAL'
      ? // pidfd_open works (checked above), so the kernel is 5.3+ and has CLONE_PIDFD (5.2).
        'clone(CLONE_PIDFD | CLONE_VM | CLONE_VFORK) was refused with EINVAL although this kernel has it: an emulator such as QEMU user mode'
      : errnoReason(s.cloneSpawn.errno, '5.2');
  if (s.backend !== s.probedBackend) {
    return 'clone3 was refused at run time (a seccomp filter installed after the probe): using clone';
  }
  switch (s.backend) {
    case 'clone3':
      return s.forced ? 'forced by PIDFD_BACKEND=clone3' : 'clone3(CLONE_PIDFD | CLONE_VM | CLONE_VFORK) works';
    case 'clone':
      return s.forced ? 'forced by PIDFD_BACKEND=clone' : `clone3 cannot be used: ${clone3Why}`;
    case 'fork':
      return s.forced
        ? 'forced by PIDFD_BACKEND=fork'
        : `neither clone3 (${clone3Why}) nor clone(CLONE_PIDFD) (${cloneWhy}) can be used`;
    default:
      if (s.forced) {
        const spawnProbe =
          s.forcedName === 'clone3' ? s.clone3Spawn : s.forcedName === 'clone' ? s.cloneSpawn : s.forkSpawn;
        const why = s.forcedName === 'clone3' && !s.clone3.ok ? clone3Why : errnoReason(spawnProbe.errno, '5.3');
        return `PIDFD_BACKEND=${s.forcedName}, but that backend cannot be used: ${why}`;
      }
      return 'no way to create a child with a pidfd works here';
  }
}

const unavailableOffLinux: Feature = {
  available: false,
  reason: 'process file descriptors exist only on Linux',
  since: '',
};

/** support() where nothing can be probed: off Linux, or without the addon. */
function nothingProbed(reason: string, each: Feature): Support {
  const features = Object.fromEntries(
    ['pidfdOpen', 'waitidPidfd', 'clone3', 'vmShared', 'closeRange', 'pidfdThread', 'pidfs', 'pidfdGetInfo', 'pidfdInfoExit', 'perRunCgroup', 'cgroupKill', 'autoReap', 'pidfdAutoKill', 'cloneNnp'].map(
      (name) => [name, { ...each }],
    ),
  ) as unknown as Features;
  return {
    engines: engines(null, reason),
    platform: process.platform,
    kernel: null,
    backend: null,
    reason,
    forced: null,
    features,
    cgroups: null,
    runtime,
    watcher: null,
  };
}

/** Reports which kernel features work, which backend spawns children, and why. Probes once. */
export function support(): Support {
  if (process.platform !== 'linux') {
    return nothingProbed(`pidfd works only on Linux (this is ${process.platform})`, unavailableOffLinux);
  }
  let s: NativeSupport;
  try {
    s = binding().support();
  } catch (error) {
    // An addon that does not load (not built, no prebuild for this system): run() and the
    // drop-in use the portable engine, and this says why.
    const reason = `the native addon could not be loaded: ${(error as Error).message}`;
    return nothingProbed(reason, { available: false, reason: 'not probed: the native addon could not be loaded', since: '' });
  }
  const cg = probeCgroups();
  const unprobedClone3 = s.forced ? `not probed: PIDFD_BACKEND=${s.forcedName}` : 'not probed';
  const clone3: NativeFeature = s.clone3.ok && s.clone3Spawn.probed ? s.clone3Spawn : s.clone3;
  return {
    engines: engines(s.backend === 'none' ? null : s.backend, backendReason(s)),
    platform: process.platform,
    kernel: s.kernel,
    backend: s.backend === 'none' ? null : s.backend,
    reason: backendReason(s),
    forced: s.forced ? s.forcedName : null,
    features: {
      pidfdOpen: feature(s.pidfdOpen, '5.3'),
      waitidPidfd: feature(s.waitidPidfd, '5.4'),
      clone3: !s.clone3.probed || !s.clone3.ok
        ? { available: false, reason: clone3Missing(s), since: '5.3' }
        : feature(clone3, '5.3', unprobedClone3),
      vmShared: feature(s.vmShared, '', s.backend === 'fork' ? 'not probed: the fork backend does not use CLONE_VM' : 'not probed'),
      closeRange: feature(s.closeRange, '5.9'),
      pidfdThread: feature(s.pidfdThread, '6.9'),
      pidfs: feature(s.pidfs, '6.9'),
      pidfdGetInfo: feature(s.pidfdInfo, '6.13'),
      pidfdInfoExit: feature(s.pidfdInfoExit, '6.15', 'not probed: no probe child was run'),
      perRunCgroup: { available: cg.reason === null, reason: cg.reason, since: '4.5' },
      cgroupKill: {
        available: cg.kill,
        reason: cg.kill ? null : cg.reason ?? 'this kernel has no cgroup.kill (Linux 5.14+): trees are killed by freezing, signalling each member, and thawing',
        since: '5.14',
      },
      autoReap: newFlag(s, s.autoReap, 'CLONE_AUTOREAP'),
      pidfdAutoKill: newFlag(s, s.pidfdAutoKill, 'CLONE_PIDFD_AUTOKILL'),
      cloneNnp: newFlag(s, s.cloneNnp, 'CLONE_NNP'),
    },
    cgroups: { mount: cgroupHierarchy()?.mount ?? null, parent: cg.parent, parentFrom: cg.from, controllers: cg.controllers },
    runtime,
    watcher: watcherChoice(),
  };
}

function engines(backend: string | null, reason: string): Engines {
  const chosen = engine();
  return {
    run: { ...chosen },
    childProcess: { ...childProcessEngine() },
    spawn: { name: 'pidfd', available: backend !== null, reason: backend !== null ? `the ${backend} backend: ${reason}` : reason },
  };
}

/** The parts of support() that spawn errors quote. */
export function describeSupport(): { backend: string; reason: string } {
  const s = support();
  return { backend: s.backend ?? 'none', reason: s.reason };
}
