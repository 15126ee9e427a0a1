// run() and `$`: run a command and get its output, with a timeout and a useful error.

import { invalidArgType } from '../errors.js';
import { validateObject } from '../validate.js';
import { RunError } from './error.js';
import { normalizeRun, runArguments, type RunOptions } from './options.js';
import { createRunProcess, type RunProcess } from './run-process.js';
import { normalizeRunSync, runSyncNormalized, type RunSyncOptions } from './run-sync.js';
import type { RunResult } from './result.js';
import { isTemplate, parseTemplate, shellTemplate, type TemplateValue } from './template.js';

/**
 * Runs `file` with `args` (never through a shell, unless `shell` says so) and returns a
 * RunProcess: await it for the RunResult (stdout and stderr captured by default), or a RunError
 * when the command fails. Bad arguments and options throw a TypeError or RangeError at once,
 * before anything is started.
 */
export function run<O extends RunOptions = {}>(file: string, args?: readonly string[], options?: O): RunProcess<O>;
export function run<O extends RunOptions = {}>(file: string, options?: O): RunProcess<O>;
export function run(file: string, argsOrOptions?: readonly string[] | RunOptions, maybeOptions?: RunOptions): RunProcess<any> {
  const [args, options] = runArguments(argsOrOptions, maybeOptions, 'run');
  return createRunProcess(normalizeRun(file, args, options), undefined);
}

/** Options `P` given over options `O`. */
type Over<O, P> = Omit<O, keyof P> & P;

/**
 * run() to its end on this thread: returns the RunResult, or throws the RunError (returns it with
 * `reject: false`). Its options are run()'s, but those that need the event loop (`signal`, a
 * `'stream'` output, `stdin: 'pipe'`, an input to read asynchronously) throw a TypeError.
 */
export function runSync<O extends RunSyncOptions = {}>(file: string, args?: readonly string[], options?: O): RunResult<O>;
export function runSync<O extends RunSyncOptions = {}>(file: string, options?: O): RunResult<O>;
export function runSync(file: string, argsOrOptions?: readonly string[] | RunSyncOptions, maybeOptions?: RunSyncOptions): RunResult<any> {
  const [args, options] = runArguments(argsOrOptions, maybeOptions, 'runSync');
  return settleSync(normalizeRunSync(file, args, options, 'runSync()'));
}

function settleSync(n: ReturnType<typeof normalizeRunSync>): RunResult<any> {
  const outcome = runSyncNormalized(n);
  if (outcome instanceof RunError && n.reject) throw outcome;
  return outcome as RunResult<any>;
}

/** `$.sync`: the tag of `$`, run to its end on this thread (runSync()). */
export interface DollarSync<O extends RunOptions = {}> {
  (strings: TemplateStringsArray, ...values: TemplateValue[]): RunResult<O>;
  <P extends RunSyncOptions>(options: P): DollarSync<Over<O, P>>;
}

/**
 * `$`: a tagged template that runs a command (`` $`git log -n ${count}` ``); a function that runs
 * a file with its arguments as run() does, with the options bound to this `$` under its own
 * (`$('git', ['log'])`); and `$(options)`, a `$` with those options bound too.
 */
export interface Dollar<O extends RunOptions = {}> {
  (strings: TemplateStringsArray, ...values: TemplateValue[]): RunProcess<O, O>;
  <P extends RunOptions = {}>(file: string, args?: readonly string[], options?: P): RunProcess<Over<O, P>, O>;
  <P extends RunOptions = {}>(file: string, options?: P): RunProcess<Over<O, P>, O>;
  <P extends RunOptions>(options: P): Dollar<Over<O, P>>;
  /** The same command, run to its end on this thread: `` $.sync`git rev-parse HEAD` `` gives the
   * RunResult (runSync()). */
  sync: DollarSync<O>;
}

function bindSync(bound: RunOptions): DollarSync<any> {
  return function sync(first: TemplateStringsArray | RunSyncOptions, ...values: unknown[]): any {
    if (isTemplate(first)) {
      const argv = bound.shell ? [shellTemplate(first, values)] : parseTemplate(first, values);
      return settleSync(normalizeRunSync(argv[0], argv.slice(1), bound, '$.sync'));
    }
    validateObject(first, 'options');
    return bindSync({ ...bound, ...(first as RunOptions) });
  } as DollarSync<any>;
}

function bind(bound: RunOptions): Dollar<any> {
  const $ = function $(first: TemplateStringsArray | string | RunOptions, ...rest: unknown[]): any {
    if (isTemplate(first)) {
      const argv = bound.shell ? [shellTemplate(first, rest)] : parseTemplate(first, rest);
      return createRunProcess(normalizeRun(argv[0], argv.slice(1), bound), bound);
    }
    if (typeof first === 'string') {
      const [args, options] = runArguments(rest[0], rest[1], '$');
      const merged = options !== null && typeof options === 'object' ? { ...bound, ...options } : options;
      return createRunProcess(normalizeRun(first, args, merged), bound);
    }
    if (first === null || typeof first !== 'object') {
      throw invalidArgType('$', first, 'a template literal, a file (a string), or an options object', 'argument');
    }
    validateObject(first, 'options');
    return bind({ ...bound, ...first });
  } as Dollar<any>;
  $.sync = bindSync(bound);
  return $;
}

/**
 * Runs the command a template literal spells: `` $`git log -n ${count} -- ${path}` ``. The
 * literal text is split on the whitespace typed in it; each `${value}` is exactly one argument
 * (an array, one per element); nothing goes through a shell. See docs/run.md for the rules.
 * `$(file, args, options)` runs as run() does, with this `$`'s options; `$(options)` binds them.
 */
export const $: Dollar = bind({});
