// Subprocess: a running child, its pidfd, its pipes and its exit.

import { Socket } from 'node:net';
import type { Duplex, Readable, Writable } from 'node:stream';

import { binding, StdioKind, WatchKind } from '../binding.js';
import { systemError } from '../errors.js';
import { signalNumber, type Signal } from '../signals.js';
import { exitStatusFromRecord, type ExitStatus } from './exit-status.js';
import { onExit } from './exits.js';
import { PidFd } from './pidfd.js';
import type { StdioEntry } from './stdio.js';

const ESRCH = 3;

/** Passed by spawn() to construct a Subprocess. */
export const kCreate = Symbol('Subprocess.create');

/** What spawn() hands to the Subprocess it creates. */
export interface SubprocessInit {
  pid: number;
  pidfd: number;
  stdio: StdioEntry[];
  parentFds: Int32Array;
  file: string;
  argv: string[];
  abortSignal: AbortSignal | undefined;
  killSignal: number;
}

function streamFor(entry: StdioEntry, fd: number): Duplex {
  // net.Socket adopts the fd (a pipe or a unix socket) into the event loop, non-blocking, and
  // closes it when the stream is destroyed.
  switch (entry.kind) {
    case StdioKind.pipeIn:
      return new Socket({ fd, readable: false, writable: true });
    case StdioKind.pipeOut:
      return new Socket({ fd, readable: true, writable: false });
    default:
      return new Socket({ fd, readable: true, writable: true });
  }
}

/** A child process created by spawn(). */
export class Subprocess {
  /** The child's pid. Use `pidfd` to act on it: a pid can be reused once the child is reaped. */
  readonly pid: number;
  /** The child's pidfd, owned by this Subprocess and closed once the child has been reaped. */
  readonly pidfd: PidFd;
  /** The child's stdin, when stdio[0] is 'pipe'. */
  readonly stdin: Writable | null;
  /** The child's stdout, when stdio[1] is 'pipe'. */
  readonly stdout: Readable | null;
  /** The child's stderr, when stdio[2] is 'pipe'. */
  readonly stderr: Readable | null;
  /** Streams by child fd: stdio[3] is the parent's end of a 'pipe' at fd 3, and so on. */
  readonly stdio: ReadonlyArray<Duplex | null>;
  /** The program, as given to spawn(). */
  readonly spawnfile: string;
  /** argv as the child got it. */
  readonly spawnargs: readonly string[];
  /**
   * Resolves with the exit status once the child has exited and been reaped. Rejects only when
   * the status was lost: something else in this process reaped the child on a kernel without
   * PIDFD_INFO_EXIT (code ERR_PIDFD_STATUS_LOST).
   */
  readonly exited: Promise<ExitStatus>;

  #status: ExitStatus | null = null;
  #ref = true;
  #resolve!: (status: ExitStatus) => void;
  #reject!: (error: Error) => void;
  #abortSignal: AbortSignal | undefined;
  #onAbort: (() => void) | undefined;

  /** @internal Use spawn(). */
  constructor(token: symbol, init: SubprocessInit) {
    if (token !== kCreate) throw new TypeError('Subprocess has no public constructor: use spawn()');
    this.pid = init.pid;
    this.spawnfile = init.file;
    this.spawnargs = init.argv;
    this.pidfd = PidFd.fromSpawn(init.pidfd, init.pid, {
      refuseClose: () =>
        this.#status === null
          ? `the pidfd of pid ${this.pid} belongs to its Subprocess until the child is reaped ` +
            '(it is closed then); use pidfd.dup() for a pidfd of your own'
          : undefined,
      exited: () =>
        this.exited.then(
          (s) => ({ pid: s.pid, code: s.code, signal: s.signal, coreDumped: s.coreDumped, reason: null }),
          (error: Error) => ({ pid: this.pid, code: null, signal: null, coreDumped: false, reason: error.message }),
        ),
    });
    this.exited = new Promise<ExitStatus>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // Nobody has to await `exited`: a lost status must not become an unhandled rejection.
    this.exited.catch(() => {});
    onExit(init.pidfd, (records, at) => this.#onExit(records, at));

    // A plain loop, not a closure: a closure here would put `init` (its stdio plan and the
    // parentFds Int32Array) in the context that the long-lived closures above share, and every
    // live Subprocess would keep it (docs/benchmarks.md, memory per live subprocess).
    const stdio: (Duplex | null)[] = [];
    for (let i = 0; i < init.stdio.length; i++) {
      const entry = init.stdio[i]!;
      const fd = init.parentFds[i]!;
      if (fd >= 0) stdio[entry.target] = streamFor(entry, fd);
    }
    const length = Math.max(stdio.length, 3);
    for (let i = 0; i < length; i++) stdio[i] ??= null;
    this.stdio = stdio;
    this.stdin = stdio[0] ?? null;
    this.stdout = stdio[1] ?? null;
    this.stderr = stdio[2] ?? null;

    if (init.abortSignal !== undefined) {
      const signal = init.abortSignal;
      const killSignal = init.killSignal;
      this.#abortSignal = signal;
      this.#onAbort = () => {
        this.kill(killSignal);
      };
      signal.addEventListener('abort', this.#onAbort, { once: true });
    }
  }

  /** The exit status once the child has been reaped, else null. */
  get exitStatus(): ExitStatus | null {
    return this.#status;
  }

  /**
   * Sends a signal through the pidfd (never to a recycled pid). Returns true if it was sent,
   * false if the child has already exited (then no system call is made at all). Signal 0 checks.
   */
  kill(signal: Signal = 'SIGTERM'): boolean {
    const number = signalNumber(signal, 'signal', true);
    if (this.#status !== null) return false;
    const r = binding().sendSignal(this.pidfd.fd, number, 0);
    if (r === 0) return true;
    if (r === -ESRCH) return false; // reaped by something else; our watcher will hear of it
    throw systemError(-r, 'pidfd_send_signal', { context: `kill pid ${this.pid}` });
  }

  /** Lets the event loop wait for this child's exit (the default). */
  ref(): this {
    this.#setRef(true);
    return this;
  }

  /** Lets the process exit while the child runs. The child is still reaped if it exits first. */
  unref(): this {
    this.#setRef(false);
    return this;
  }

  /** Kills the child with SIGKILL (it must end), closes its pipes and waits for its exit. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.kill('SIGKILL');
    for (const stream of this.stdio) stream?.destroy();
    await this.exited.catch(() => {});
  }

  #setRef(ref: boolean): void {
    if (this.#status !== null || this.#ref === ref) return;
    const r = binding().watchRef(this.pidfd.fd, WatchKind.child, this.#ref, ref);
    if (r < 0) throw systemError(-r, 'epoll_ctl', { context: `${ref ? 'ref' : 'unref'} pid ${this.pid}` });
    this.#ref = ref;
  }

  #onExit(records: Float64Array, at: number): void {
    // The addon has reaped the child and closed the pidfd. Mark both before anyone can look.
    this.pidfd.markClosed();
    if (this.#onAbort !== undefined) this.#abortSignal!.removeEventListener('abort', this.#onAbort);
    // Nobody reads the child's stdin any more: close our end, as child_process does (an idle
    // writable pipe would never notice on its own, and its fd would stay open).
    this.stdin?.destroy();
    const result = exitStatusFromRecord(this.pid, records, at);
    if (result instanceof Error) {
      this.#status = { pid: this.pid, code: null, signal: null, coreDumped: false, rusage: null };
      this.#reject(result);
    } else {
      this.#status = result;
      this.#resolve(result);
    }
  }
}
