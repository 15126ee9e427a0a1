// `verbose`: a log line on stderr when a command starts, and one when it ends (its duration and
// how it ended); with 'full', the lines it writes to its captured stdout and stderr between them.
//
//   [14:02:11.520] [3] $ npm run build
//   [14:02:11.901] [3]   > tsc -p .
//   [14:02:13.044] [3] ✔ done in 1.52 s
//   [14:02:13.050] [4] $ npm test
//   [14:02:19.310] [4] ✘ failed with exit code 1, in 6.26 s
//
// Each line has the time (local, to the millisecond: the slow steps of a script show), the run's
// number in this process (its lines can be told apart when runs overlap; a pid is not known
// before the start, and is reused), and a symbol: `$` a command started, `|` a command started
// as the next one of a pipeline, `✔` it succeeded, `✘` it failed, `⚠` it failed without
// rejecting (`reject: false`, `.nothrow()`). A command of a pipeline that SIGPIPE alone ended
// (its reader stopped reading, as `head` does) did not fail there: `✔`, saying so. On a terminal
// the time and the number are dimmed and a failure is red; elsewhere (a CI log, a file) there are
// no colours, nor with NO_COLOR set.
//
// Without the option, the environment decides: PIDFD_VERBOSE=short or full (anything else but
// '', '0', 'none' or 'false' is 'short'), so that a script's commands can be seen without
// changing it. `quiet: true` turns the log off whatever `verbose` or the environment says.

import { StringDecoder } from 'node:string_decoder';

import { invalidArgValue } from '../errors.js';

/** The `verbose` option. */
export type VerboseOption = 'none' | 'short' | 'full';

/** What a run's log needs of its options. */
export interface VerboseRun {
  verbose: VerboseOption;
  escapedCommand: string;
  encoding: string;
}

/** What the end of a run's log needs of its outcome. */
interface Ended {
  failed: boolean;
  durationMs: number;
  escapedCommand: string;
  shortMessage?: string;
}

const levels: readonly string[] = ['none', 'short', 'full'];

/** The level the environment asks for (PIDFD_VERBOSE). */
function fromEnvironment(): VerboseOption {
  const value = process.env.PIDFD_VERBOSE;
  if (value === undefined) return 'none';
  const word = value.trim().toLowerCase();
  if (word === '' || word === '0' || word === 'none' || word === 'false') return 'none';
  return word === 'full' ? 'full' : 'short';
}

/** The `verbose` and `quiet` options, checked, as one level. */
export function parseVerbose(verbose: unknown, quiet: boolean): VerboseOption {
  if (verbose !== undefined && (typeof verbose !== 'string' || !levels.includes(verbose))) {
    const hint = verbose === true ? " (true is 'short')" : verbose === false ? " (false is 'none')" : '';
    throw invalidArgValue('verbose', verbose, `must be 'none', 'short' or 'full'${hint}`);
  }
  if (quiet) return 'none';
  return (verbose as VerboseOption | undefined) ?? fromEnvironment();
}

let lastId = 0;

const pad = (value: number, width = 2): string => String(value).padStart(width, '0');

function timestamp(): string {
  const now = new Date();
  return `${pad(now.getHours())}:${pad(now.getMinutes())}:${pad(now.getSeconds())}.${pad(now.getMilliseconds(), 3)}`;
}

/** A duration as people read it: `850 ms`, `1.52 s`, `2 min 5.1 s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${((ms - minutes * 60_000) / 1000).toFixed(1)} s`;
}

function useColour(): boolean {
  return process.stderr.isTTY === true && process.env.NO_COLOR === undefined;
}

const dim = (text: string): string => `\x1b[2m${text}\x1b[22m`;
const red = (text: string): string => `\x1b[31m${text}\x1b[39m`;
const yellow = (text: string): string => `\x1b[33m${text}\x1b[39m`;
const bold = (text: string): string => `\x1b[1m${text}\x1b[22m`;

/** The log of one run (see startVerbose()). */
export interface VerboseLog {
  /** For 'full': a function for the bytes of captured stdout (1) or stderr (2), as they come. */
  output(source: 1 | 2): ((bytes: Uint8Array) => void) | undefined;
  /** Logs the end of the run; `rejects`: whether its failure is thrown (else ⚠); `brokenPipe`:
   * it was piped into a command that stopped reading, and only that ended it. */
  ended(outcome: Ended, rejects: boolean, brokenPipe?: boolean): void;
}

class Log implements VerboseLog {
  readonly #id = ++lastId;
  readonly #full: boolean;
  readonly #colour = useColour();
  readonly #encoding: BufferEncoding;
  /** The partial last line of each output, for 'full'. */
  readonly #pending = new Map<1 | 2, { decoder: StringDecoder; text: string }>();

  constructor(run: VerboseRun, piped: boolean) {
    this.#full = run.verbose === 'full';
    // Output is shown as text; bytes asked for as 'hex', 'base64' or Buffers are read as UTF-8.
    this.#encoding = run.encoding === 'utf16le' || run.encoding === 'latin1' || run.encoding === 'ascii' ? run.encoding : 'utf8';
    const command = this.#colour ? bold(run.escapedCommand) : run.escapedCommand;
    this.#write(piped ? '|' : '$', command);
  }

  #write(symbol: string, text: string): void {
    const head = `[${timestamp()}] [${this.#id}]`;
    process.stderr.write(`${this.#colour ? dim(head) : head} ${symbol} ${text}\n`);
  }

  output(source: 1 | 2): ((bytes: Uint8Array) => void) | undefined {
    if (!this.#full) return undefined;
    const state = { decoder: new StringDecoder(this.#encoding), text: '' };
    this.#pending.set(source, state);
    return (bytes) => {
      state.text += state.decoder.write(bytes as Buffer);
      let newline = state.text.indexOf('\n');
      if (newline < 0) return;
      let start = 0;
      for (; newline >= 0; start = newline + 1, newline = state.text.indexOf('\n', start)) {
        this.#write(' ', state.text.slice(start, newline).replace(/\r$/, ''));
      }
      state.text = state.text.slice(start);
    };
  }

  ended(outcome: Ended, rejects: boolean, brokenPipe = false): void {
    for (const state of this.#pending.values()) {
      const rest = state.text + state.decoder.end();
      if (rest !== '') this.#write(' ', rest);
    }
    const duration = formatDuration(outcome.durationMs);
    if (!outcome.failed) {
      this.#write('✔', `done in ${duration}`);
      return;
    }
    if (brokenPipe) {
      this.#write('✔', `done in ${duration} (SIGPIPE ended it: the next command stopped reading)`);
      return;
    }
    // The error's first line without its command (the log's number says which).
    const message = outcome.shortMessage ?? 'Command failed';
    const how = message.replace(/^Command /, '').replace(`: ${outcome.escapedCommand}`, '');
    const text = `${how}, in ${duration}`;
    const colour = rejects ? red : yellow;
    this.#write(this.#colour ? colour(rejects ? '✘' : '⚠') : rejects ? '✘' : '⚠', this.#colour ? colour(text) : text);
  }
}

/** Logs the start of a run and returns its log; undefined when it is not to be logged. */
export function startVerbose(run: VerboseRun, piped: boolean): VerboseLog | undefined {
  return run.verbose === 'none' ? undefined : new Log(run, piped);
}
