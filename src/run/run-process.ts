// RunProcess: a running command, or the last command of a pipeline. Awaiting it gives its
// RunResult (or its RunError); while it runs it has its pid, its subprocess, the streams that
// are not captured, kill(), pipe() and the lines of its stdout.
//
// It owns the order of a run and nothing else: the start (#start: the engine, engine.ts), its
// kills (kill.ts), the end (#complete: the exit, the output, the tree), the outcome (#outcomeNow:
// a RunState handed to outcome.ts) and, in a pipeline, the joined outcome (pipe.ts).

import { performance } from 'node:perf_hooks';
import type { Readable, Writable } from 'node:stream';

import { abortError, invalidArgValue, pidfdError } from '../errors.js';
import type { ExitStatus } from '../process/exit-status.js';
import type { Subprocess } from '../process/subprocess.js';
import { signalNumber, type Signal } from '../signals.js';
import { readLines, type Capture } from './capture.js';
import { startRun, type StartedRun } from './engine.js';
import { RunError } from './error.js';
import { Killer } from './kill.js';
import type { NormalizedRun, RunOptions } from './options.js';
import { outcomeOf, type Outcome } from './outcome.js';
import { checkPipeable, joinPipeline, pipeArguments, type PipedOptions } from './pipe.js';
import type { RunFields, RunResult } from './result.js';
import type { TemplateValue } from './template.js';

export type { PipedOptions } from './pipe.js';

/** Creates a RunProcess (run(), `$`, pipe()). */
export let createRunProcess: (
  n: NormalizedRun,
  bound: RunOptions | undefined,
  source?: RunProcess<any, any>,
) => RunProcess<any, any>;

/**
 * A running command. Awaitable: `await run(...)` gives its RunResult. `O` is its options (they
 * decide the types of the result's stdout, stderr and all); `B` the options of the `$` that
 * started it (`{}` for run() and pipe(file)), which a `.pipe\`…\`` after it inherits.
 */
export class RunProcess<O extends RunOptions = {}, B extends RunOptions = {}> implements PromiseLike<RunResult<O>>, AsyncIterable<string> {
  readonly #n: NormalizedRun;
  readonly #bound: RunOptions | undefined;
  readonly #source: RunProcess<any, any> | undefined;
  readonly #startedAt = performance.now();
  readonly #killer: Killer;
  #started: StartedRun | undefined;
  #startError: unknown;
  /** stdout was handed to pipe() or to an iteration: the result has none. */
  #stdoutTaken = false;
  readonly #own: Promise<Outcome>;
  readonly #outcome: Promise<Outcome>;
  #promise: Promise<RunResult<O>> | undefined;

  static {
    createRunProcess = (n, bound, source) => new RunProcess(n, bound, source);
  }

  private constructor(n: NormalizedRun, bound: RunOptions | undefined, source: RunProcess<any, any> | undefined) {
    this.#n = n;
    this.#bound = bound;
    this.#source = source;
    this.#killer = new Killer(n);
    if (n.signal?.aborted) {
      this.#killer.state.canceled = true;
      this.#startError = abortError(n.signal);
      if (source !== undefined) source.#takeStdout('pipe')?.destroy();
    } else if (source === undefined) {
      this.#start(null);
    } else {
      const stream = source.#takeStdout('pipe');
      if (stream === null) this.#startError = pidfdError('ERR_PIDFD_PIPE_SOURCE', 'the command before it in the pipeline did not start');
      else this.#start(stream);
    }
    this.#own = this.#complete();
    this.#outcome = source === undefined ? this.#own : this.#joinPipeline();
  }

  /** The first process's pid; undefined if it did not start. */
  get pid(): number | undefined {
    return this.#started?.subprocess.pid;
  }

  /** The first process, as spawn() would have given it; undefined if it did not start. */
  get subprocess(): Subprocess | undefined {
    return this.#started?.subprocess;
  }

  /** The child's stdin, with `stdin: 'pipe'`; else null. End it when you are done writing. */
  get stdin(): Writable | null {
    return this.#n.stdin.kind === 'pipe' && this.#n.input === undefined ? (this.#started?.subprocess.stdin ?? null) : null;
  }

  /** The child's stdout, with `stdout: 'stream'` (uncaptured); else null. */
  get stdout(): Readable | null {
    return this.#n.stdout.kind === 'stream' && !this.#stdoutTaken ? (this.#started?.subprocess.stdout ?? null) : null;
  }

  /** The child's stderr, with `stderr: 'stream'` (uncaptured); else null. */
  get stderr(): Readable | null {
    return this.#n.stderr.kind === 'stream' ? (this.#started?.subprocess.stderr ?? null) : null;
  }

  /**
   * Sends a signal (default: the `killSignal` option) to every process of the tree, and of the
   * trees of the commands piped into this one. After `killSignal`, SIGKILL follows after
   * `forceKillAfterDelay` (not after another signal, as with execa); after a signal that would
   * end a process, stopped members get SIGCONT; SIGSTOP stops the tree. Returns whether any
   * process received it.
   */
  kill(signal?: Signal): boolean {
    const number = signal === undefined ? this.#n.killSignal : signalNumber(signal, 'signal', false, 'argument');
    const upstream = this.#source?.kill(number) ?? false;
    return this.#killer.kill(number) || upstream;
  }

  /**
   * Starts a command whose stdin is this command's stdout: one kernel pipe between the two, no
   * byte through this process. Call it in the same tick as run(), before anything has read the
   * output. Returns the new command; awaiting it gives the last command's result, or the error
   * of the first command that failed.
   */
  pipe<P extends RunOptions = {}>(file: string, args?: readonly string[], options?: P): RunProcess<P>;
  pipe<P extends RunOptions = {}>(file: string, options?: P): RunProcess<P>;
  pipe(strings: TemplateStringsArray, ...values: TemplateValue[]): RunProcess<PipedOptions<B>, PipedOptions<B>>;
  pipe(first: string | TemplateStringsArray, ...rest: unknown[]): RunProcess<any, any> {
    const { n, bound } = pipeArguments(this.#bound, first, rest);
    // Something has read stdout already: its capture, or whoever has its `stream`.
    const sub = this.#started?.subprocess;
    const read = this.#started?.stdout?.started || (sub?.stdout as { bytesRead?: number } | null | undefined)?.bytesRead;
    checkPipeable(this.#n, this.#stdoutTaken, Boolean(read));
    return createRunProcess(n, bound, this);
  }

  /** The lines of stdout as they arrive (without their newline); then, if the run failed, its
   * RunError is thrown. Iterating takes stdout: the result has none. Leaving the loop early
   * kills the tree with `killSignal` and waits for the run to end. */
  [Symbol.asyncIterator](): AsyncIterator<string> {
    return this.#lines();
  }

  then<A = RunResult<O>, B = never>(
    onFulfilled?: ((result: RunResult<O>) => A | PromiseLike<A>) | null,
    onRejected?: ((error: RunError) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    // Made on first use: a run that nobody awaits never raises an unhandled rejection.
    this.#promise ??= this.#outcome.then((outcome) =>
      outcome instanceof RunError && this.#n.reject ? Promise.reject(outcome) : (outcome as unknown as RunResult<O>),
    );
    return this.#promise.then(onFulfilled, onRejected);
  }

  catch<B = never>(onRejected?: ((error: RunError) => B | PromiseLike<B>) | null): Promise<RunResult<O> | B> {
    return this.then(undefined, onRejected);
  }

  finally(onFinally?: (() => void) | null): Promise<RunResult<O>> {
    return this.then().finally(onFinally);
  }

  /** Kills the tree with SIGKILL (if it still runs) and waits for the end of the run. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.kill('SIGKILL');
    await this.#outcome;
  }

  // ---- start ----

  /** Starts the command (through the engine), then its kills, then `pidfd run`'s hook. */
  #start(stdinStream: Readable | null): void {
    const killer = this.#killer;
    let started: StartedRun;
    try {
      started = startRun(this.#n, stdinStream, {
        overflow: () => killer.overflow(),
        inputFailed: (error) => killer.inputFailed(error),
      });
    } catch (error) {
      this.#startError = error;
      return;
    }
    this.#started = started;
    killer.arm(started.subprocess, started.tree);
    this.#n.launch?.onStart?.(started.tree);
  }

  // ---- stdout for pipe() and iteration ----

  /** Hands stdout over: the stream, for the next command of a pipeline; or its chunks (the
   * captured ones first), for an iteration. Null if the command never started. */
  #takeStdout(purpose: 'pipe'): Readable | null;
  #takeStdout(purpose: 'iterate'): AsyncIterable<Buffer> | null;
  #takeStdout(purpose: 'pipe' | 'iterate'): Readable | AsyncIterable<Buffer> | null {
    const started = this.#started;
    if (started === undefined) return null;
    const capture = started.stdout;
    const stream = capture?.socket ?? started.subprocess.stdout;
    if (stream === null) return null;
    this.#stdoutTaken = true;
    if (purpose === 'pipe') return stream;
    return capture !== null ? capture.take() : (stream as AsyncIterable<Buffer>);
  }

  async *#lines(): AsyncGenerator<string> {
    const kind = this.#n.stdout.kind;
    if (kind !== 'pipe' && kind !== 'stream') {
      throw invalidArgValue('stdout', kind, `must be 'pipe' or 'stream' to iterate over the lines of \`${this.#n.command}\``);
    }
    if (this.#stdoutTaken) throw pidfdError('ERR_PIDFD_STDOUT_TAKEN', `the stdout of \`${this.#n.command}\` is already piped or iterated`);
    const taken = this.#takeStdout('iterate');
    let complete = false;
    try {
      if (taken !== null) yield* readLines(taken, this.#n.encoding);
      complete = true;
    } finally {
      // Left early: nobody reads the output any more. The command is stopped, and the loop is
      // left once it has ended, so that nothing of it outlives the loop. Its output is read on
      // and dropped meanwhile: a command that ignores killSignal and keeps writing must not
      // block on a full pipe, and a stream being read keeps the event loop alive until the run
      // has ended (a paused one does not: Node would exit inside the loop). A `stream` stdout
      // was destroyed by the loop's end; its command writes into a closed pipe.
      if (!complete) {
        this.kill();
        this.#started?.stdout?.drain();
        await this.#outcome;
      }
    }
    const outcome = await this.#outcome;
    if (outcome instanceof RunError && this.#n.reject) throw outcome;
  }

  // ---- the end ----

  /** Waits for the end of this command (its first process, its output, its tree) and gives its
   * outcome. */
  async #complete(): Promise<Outcome> {
    const started = this.#started;
    const killer = this.#killer;
    if (started === undefined) {
      killer.end();
      return this.#outcomeNow(undefined, undefined);
    }
    const { subprocess: sub, tree } = started;
    let status: ExitStatus | undefined;
    let statusError: unknown;
    try {
      status = await sub.exited;
    } catch (error) {
      statusError = error;
      status = (error as { status?: ExitStatus }).status;
    }
    const tees = started.tees ?? [];
    await killer.outputClosed(tree, [started.stdout, started.stderr, ...tees.map((t) => t.capture)].filter((c): c is Capture => c !== null));
    const wait = killer.treeWait(tree);
    if (wait > 0) await tree.empty(wait);
    await tree.settled();
    killer.end();
    started.release();
    const figures = tree.figures();
    tree.release(killer.killed);
    return this.#outcomeNow(status, statusError, figures);
  }

  /** The outcome of this command alone, from what the run has gathered. */
  #outcomeNow(status: ExitStatus | undefined, statusError: unknown, cgroup?: RunFields['cgroup']): Outcome {
    const started = this.#started;
    return outcomeOf({
      n: this.#n,
      startError: this.#startError,
      pid: started?.subprocess.pid,
      status,
      statusError,
      kills: this.#killer.state,
      stdout: this.#stdoutTaken ? undefined : started?.stdout?.store,
      stderr: started?.stderr?.store,
      all: started?.all ?? undefined,
      exceeded: { stdout: started?.stdout?.exceeded ?? false, stderr: started?.stderr?.exceeded ?? false },
      durationMs: performance.now() - this.#startedAt,
      cgroup,
      outputError: started?.tees?.map((t) => t.error()).find((e) => e !== undefined),
    });
  }

  /** The outcomes of every command of the pipeline up to this one, first to last. */
  async #chain(): Promise<Outcome[]> {
    const before = this.#source === undefined ? [] : await this.#source.#chain();
    return [...before, await this.#own];
  }

  /** The outcome of a pipeline (joinPipeline()). */
  async #joinPipeline(): Promise<Outcome> {
    return joinPipeline(await this.#chain());
  }
}
