// Which engine the high-level layers (run(), `$`, pidfd/child_process, pidfd/register) use: the
// pidfd engine (the addon, with a backend that creates children with pidfds), or the portable one
// (Node's own child_process) where the pidfd engine cannot work: another platform, an addon that
// does not load, or a Linux where no backend works (before 5.3, gVisor, a seccomp profile that
// refuses clone3, clone with CLONE_PIDFD and pidfd_open). Decided once per process (per
// environment: each worker decides for itself), at the first call that needs it; nothing reaches
// the addon off Linux. spawn(), Subprocess and PidFd are pidfd-only: they never use this.
//
// PIDFD_ENGINE=portable forces the portable engine (the test suite's portable pass);
// PIDFD_ENGINE=pidfd forces the pidfd engine (its errors then reach the caller, as before the
// portable engine existed). Unset, or `auto`, decides.

import { createRequire } from 'node:module';

import type { NativeSupport } from './binding.js';
import { runtime } from './runtime.js';

// The addon's loader and support()'s words are loaded at the decision, not with this module:
// pidfd/register imports it in every process that a shared NODE_OPTIONS starts, where loading
// them cost about 10 ms.
const require = createRequire(import.meta.url);

/** A NODE_DEBUG=pidfd line (src/debug.ts, loaded with the first one: at the engine's decision,
 * not at start-up, where each module pidfd/register loads costs a few tenths of a ms). */
function debug(format: string, ...args: unknown[]): void {
  (require('./debug.js') as typeof import('./debug.js')).debug(format, ...args);
}

/** The engine of run(), `$` and the drop-in. */
export type EngineName = 'pidfd' | 'portable';

export interface EngineChoice {
  name: EngineName;
  /** Why this one, in words. */
  reason: string;
  /** The PIDFD_ENGINE environment variable, when set. */
  forced: string | null;
}


let chosen: EngineChoice | undefined;

/** The engine of this environment, decided at the first call (NODE_DEBUG=pidfd says which and why). */
export function engine(): EngineChoice {
  if (chosen === undefined) {
    chosen = decide();
    debug('engine: %s (%s)', chosen.name, chosen.reason);
  }
  return chosen;
}

/** Whether run(), `$` and the drop-in use the portable engine here. */
export function portableEngine(): boolean {
  return engine().name === 'portable';
}

/**
 * The portable engine's reason when it is known without loading the addon (another platform,
 * PIDFD_ENGINE=portable, or already decided), else null: what pidfd/register checks at start-up,
 * where loading and probing the addon would cost every Node process tens of milliseconds.
 */
export function portableWithoutProbe(): string | null {
  if (chosen !== undefined) return chosen.name === 'portable' ? chosen.reason : null;
  if (process.platform === 'linux' && process.env.PIDFD_ENGINE !== 'portable') return null;
  return engine().reason;
}

/**
 * Why pidfd/child_process and pidfd/register leave the runtime's own child_process in place
 * whatever engine run() uses, or null: the drop-in stands on Node's ChildProcess (its
 * prototype's spawn() drives a process handle of Node's shape, docs/compat.md), and Bun's and
 * Deno's node:child_process are implementations of their own, whose ChildProcess has no such
 * spawn() (Bun's is a class with private fields and getter-only properties: setting
 * `child.connected` threw "Attempted to assign to readonly property").
 */
export function childProcessRuntimeReason(): string | null {
  if (runtime === 'node') return null;
  const name = runtime === 'bun' ? 'Bun' : 'Deno';
  return `${name}'s child_process is its own, not Node's, and pidfd/child_process stands on Node's ChildProcess: ${name}'s own child_process is used`;
}

let chosenForChildProcess: EngineChoice | undefined;

/** The engine of pidfd/child_process and pidfd/register: run()'s, except on Bun and Deno
 * (childProcessRuntimeReason()), where it is the portable one (the runtime's own child_process). */
export function childProcessEngine(): EngineChoice {
  if (chosenForChildProcess === undefined) {
    const reason = childProcessRuntimeReason();
    chosenForChildProcess = reason === null ? engine() : { name: 'portable', reason, forced: process.env.PIDFD_ENGINE || null };
  }
  return chosenForChildProcess;
}

function decide(): EngineChoice {
  const forced = process.env.PIDFD_ENGINE || null; // empty is unset
  if (forced === 'portable') return { name: 'portable', reason: 'forced by PIDFD_ENGINE=portable', forced };
  // Off Linux the addon is never loaded: not even forced (binding() would throw ENOSYS).
  if (process.platform !== 'linux') {
    return {
      name: 'portable',
      reason: `process file descriptors exist only on Linux (this is ${process.platform}): Node's child_process is used`,
      forced,
    };
  }
  if (forced === 'pidfd') return { name: 'pidfd', reason: 'forced by PIDFD_ENGINE=pidfd', forced };
  const note = forced === null || forced === 'auto' ? '' : ` (PIDFD_ENGINE=${forced} is not one of pidfd, portable, auto)`;
  const { binding } = require('./binding.js') as typeof import('./binding.js');
  const { backendReason } = require('./support.js') as typeof import('./support.js');
  let native: NativeSupport;
  try {
    native = binding().support();
  } catch (error) {
    return {
      name: 'portable',
      reason: `the native addon could not be loaded (${(error as Error).message}): Node's child_process is used${note}`,
      forced,
    };
  }
  if (native.backend === 'none' && native.forced) {
    // A backend asked for by name is a wish for pidfds: its failure is said, not worked around.
    return { name: 'pidfd', reason: `PIDFD_BACKEND=${native.forcedName} asks for a pidfd backend, and it cannot be used (${backendReason(native)}): run() fails saying so${note}`, forced };
  }
  if (native.backend === 'none') {
    return { name: 'portable', reason: `no pidfd backend works here (${backendReason(native)}): Node's child_process is used${note}`, forced };
  }
  return { name: 'pidfd', reason: `the ${native.backend} backend works${note}`, forced };
}
