// Where per-run cgroups can live: the cgroup v2 mount, this process's own cgroup, the parent to
// create them in, and what that parent offers. Read once, from /proc/self/mountinfo and
// /proc/self/cgroup.

import { constants as fsConstants, existsSync, mkdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';

import { binding } from '../binding.js';
import { errnoName } from '../errors.js';

/** What the cgroup v2 hierarchy offers this process. */
export interface CgroupHierarchy {
  /** The cgroup v2 mount point (/sys/fs/cgroup; /sys/fs/cgroup/unified on a hybrid layout). */
  mount: string;
  /** This process's own cgroup directory. */
  own: string;
}

let hierarchy: CgroupHierarchy | null | undefined;
/** The parent that setupCgroupSubtree() prepared, which becomes the default. */
let setUpParent: string | undefined;

/** After setupCgroupSubtree(): per-run cgroups go to `parent` by default. */
export function useSetUpParent(parent: string): void {
  setUpParent = parent;
  hierarchy = undefined; // this process has moved: read its own cgroup again when asked
  probed = undefined;
}
let whyNone = '';

/** Unescapes a mountinfo path (\040 for a space, and so on). */
function unescape(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

function discover(): CgroupHierarchy | null {
  let mountinfo: string;
  try {
    mountinfo = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    whyNone = '/proc/self/mountinfo cannot be read (no /proc?)';
    return null;
  }
  // Fields: id parent major:minor root mount-point options [optional...] - fstype source super.
  let mount: string | undefined;
  let root = '/';
  for (const line of mountinfo.split('\n')) {
    const [before, after] = line.split(' - ');
    if (after?.split(' ')[0] !== 'cgroup2') continue;
    const fields = before!.split(' ');
    mount = unescape(fields[4]!);
    root = unescape(fields[3]!);
    break;
  }
  if (mount === undefined) {
    whyNone = 'no cgroup v2 hierarchy is mounted (only cgroup v1, or none)';
    return null;
  }
  const line = /^0::(.*)$/m.exec(readFileSync('/proc/self/cgroup', 'utf8'));
  if (line === null) {
    whyNone = 'this process is in no cgroup v2 directory (/proc/self/cgroup has no 0:: line)';
    return null;
  }
  // Inside a cgroup namespace the path is relative to the namespace's root, which is the root
  // of the mount (its mountinfo root is then "/").
  let path = line[1]!;
  if (root !== '/' && path.startsWith(root)) path = path.slice(root.length) || '/';
  return { mount, own: path === '/' ? mount : join(mount, path) };
}

/** The cgroup v2 hierarchy, or null (then cgroupUnavailableReason() says why). */
export function cgroupHierarchy(): CgroupHierarchy | null {
  if (hierarchy === undefined) hierarchy = discover();
  return hierarchy;
}

/** Why there is no cgroup v2 hierarchy for this process. */
export function cgroupUnavailableReason(): string {
  cgroupHierarchy();
  return whyNone;
}

/** The environment variable that names the parent of per-run cgroups for a deployment. */
export const PARENT_ENV = 'PIDFD_CGROUP_PARENT';

/**
 * The directory per-run cgroups are created in: `explicit`, else $PIDFD_CGROUP_PARENT, else this
 * process's own cgroup. A relative path is taken inside the cgroup v2 mount. Returns the path and
 * where it came from, or a reason why there is none.
 */
export function cgroupParent(explicit?: string): { path: string; from: 'option' | 'environment' | 'own' | 'setup' } | { reason: string } {
  const h = cgroupHierarchy();
  if (explicit === undefined && setUpParent !== undefined && !process.env[PARENT_ENV]) return { path: setUpParent, from: 'setup' };
  const given = explicit ?? process.env[PARENT_ENV];
  if (given !== undefined && given !== '') {
    const from = explicit !== undefined ? 'option' : 'environment';
    if (given.startsWith('/')) return { path: given, from };
    if (h === null) return { reason: `${given} is relative, and ${cgroupUnavailableReason()}` };
    return { path: join(h.mount, given), from };
  }
  if (h === null) return { reason: cgroupUnavailableReason() };
  return { path: h.own, from: 'own' };
}

/** Whether directories can be made in `dir` (and so per-run cgroups): write and search access. */
export function writable(dir: string): string | null {
  // Asked of the kernel through the addon: Deno's node:fs.accessSync judges by the mode bits.
  const r = binding().access(dir, fsConstants.W_OK | fsConstants.X_OK);
  if (r === 0) return null;
  const code = errnoName(-r);
  return code === 'ENOENT'
    ? `${dir} does not exist`
    : code === 'EROFS'
      ? `${dir} is on a read-only file system (as in an unprivileged container)`
      : `${dir} is not writable by this process (${code}): delegate it (systemd: Delegate=yes) or choose another parent`;
}

/** The controllers a cgroup's children can use: its cgroup.subtree_control. */
export function enabledControllers(dir: string): string[] {
  try {
    return readFileSync(join(dir, 'cgroup.subtree_control'), 'utf8').split(/\s+/).filter(Boolean);
  } catch {
    return [];
  }
}

/** The controllers a cgroup can offer its children: its cgroup.controllers. */
export function availableControllers(dir: string): string[] {
  try {
    return readFileSync(join(dir, 'cgroup.controllers'), 'utf8').split(/\s+/).filter(Boolean);
  } catch {
    return [];
  }
}

/** What per-run cgroups can do here, found once by making one (and removing it). */
export interface CgroupProbe {
  /** The parent they are made in, and where that came from; null when none can be made. */
  parent: string | null;
  from: 'option' | 'environment' | 'own' | 'setup' | null;
  /** Why none can be made; null when they can. */
  reason: string | null;
  /** cgroup.kill (Linux 5.14): SIGKILL to a whole tree at once. */
  kill: boolean;
  /** cgroup.freeze (Linux 5.2). */
  freeze: boolean;
  /** The controllers a per-run cgroup gets from its parent (the parent's cgroup.subtree_control),
   * which its limits need. */
  controllers: string[];
}

let probed: CgroupProbe | undefined;

/** Makes a per-run cgroup in the default parent and looks at it, once. */
export function probeCgroups(): CgroupProbe {
  if (probed !== undefined) return probed;
  const parent = cgroupParent();
  if ('reason' in parent) return (probed = { parent: null, from: null, reason: parent.reason, kill: false, freeze: false, controllers: [] });
  const notWritable = writable(parent.path);
  const none = { parent: parent.path, from: parent.from, kill: false, freeze: false, controllers: enabledControllers(parent.path) };
  if (notWritable !== null) return (probed = { ...none, reason: notWritable });
  const dir = join(parent.path, `pidfd-${process.pid}-probe`);
  try {
    mkdirSync(dir);
  } catch (error) {
    return (probed = { ...none, reason: `a cgroup cannot be made in ${parent.path}: ${(error as Error).message}` });
  }
  try {
    return (probed = { ...none, reason: null, kill: existsSync(join(dir, 'cgroup.kill')), freeze: existsSync(join(dir, 'cgroup.freeze')) });
  } finally {
    rmdirSync(dir);
  }
}
