// Test hooks: fault injection and native probes for the test suite. Not part of the public API;
// nothing here is needed, or safe, in production. Importing this module loads the addon.

import { binding, type NativeBinding } from '../binding.js';

export { kTestFault } from '../symbols.js';
export { observeBatches } from '../process/exit-watcher.js';
export { forceFreezeKill } from '../cgroup/cgroup.js';
export { forceMemberSignals } from '../run/group-tree.js';

/** The test-only part of the addon (native/js_test.c). */
export interface NativeTestBinding {
  /** waitid(P_PIDFD) without __WALL, without reaping: -errno, or the pid it would reap. */
  waitidNoWall(fd: number): number;
  /** Whether pid is no longer a child of this process (not running, not a zombie). */
  reaped(pid: number): boolean;
  /** Whether this process has any child at all (running or zombie). */
  hasChildren(): boolean;
  /** Blocks or unblocks a signal on the calling thread; returns whether it was blocked. */
  blockSignal(signal: number, block: boolean): boolean;
  /** Sets a signal's disposition to SIG_IGN or SIG_DFL: 0 or -errno. */
  ignoreSignal(signal: number, ignore: boolean): number;
  /** fcntl(fd, F_GETFD): the FD_CLOEXEC flag, or -errno. */
  fdFlags(fd: number): number;
  /** The next tee started (native/tee.c) fails its `nth` call of kind `call` (constants.teeCall
   * of the binding) with `errno` instead of making it; errno 0 clears it. */
  teeFault(call: number, errno: number, nth: number): void;
  /** Writes zeros to a socket or a pipe until it would block, without changing its file
   * description: the bytes written, or -errno. */
  fill(fd: number): number;
  /** The test hooks' numbers: what `kTestFault` takes. */
  constants: {
    fault: Record<'none' | 'reportGarbage' | 'reportShort' | 'killBeforeExec' | 'exitBeforeExec' | 'failStep' | 'parentStep', number>;
    childStep: Record<string, number>;
    parentStep: Record<string, number>;
  };
}

/** The addon, with its test-only entry points, for tests that check the kernel's view. */
export function native(): NativeBinding & { test: NativeTestBinding } {
  return binding() as NativeBinding & { test: NativeTestBinding };
}

const hooks = native().test.constants;

/** Fault kinds for `{ [kTestFault]: { kind, arg } }` (native/child.h, enum pf_fault). */
export const Fault = hooks.fault;
/** Steps of the child, for Fault.failStep (native/child.h, enum pf_step). */
export const ChildStep = hooks.childStep;
/** Steps of the parent, for Fault.parentStep (native/spawn.h, enum pf_parent_step). */
export const ParentStep = hooks.parentStep;
