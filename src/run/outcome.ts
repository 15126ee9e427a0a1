// The outcome of one command: its RunResult, or its RunError and the words of its message (how it
// ended: its exit, its timeout, its cancel, maxBuffer, its input, SIGKILL after
// forceKillAfterDelay, the OOM killer). Owns RunState, the record a run fills in while it runs,
// and outcomeOf(), a pure function of it: it starts nothing, waits for nothing and reads no
// clock. A run that ends synchronously builds the same record and gets the same result and the
// same message; the tests check every ending on a record, without a process
// (test/run/outcome.test.js).

import type { ExitStatus } from '../process/exit-status.js';
import { abortError, invalidArgType } from '../errors.js';
import { signalName } from '../signals.js';
import { decodeOutput, MAX_CAPTURE, type ByteStore, type Output } from './capture.js';
import { RunError } from './error.js';
import { isTextEncoding, type LineTransform, type NormalizedRun, type RunOptions } from './options.js';
import type { RunFields, RunResult } from './result.js';
import type { CgroupFigures } from './tree.js';

/** A finished command: its result, or its error. */
export type Outcome = RunResult<RunOptions> | RunError;

/** The options the outcome reads. */
export type OutcomeOptions = Pick<
  NormalizedRun,
  | 'command'
  | 'escapedCommand'
  | 'resolvedCwd'
  | 'encoding'
  | 'lines'
  | 'stripFinalNewline'
  | 'maxBuffer'
  | 'timeout'
  | 'killSignal'
  | 'forceKillAfterDelay'
  | 'signal'
> & { transforms?: NormalizedRun['transforms'] };

/** Why the tree was killed, and what the kill did: what the killing concern records (kill.ts). */
export interface KillState {
  /** The `timeout` expired. */
  timedOut: boolean;
  /** The `signal` option aborted (before the start, too). */
  canceled: boolean;
  /** A capture went past maxBuffer. */
  maxBuffer: boolean;
  /** The SIGKILL of forceKillAfterDelay reached a process of the tree. */
  forced: boolean;
  /** The input failed (the first error). */
  inputError: Error | undefined;
  /** The first process had exited when the tree was first killed. */
  exitedBeforeKill: boolean;
  /** With `gracefulCancel`: the cancel was sent to the child as a message. */
  gracefullyCanceled: boolean;
  /** ...and it had not ended after forceKillAfterDelay: it was sent killSignal. */
  gracePassed: boolean;
  /** ...and by then it had never listened for the cancel (no getCancelSignal() call). */
  cancelUnheard: boolean;
}

/** The KillState of a run that nothing has killed (yet). */
export function noKills(): KillState {
  return { timedOut: false, canceled: false, maxBuffer: false, forced: false, inputError: undefined, exitedBeforeKill: false, gracefullyCanceled: false, gracePassed: false, cancelUnheard: false };
}

/** How a capture went past maxBuffer: not at all, in bytes, or in lines (`lines: true`). */
export type Exceeded = false | 'bytes' | 'lines';

/** Everything the outcome of one command depends on. */
export interface RunState {
  n: OutcomeOptions;
  /** Why it did not start; undefined if it did. */
  startError: unknown;
  pid: number | undefined;
  /** How the first process ended; undefined if it did not start, or if its status is unknown. */
  status: ExitStatus | undefined;
  /** The error of a status that could not be had. */
  statusError: unknown;
  kills: KillState;
  /** The captured bytes: undefined where a stream was not captured (or stdout was taken by pipe()
   * or an iteration). */
  stdout: ByteStore | undefined;
  stderr: ByteStore | undefined;
  all: ByteStore | undefined;
  /** Which capture went past maxBuffer, and how (stdout's even when it was taken). */
  exceeded: { stdout: Exceeded; stderr: Exceeded };
  durationMs: number;
  /** The whole tree's figures, from its per-run cgroup. */
  cgroup: CgroupFigures | undefined;
  /** A place of a tee that could not be written (a file on a full disk). */
  outputError?: unknown;
}

/** A failure in words (the message's "Command <how>: <command>") and the error behind it. */
interface Failure {
  how: string;
  cause?: unknown;
}

/** How a killed command's first process ended, for its message: after the kill, or before it
 * (`before`: it had exited, and what it left running, which held its output open or was
 * waited for, was killed). */
function killedWith(status: ExitStatus | undefined, before: boolean): string {
  if (status?.signal) {
    return before ? ` (it had been killed with ${status.signal} before that; what it left running was killed)` : ` and was killed with ${status.signal}`;
  }
  if (status?.code == null) return '';
  return before ? ` (it had exited with code ${status.code} before that; what it left running was killed)` : ` (it then exited with code ${status.code})`;
}

/** Captured lines through the stream's transforms, in order: each line gives a string, undefined
 * (dropped) or, from a generator, 0 or more strings. As lines with `lines: true`, else joined
 * with '\n' (and one final newline where stripFinalNewline is off). */
export function transformLines(lines: string[], transforms: LineTransform[], n: Pick<OutcomeOptions, 'lines' | 'stripFinalNewline'>): Output {
  let current = lines;
  for (const transform of transforms) {
    const next: string[] = [];
    for (const line of current) {
      const out = (transform as (line: string) => unknown)(line);
      if (out === undefined) continue;
      if (typeof out === 'string') {
        next.push(out);
        continue;
      }
      if (out !== null && typeof out === 'object' && typeof (out as Iterable<unknown>)[Symbol.iterator] === 'function') {
        for (const item of out as Iterable<unknown>) {
          if (typeof item !== 'string') throw invalidArgType('a transform\'s line', item, 'a string (lines are text)');
          next.push(item);
        }
        continue;
      }
      throw invalidArgType('a transform\'s result', out, 'a string, undefined (drop the line), or what a generator function yields (strings)');
    }
    current = next;
  }
  if (n.lines) return current;
  const text = current.join('\n');
  return n.stripFinalNewline || current.length === 0 ? text : `${text}\n`;
}

/** The result of one command (its fields, as a plain object: the run gives it text(), json() and
 * lines() with withFormats()), or its RunError. */
export function outcomeOf(s: RunState): RunFields<RunOptions> | RunError {
  const { n, status } = s;
  let decodeError: unknown;
  let transformError: unknown;
  const decode = (store: ByteStore | undefined, transforms: LineTransform[] = []): Output | undefined => {
    if (store === undefined) return undefined;
    let output: Output;
    try {
      output = decodeOutput(store, transforms.length > 0 ? { ...n, lines: true } : n);
    } catch (error) {
      decodeError ??= error;
      return undefined;
    }
    if (transforms.length === 0) return output;
    try {
      return transformLines(output as string[], transforms, n);
    } catch (error) {
      transformError ??= error;
      return undefined;
    }
  };
  const stdout = decode(s.stdout, n.transforms?.stdout);
  const stderr = decode(s.stderr, n.transforms?.stderr);
  const fields: RunFields<RunOptions> = {
    command: n.command,
    escapedCommand: n.escapedCommand,
    cwd: n.resolvedCwd,
    pid: s.pid,
    exitCode: status?.code ?? undefined,
    signal: status?.signal ?? undefined,
    stdout,
    stderr,
    all: decode(s.all),
    stdio: [undefined, stdout, stderr],
    durationMs: s.durationMs,
    rusage: status?.rusage ?? undefined,
    cgroup: s.cgroup,
    failed: false,
    timedOut: s.kills.timedOut,
    isCanceled: s.kills.canceled,
    isGracefullyCanceled: s.kills.gracefullyCanceled,
    isMaxBuffer: s.kills.maxBuffer,
    isTerminated: status?.signal != null,
    isForcefullyTerminated: s.kills.forced,
    pipedFrom: [],
  };
  const failure = withOutputError(s, failureWithOom(s, decodeError, transformError));
  if (failure === undefined) return fields;
  fields.failed = true;
  // The message quotes text: what 'hex', 'base64' (or 'buffer') write out is read as utf8.
  const text = (store: ByteStore | undefined, decoded: Output | undefined): Output | undefined =>
    isTextEncoding(n.encoding) || store === undefined ? decoded : store.bytes();
  const quoted = s.all !== undefined ? [text(s.all, fields.all)] : [text(s.stderr, stderr), text(s.stdout, stdout)];
  return new RunError(fields, failure.how, failure.cause, quoted);
}

/** A failure for another reason (a timeout, a kill, SIGPIPE once a tee's copying stopped) also
 * says that the output was not written whole, if it was not; that error is its cause where it
 * has none. */
function withOutputError(s: RunState, failure: Failure | undefined): Failure | undefined {
  const error = s.outputError as Error | undefined;
  if (failure === undefined || error === undefined || failure.cause === error) return failure;
  return { how: `${failure.how}; its output could not be written whole (${error.message})`, cause: failure.cause ?? error };
}

/** How the command failed, in words (with what the OOM killer did in its tree), and the error
 * behind it; undefined if it did not. */
function failureWithOom(s: RunState, decodeError: unknown, transformError?: unknown): Failure | undefined {
  const failure = failureOf(s, decodeError, transformError);
  const oomKills = s.cgroup?.oomKills ?? 0;
  if (failure === undefined || oomKills === 0 || s.status?.oomKilled) return failure;
  const processes = oomKills === 1 ? 'a process' : `${oomKills} processes`;
  return { ...failure, how: `${failure.how} (the OOM killer ended ${processes} of its tree)` };
}

/** How a killed command ended, for its message (killedWith()), and whether SIGKILL had to
 * follow killSignal. */
function killedWithForced(s: RunState): string {
  return `${killedWith(s.status, s.kills.exitedBeforeKill)}${forcedWith(s)}`;
}

function forcedWith(s: RunState): string {
  if (!s.kills.forced) return '';
  const n = s.n;
  return ` (${signalName(n.killSignal)} had not ended its tree within forceKillAfterDelay, ${n.forceKillAfterDelay} ms: it was sent SIGKILL)`;
}

/** How a gracefully canceled command ended: on its own after the cancel message, or killed
 * once forceKillAfterDelay had passed. */
function gracefulEnd(s: RunState): string {
  const { n, status, kills } = s;
  if (kills.gracePassed) {
    const unheard = kills.cancelUnheard ? ' (it never listened for it: getCancelSignal() of pidfd/ipc was not called)' : '';
    return `: it had not ended ${n.forceKillAfterDelay} ms (forceKillAfterDelay) after the cancel message${unheard} and was sent ${signalName(n.killSignal)}${killedWithForced(s)}`;
  }
  if (status?.signal) return `: it was sent a cancel message, then killed with ${status.signal}`;
  return status?.code == null ? ': it was sent a cancel message' : `: it was sent a cancel message and exited with code ${status.code}`;
}

function failureOf(s: RunState, decodeError: unknown, transformError?: unknown): Failure | undefined {
  const { n, status, statusError, kills } = s;
  const start = s.startError as (Error & { code?: string }) | undefined;
  if (kills.canceled && status === undefined) return { how: 'was canceled before it started', cause: start };
  if (start !== undefined) return { how: `could not start (${start.message})`, cause: start };
  if (kills.timedOut) return { how: `timed out after ${n.timeout} ms${killedWithForced(s)}` };
  if (kills.canceled) {
    const reason = n.signal?.reason as { message?: unknown } | undefined;
    const why = typeof reason?.message === 'string' ? ` (${reason.message})` : '';
    if (kills.gracefullyCanceled) return { how: `was canceled gracefully${why}${gracefulEnd(s)}`, cause: abortError(n.signal!) };
    return { how: `was canceled${why}${killedWithForced(s)}`, cause: abortError(n.signal!) };
  }
  if (kills.maxBuffer) {
    const which = s.exceeded.stdout ? 'stdout' : 'stderr';
    const exceeded = s.exceeded[which];
    const limit =
      exceeded === 'lines'
        ? `maxBuffer (${n.maxBuffer} line${n.maxBuffer === 1 ? '' : 's'})`
        : n.lines || n.maxBuffer > MAX_CAPTURE
          ? `${MAX_CAPTURE} bytes, the most a Buffer holds`
          : `maxBuffer (${n.maxBuffer} bytes)`;
    return { how: `wrote more than ${limit} to ${which}${killedWithForced(s)}` };
  }
  if (kills.inputError !== undefined) {
    return { how: `failed: its input failed (${kills.inputError.message})${killedWithForced(s)}`, cause: kills.inputError };
  }
  if (statusError !== undefined) return { how: `ended with an unknown status (${(statusError as Error).message})`, cause: statusError };
  if (status?.oomKilled) return { how: `was killed with ${status.signal} by the OOM killer (its tree reached memory.max)` };
  if (status?.signal) return { how: `was killed with ${status.signal}${forcedWith(s)}` };
  if (status !== undefined && status.code !== 0) return { how: `failed with exit code ${status.code}` };
  if (s.outputError !== undefined) {
    return { how: `failed: its output could not be written (${(s.outputError as Error).message})`, cause: s.outputError };
  }
  if (transformError !== undefined) {
    return { how: `failed: a transform of its output threw (${(transformError as Error)?.message ?? String(transformError)})`, cause: transformError };
  }
  if (decodeError !== undefined) {
    return { how: `wrote output that could not be decoded (${(decodeError as Error).message}; use \`encoding: 'buffer'\`)`, cause: decodeError };
  }
  return undefined;
}
