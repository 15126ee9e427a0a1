// RunProcess: a running command, or the last command of a pipeline. Awaiting it gives its
// RunResult (or its RunError); while it runs it has its pid, its subprocess, the streams that
// are not captured, kill(), pipe() and the lines of its stdout.

import { closeSync, createReadStream, constants as fs, openSync, statSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Readable, Writable } from 'node:stream';

import { binding } from '../binding.js';
import { setLongTimeout } from '../internal/timers.js';
import { abortError, invalidArgValue, pidfdError, systemError } from '../errors.js';
import type { ExitStatus } from '../process/exit-status.js';
import { normalizeStdio, type StdioOption } from '../process/stdio.js';
import { Subprocess } from '../process/subprocess.js';
import { portableEngine } from '../engine.js';
import { signalName, signalNumber, treeSignalRule, type Signal } from '../signals.js';
import { ByteStore, Capture, decodeOutput, LineLimit, MAX_CAPTURE, readLines, type Output } from './capture.js';
import { RunError } from './error.js';
import { feedInput } from './input.js';
import { isTextEncoding, normalizeRun, runArguments, type NormalizedRun, type RunOptions, type StdioSetting } from './options.js';
import type { RunFields, RunResult } from './result.js';
import { isTemplate, parseTemplate, shellTemplate, type TemplateValue } from './template.js';
import { startPortable, type RunChild, type RunTree } from './portable.js';
import { startTree } from './tree.js';

const SIGKILL = 9;

/** Whether path is a FIFO (stat does not open it, so it never waits for the other end). */
function isFifo(path: string): boolean {
  try {
    return statSync(path).isFIFO();
  } catch {
    return false; // the open that follows says why, with its path
  }
}

/** After a killed tree is empty, how long its output pipes may take to reach EOF before they are
 * given up on (a process outside the tree, a setsid'd one, still holds them). */
const ABANDON_GRACE_MS = 200;
/** How long a killed tree may take to empty after SIGKILL before the run ends anyway. */
const EMPTY_GRACE_MS = 2000;

/** A finished command: its result, or its error. */
type Outcome = RunResult<RunOptions> | RunError;

/** The exit status of a run's first process (null: not started, running, or lost), and whether
 * it started, whichever engine started it (`pidfd run`). */
export let exitStatusOf: (running: RunProcess<any, any>) => ExitStatus | null;
export let startedOf: (running: RunProcess<any, any>) => boolean;

/** Creates a RunProcess (run(), `$`, pipe()). */
export let createRunProcess: (
  n: NormalizedRun,
  bound: RunOptions | undefined,
  source?: RunProcess<any, any>,
) => RunProcess<any, any>;

/** The options of `$` that a command inherits through `.pipe\`…\``: all but its stdin's. */
function pipedOptions(bound: RunOptions | undefined): RunOptions {
  if (bound === undefined) return {};
  const { stdin: _stdin, input: _input, inputFile: _inputFile, ...rest } = bound;
  return rest;
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

/** The options a command started with `.pipe\`…\`` inherits from the `$` of the command before
 * it: all but its stdin's (pipedOptions()). */
export type PipedOptions<B extends RunOptions> = Omit<B, 'stdin' | 'input' | 'inputFile'>;

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
  /** The first process: a Subprocess (the pidfd engine) or Node's child (the portable one). */
  #subprocess: RunChild | undefined;
  #tree: RunTree | undefined;
  #startError: unknown;
  #stdout: Capture | null = null;
  #stderr: Capture | null = null;
  #all: ByteStore | null = null;
  /** stdout was handed to pipe() or to an iteration: the result has none. */
  #stdoutTaken = false;
  #cancelTimer: (() => void) | undefined;
  #cancelForceTimer: (() => void) | undefined;
  #onAbort: (() => void) | undefined;
  #timedOut = false;
  #canceled = false;
  #maxBuffer = false;
  /** The SIGKILL of forceKillAfterDelay reached a process of the tree. */
  #forced = false;
  #inputError: Error | undefined;
  #killed = false;
  /** The first process had exited when the tree was first killed. */
  #exitedBeforeKill = false;
  #onKilled: (() => void) | undefined;
  #whenKilled: Promise<void> | undefined;
  /** With a FIFO as stdin's file: lets go of its open if no writer ever came (see #feedFifo). */
  #releaseFifo: (() => void) | undefined;
  #finished = false;
  readonly #own: Promise<Outcome>;
  readonly #outcome: Promise<Outcome>;
  #promise: Promise<RunResult<O>> | undefined;

  static {
    createRunProcess = (n, bound, source) => new RunProcess(n, bound, source);
    exitStatusOf = (running) => running.#subprocess?.exitStatus ?? null;
    startedOf = (running) => running.#subprocess !== undefined;
  }

  private constructor(n: NormalizedRun, bound: RunOptions | undefined, source: RunProcess<any, any> | undefined) {
    this.#n = n;
    this.#bound = bound;
    this.#source = source;
    if (n.signal?.aborted) {
      this.#canceled = true;
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
    return this.#subprocess?.pid;
  }

  /** The first process, as spawn() would have given it; undefined if it did not start, and on
   * the portable engine (a Subprocess is a pidfd's: docs/run.md, "Platforms"). */
  get subprocess(): Subprocess | undefined {
    return this.#subprocess instanceof Subprocess ? this.#subprocess : undefined;
  }

  /** The child's stdin, with `stdin: 'pipe'`; else null. End it when you are done writing. */
  get stdin(): Writable | null {
    return this.#n.stdin.kind === 'pipe' && this.#n.input === undefined ? (this.#subprocess?.stdin ?? null) : null;
  }

  /** The child's stdout, with `stdout: 'stream'` (uncaptured); else null. */
  get stdout(): Readable | null {
    return this.#n.stdout.kind === 'stream' && !this.#stdoutTaken ? (this.#subprocess?.stdout ?? null) : null;
  }

  /** The child's stderr, with `stderr: 'stream'` (uncaptured); else null. */
  get stderr(): Readable | null {
    return this.#n.stderr.kind === 'stream' ? (this.#subprocess?.stderr ?? null) : null;
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
    return this.#kill(number) || upstream;
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
    let n: NormalizedRun;
    let bound: RunOptions | undefined;
    if (isTemplate(first)) {
      bound = pipedOptions(this.#bound);
      const argv = bound.shell ? [shellTemplate(first, rest)] : parseTemplate(first, rest);
      n = normalizeRun(argv[0], argv.slice(1), bound);
    } else {
      const [args, options] = runArguments(rest[0], rest[1], 'pipe');
      for (const key of ['stdin', 'input', 'inputFile'] as const) {
        const value = (options as RunOptions | null)?.[key];
        if (value !== undefined) {
          throw invalidArgValue(key, value, "cannot be given to a piped command: its stdin is the previous command's stdout");
        }
      }
      n = normalizeRun(first, args, options);
    }
    this.#checkPipeable();
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

  /**
   * The value of one child fd for normalizeStdio(). Files are opened here; a captured stream gets
   * a pipe of our own, whose write end the child is given and whose read end goes to `captured`
   * (the caller calls every closer in `opened` after the start, and closes the read ends if it
   * failed). A pipe's fds are the addon's, closed by it: Deno's node:fs refuses an fd it did not
   * open; a file's fd is node:fs's, closed by it.
   */
  #stdioValue(setting: StdioSetting, opened: (() => void)[], captured?: (number | Readable)[]): StdioOption {
    switch (setting.kind) {
      case 'pipe': {
        if (captured === undefined) return 'pipe'; // stdin: a pipe for `input` or for you
        const ends = binding().pipe();
        if (typeof ends === 'number') throw systemError(-ends, 'pipe2', { context: 'run() output capture' });
        const readEnd = ends[0]!;
        const writeEnd = ends[1]!;
        captured.push(readEnd);
        opened.push(() => binding().close(writeEnd));
        return writeEnd;
      }
      case 'stream':
        return 'pipe';
      case 'inherit':
      case 'ignore':
        return setting.kind;
      case 'fd':
        return setting.fd;
      case 'file': {
        // O_NONBLOCK: opening a FIFO never waits for its other end, which would block this
        // thread (and every timer, the timeout's included) for as long as nobody comes. Written,
        // one with no reader fails here (ENXIO). Read, a FIFO is not opened here at all: its
        // writer may come later (`cmd < fifo` waits for it), and a non-blocking open would give
        // the child end of input at once; it is read on Node's thread pool and fed to a pipe
        // (#feedFifo). The child gets a file's descriptor without the flag (native/spawn.c).
        const input = setting === this.#n.stdin;
        if (input && isFifo(setting.path)) return 'pipe';
        const flags = (input ? fs.O_RDONLY : fs.O_WRONLY | fs.O_CREAT | (setting.append ? fs.O_APPEND : fs.O_TRUNC)) | fs.O_NONBLOCK;
        let fd: number;
        try {
          fd = openSync(setting.path, flags, 0o666); // libuv opens with O_CLOEXEC
        } catch (error) {
          const e = error as { code?: string; errno?: number };
          if (e.code !== 'ENXIO' || input) throw error;
          throw systemError(-e.errno!, 'open', { path: setting.path, context: 'a FIFO that no process has open for reading (run() does not wait for one)' });
        }
        opened.push(() => closeSync(fd));
        return fd;
      }
    }
  }

  #start(stdinStream: Readable | null): void {
    const n = this.#n;
    const opened: (() => void)[] = [];
    const stdoutEnd: (number | Readable)[] = [];
    const stderrEnd: (number | Readable)[] = [];
    try {
      // The one place where the engines part (src/engine.ts): portable.ts starts the run with
      // Node's child_process, and gives the streams to capture.
      if (portableEngine()) {
        const started = startPortable(n, stdinStream);
        this.#subprocess = started.child;
        this.#tree = started.tree;
        if (started.stdout !== null) stdoutEnd.push(started.stdout);
        if (started.stderr !== null) stderrEnd.push(started.stderr);
      } else {
        const stdio = normalizeStdio([
          stdinStream ?? this.#stdioValue(n.stdin, opened),
          this.#stdioValue(n.stdout, opened, stdoutEnd),
          this.#stdioValue(n.stderr, opened, stderrEnd),
        ]);
        const spec = { file: n.file, argv: n.argv, env: n.env, path: n.path, cwd: n.cwd, stdio };
        const started = startTree(spec, n.tree, n.cleanup, n.launch);
        this.#subprocess = started.subprocess;
        this.#tree = started.tree;
      }
    } catch (error) {
      this.#startError = error;
      for (const fd of [...stdoutEnd, ...stderrEnd]) if (typeof fd === 'number') binding().close(fd);
      return;
    } finally {
      for (const close of opened) close();
      // The previous command of a pipeline now writes to this one (or, if this one could not
      // start, must not wait for a reader that will never come): our end goes.
      stdinStream?.destroy();
    }
    const sub = this.#subprocess!;
    // With `lines`, maxBuffer counts lines: bytes are bounded by what a Buffer holds.
    const maxBytes = n.lines ? MAX_CAPTURE : n.maxBuffer;
    if (n.all) this.#all = new ByteStore(2 * Math.min(maxBytes, MAX_CAPTURE), true);
    const overflow = (): void => this.#overflow();
    const lineLimit = (): LineLimit | null => (n.lines ? new LineLimit(n.maxBuffer, n.encoding) : null);
    if (stdoutEnd.length > 0) this.#stdout = new Capture(stdoutEnd[0]!, maxBytes, this.#all, overflow, lineLimit(), 1);
    if (stderrEnd.length > 0) this.#stderr = new Capture(stderrEnd[0]!, maxBytes, this.#all, overflow, lineLimit(), 2);
    if (n.input !== undefined) feedInput(sub.stdin!, n.input, (error) => this.#inputFailed(error));
    else if (n.stdin.kind === 'file' && stdinStream === null && sub.stdin !== null) this.#feedFifo(sub.stdin, n.stdin.path);
    if (n.timeout > 0) this.#cancelTimer = setLongTimeout(() => this.#onTimeout(), n.timeout);
    if (n.signal !== undefined) {
      this.#onAbort = () => this.#onCancel();
      n.signal.addEventListener('abort', this.#onAbort, { once: true });
    }
    n.launch?.onStart?.(this.#tree!);
  }

  /**
   * Feeds the FIFO at `path` to the child's stdin. createReadStream opens it on Node's thread
   * pool, where the open waits for a writer without blocking this thread. If the run ends first
   * (a timeout, a cancel, a command that did not read), that waiting open is let go by opening
   * the FIFO's write end once, without blocking, and closing it: the open then returns, and the
   * stream reads end of input (without that, the pending open would keep Node's event loop
   * alive until some writer came).
   */
  #feedFifo(stdin: Writable, path: string): void {
    const source = createReadStream(path);
    let opened = false;
    source.once('open', () => (opened = true));
    this.#releaseFifo = () => {
      if (!opened) {
        try {
          closeSync(openSync(path, fs.O_WRONLY | fs.O_NONBLOCK));
        } catch {} // ENXIO: the open has not begun; it then sees this stream destroyed
      }
      source.destroy();
    };
    feedInput(stdin, source, (error) => this.#inputFailed(error));
  }

  // ---- kills ----

  #kill(signal: number): boolean {
    const tree = this.#tree;
    if (tree === undefined || this.#finished) return false;
    const sent = tree.kill(signal);
    const rule = treeSignalRule(signal, this.#n.killSignal);
    // Only a signal that would end a process makes this a killed run (its tree then waited for,
    // its daemons not let go); kill('SIGSTOP'), kill('SIGCONT') or a SIGWINCH leave the run as
    // it was.
    if (!this.#killed && (signal === SIGKILL || rule.continueStopped)) {
      this.#killed = true;
      this.#exitedBeforeKill = this.#subprocess!.exitStatus !== null;
      this.#onKilled?.();
    }
    const delay = this.#n.forceKillAfterDelay;
    if (rule.forceKill && delay >= 0 && this.#cancelForceTimer === undefined) {
      this.#cancelForceTimer = setLongTimeout(() => {
        // Forced only where something was left for SIGKILL to end (zombies aside).
        if (this.#finished || !tree.alive()) return;
        tree.kill(SIGKILL);
        this.#forced = true;
      }, delay);
    }
    return sent;
  }

  #onTimeout(): void {
    this.#timedOut = true;
    this.#kill(this.#n.killSignal);
  }

  #onCancel(): void {
    this.#canceled = true;
    this.#kill(this.#n.killSignal);
  }

  #overflow(): void {
    if (this.#maxBuffer) return;
    this.#maxBuffer = true;
    this.#kill(this.#n.killSignal);
  }

  #inputFailed(error: Error): void {
    this.#inputError ??= error;
    this.#kill(this.#n.killSignal);
  }

  /** Resolves once something has killed the tree. */
  #killedPromise(): Promise<void> {
    if (this.#killed) return Promise.resolve();
    this.#whenKilled ??= new Promise((resolve) => {
      this.#onKilled = resolve;
    });
    return this.#whenKilled;
  }

  // ---- stdout for pipe() and iteration ----

  /** Throws if this command's stdout cannot be piped into another command now. */
  #checkPipeable(): void {
    const kind = this.#n.stdout.kind;
    if (kind !== 'pipe' && kind !== 'stream') {
      throw invalidArgValue('stdout', kind, `must be 'pipe' or 'stream' for \`${this.#n.command}\` to be piped into another command`);
    }
    if (this.#stdoutTaken) {
      throw pidfdError('ERR_PIDFD_STDOUT_TAKEN', `the stdout of \`${this.#n.command}\` is already piped or iterated`);
    }
    const sub = this.#subprocess;
    if (this.#stdout?.started || (sub?.stdout as { bytesRead?: number } | null | undefined)?.bytesRead) {
      throw pidfdError(
        'ERR_PIDFD_PIPE_TOO_LATE',
        `the stdout of \`${this.#n.command}\` has already been read: call pipe() in the same tick as run(), ` +
          'so that the next command gets all of it',
      );
    }
  }

  /** Hands stdout over: the stream, for the next command of a pipeline; or its chunks (the
   * captured ones first), for an iteration. Null if the command never started. */
  #takeStdout(purpose: 'pipe'): Readable | null;
  #takeStdout(purpose: 'iterate'): AsyncIterable<Buffer> | null;
  #takeStdout(purpose: 'pipe' | 'iterate'): Readable | AsyncIterable<Buffer> | null {
    const sub = this.#subprocess;
    if (sub === undefined) return null;
    const capture = this.#stdout;
    const stream = capture?.socket ?? sub.stdout;
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
        this.#stdout?.drain();
        await this.#outcome;
      }
    }
    const outcome = await this.#outcome;
    if (outcome instanceof RunError && this.#n.reject) throw outcome;
  }

  // ---- the end ----

  async #complete(): Promise<Outcome> {
    const sub = this.#subprocess;
    const tree = this.#tree;
    if (sub === undefined || tree === undefined) {
      this.#finished = true;
      return this.#outcomeOf(undefined, undefined);
    }
    let status: ExitStatus | undefined;
    let statusError: unknown;
    try {
      status = await sub.exited;
    } catch (error) {
      statusError = error;
      status = (error as { status?: ExitStatus }).status;
    }
    await this.#outputClosed(tree);
    const wait = this.#treeWait(tree);
    if (wait > 0) await tree.empty(wait);
    await tree.settled();
    this.#finished = true;
    this.#releaseFifo?.();
    this.#cancelTimer?.();
    this.#cancelForceTimer?.();
    if (this.#onAbort !== undefined) this.#n.signal!.removeEventListener('abort', this.#onAbort);
    const figures = tree.figures();
    tree.release(this.#killed);
    return this.#outcomeOf(status, statusError, figures);
  }

  /** How long to wait for a killed tree to empty: until its SIGKILL, and a little more. */
  #emptyLimit(): number {
    const delay = this.#n.forceKillAfterDelay;
    return delay < 0 ? Infinity : delay + EMPTY_GRACE_MS;
  }

  /**
   * How long the end of the run waits, after the first process, for the rest of its tree (0: not
   * at all). A killed tree is waited for until it is empty (#emptyLimit). `pidfd run` waits for
   * a cgroup's whole tree however it ends; without a cgroup, it leaves a killed process group
   * that no SIGKILL follows as it is, as timeout(1) does.
   */
  #treeWait(tree: RunTree): number {
    const waitForTree = this.#n.launch?.waitForTree === true;
    if (waitForTree && tree.hasCgroup) return Infinity;
    if (!this.#killed) return 0;
    if (waitForTree && this.#n.forceKillAfterDelay < 0) return 0;
    return this.#emptyLimit();
  }

  /** Waits for the captured pipes to reach EOF. When the tree has been killed and is empty, a
   * pipe still open is held by a process out of the tree's reach: it is given up on. */
  async #outputClosed(tree: RunTree): Promise<void> {
    const captures = [this.#stdout, this.#stderr].filter((c): c is Capture => c !== null);
    if (captures.length === 0) return;
    let over = false;
    let grace: NodeJS.Timeout | undefined;
    const closed = Promise.all(captures.map((c) => c.done)).then(() => true);
    // Every wait here keeps the event loop alive (the run is not over), and none outlives it.
    const abandoned = this.#killedPromise()
      .then(() => (over ? true : tree.empty(this.#emptyLimit())))
      .then(() => new Promise<false>((resolve) => (over ? resolve(false) : (grace = setTimeout(resolve, ABANDON_GRACE_MS, false)))));
    const ended = await Promise.race([closed, abandoned]);
    over = true;
    clearTimeout(grace);
    if (!ended) {
      for (const capture of captures) capture.abandon();
      await closed;
    }
  }

  /** The result of this command alone, or its RunError. */
  #outcomeOf(status: ExitStatus | undefined, statusError: unknown, cgroup?: RunFields['cgroup']): Outcome {
    const n = this.#n;
    let decodeError: unknown;
    const decode = (store: ByteStore | undefined): Output | undefined => {
      if (store === undefined) return undefined;
      try {
        return decodeOutput(store, n);
      } catch (error) {
        decodeError ??= error;
        return undefined;
      }
    };
    const stdoutStore = this.#stdoutTaken ? undefined : this.#stdout?.store;
    const stdout = decode(stdoutStore);
    const stderr = decode(this.#stderr?.store);
    const fields: RunFields<RunOptions> = {
      command: n.command,
      escapedCommand: n.escapedCommand,
      cwd: n.resolvedCwd,
      pid: this.#subprocess?.pid,
      exitCode: status?.code ?? undefined,
      signal: status?.signal ?? undefined,
      stdout,
      stderr,
      all: decode(this.#all ?? undefined),
      stdio: [undefined, stdout, stderr],
      durationMs: performance.now() - this.#startedAt,
      rusage: status?.rusage ?? undefined,
      cgroup,
      failed: false,
      timedOut: this.#timedOut,
      isCanceled: this.#canceled,
      isMaxBuffer: this.#maxBuffer,
      isTerminated: status?.signal != null,
      isForcefullyTerminated: this.#forced,
      pipedFrom: [],
    };
    const failure = this.#failure(status, statusError, decodeError, cgroup?.oomKills ?? 0);
    if (failure === undefined) return fields;
    fields.failed = true;
    // The message quotes text: what 'hex', 'base64' (or 'buffer') write out is read as utf8.
    const text = (store: ByteStore | undefined | null, decoded: Output | undefined): Output | undefined =>
      isTextEncoding(n.encoding) || store == null ? decoded : store.bytes();
    const quoted = this.#all !== null ? [text(this.#all, fields.all)] : [text(this.#stderr?.store, stderr), text(stdoutStore, stdout)];
    return new RunError(fields, failure.how, failure.cause, quoted);
  }

  /** How the command failed, in words (with what the OOM killer did in its tree), and the error
   * behind it; undefined if it did not. */
  #failure(
    status: ExitStatus | undefined,
    statusError: unknown,
    decodeError: unknown,
    oomKills: number,
  ): { how: string; cause?: unknown } | undefined {
    const failure = this.#failureOf(status, statusError, decodeError);
    if (failure === undefined || oomKills === 0 || status?.oomKilled) return failure;
    const processes = oomKills === 1 ? 'a process' : `${oomKills} processes`;
    return { ...failure, how: `${failure.how} (the OOM killer ended ${processes} of its tree)` };
  }

  /** How a killed command ended, for its message (killedWith()), and whether SIGKILL had to
   * follow killSignal. */
  #killedWith(status: ExitStatus | undefined): string {
    return `${killedWith(status, this.#exitedBeforeKill)}${this.#forcedWith()}`;
  }

  #forcedWith(): string {
    if (!this.#forced) return '';
    const n = this.#n;
    return ` (${signalName(n.killSignal)} had not ended its tree within forceKillAfterDelay, ${n.forceKillAfterDelay} ms: it was sent SIGKILL)`;
  }

  #failureOf(status: ExitStatus | undefined, statusError: unknown, decodeError: unknown): { how: string; cause?: unknown } | undefined {
    const n = this.#n;
    const start = this.#startError as (Error & { code?: string }) | undefined;
    if (this.#canceled && status === undefined) return { how: 'was canceled before it started', cause: start };
    if (start !== undefined) return { how: `could not start (${start.message})`, cause: start };
    if (this.#timedOut) return { how: `timed out after ${n.timeout} ms${this.#killedWith(status)}` };
    if (this.#canceled) {
      const reason = n.signal?.reason as { message?: unknown } | undefined;
      const why = typeof reason?.message === 'string' ? ` (${reason.message})` : '';
      return { how: `was canceled${why}${this.#killedWith(status)}`, cause: abortError(n.signal!) };
    }
    if (this.#maxBuffer) {
      const which = this.#stdout?.exceeded ? 'stdout' : 'stderr';
      const exceeded = (which === 'stdout' ? this.#stdout : this.#stderr)?.exceeded;
      const limit =
        exceeded === 'lines'
          ? `maxBuffer (${n.maxBuffer} line${n.maxBuffer === 1 ? '' : 's'})`
          : n.lines || n.maxBuffer > MAX_CAPTURE
            ? `${MAX_CAPTURE} bytes, the most a Buffer holds`
            : `maxBuffer (${n.maxBuffer} bytes)`;
      return { how: `wrote more than ${limit} to ${which}${this.#killedWith(status)}` };
    }
    if (this.#inputError !== undefined) {
      return { how: `failed: its input failed (${this.#inputError.message})${this.#killedWith(status)}`, cause: this.#inputError };
    }
    if (statusError !== undefined) return { how: `ended with an unknown status (${(statusError as Error).message})`, cause: statusError };
    if (status?.oomKilled) return { how: `was killed with ${status.signal} by the OOM killer (its tree reached memory.max)` };
    if (status?.signal) return { how: `was killed with ${status.signal}${this.#forcedWith()}` };
    if (status !== undefined && status.code !== 0) return { how: `failed with exit code ${status.code}` };
    if (decodeError !== undefined) {
      return { how: `wrote output that could not be decoded (${(decodeError as Error).message}; use \`encoding: 'buffer'\`)`, cause: decodeError };
    }
    return undefined;
  }

  /** The outcomes of every command of the pipeline up to this one, first to last. */
  async #chain(): Promise<Outcome[]> {
    const before = this.#source === undefined ? [] : await this.#source.#chain();
    return [...before, await this.#own];
  }

  /**
   * The outcome of a pipeline: the last command's result, with the others in `pipedFrom`; or the
   * error of the first command that failed. A command before the last that was killed by
   * SIGPIPE did not fail: the next one stopped reading (as `head` does).
   */
  async #joinPipeline(): Promise<Outcome> {
    const chain = await this.#chain();
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
}
