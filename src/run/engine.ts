// Starting a command: the engine. Owns what a start does and what it leaves the run: each child
// fd from its setting (a file opened here, a capture's pipe made here, stderr where stdout goes
// with `stderr: 'stdout'`, the previous command's output in a pipeline), the child spec, the
// tree's start (startTree()), the captures of stdout and stderr (and `all`), and the feeding of
// stdin (`input`, `inputFile`, a FIFO). The rest of the run sees only StartedRun and reports
// through RunEvents: another engine gives the same shape, and RunProcess calls the engine in one
// place (its #start). The other engine is portable.ts's startPortable (Node's child_process,
// where pidfds cannot be had: src/engine-choice.ts decides); both hand their streams to startedRun(),
// which makes the captures and feeds stdin.

import { closeSync, createReadStream, constants as fs, openSync, statSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';

import { binding, constants } from '../binding.js';
import { errno as errnoTable, systemError } from '../errors.js';
import type { ExitStatus } from '../process/exit-status.js';
import { normalizeStdio, type StdioEntry, type StdioOption, type StreamWithFd } from '../process/stdio.js';
import type { Subprocess } from '../process/subprocess.js';
import { ByteStore, Capture, LineLimit, MAX_CAPTURE } from './capture.js';
import { feedInput } from './input.js';
import { IpcChannel } from './ipc.js';
import type { Closing } from './kill.js';
import { growPipe } from './pipe-size.js';
import type { NormalizedRun, StdioSetting } from './options.js';
import { startTree, type Tree } from './tree.js';

/** What a run needs of its first process, whichever engine started it: a Subprocess here, or
 * Node's ChildProcess as portable.ts presents it. */
export interface FirstProcess {
  readonly pid: number;
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  /** Null while it runs (and when its status was lost). */
  readonly exitStatus: ExitStatus | null;
  readonly exited: Promise<ExitStatus>;
}

/** What a start leaves the run. */
export interface StartedRun {
  /** The first process (a Subprocess on this engine). */
  subprocess: FirstProcess;
  /** Its tree: what the run's kills reach, and what the end of the run waits for. */
  tree: Tree;
  /** The captures (null where a stream is not captured), and `all`'s store. */
  stdout: Capture | null;
  stderr: Capture | null;
  all: ByteStore | null;
  /** The IPC channel, with `ipc`; else null. */
  ipc: IpcChannel | null;
  /** The tees of stdout and stderr to several places (none without; this engine's only): the
   * run waits for them as for its captures, then asks each whether a place failed. */
  tees?: Tee[];
  /** Called once when the run has ended: lets go of what the start still holds (a FIFO's open
   * that no writer came to). */
  release(): void;
}

/** What the started command reports to the run (its kills: kill.ts). */
export interface RunEvents {
  /** A capture went past maxBuffer. */
  overflow(): void;
  /** The input failed: a Readable or an iterator given as `input` that threw, a FIFO's read. */
  inputFailed(error: Error): void;
  /** What sees each chunk of captured stdout (1) or stderr (2) as it is read, if anything (the
   * `verbose: 'full'` log); asked once per capture, when it is made. */
  output?(source: 1 | 2): ((bytes: Uint8Array) => void) | undefined;
}

/**
 * Starts the command `n` describes, with `stdin` as its stdin in a pipeline (the previous
 * command's stdout, destroyed here once the child has it, or if it could not start). Throws why
 * it could not start, having closed what it opened.
 */
export type RunEngine = (n: NormalizedRun, stdin: Readable | null, events: RunEvents) => StartedRun;

/** Whether path is a FIFO (stat does not open it, so it never waits for the other end). */
function isFifo(path: string): boolean {
  try {
    return statSync(path).isFIFO();
  } catch {
    return false; // the open that follows says why, with its path
  }
}

/**
 * The value of one child fd for normalizeStdio(). Files are opened here; a captured stream gets
 * a pipe of our own, whose write end the child is given and whose read end goes to `captured`
 * (the caller calls every closer in `opened` after the start, and closes the read ends if it
 * failed). A pipe's fds are the addon's, closed by it: Deno's node:fs refuses an fd it did not
 * open; a file's fd is node:fs's, closed by it.
 */
function stdioValue(n: NormalizedRun, setting: StdioSetting, opened: (() => void)[], captured?: number[], tees?: Tee[]): StdioOption {
  switch (setting.kind) {
    case 'tee':
      return startTee(setting, setting === n.stdout ? 'stdout' : 'stderr', opened, captured!, tees!);
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
    case 'stdout':
      throw new Error('unreachable: stderr as stdout is set by startRun()');
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
      // (feedFifo()). The child gets a file's descriptor without the flag (native/spawn.c).
      const input = setting === n.stdin;
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

/** A place of a tee, for messages. */
interface TeePlace {
  label: string;
  path?: string;
}

/** The size of one record of a tee's status pipe (native/tee.h, struct pf_tee_record). */
const TEE_RECORD = 12;

/** The name of a call a tee's record gives by number (native/tee.h, enum pf_tee_call). */
function teeCallName(call: number): string {
  const calls = constants().teeCall;
  return Object.keys(calls).find((name) => calls[name] === call) ?? `call ${call}`;
}

/**
 * A tee of one stream (`stdout: ['pipe', { file }, 'inherit']`): the native thread (native/tee.c)
 * copies the child's pipe to every place; its status pipe, read here, says which place failed
 * (or that the copying itself did), and reaches end of input when the thread has ended, every
 * place written. What the end of a run waits for, as for a capture (kill.ts, Closing); once a
 * killed run's tree is gone, stop() tells the thread to wait for no place any more.
 */
export class Tee implements Closing {
  readonly #status: Capture;
  readonly #names: TeePlace[];
  readonly #stream: 'stdout' | 'stderr';
  readonly #id: number;

  constructor(statusFd: number, names: TeePlace[], stream: 'stdout' | 'stderr', id: number) {
    this.#status = new Capture(statusFd, 64 * 1024, null, () => {});
    this.#names = names;
    this.#stream = stream;
    this.#id = id;
  }

  /** Resolves once the thread has ended (its status pipe's end of input). */
  get done(): Promise<void> {
    return this.#status.done;
  }

  /** Stops waiting for the thread: its status pipe's reader goes, and the thread ends. */
  abandon(): void {
    this.#status.abandon();
  }

  /** The run was killed and its tree is gone: the thread copies what the pipe holds to the
   * places that take it without waiting, gives up the others (each an error), and ends. */
  stop(): void {
    binding().teeStop(this.#id);
  }

  /** The first failure, as an error: of a place, of the copying itself, or a place given up on
   * by stop(); undefined if none. */
  error(): Error | undefined {
    const bytes = this.#status.store.bytes();
    if (bytes.length < TEE_RECORD) return undefined;
    const index = bytes.readInt32LE(0);
    const errno = bytes.readInt32LE(4);
    const call = teeCallName(bytes.readInt32LE(8));
    if (index < 0) return systemError(errno, call, { context: `${this.#stream} to several places: the copying stopped` });
    const place = this.#names[index] ?? { label: `place ${index}` };
    const details = place.path !== undefined ? { path: place.path } : {};
    // EAGAIN is waited for; it is only ever recorded for a place given up by stop().
    const what = errno === errnoTable.EAGAIN ? `${this.#stream} to ${place.label} was not read when the run was killed, and lost the rest` : `${this.#stream} to ${place.label}`;
    return systemError(errno, call, { ...details, context: what });
  }
}

/** Opens a tee's places and starts its thread (native/tee.c) on a new pipe, whose write end is
 * returned for the child. Pushes the capture's read end to `captured` and the Tee to `tees`;
 * every fd of this side is closed by a closer in `opened` or by the caller (captured, tees). */
function startTee(
  setting: Extract<StdioSetting, { kind: 'tee' }>,
  stream: 'stdout' | 'stderr',
  opened: (() => void)[],
  captured: number[],
  tees: Tee[],
): number {
  const targets: number[] = [];
  const names: TeePlace[] = [];
  const pipe = (context: string): [number, number] => {
    const ends = binding().pipe();
    if (typeof ends === 'number') throw systemError(-ends, 'pipe2', { context });
    return [ends[0]!, ends[1]!];
  };
  for (const target of setting.targets) {
    if (target.kind === 'file') {
      // Opened as `{ file }` alone is (see stdioValue): O_NONBLOCK, never waiting for a FIFO's
      // reader; the thread waits for a full one with poll().
      let fd: number;
      const flags = fs.O_WRONLY | fs.O_CREAT | (target.append ? fs.O_APPEND : fs.O_TRUNC) | fs.O_NONBLOCK;
      try {
        fd = openSync(target.path, flags, 0o666);
      } catch (error) {
        const e = error as { code?: string; errno?: number };
        if (e.code !== 'ENXIO') throw error;
        throw systemError(-e.errno!, 'open', { path: target.path, context: 'a FIFO that no process has open for reading (run() does not wait for one)' });
      }
      opened.push(() => closeSync(fd));
      targets.push(fd);
      names.push({ label: 'a file', path: target.path });
    } else if (target.kind === 'inherit') {
      targets.push(stream === 'stdout' ? 1 : 2);
      names.push({ label: `this process's ${stream}` });
    } else {
      const fd = typeof target.fd === 'number' ? target.fd : fdOf(target.fd);
      targets.push(fd);
      names.push({ label: `fd ${fd}` });
    }
  }
  if (setting.capture) {
    const [read, write] = pipe('run() output capture');
    captured.push(read);
    opened.push(() => binding().close(write));
    targets.push(write); // last: the one the source's bytes are moved to, with no tee
    names.push({ label: 'the capture' });
  }
  const [statusRead, statusWrite] = pipe('run() output tee');
  opened.push(() => binding().close(statusWrite));
  let statusOwned = false;
  try {
    const [source, sink] = pipe(`run() ${stream} tee`);
    opened.push(() => binding().close(sink));
    const r = binding().tee(source, Int32Array.from(targets), statusWrite);
    binding().close(source); // the thread has its own copy
    if (typeof r !== 'number') throw systemError(-r[0], r[1], { context: `run() ${stream} to several places` });
    tees.push(new Tee(statusRead, names, stream, r));
    statusOwned = true;
    return sink;
  } finally {
    if (!statusOwned) binding().close(statusRead);
  }
}

/** The fd of a stream given as a place (parseStdio checked it has one). */
function fdOf(stream: StreamWithFd): number {
  const s = stream as { fd?: unknown; _handle?: { fd?: unknown } | null };
  return (typeof s.fd === 'number' ? s.fd : s._handle?.fd) as number;
}

/** The engine of run(): the child starts through this library's own start (process/start.ts),
 * in its tree (tree.ts). */
export const startRun: RunEngine = (n, stdinStream, events) => {
  const opened: (() => void)[] = [];
  const stdoutEnd: number[] = [];
  const stderrEnd: number[] = [];
  const channelEnd: number[] = [];
  const tees: Tee[] = [];
  let subprocess: Subprocess;
  let tree: Tree;
  try {
    const child = n.ipc === null ? n : { ...n, extraStdio: channelStdio(n, opened, channelEnd) };
    const stdout = stdioValue(n, n.stdout, opened, stdoutEnd, tees);
    // `stderr: 'stdout'` (2>&1): the same pipe, file or fd as stdout; this process's stdout
    // where stdout is inherited.
    const stderr = n.stderr.kind === 'stdout' ? (stdout === 'inherit' ? 1 : stdout) : stdioValue(n, n.stderr, opened, stderrEnd, tees);
    const stdio = normalizeStdio([stdinStream ?? stdioValue(n, n.stdin, opened), stdout, stderr]);
    // A pipeline's pipe carries what one command makes for the next: a large flow, often.
    const piped = stdinStream === null ? undefined : fdOf(stdinStream as unknown as StreamWithFd);
    const giveBack = typeof piped === 'number' ? growPipe(piped) : null;
    let started;
    try {
      started = startTree(child, stdio, n.tree, n.cleanup, n.launch);
    } catch (error) {
      giveBack?.();
      throw error;
    }
    if (giveBack !== null) void started.subprocess.exited.then(giveBack, giveBack);
    subprocess = started.subprocess;
    tree = started.tree;
  } catch (error) {
    for (const fd of [...stdoutEnd, ...stderrEnd, ...channelEnd]) binding().close(fd);
    // The tees' threads see their status pipe's reader go, and end (closing their copies).
    for (const tee of tees) tee.abandon();
    throw error;
  } finally {
    for (const close of opened) close();
    // The previous command of a pipeline now writes to this one (or, if this one could not
    // start, must not wait for a reader that will never come): our end goes.
    stdinStream?.destroy();
  }
  let ipc: IpcChannel | null = null;
  if (n.ipc !== null) {
    try {
      ipc = IpcChannel.open(channelEnd[0]!, n.ipc.serialization, subprocess.pid, n.command);
    } catch (error) {
      // Our end could not be opened (it is closed): the child sees its channel closed.
      events.inputFailed(error as Error);
    }
  }
  return { ...startedRun(n, stdinStream, events, subprocess, tree, stdoutEnd[0], stderrEnd[0], ipc), tees };
};

/**
 * What a start leaves the run, once the first process runs: the captures of its stdout and
 * stderr (from the read end of our pipe, or the stream an engine made), `all`'s store, and stdin
 * fed from `input` or a FIFO. Either engine ends its start here.
 */
export function startedRun(
  n: NormalizedRun,
  stdinStream: Readable | null,
  events: RunEvents,
  subprocess: FirstProcess,
  tree: Tree,
  stdoutSource: number | Readable | undefined,
  stderrSource: number | Readable | undefined,
  ipc: IpcChannel | null,
): StartedRun {
  // With `lines`, maxBuffer counts lines: bytes are bounded by what a Buffer holds.
  const maxBytes = n.lines ? MAX_CAPTURE : n.maxBuffer;
  const all = n.all ? new ByteStore(2 * Math.min(maxBytes, MAX_CAPTURE), true) : null;
  const overflow = (): void => events.overflow();
  const inputFailed = (error: Error): void => events.inputFailed(error);
  const lineLimit = (): LineLimit | null => (n.lines ? new LineLimit(n.maxBuffer, n.encoding) : null);
  const stdout = stdoutSource !== undefined ? new Capture(stdoutSource, maxBytes, all, overflow, lineLimit(), 1, events.output?.(1)) : null;
  const stderr = stderrSource !== undefined ? new Capture(stderrSource, maxBytes, all, overflow, lineLimit(), 2, events.output?.(2)) : null;
  let release = (): void => {};
  if (n.input !== undefined) feedInput(subprocess.stdin!, n.input, inputFailed);
  else if (n.stdin.kind === 'file' && stdinStream === null && subprocess.stdin !== null) release = feedFifo(subprocess.stdin, n.stdin.path, inputFailed);
  return { subprocess, tree, stdout, stderr, all, ipc, release };
};

/** The child's fds above 2 with the IPC channel's: one socketpair, whose child end (closed
 * here after the start, through `opened`) is the child's NODE_CHANNEL_FD and whose parent end
 * goes to `channelEnd`. */
function channelStdio(n: NormalizedRun, opened: (() => void)[], channelEnd: number[]): StdioEntry[] {
  const ends = binding().socketpair();
  if (typeof ends === 'number') throw systemError(-ends, 'socketpair', { context: 'run() IPC channel' });
  const childEnd = ends[1]!;
  channelEnd.push(ends[0]!);
  opened.push(() => binding().close(childEnd));
  const entry: StdioEntry = { target: n.ipc!.fd, kind: constants().stdioKind.fd, fd: childEnd };
  return [...n.extraStdio, entry].sort((a, b) => a.target - b.target);
}

/**
 * Feeds the FIFO at `path` to the child's stdin. createReadStream opens it on Node's thread
 * pool, where the open waits for a writer without blocking this thread. If the run ends first
 * (a timeout, a cancel, a command that did not read), that waiting open is let go by opening
 * the FIFO's write end once, without blocking, and closing it: the open then returns, and the
 * stream reads end of input (without that, the pending open would keep Node's event loop
 * alive until some writer came). Returns what lets it go.
 */
function feedFifo(stdin: Writable, path: string, onError: (error: Error) => void): () => void {
  const source = createReadStream(path);
  let opened = false;
  source.once('open', () => (opened = true));
  feedInput(stdin, source, onError);
  return () => {
    if (!opened) {
      try {
        closeSync(openSync(path, fs.O_WRONLY | fs.O_NONBLOCK));
      } catch {} // ENXIO: the open has not begun; it then sees this stream destroyed
    }
    source.destroy();
  };
}
