// run() and `$`: run a command and get its output, with a timeout and a useful error.

import { validateObject } from '../validate.js';
import { normalizeRun, runArguments, type RunOptions } from './options.js';
import { createRunProcess, type RunProcess } from './run-process.js';
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

/** `$`: a tagged template that runs a command; `$(options)` is a `$` with those options. */
export interface Dollar<O extends RunOptions = {}> {
  (strings: TemplateStringsArray, ...values: TemplateValue[]): RunProcess<O, O>;
  <P extends RunOptions>(options: P): Dollar<Omit<O, keyof P> & P>;
}

function bind(bound: RunOptions): Dollar<any> {
  return function $(first: TemplateStringsArray | RunOptions, ...values: unknown[]): any {
    if (isTemplate(first)) {
      const argv = bound.shell ? [shellTemplate(first, values)] : parseTemplate(first, values);
      return createRunProcess(normalizeRun(argv[0], argv.slice(1), bound), bound);
    }
    validateObject(first, 'options');
    return bind({ ...bound, ...first });
  } as Dollar<any>;
}

/**
 * Runs the command a template literal spells: `` $`git log -n ${count} -- ${path}` ``. The
 * literal text is split on the whitespace typed in it; each `${value}` is exactly one argument
 * (an array, one per element); nothing goes through a shell. See docs/run.md for the rules.
 */
export const $: Dollar = bind({});
