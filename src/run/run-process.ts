// RunProcess: a running command, or the last command of a pipeline. Awaiting it gives its
// RunResult (or its RunError); while it runs it has its pid, its subprocess, the streams that
// are not captured, kill(), pipe() and the lines of its stdout and stderr.
//
// It owns the order of a run and nothing else: the start (#begin, at once or at run() for a run
// created with `halt`; #start: the engine, engine.ts), its
// kills (kill.ts), the end (#complete: the exit, the output, the tree), the outcome (#outcomeNow:
// a RunState handed to outcome.ts) and, in a pipeline, the joined outcome (pipe.ts). What watches
// a run hooks in around that order: the `verbose` log (verbose.ts) opens at the start (#begin) and
// logs its end when the command's own outcome settles; a result gets text()/json()/lines()
// (formats.ts) in #outcomeNow.
//
// Over 350 lines on purpose: RunProcess is the object users hold, and each of its public methods
// (the streams, kill, pipe, the iterations, the IPC methods, nothrow and the formats, the promise's
// own) is here with the documentation their editor shows; each is a few lines that hand the work
// to the file of its concern.

import { performance } from 'node:perf_hooks';
import type { Readable, Writable } from 'node:stream';

import { abortError, invalidArgType, invalidArgValue, pidfdError } from '../errors.js';
import type { ExitStatus } from '../process/exit-status.js';
import { Subprocess } from '../process/subprocess.js';
import { portableEngine } from '../engine-choice.js';
import { SIGKILL, signalName, signalNumber, treeSignalRule, type Signal } from '../signals.js';
import { readLines, type Capture } from './capture.js';
import { startRun, type StartedRun } from './engine.js';
import { RunError } from './error.js';
import { formats, withFormats } from './formats.js';
import { channelOf, getOneMessageFrom, sendMessageTo, type GetOneMessageOptions, type IpcChannel } from './ipc.js';
import { Killer, type Closing } from './kill.js';
import type { NormalizedRun, RunOptions } from './options.js';
import { outcomeOf, type Outcome } from './outcome.js';
import {
  brokenPipe,
  checkPipeable,
  joinPipeline,
  parseFrom,
  pipeArguments,
  pipeSource,
  pipeTemplate,
  type FromOptions,
  type OutputSource,
  type PipeCall,
  type PipedOptions,
  type PipeOptions,
} from './pipe.js';
import { startPortable } from './portable.js';
import type { RunFields, RunResult } from './result.js';
import type { TemplateValue } from './template.js';
import { startVerbose, type VerboseLog } from './verbose.js';

export type { PipedOptions, OutputSource, FromOptions, PipeOptions } from './pipe.js';

/** The exit status of a run's first process (null: not started, running, or lost), and whether
 * it started, whichever engine started it (`pidfd run`). */
export let exitStatusOf: (running: RunProcess<any, any>) => ExitStatus | null;
export let startedOf: (running: RunProcess<any, any>) => boolean;

/** Creates a RunProcess (run(), `$`, pipe()). */
export let createRunProcess: (
  n: NormalizedRun,
  bound: RunOptions | undefined,
  source?: RunProcess<any, any>,
  from?: OutputSource,
) => RunProcess<any, any>;

/** The lines of several streams as each arrives (each stream's in its order). */
async function* mergeLines(sources: AsyncGenerator<string>[]): AsyncGenerator<string> {
  const next = (i: number) => sources[i]!.next().then((result) => ({ i, result }));
  const pending = new Map(sources.map((_, i) => [i, next(i)]));
  try {
    while (pending.size > 0) {
      const { i, result } = await Promise.race(pending.values());
      if (result.done) {
        pending.delete(i);
        continue;
      }
      pending.set(i, next(i));
      yield result.value;
    }
  } finally {
    // Left early: each source ends once its pending read has settled (the run is being killed).
    for (const [i, read] of pending) void read.then(() => sources[i]!.return(undefined));
  }
}

/**
 * A running command. Awaitable: `await run(...)` gives its RunResult. `O` is its options (they
 * decide the types of the result's stdout, stderr and all); `B` the options of the `$` that
 * started it (`{}` for run() and pipe(file)), which a `.pipe\`…\`` after it inherits.
 */
export class RunProcess<O extends RunOptions = {}, B extends RunOptions = {}> implements PromiseLike<RunResult<O>>, AsyncIterable<string> {
  readonly #n: NormalizedRun;
  readonly #bound: RunOptions | undefined;
  readonly #source: RunProcess<any, any> | undefined;
  /** Which output of #source this command reads. */
  readonly #from: OutputSource;
  #startedAt = 0;
  readonly #killer: Killer;
  /** Created halted (`halt`, or piped from a halted command) and not begun yet: begins it. */
  #halted: (() => void) | undefined;
  /** Resolves once it has begun (started, or failed or been canceled before starting). */
  readonly #begun: Promise<void> | undefined;
  /** The commands piped from this one while it was halted: begun right after it. */
  #next: RunProcess<any, any>[] | undefined;
  #started: StartedRun | undefined;
  #startError: unknown;
  /** stdout was handed to pipe() or to an iteration: the result has none. */
  #stdoutTaken = false;
  /** The same for stderr. */
  #stderrTaken = false;
  readonly #own: Promise<Outcome>;
  readonly #outcome: Promise<Outcome>;
  /** The log of `verbose`, if any (opened at the start). */
  #verbose: VerboseLog | undefined;
  /** .nothrow() was called: a failure resolves. */
  #nothrow = false;

  static {
    createRunProcess = (n, bound, source, from) => new RunProcess(n, bound, source, from);
    exitStatusOf = (running) => running.#started?.subprocess.exitStatus ?? null;
    startedOf = (running) => running.#started !== undefined;
  }

  private constructor(n: NormalizedRun, bound: RunOptions | undefined, source: RunProcess<any, any> | undefined, from: OutputSource = 'stdout') {
    this.#n = n;
    this.#bound = bound;
    this.#source = source;
    this.#from = from;
    this.#killer = new Killer(n);
    // Halted: nothing more is done (nothing opened, nothing listened to) until run(). A command
    // piped from a halted one waits for it, and begins right after it.
    if (source === undefined ? n.halt : source.#halted !== undefined) {
      this.#begun = new Promise((resolve) => (this.#halted = resolve));
      if (source !== undefined) (source.#next ??= []).push(this);
      this.#own = this.#begun.then(() => this.#complete());
    } else {
      this.#begin();
      this.#own = this.#complete();
    }
    // The end is logged once the outcome has settled rather than in #outcomeNow: a command that
    // could not start has its outcome within this constructor, before a .nothrow() after it
    // decides between ✘ and ⚠.
    if (n.verbose !== 'none') void this.#own.then((outcome) => this.#logEnd(outcome));
    this.#outcome = source === undefined ? this.#own : this.#joinPipeline();
  }

  /** Begins the run: the log opens, then the command starts, unless its `signal` has aborted or
   * kill() came before run(), or the command before it in the pipeline did not start. */
  #begin(): void {
    const n = this.#n;
    const source = this.#source;
    this.#startedAt = performance.now();
    // Before the start: a command that cannot start is logged too, and with 'full' the captures
    // made by the start feed the log (RunEvents.output).
    this.#verbose = startVerbose(n, source !== undefined);
    if (!this.#killer.state.canceled && n.signal?.aborted) {
      this.#killer.state.canceled = true;
      this.#startError = abortError(n.signal);
    }
    if (this.#killer.state.canceled) {
      if (source !== undefined) source.#takeOutput(pipeSource(source.#n, this.#from), 'pipe')?.destroy();
    } else if (source === undefined) {
      this.#start(null);
    } else {
      const stream = source.#takeOutput(pipeSource(source.#n, this.#from), 'pipe');
      if (stream === null) this.#startError = pidfdError('ERR_PIDFD_PIPE_SOURCE', 'the command before it in the pipeline did not start');
      else this.#start(stream);
    }
  }

  /** Begins a halted run, then the commands piped from it. */
  #launch(): void {
    const begin = this.#halted;
    if (begin === undefined) return;
    this.#halted = undefined;
    this.#begin();
    begin();
    const next = this.#next;
    this.#next = undefined;
    for (const piped of next ?? []) piped.#launch();
  }

  /**
   * Starts a run created with `halt: true` (zx's `$({ halt: true })` and `p.run()`), and returns
   * this RunProcess: `await p.run()`. On a piped command, starts the pipeline from its first
   * command. Does nothing on a run that has started already (or was never halted), or that
   * kill() canceled: a command is started once at most.
   */
  run(): this {
    if (this.#halted !== undefined) {
      // A halted command's source is halted too: its start begins this one.
      const source = this.#source;
      if (source !== undefined && source.#halted !== undefined) source.run();
      else this.#launch();
    }
    return this;
  }

  /** The first process's pid; undefined if it did not start (or, halted, has not yet). */
  get pid(): number | undefined {
    return this.#started?.subprocess.pid;
  }

  /** The first process, as spawn() would have given it; undefined if it did not start (yet), and on
   * the portable engine (a Subprocess is a pidfd's: docs/run.md, "Platforms"). */
  get subprocess(): Subprocess | undefined {
    const sub = this.#started?.subprocess;
    return sub instanceof Subprocess ? sub : undefined;
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
    return this.#n.stderr.kind === 'stream' && !this.#stderrTaken ? (this.#started?.subprocess.stderr ?? null) : null;
  }

  /**
   * Sends a signal (default: the `killSignal` option) to every process of the tree, and of the
   * trees of the commands piped into this one. After `killSignal`, SIGKILL follows after
   * `forceKillAfterDelay` (not after another signal, as with execa); after a signal that would
   * end a process, stopped members get SIGCONT; SIGSTOP stops the tree. Returns whether any
   * process received it. On a halted run, before run(): it will never start, and settles as
   * canceled (`isCanceled`), as do the commands piped into it.
   */
  kill(signal?: Signal): boolean {
    const number = signal === undefined ? this.#n.killSignal : signalNumber(signal, 'signal', false, 'argument');
    if (this.#halted !== undefined && (number === SIGKILL || treeSignalRule(number).continueStopped)) {
      // Before run(): it never starts, and settles as canceled (a signal that ends no process,
      // SIGSTOP, SIGCONT or SIGWINCH, leaves it halted). So do the commands piped into it.
      this.#killer.state.canceled = true;
      const cause = new Error(`kill(${signalName(number)}) was called before run() started it`);
      this.#startError = Object.assign(cause, { name: 'AbortError', code: 'ABORT_ERR' });
      this.#launch();
    }
    const upstream = this.#source?.kill(number) ?? false;
    return this.#killer.kill(number) || upstream;
  }

  /**
   * Starts a command whose stdin is this command's stdout (or, with `from`, its stderr, or both
   * where `stderr: 'stdout'` put them in one pipe): one kernel pipe between the two, no byte
   * through this process. Call it in the same tick as run(), before anything has read the
   * output. Returns the new command; awaiting it gives the last command's result, or the error
   * of the first command that failed.
   */
  pipe<P extends RunOptions = {}>(file: string, args?: readonly string[], options?: P & FromOptions): RunProcess<P>;
  pipe<P extends RunOptions = {}>(file: string, options?: P & FromOptions): RunProcess<P>;
  pipe(strings: TemplateStringsArray, ...values: TemplateValue[]): RunProcess<PipedOptions<B>, PipedOptions<B>>;
  /** `.pipe({ from: 'stderr' })\`grep error\``: the template form, reading the output `from` says
   * (and with other options, for the piped command, over those it inherits). */
  pipe<P extends RunOptions = {}>(
    options: P & FromOptions,
  ): (strings: TemplateStringsArray, ...values: TemplateValue[]) => RunProcess<Omit<PipedOptions<B>, keyof P> & P, Omit<PipedOptions<B>, keyof P> & P>;
  pipe(first: string | TemplateStringsArray | PipeOptions, ...rest: unknown[]): any {
    const call = pipeArguments(this.#bound, first, rest);
    if ('template' in call) {
      const options = call.template;
      return (strings: TemplateStringsArray, ...values: TemplateValue[]) => this.#pipeInto(pipeTemplate(this.#bound, options, strings, values));
    }
    return this.#pipeInto(call);
  }

  /** Starts the next command of a pipeline, once the output it reads is checked. */
  #pipeInto(call: PipeCall): RunProcess<any, any> {
    const which = pipeSource(this.#n, call.from);
    // Something has read that output already: its capture, or whoever has its `stream`.
    const capture = which === 'stdout' ? this.#started?.stdout : this.#started?.stderr;
    const stream = this.#started?.subprocess[which] as { bytesRead?: number } | null | undefined;
    const read = capture?.started || stream?.bytesRead;
    checkPipeable(this.#n, which, which === 'stdout' ? this.#stdoutTaken : this.#stderrTaken, Boolean(read));
    // Halted: the output is the next command's from now on; it is handed over at the start.
    if (this.#halted !== undefined) {
      if (which === 'stdout') this.#stdoutTaken = true;
      else this.#stderrTaken = true;
    }
    return createRunProcess(call.n, call.bound, this, call.from);
  }

  /**
   * The lines of an output as they arrive (without their newline): `from` 'stdout' (the
   * default, as `for await (const line of run(...))`), 'stderr', or 'all' (the lines of both, each
   * in its stream's order, as they arrive); then, if the run failed, its RunError is thrown. The
   * output iterated is taken: the result does not have it. Leaving the loop early kills the tree
   * with `killSignal` and waits for the run to end. Throws at once for a bad `from`, an output
   * that is not 'pipe' or 'stream', or one already piped or iterated.
   */
  iterable(options?: FromOptions): AsyncIterableIterator<string> {
    if (options !== undefined && (options === null || typeof options !== 'object')) throw invalidArgType('options', options, 'an object', 'argument');
    const from = parseFrom(options?.from);
    this.#iterated(from); // refused here and now, as a bad argument is
    return this.#lines(from);
  }

  /** The lines of stdout as they arrive (without their newline); then, if the run failed, its
   * RunError is thrown. Iterating takes stdout: the result has none. Leaving the loop early
   * kills the tree with `killSignal` and waits for the run to end. */
  [Symbol.asyncIterator](): AsyncIterator<string> {
    return this.#lines('stdout');
  }

  then<A = RunResult<O>, B = never>(
    onFulfilled?: ((result: RunResult<O>) => A | PromiseLike<A>) | null,
    onRejected?: ((error: RunError) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    // Made at each use (a run that nobody awaits never raises an unhandled rejection), after
    // any .nothrow().
    const promise = this.#outcome.then((outcome) =>
      outcome instanceof RunError && this.#rejects() ? Promise.reject(outcome) : (outcome as unknown as RunResult<O>),
    );
    return promise.then(onFulfilled, onRejected);
  }

  /** Whether a failure rejects: `reject`, unless .nothrow() was called. */
  #rejects(): boolean {
    return this.#n.reject && !this.#nothrow;
  }

  /**
   * Makes a failure resolve with its RunError (as `reject: false` does), as zx's nothrow():
   * `const { exitCode } = await $`grep -q x file`.nothrow()`. Returns this RunProcess; call it
   * before awaiting.
   */
  nothrow(): this {
    this.#nothrow = true;
    return this;
  }

  /** Awaits the run and gives its stdout as text (RunResult's text()). */
  async text(): Promise<string> {
    return formats.text(await this);
  }

  /** Awaits the run and gives its stdout parsed as JSON (RunResult's json()). */
  async json<T = any>(): Promise<T> {
    return formats.json(await this) as T;
  }

  /** Awaits the run and gives its stdout as lines (RunResult's lines()). For the lines as they
   * come, iterate instead: `for await (const line of run(...))`. */
  async lines(): Promise<string[]> {
    return formats.lines(await this);
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

  // ---- IPC (`ipc: true`; ipc.ts) ----

  /**
   * Sends `message` to the child (its process.on('message'), or getOneMessage() of pidfd/ipc),
   * serialized as the `serialization` option says. Resolves once it is written to the channel;
   * rejects (ERR_PIDFD_IPC_DISCONNECTED) if the channel is closed, or with the error of a message
   * that cannot be serialized.
   */
  sendMessage(message: unknown): Promise<void> {
    return sendMessageTo(channelOf(this.#n, this.#started, 'sendMessage'), message, this.#n.command);
  }

  /**
   * The next message from the child (with `filter`: the next one it returns true for; the others
   * stay for the other readers). Messages that came while nobody was reading wait for the first
   * reader, in order. Rejects (ERR_PIDFD_IPC_DISCONNECTED) if the channel closes first.
   */
  getOneMessage(options?: GetOneMessageOptions): Promise<unknown> {
    return getOneMessageFrom(channelOf(this.#n, this.#started, 'getOneMessage'), options, this.#n.command);
  }

  /**
   * Every message from the child (those waiting first), until its channel closes (it exited or
   * disconnected); then, as a line iteration does, the run is awaited and its RunError thrown if
   * it failed. Leaving the loop early stops reading (the run goes on; later messages wait for
   * the next reader).
   */
  getEachMessage(): AsyncGenerator<unknown, void, undefined> {
    return this.#messages(channelOf(this.#n, this.#started, 'getEachMessage'));
  }

  async *#messages(channel: IpcChannel | null): AsyncGenerator<unknown, void, undefined> {
    if (channel !== null) yield* channel.each();
    const outcome = await this.#outcome;
    if (outcome instanceof RunError && this.#n.reject) throw outcome;
  }

  // ---- start ----

  /** Starts the command (through the engine), then its kills, then `pidfd run`'s hook. */
  #start(stdinStream: Readable | null): void {
    const killer = this.#killer;
    // The one place where the engines part (src/engine-choice.ts decides): this library's own start,
    // or Node's child_process (portable.ts).
    const engine = portableEngine() ? startPortable : startRun;
    let started: StartedRun;
    try {
      started = engine(this.#n, stdinStream, {
        overflow: () => killer.overflow(),
        inputFailed: (error) => killer.inputFailed(error),
        output: (source) => this.#verbose?.output(source),
      });
    } catch (error) {
      this.#startError = error;
      return;
    }
    this.#started = started;
    killer.arm(started.subprocess, started.tree, started.ipc);
    this.#n.launch?.onStart?.(started.tree);
  }

  // ---- stdout and stderr for pipe() and iteration ----

  /** Hands an output over: the stream, for the next command of a pipeline; or its chunks (the
   * captured ones first), for an iteration. Null if the command never started. */
  #takeOutput(which: 'stdout' | 'stderr', purpose: 'pipe'): Readable | null;
  #takeOutput(which: 'stdout' | 'stderr', purpose: 'iterate'): AsyncIterable<Buffer> | null;
  #takeOutput(which: 'stdout' | 'stderr', purpose: 'pipe' | 'iterate'): Readable | AsyncIterable<Buffer> | null {
    const started = this.#started;
    if (started === undefined) return null;
    const capture = started[which];
    const stream = capture?.socket ?? started.subprocess[which];
    if (stream === null) return null;
    if (which === 'stdout') this.#stdoutTaken = true;
    else this.#stderrTaken = true;
    if (purpose === 'pipe') return stream;
    return capture !== null ? capture.take() : (stream as AsyncIterable<Buffer>);
  }

  /** The streams an iteration `from` reads: both for 'all' (stdout alone where stderr goes
   * there), each checked. */
  #iterated(from: OutputSource): ('stdout' | 'stderr')[] {
    const which: ('stdout' | 'stderr')[] =
      from === 'all' ? (this.#n.stderr.kind === 'stdout' ? ['stdout'] : ['stdout', 'stderr']) : [from];
    for (const name of which) {
      const kind = this.#n[name].kind;
      if (kind !== 'pipe' && kind !== 'stream') {
        throw invalidArgValue(name, kind, `must be 'pipe' or 'stream' to iterate over the lines of \`${this.#n.command}\``);
      }
      if (name === 'stdout' ? this.#stdoutTaken : this.#stderrTaken) {
        throw pidfdError('ERR_PIDFD_STDOUT_TAKEN', `the ${name} of \`${this.#n.command}\` is already piped or iterated`);
      }
    }
    return which;
  }

  async *#lines(from: OutputSource): AsyncGenerator<string> {
    // Before run(): the lines are those of the run once it starts.
    if (this.#halted !== undefined) await this.#begun;
    const which = this.#iterated(from);
    const taken = which.map((name) => this.#takeOutput(name, 'iterate')).filter((t): t is AsyncIterable<Buffer> => t !== null);
    let complete = false;
    try {
      if (taken.length === 1) yield* readLines(taken[0]!, this.#n.encoding);
      else if (taken.length > 1) yield* mergeLines(taken.map((chunks) => readLines(chunks, this.#n.encoding)));
      complete = true;
    } finally {
      // Left early: nobody reads the output any more. The command is stopped, and the loop is
      // left once it has ended, so that nothing of it outlives the loop. Its output is read on
      // and dropped meanwhile: a command that ignores killSignal and keeps writing must not
      // block on a full pipe, and a stream being read keeps the event loop alive until the run
      // has ended (a paused one does not: Node would exit inside the loop). A `stream` output
      // was destroyed by the loop's end; its command writes into a closed pipe.
      if (!complete) {
        this.kill();
        for (const name of which) this.#started?.[name]?.drain();
        await this.#outcome;
      }
    }
    const outcome = await this.#outcome;
    if (outcome instanceof RunError && this.#rejects()) throw outcome;
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
    // The channel too: what the child sent before it exited is read before the run ends.
    const closing: Closing[] = [started.stdout, started.stderr].filter((c): c is Capture => c !== null);
    closing.push(...(started.tees ?? []));
    const ipc = started.ipc;
    if (ipc !== null) closing.push({ done: ipc.closed, abandon: () => ipc.disconnect() });
    await killer.outputClosed(tree, closing);
    const wait = killer.treeWait(tree);
    if (wait > 0) await tree.empty(wait);
    await tree.settled();
    killer.end();
    ipc?.disconnect();
    started.release();
    const figures = tree.figures();
    tree.release(killer.killed);
    return this.#outcomeNow(status, statusError, figures);
  }

  /** The outcome of this command alone, from what the run has gathered; a result with its
   * text(), json() and lines(). */
  #outcomeNow(status: ExitStatus | undefined, statusError: unknown, cgroup?: RunFields['cgroup']): Outcome {
    const started = this.#started;
    const outcome = outcomeOf({
      n: this.#n,
      startError: this.#startError,
      pid: started?.subprocess.pid,
      status,
      statusError,
      kills: this.#killer.state,
      stdout: this.#stdoutTaken ? undefined : started?.stdout?.store,
      stderr: this.#stderrTaken ? undefined : started?.stderr?.store,
      all: started?.all ?? undefined,
      exceeded: { stdout: started?.stdout?.exceeded ?? false, stderr: started?.stderr?.exceeded ?? false },
      durationMs: performance.now() - this.#startedAt,
      cgroup,
      outputError: started?.tees?.map((t) => t.error()).find((e) => e !== undefined),
    });
    return outcome instanceof RunError ? outcome : withFormats(outcome);
  }

  /** Logs the end of this command (`verbose`). A command before the last of a pipeline that
   * only SIGPIPE ended did not fail there. */
  #logEnd(outcome: Outcome): void {
    const sigpipe = outcome instanceof RunError && this.#stdoutTaken && brokenPipe(outcome);
    this.#verbose!.ended(outcome, this.#rejects(), sigpipe);
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
