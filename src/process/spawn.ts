// spawn(): create a child with a pidfd obtained atomically, and watch for its exit.

import { abortError } from '../errors.js';
import { normalizeSpawn, type SpawnOptions } from './options.js';
import { start } from './start.js';
import { handOver } from './stdio.js';
import { createSubprocess, type Subprocess } from './subprocess.js';

/**
 * Starts `file` with `args`. The child is created with clone3(CLONE_PIDFD) where the kernel
 * allows, so its pidfd exists from the first instant; its exit arrives through that pidfd in the
 * event loop. Throws a SpawnError (with code, errno, syscall, path) if the child could not start
 * the program, and a TypeError or RangeError for bad arguments, before any system call.
 */
export function spawn(file: string, args?: readonly string[], options?: SpawnOptions): Subprocess;
export function spawn(file: string, options?: SpawnOptions): Subprocess;
export function spawn(
  file: string,
  argsOrOptions?: readonly string[] | SpawnOptions,
  maybeOptions?: SpawnOptions,
): Subprocess {
  const args = Array.isArray(argsOrOptions) ? argsOrOptions : [];
  const options = Array.isArray(argsOrOptions) ? (maybeOptions ?? {}) : (argsOrOptions ?? {});
  const n = normalizeSpawn(file, args, options);
  if (n.abortSignal?.aborted) throw abortError(n.abortSignal);
  const subprocess = createSubprocess(start(n, { ref: true }), n);
  handOver(n.stdio);
  return subprocess;
}
