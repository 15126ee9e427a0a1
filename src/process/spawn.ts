// spawn(): create a child with a pidfd obtained atomically, and watch for its exit.

import { abortError, invalidArgValue } from '../errors.js';
import { normalizeSpawn, type SpawnOptions } from './options.js';
import type { ChildSpec } from './spec.js';
import { start } from './start.js';
import { handOver } from './stdio.js';
import { createSubprocess, type Subprocess } from './subprocess.js';

/**
 * The arguments and the options of a call, in every shape the overloads accept: (file),
 * (file, args), (file, args, options), (file, options), with `undefined` for a left-out one.
 * Anything else (null for args or options, an options object followed by another) is refused.
 */
function spawnArguments(argsOrOptions: unknown, maybeOptions: unknown): [unknown, unknown] {
  if (Array.isArray(argsOrOptions) || argsOrOptions === undefined) {
    return [argsOrOptions ?? [], maybeOptions === undefined ? {} : maybeOptions];
  }
  if (argsOrOptions !== null && typeof argsOrOptions === 'object') {
    if (maybeOptions !== undefined) {
      throw invalidArgValue('options', maybeOptions, 'cannot follow an options object: spawn(file, args, options) takes args second', 'argument');
    }
    return [[], argsOrOptions];
  }
  // Not an array, not options: normalizeSpawn refuses it, after checking the file first.
  return [argsOrOptions, maybeOptions];
}

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
  // The common shape, spawn(file, args, options), without the array of spawnArguments().
  const n = Array.isArray(argsOrOptions) && maybeOptions !== undefined
    ? normalizeSpawn(file, argsOrOptions, maybeOptions)
    : normalizeSpawn(file, ...spawnArguments(argsOrOptions, maybeOptions));
  return startSubprocess(n);
}

/**
 * The Subprocess of `spec` (spawn()'s, run()'s first process): the child started and watched,
 * and the streams it was given handed over to it. Throws the abort error at once if its
 * `abortSignal` has aborted already, and a SpawnError if the program could not start.
 */
export function startSubprocess(spec: ChildSpec): Subprocess {
  if (spec.abortSignal?.aborted) throw abortError(spec.abortSignal);
  const subprocess = createSubprocess(start(spec, { ref: true }), spec);
  handOver(spec.stdio);
  return subprocess;
}
