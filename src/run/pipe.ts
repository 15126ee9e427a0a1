// Pipelines: what pipe() accepts and checks before it starts the next command (and which output
// of this one it reads: `from`), what a command started with `.pipe\`…\`` inherits from its `$`,
// and the outcome of a whole pipeline (the last command's, or the first failure's; SIGPIPE before
// the last is no failure), as a pure function of its commands' outcomes. The pipe itself (one
// kernel pipe from one command's stdout or stderr to the next's stdin) is made by RunProcess,
// which hands that output over, and by the start (engine.ts).

import { invalidArgValue, pidfdError } from '../errors.js';
import { RunError } from './error.js';
import { normalizeRun, runArguments, type NormalizedRun, type RunOptions } from './options.js';
import type { Outcome } from './outcome.js';
import { withFormats } from './formats.js';
import type { RunFields } from './result.js';
import { isTemplate, parseTemplate, shellTemplate } from './template.js';

/** The options a command started with `.pipe\`…\`` inherits from the `$` of the command before
 * it: all but its stdin's (pipedOptions()). */
export type PipedOptions<B extends RunOptions> = Omit<B, 'stdin' | 'input' | 'inputFile'>;

/** Which output of a command a pipe() or an iteration reads: stdout, stderr, or both (`all`). */
export type OutputSource = 'stdout' | 'stderr' | 'all';

/** What pipe(options) and iterable(options) take. */
export interface FromOptions {
  /** The output read: 'stdout' (the default), 'stderr', or 'all' (both). */
  from?: OutputSource;
}

/** pipe()'s options: the piped command's, and which output of this one it reads. */
export type PipeOptions = RunOptions & FromOptions;

/** The `from` option of pipe() and iterable(), checked. */
export function parseFrom(value: unknown): OutputSource {
  if (value === undefined) return 'stdout';
  if (value === 'stdout' || value === 'stderr' || value === 'all') return value;
  throw invalidArgValue('from', value, "must be 'stdout', 'stderr' or 'all'");
}

/** Refuses the options a piped command cannot have: its stdin is the previous command's output. */
function checkPipedOptions(options: RunOptions | null | undefined): void {
  for (const key of ['stdin', 'input', 'inputFile'] as const) {
    const value = options?.[key];
    if (value !== undefined) {
      throw invalidArgValue(key, value, "cannot be given to a piped command: its stdin is the previous command's output");
    }
  }
}

/** The options of `$` that a command inherits through `.pipe\`…\``: all but its stdin's. */
function pipedOptions(bound: RunOptions | undefined): RunOptions {
  if (bound === undefined) return {};
  const { stdin: _stdin, input: _input, inputFile: _inputFile, ...rest } = bound;
  return rest;
}

/** The next command of a pipeline, checked: what it runs, the options a `.pipe\`…\`` after it
 * inherits (undefined after pipe(file)), and which output of the command before it it reads. */
export interface PipeCall {
  n: NormalizedRun;
  bound: RunOptions | undefined;
  from: OutputSource;
}

/**
 * The next command of a pipeline from pipe()'s arguments, checked: (file, args?, options?) or a
 * template, which inherits the options of the `$` before it (`bound`) but its stdin's. `from` in
 * the options says which output it reads. pipe(options) gives the template form with those
 * options (`from`, and the piped command's own over those it inherits): `template` is then set.
 */
export function pipeArguments(bound: RunOptions | undefined, first: string | TemplateStringsArray | PipeOptions, rest: unknown[]): PipeCall | { template: PipeOptions } {
  if (isTemplate(first)) return pipeTemplate(bound, {}, first, rest);
  if (first !== null && typeof first === 'object') {
    const { from, ...options } = first as PipeOptions;
    parseFrom(from);
    checkPipedOptions(options);
    return { template: first as PipeOptions };
  }
  const [args, given] = runArguments(rest[0], rest[1], 'pipe');
  let options = given;
  let from: OutputSource = 'stdout';
  if (given !== null && typeof given === 'object') {
    const { from: source, ...others } = given as PipeOptions;
    from = parseFrom(source);
    options = others;
  }
  checkPipedOptions(options as RunOptions | null);
  return { n: normalizeRun(first, args, options), bound: undefined, from };
}

/** `.pipe(options)\`…\``: the template's command, with `options` over those it inherits. */
export function pipeTemplate(bound: RunOptions | undefined, options: PipeOptions, strings: TemplateStringsArray, values: unknown[]): PipeCall {
  const { from, ...own } = options;
  const piped = { ...pipedOptions(bound), ...own };
  const argv = piped.shell ? [shellTemplate(strings, values)] : parseTemplate(strings, values);
  return { n: normalizeRun(argv[0], argv.slice(1), piped), bound: piped, from: parseFrom(from) };
}

/** The stream a pipe() `from` reads: 'all' is stdout where stderr goes there (2>&1); two pipes
 * are never merged in JavaScript for a pipeline. */
export function pipeSource(n: NormalizedRun, from: OutputSource): 'stdout' | 'stderr' {
  if (from !== 'all') return from;
  if (n.stderr.kind === 'stdout') return 'stdout';
  throw invalidArgValue(
    'from',
    'all',
    `needs stdout and stderr of \`${n.command}\` in one pipe: start it with \`stderr: 'stdout'\` (the shell's 2>&1), ` +
      'so that the kernel pipe carries both (a pipeline never passes bytes through JavaScript)',
  );
}

/** Throws if the output `which` (stdout or stderr) of the command `n` describes cannot be piped
 * into another command now: `taken` (already piped or iterated), `read` (something has read
 * from it already). */
export function checkPipeable(n: NormalizedRun, which: 'stdout' | 'stderr', taken: boolean, read: boolean): void {
  const kind = n[which].kind;
  if (kind !== 'pipe' && kind !== 'stream') {
    throw invalidArgValue(which, kind, `must be 'pipe' or 'stream' for \`${n.command}\` to be piped into another command`);
  }
  if (taken) {
    throw pidfdError('ERR_PIDFD_STDOUT_TAKEN', `the ${which} of \`${n.command}\` is already piped or iterated`);
  }
  if (read) {
    throw pidfdError(
      'ERR_PIDFD_PIPE_TOO_LATE',
      `the ${which} of \`${n.command}\` has already been read: call pipe() in the same tick as run(), ` +
        'so that the next command gets all of it',
    );
  }
}

/** Whether a failed command was ended by SIGPIPE alone: its reader stopped reading. */
export function brokenPipe(error: RunError): boolean {
  return error.signal === 'SIGPIPE' && !error.timedOut && !error.isCanceled && !error.isMaxBuffer && error.cause === undefined;
}

/** The fields of RunResult that a RunError carries, as a plain result. */
function resultFields(error: RunError): RunFields<RunOptions> {
  const { command, escapedCommand, cwd, pid, exitCode, signal, stdout, stderr, all, stdio, durationMs, rusage, cgroup } = error;
  const { failed, timedOut, isCanceled, isMaxBuffer, isTerminated, isForcefullyTerminated, pipedFrom } = error;
  return {
    command, escapedCommand, cwd, pid, exitCode, signal, stdout, stderr, all, stdio, durationMs, rusage, cgroup,
    failed, timedOut, isCanceled, isMaxBuffer, isTerminated, isForcefullyTerminated, pipedFrom,
  };
}

/**
 * The outcome of a pipeline from the outcomes of its commands, first to last: the last command's
 * result, with the others in `pipedFrom`; or the error of the first command that failed. A
 * command before the last that was killed by SIGPIPE did not fail: the next one stopped reading
 * (as `head` does). Sets `pipedFrom` on each outcome (and replaces those SIGPIPE errors in
 * `chain` by their results).
 */
export function joinPipeline(chain: Outcome[]): Outcome {
  const last = chain.length - 1;
  // In the pipeline's view, a command that only a broken pipe ended is a result that did not
  // fail (awaited on its own, it still fails: it was killed).
  for (let i = 0; i < last; i++) {
    const outcome = chain[i]!;
    if (outcome instanceof RunError && brokenPipe(outcome)) chain[i] = withFormats({ ...resultFields(outcome), failed: false });
  }
  for (let i = 0; i < chain.length; i++) chain[i]!.pipedFrom = chain.slice(0, i);
  const first = chain.findIndex((outcome) => outcome.failed);
  return first >= 0 ? chain[first]! : chain[last]!;
}
