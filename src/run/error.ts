// RunError: the error of a failed run, carrying every field of its result.

import type { Rusage } from '../process/exit-status.js';
import type { Output } from './capture.js';
import { formats, type OutputFormats } from './formats.js';
import type { RunOptions } from './options.js';
import type { RunFields, RunResult } from './result.js';
import type { CgroupFigures } from './tree.js';

/** How much of each output the message quotes, from its end. */
const TAIL_LINES = 20;
const TAIL_CHARS = 4000;

/** The last lines of a captured output, for a message; '' if there is none. A Buffer is read as
 * utf8 (only its end is decoded). */
export function tail(output: Output | undefined): string {
  if (output === undefined) return '';
  let text: string;
  let linesCut = false;
  if (Array.isArray(output)) {
    linesCut = output.length > TAIL_LINES + 1;
    text = output.slice(-TAIL_LINES - 1).join('\n');
  }
  else if (typeof output === 'string') text = output;
  else {
    const from = Math.max(0, output.length - 4 * (TAIL_CHARS + 1));
    let start = from;
    // Not in the middle of a utf8 sequence: its continuation bytes are 10xxxxxx.
    while (start > 0 && start < output.length && start - from < 4 && (output[start]! & 0xc0) === 0x80) start++;
    text = output.subarray(start).toString('utf8');
  }
  text = text.trimEnd();
  let cut = false;
  if (text.length > TAIL_CHARS) {
    text = text.slice(-TAIL_CHARS);
    cut = true;
  }
  const lines = text.split('\n');
  if (lines.length > TAIL_LINES || linesCut) return ['…', ...lines.slice(-TAIL_LINES)].join('\n');
  return cut ? `…${text}` : text;
}

/**
 * What a message quotes of a run's output: the end of stderr, then the end of stdout (a failing
 * `npm test` says why on stdout); or the end of `all`, which has both in the order they came.
 * Each is its last 20 lines and 4000 characters at most, marked '…' where cut.
 */
export function quoteOutput(outputs: readonly (Output | undefined)[]): string {
  return outputs
    .map(tail)
    .filter((part) => part !== '')
    .join('\n\n');
}

/**
 * Thrown (or, with `reject: false`, returned) when a run fails: a non-zero exit code, a signal, a
 * timeout, a cancel, maxBuffer, a failed input, or a program that could not start. It has every
 * field of RunResult; `message` names the command, how it ended, and the end of its stderr and
 * of its stdout (quoteOutput());
 * `shortMessage` is the first line; `cause` is the original error where there is one (the
 * SpawnError, the AbortSignal's AbortError, the input's error).
 */
export class RunError extends Error implements RunFields<RunOptions>, OutputFormats {
  /** The first line of the message: the command and how it ended. */
  shortMessage: string;
  /** The errno name when the program could not start ('ENOENT'). */
  code?: string;
  command!: string;
  escapedCommand!: string;
  cwd!: string;
  pid!: number | undefined;
  exitCode!: number | undefined;
  signal!: string | undefined;
  stdout!: Output | undefined;
  stderr!: Output | undefined;
  all!: Output | undefined;
  durationMs!: number;
  rusage!: Rusage | undefined;
  cgroup!: CgroupFigures | undefined;
  failed!: boolean;
  timedOut!: boolean;
  isCanceled!: boolean;
  isGracefullyCanceled!: boolean;
  isMaxBuffer!: boolean;
  isTerminated!: boolean;
  isForcefullyTerminated!: boolean;
  stdio!: [undefined, Output | undefined, Output | undefined];
  pipedFrom!: RunResult<RunOptions>[];

  /** `fields` is the run's result; `how` says how it ended, `cause` why, where known; `quoted`
   * the outputs the message quotes the end of (default: `all`, or stderr then stdout). */
  constructor(fields: RunFields<any>, how: string, cause?: unknown, quoted?: readonly (Output | undefined)[]) {
    const shortMessage = `Command ${how}: ${fields.escapedCommand}`;
    const outputs = quoteOutput(quoted ?? (fields.all !== undefined ? [fields.all] : [fields.stderr, fields.stdout]));
    super(outputs === '' ? shortMessage : `${shortMessage}\n\n${outputs}`, cause === undefined ? undefined : { cause });
    this.name = 'RunError';
    this.shortMessage = shortMessage;
    const code = (cause as { code?: unknown } | undefined)?.code;
    if (typeof code === 'string') this.code = code;
    Object.assign(this, fields);
  }

  /** stdout as text (see RunResult). */
  text(): string {
    return formats.text(this);
  }

  /** stdout parsed as JSON (see RunResult). */
  json<T = any>(): T {
    return formats.json(this) as T;
  }

  /** stdout as lines (see RunResult). */
  lines(): string[] {
    return formats.lines(this);
  }
}
