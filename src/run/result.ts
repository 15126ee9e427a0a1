// RunResult: how a run ended, what it wrote, what it cost.

import type { Rusage } from '../process/exit-status.js';
import type { Output } from './capture.js';
import type { OutputFormats } from './formats.js';
import type { RunOptions } from './options.js';
import type { CgroupFigures } from './tree.js';

/** The type of option K in O (undefined where O does not have it). */
type OptionOf<O, K extends string> = K extends keyof O ? O[K] : undefined;

/** Captured output as `O` makes it: lines, a Buffer or a string (any of them where the options'
 * types do not say). */
export type Decoded<O> =
  OptionOf<O, 'lines'> extends true
    ? string[]
    : OptionOf<O, 'encoding'> extends 'buffer'
      ? Buffer
      : OptionOf<O, 'lines'> extends false | undefined
        ? OptionOf<O, 'encoding'> extends BufferEncoding | undefined
          ? string
          : Output
        : Output;

/** stdout or stderr in the result: decoded output where it is captured ('pipe', the default),
 * else undefined. */
export type CapturedAs<O, K extends 'stdout' | 'stderr'> = K extends keyof O
  ? O[K] extends 'pipe' | undefined | ((line: string) => unknown)
    ? Decoded<O>
    : O[K] extends readonly unknown[]
      ? CapturedInList<O, O[K][number]>
      : 'pipe' extends O[K]
        ? Decoded<O> | undefined
        : undefined
  : Decoded<O>;

/** The array form (`['pipe', { file }, 'inherit']`): captured where 'pipe' or a transform is in
 * it (`E`: the type of its elements). */
type CapturedInList<O, E> = string extends E
  ? Decoded<O> | undefined // widened to string: which words it holds is not known
  : 'pipe' extends E
    ? Decoded<O>
    : [Extract<E, (line: string) => unknown>] extends [never]
      ? undefined
      : Decoded<O>;

/** `all` in the result: present when the `all` option is on. */
export type AllAs<O> =
  OptionOf<O, 'all'> extends true ? Decoded<O> : OptionOf<O, 'all'> extends false | undefined ? undefined : Decoded<O> | undefined;

/** The fields of a finished run, whether it succeeded (RunResult) or failed (RunError). */
export interface RunFields<O extends RunOptions = {}> {
  /** The program and its arguments, joined with spaces (for messages and logs). */
  command: string;
  /** The same, each argument quoted where a POSIX shell would need it: a line a shell runs as
   * the same argv. */
  escapedCommand: string;
  /** The working directory, absolute. */
  cwd: string;
  /** The pid the first process had; undefined if it never started. */
  pid: number | undefined;
  /** The exit code; undefined if a signal ended the process or it never started. */
  exitCode: number | undefined;
  /** The signal that ended the process ('SIGTERM'), or undefined. */
  signal: string | undefined;
  /** Captured stdout (undefined where stdout was not captured). */
  stdout: CapturedAs<O, 'stdout'>;
  /** Captured stderr (undefined where stderr was not captured). */
  stderr: CapturedAs<O, 'stderr'>;
  /** stdout and stderr in the order they arrived, with the `all` option. */
  all: AllAs<O>;
  /** The output of each fd, as execa gives it: [stdin (always undefined: it is not output),
   * stdout, stderr]. */
  stdio: [undefined, CapturedAs<O, 'stdout'>, CapturedAs<O, 'stderr'>];
  /** From the start to the end of the run, in milliseconds. */
  durationMs: number;
  /** The first process's resource usage (see ExitStatus); undefined if it never started. */
  rusage: Rusage | undefined;
  /** The whole tree's figures from its per-run cgroup; undefined when the run had none. */
  cgroup: CgroupFigures | undefined;
  /** Whether the run failed: a non-zero exit, a signal, a timeout, a cancel, maxBuffer, a
   * failed input, or a program that could not start. */
  failed: boolean;
  /** The `timeout` expired (and the tree was killed). */
  timedOut: boolean;
  /** The `signal` option aborted (and the tree was killed, or with `gracefulCancel`, told). */
  isCanceled: boolean;
  /** With `gracefulCancel`: the abort of `signal` was sent to the child as a cancel message
   * (`isCanceled` is true too; `isTerminated` says whether it had to be killed after all). */
  isGracefullyCanceled: boolean;
  /** stdout or stderr went beyond `maxBuffer` (and the tree was killed). */
  isMaxBuffer: boolean;
  /** A signal ended the first process (`signal` says which). */
  isTerminated: boolean;
  /** `killSignal` did not end the tree within `forceKillAfterDelay`: it was sent SIGKILL, and
   * some process of it was still there to receive it. */
  isForcefullyTerminated: boolean;
  /** In a pipeline: the results of the commands before this one, first to last. */
  pipedFrom: RunResult<RunOptions>[];
}

/** What a run gives when it ends: `await run(...)`. Its methods text(), json() and lines() give
 * stdout as text, parsed, or as lines. */
export interface RunResult<O extends RunOptions = {}> extends RunFields<O>, OutputFormats {}
