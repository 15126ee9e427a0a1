// RunError: the error of a failed run, carrying every field of its result.

import type { Rusage } from '../process/exit-status.js';
import type { Output } from './capture.js';
import type { RunOptions } from './options.js';
import type { RunFields, RunResult } from './result.js';
import type { CgroupFigures } from './tree.js';

/** How much of stderr the message quotes, from its end. */
const TAIL_LINES = 20;
const TAIL_CHARS = 4000;

/** The last lines of captured stderr, for a message. */
function tail(stderr: Output | undefined): string {
  if (stderr === undefined) return '';
  let text = Array.isArray(stderr) ? stderr.join('\n') : typeof stderr === 'string' ? stderr : stderr.toString('utf8');
  text = text.trimEnd();
  if (text.length > TAIL_CHARS) text = `…${text.slice(-TAIL_CHARS)}`;
  const lines = text.split('\n');
  return lines.length > TAIL_LINES ? ['…', ...lines.slice(-TAIL_LINES)].join('\n') : text;
}

/**
 * Thrown (or, with `reject: false`, returned) when a run fails: a non-zero exit code, a signal, a
 * timeout, a cancel, maxBuffer, a failed input, or a program that could not start. It has every
 * field of RunResult; `message` names the command, how it ended, and the tail of its stderr;
 * `shortMessage` is the first line; `cause` is the original error where there is one (the
 * SpawnError, the AbortSignal's AbortError, the input's error).
 */
export class RunError extends Error implements RunFields<RunOptions> {
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
  isMaxBuffer!: boolean;
  isTerminated!: boolean;
  pipedFrom!: RunResult<RunOptions>[];

  /** `fields` is the run's result; `how` says how it ended, `cause` why, where known. */
  constructor(fields: RunFields<any>, how: string, cause?: unknown) {
    const shortMessage = `Command ${how}: ${fields.command}`;
    const stderrTail = tail(fields.stderr as Output | undefined);
    super(stderrTail === '' ? shortMessage : `${shortMessage}\n\n${stderrTail}`, cause === undefined ? undefined : { cause });
    this.name = 'RunError';
    this.shortMessage = shortMessage;
    const code = (cause as { code?: unknown } | undefined)?.code;
    if (typeof code === 'string') this.code = code;
    Object.assign(this, fields);
  }
}
