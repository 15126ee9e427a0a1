// setupCgroupSubtree(): for a process that wants limits on its runs and whose cgroup was
// delegated to it (systemd's Delegate=yes, a container's own cgroup) but still holds the process
// itself. The kernel enables controllers for a cgroup's children only while the cgroup holds no
// process of its own ("no internal processes"): the process moves into a leaf, then enables the
// controllers for the children. The library never does this unasked.

import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { pidfdError, systemError } from '../errors.js';
import { validateObject, validateString } from '../validate.js';
import { availableControllers, cgroupHierarchy, cgroupUnavailableReason, enabledControllers, useSetUpParent } from './hierarchy.js';

/** What setupCgroupSubtree() did. */
export interface CgroupSubtree {
  /** Where per-run cgroups are made from now on (this process's cgroup before the move). */
  parent: string;
  /** Where this process now is. */
  leaf: string;
  /** The controllers its children can use now. */
  controllers: string[];
}

const LIMIT_CONTROLLERS = ['memory', 'pids', 'cpu', 'io'];

/**
 * Moves this process (every thread of it) from its cgroup C into the leaf `C/<leaf>` (default
 * 'main'), and enables `controllers` (default: those of memory, pids, cpu and io that C offers)
 * in C's cgroup.subtree_control. Per-run cgroups are then made in C by default, and can have
 * limits. Meant for a supervisor whose cgroup is delegated to it.
 */
export function setupCgroupSubtree(options: { leaf?: string; controllers?: readonly string[] } = {}): CgroupSubtree {
  validateObject(options, 'options');
  const leafName = options.leaf === undefined ? 'main' : validateString(options.leaf, 'leaf');
  if (leafName.includes('/') || leafName === '.' || leafName === '..') {
    throw Object.assign(new TypeError(`The \`leaf\` option must be one directory name; got ${JSON.stringify(leafName)}`), { code: 'ERR_INVALID_ARG_VALUE' });
  }
  const h = cgroupHierarchy();
  if (h === null) throw pidfdError('ERR_PIDFD_CGROUP_UNAVAILABLE', `pidfd: setupCgroupSubtree(): ${cgroupUnavailableReason()}`);
  const parent = h.own;
  const offered = availableControllers(parent);
  const wanted = options.controllers ?? LIMIT_CONTROLLERS.filter((c) => offered.includes(c));
  const missing = wanted.filter((c) => !offered.includes(c));
  if (missing.length > 0) {
    throw Object.assign(
      pidfdError(
        'ERR_PIDFD_CGROUP_CONTROLLER',
        `pidfd: setupCgroupSubtree(): ${parent} is not offered ${missing.join(', ')} (its cgroup.controllers: ${offered.join(' ') || 'nothing'}); ` +
          'the cgroup above it must enable them (systemd: Delegate=yes)',
      ),
      { path: parent },
    );
  }
  const leaf = join(parent, leafName);
  try {
    mkdirSync(leaf, { recursive: true });
    // Every process of the parent must leave it, not only this one: the kernel refuses
    // controllers while any is left. Only ours are moved; another's is an error below.
    writeFileSync(join(leaf, 'cgroup.procs'), String(process.pid));
  } catch (error) {
    const e = error as Error & { errno: number };
    throw systemError(-e.errno, 'write', { path: join(leaf, 'cgroup.procs'), context: 'pidfd: setupCgroupSubtree(): moving this process into its leaf' });
  }
  if (wanted.length > 0) {
    try {
      writeFileSync(join(parent, 'cgroup.subtree_control'), wanted.map((c) => `+${c}`).join(' '));
    } catch (error) {
      const e = error as Error & { errno: number; code: string };
      const others = readFileSync(join(parent, 'cgroup.procs'), 'latin1').trim();
      throw systemError(-e.errno, 'write', {
        path: join(parent, 'cgroup.subtree_control'),
        context:
          e.code === 'EBUSY' && others !== ''
            ? `pidfd: setupCgroupSubtree(): ${parent} still holds other processes (${others.split('\n').join(', ')}), so the kernel refuses controllers for its children`
            : 'pidfd: setupCgroupSubtree(): enabling the controllers',
      });
    }
  }
  useSetUpParent(parent);
  return { parent, leaf, controllers: enabledControllers(parent) };
}
