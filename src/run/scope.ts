// within(): options that apply to every run() and `$` inside a function and everything it
// awaits (through AsyncLocalStorage), as zx's `within()` with `$.cwd` and `cd()` give them.
//
// Only options about where and how commands run can be scoped; those that decide the type of a
// result (`encoding`, `lines`, `stdout`, ...) or belong to one command (`input`, `shell`, ...)
// cannot: a run's result type must follow from its own call. A run's own options win over the
// scope's; `env` is merged key by key; a relative `cwd` (of an inner scope or of a run) is
// resolved against the scope's `cwd`.

import { AsyncLocalStorage } from 'node:async_hooks';
import { resolve } from 'node:path';

import { invalidArgType, invalidArgValue } from '../errors.js';
import { parseCwd } from '../process/options.js';
import { normalizeRun, type RunOptions } from './options.js';

/** The options that within() accepts. */
export type ScopeOptions = Pick<
  RunOptions,
  | 'cwd'
  | 'env'
  | 'extendEnv'
  | 'preferLocal'
  | 'timeout'
  | 'killSignal'
  | 'forceKillAfterDelay'
  | 'signal'
  | 'reject'
  | 'maxBuffer'
  | 'cleanup'
  | 'tree'
  | 'verbose'
  | 'quiet'
>;

const scopable: ReadonlySet<string> = new Set<keyof ScopeOptions>([
  'cwd', 'env', 'extendEnv', 'preferLocal', 'timeout', 'killSignal', 'forceKillAfterDelay', 'signal',
  'reject', 'maxBuffer', 'cleanup', 'tree', 'verbose', 'quiet',
]);

/** Made on the first within(): a program that never scopes pays nothing for it. */
let storage: AsyncLocalStorage<ScopeOptions> | undefined;

/** An object of variables (not a Map or another iterable, which the run's checks refuse). */
function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && typeof (value as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== 'function';
}

/** `options` with the current scope's under them (a run's options, or an inner scope's). */
function merge(scope: ScopeOptions, options: RunOptions): RunOptions {
  const merged: RunOptions = { ...scope, ...options };
  if (scope.env !== undefined && isPlainRecord(options.env)) {
    merged.env = { ...scope.env, ...options.env };
  }
  if (scope.cwd !== undefined && options.cwd !== undefined) merged.cwd = resolve(parseCwd(scope.cwd)!, parseCwd(options.cwd)!);
  return merged;
}

/** A run's options under the current scope's (the options as given outside of any scope). The
 * options are checked afterwards, with the run's (normalizeRun()). */
export function scoped(options: unknown): unknown {
  const scope = storage?.getStore();
  if (scope === undefined || options === null || typeof options !== 'object') return options;
  return merge(scope, options as RunOptions);
}

/**
 * Runs `fn` with `options` as the defaults of every run() and `$` that it starts, and that
 * anything it calls or awaits starts (timers and callbacks included), until `fn` (and what it
 * awaits) is done; returns what `fn` returns. Scopes nest: an inner one adds to the outer one,
 * its `cwd` relative to the outer's. A run's own options, and those bound with `$(options)`, win.
 */
export function within<R>(options: ScopeOptions, fn: () => R): R {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw invalidArgType('options', options, 'an object of options', 'argument');
  }
  if (typeof fn !== 'function') throw invalidArgType('fn', fn, 'a function', 'argument');
  for (const key of Object.keys(options)) {
    if (!scopable.has(key)) {
      throw invalidArgValue(
        key,
        (options as Record<string, unknown>)[key],
        `cannot be given to within(), whose options apply to every run (${[...scopable].join(', ')}): give it to run() or bind it with $(options)`,
      );
    }
  }
  storage ??= new AsyncLocalStorage<ScopeOptions>();
  const outer = storage.getStore();
  const merged = (outer === undefined ? { ...options } : merge(outer, options)) as ScopeOptions;
  // A relative cwd is the one of this moment, as zx's cd() makes it.
  if (merged.cwd !== undefined) merged.cwd = resolve(parseCwd(merged.cwd)!);
  normalizeRun('within', [], merged); // checked as a run's options are, before fn runs
  return storage.run(merged, fn);
}
