// Pipelines: what pipe() accepts and checks before it starts the next command, what a command
// started with `.pipe\`…\`` inherits from its `$`, and the outcome of a whole pipeline (the last
// command's, or the first failure's; SIGPIPE before the last is no failure), as a pure function
// of its commands' outcomes. The pipe itself (one kernel pipe from one command's stdout to the
// next's stdin) is made by RunProcess, which hands its stdout over, and by the start (engine.ts).

import { invalidArgValue, pidfdError } from '../errors.js';
import { RunError } from './error.js';
import { normalizeRun, runArguments, type NormalizedRun, type RunOptions } from './options.js';
import type { Outcome } from './outcome.js';
import type { RunResult } from './result.js';
import { isTemplate, parseTemplate, shellTemplate } from './template.js';

/** The options a command started with `.pipe\`…\`` inherits from the `$` of the command before
 * it: all but its stdin's (pipedOptions()). */
export type PipedOptions<B extends RunOptions> = Omit<B, 'stdin' | 'input' | 'inputFile'>;

/** The options of `$` that a command inherits through `.pipe\`…\``: all but its stdin's. */
function pipedOptions(bound: RunOptions | undefined): RunOptions {
  if (bound === undefined) return {};
  const { stdin: _stdin, input: _input, inputFile: _inputFile, ...rest } = bound;
  return rest;
}

/**
 * The next command of a pipeline from pipe()'s arguments, checked: (file, args?, options?) or a
 * template, which inherits the options of the `$` before it (`bound`) but its stdin's. Its own
 * `bound` is those options (for the `.pipe\`…\`` after it), or undefined after pipe(file).
 */
export function pipeArguments(bound: RunOptions | undefined, first: string | TemplateStringsArray, rest: unknown[]): { n: NormalizedRun; bound: RunOptions | undefined } {
  if (isTemplate(first)) {
    const piped = pipedOptions(bound);
    const argv = piped.shell ? [shellTemplate(first, rest)] : parseTemplate(first, rest);
    return { n: normalizeRun(argv[0], argv.slice(1), piped), bound: piped };
  }
  const [args, options] = runArguments(rest[0], rest[1], 'pipe');
  for (const key of ['stdin', 'input', 'inputFile'] as const) {
    const value = (options as RunOptions | null)?.[key];
    if (value !== undefined) {
      throw invalidArgValue(key, value, "cannot be given to a piped command: its stdin is the previous command's stdout");
    }
  }
  return { n: normalizeRun(first, args, options), bound: undefined };
}

/** Throws if the stdout of the command `n` describes cannot be piped into another command now:
 * `taken` (already piped or iterated), `read` (something has read from it already). */
export function checkPipeable(n: NormalizedRun, taken: boolean, read: boolean): void {
  const kind = n.stdout.kind;
  if (kind !== 'pipe' && kind !== 'stream') {
    throw invalidArgValue('stdout', kind, `must be 'pipe' or 'stream' for \`${n.command}\` to be piped into another command`);
  }
  if (taken) {
    throw pidfdError('ERR_PIDFD_STDOUT_TAKEN', `the stdout of \`${n.command}\` is already piped or iterated`);
  }
  if (read) {
    throw pidfdError(
      'ERR_PIDFD_PIPE_TOO_LATE',
      `the stdout of \`${n.command}\` has already been read: call pipe() in the same tick as run(), ` +
        'so that the next command gets all of it',
    );
  }
}

/** Whether a failed command was ended by SIGPIPE alone: its reader stopped reading. */
function brokenPipe(error: RunError): boolean {
  return error.signal === 'SIGPIPE' && !error.timedOut && !error.isCanceled && !error.isMaxBuffer && error.cause === undefined;
}

/** The fields of RunResult that a RunError carries, as a plain result. */
function resultFields(error: RunError): RunResult<RunOptions> {
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
    if (outcome instanceof RunError && brokenPipe(outcome)) chain[i] = { ...resultFields(outcome), failed: false };
  }
  for (let i = 0; i < chain.length; i++) chain[i]!.pipedFrom = chain.slice(0, i);
  const first = chain.findIndex((outcome) => outcome.failed);
  return first >= 0 ? chain[first]! : chain[last]!;
}
