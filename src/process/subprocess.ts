// Subprocess: a running child, its pidfd, its pipes and its exit.

import type { Duplex, Readable, Writable } from 'node:stream';

import { binding, constants } from '../binding.js';
import { errno, systemError } from '../errors.js';
import { signalNumber, type Signal } from '../signals.js';
import { exitStatusFromRecord, statusLostError, type ExitStatus } from './exit-status.js';
import { noteLeaderReaped, type Cgroup } from '../cgroup/cgroup.js';
import { forgetExit, onExit } from './exit-watcher.js';
import type { ChildSpec } from './spec.js';
import { adoptChildPidfd, markPidfdClosed, type PidFd } from './pidfd.js';
import type { Started } from './start.js';
import { pipeStream } from './pipe-stream.js';
import { subprocessStreams, type StdioEntry } from './stdio.js';

/** Creates the Subprocess of a child that start() started with the watcher (spawn() only). */
export let createSubprocess: (started: Started, spec: ChildSpec) => Subprocess;

function streamFor(entry: StdioEntry, fd: number): Duplex {
  // The stream owns the fd: it is closed when the stream is destroyed.
  const kind = constants().stdioKind;
  const stream = pipeStream(fd, entry.kind !== kind.pipeIn, entry.kind !== kind.pipeOut);
  subprocessStreams.add(stream);
  return stream;
}

/** The stdio of a child without pipes: one array for all of them. */
const noStreams: readonly null[] = Object.freeze([null, null, null]);

/** The streams of the parent's ends, indexed by child fd (null where there is none). */
function streamsFor(stdio: readonly StdioEntry[], fds: Int32Array): readonly (Duplex | null)[] {
  let any = false;
  for (let i = 0; i < stdio.length; i++) if (fds[i]! >= 0) any = true;
  if (!any && stdio.length <= 3) return noStreams;
  const streams: (Duplex | null)[] = [];
  for (let i = 0; i < stdio.length; i++) {
    const fd = fds[i]!;
    if (fd >= 0) streams[stdio[i]!.target] = streamFor(stdio[i]!, fd);
  }
  const length = Math.max(streams.length, 3);
  for (let i = 0; i < length; i++) streams[i] ??= null;
  return streams;
}

/** Whether a Subprocess's child has been reaped (its #status, for PidfdOwner). */
let isReaped: (subprocess: Subprocess) => boolean;

/** What a Subprocess's PidFd asks of it: one object of a class, not an object of two closures
 * per spawn. */
class PidfdOwner {
  readonly #subprocess: Subprocess;

  constructor(subprocess: Subprocess) {
    this.#subprocess = subprocess;
  }

  refuseClose(): string | undefined {
    return isReaped(this.#subprocess)
      ? undefined
      : `the pidfd of pid ${this.#subprocess.pid} belongs to its Subprocess until the child is reaped ` +
          '(it is closed then); use pidfd.dup() for a pidfd of your own';
  }

  exited(): Promise<ExitStatus> {
    return this.#subprocess.exited.catch((error: Error & { status: ExitStatus }) => error.status);
  }
}

/** A child process created by spawn(). */
export class Subprocess {
  /** The child's pid. Use `pidfd` to act on it: a pid can be reused once the child is reaped. */
  readonly pid: number;
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
  /** The child's per-run cgroup (spawn's `cgroup: true` or settings): the whole tree of
   * processes it starts, to kill, freeze, measure and wait for. null without one. */
  readonly cgroup: Cgroup | null;
  /**
   * Resolves with the exit status once the child has exited and been reaped. Rejects only when
   * the status was lost: something else in this process reaped the child on a kernel without
   * PIDFD_INFO_EXIT (code ERR_PIDFD_STATUS_LOST).
   */
  readonly exited: Promise<ExitStatus>;

  /** The child's pidfd while the watcher has it (-1 once reaped), and its PidFd once asked for. */
  #fd: number;
  #pidfd: PidFd | null = null;
  #status: ExitStatus | null = null;
  #ref = true;
  #resolve!: (status: ExitStatus) => void;
  #reject!: (error: Error) => void;
  #abortSignal: AbortSignal | undefined;
  #onAbort: (() => void) | undefined;
  #cgroupWatch: { fd: number } | null;

  static {
    createSubprocess = (started, spec) => new Subprocess(started, spec);
    isReaped = (subprocess) => subprocess.#status !== null;
  }

  private constructor(started: Started, n: ChildSpec) {
    const pidfd = started.pidfd;
    this.#fd = pidfd;
    this.pid = started.pid;
    this.spawnfile = n.file;
    this.spawnargs = n.argv;
    this.cgroup = started.cgroup;
    this.#cgroupWatch = started.cgroupWatch;
    this.exited = new Promise<ExitStatus>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    onExit(pidfd, (records, at) => this.#onExit(records, at));

    // A function of its own, not a closure here: a closure would put `started` and `n` (the
    // plan and the fds array) in the context that the long-lived closures above share, and every
    // live Subprocess would keep them (docs/benchmarks.md, memory per live subprocess).
    const stdio = streamsFor(n.stdio, started.fds);
    this.stdio = stdio;
    this.stdin = stdio[0] ?? null;
    this.stdout = stdio[1] ?? null;
    this.stderr = stdio[2] ?? null;

    if (n.abortSignal !== undefined) this.#listenForAbort(n.abortSignal, n.killSignal);
  }

  /** The child's pidfd, owned by this Subprocess and closed once the child has been reaped.
   * (Made on first use: most callers never ask.) */
  get pidfd(): PidFd {
    if (this.#pidfd === null) {
      // After the reap the fd is closed: a PidFd that says so (fd -1).
      this.#pidfd = adoptChildPidfd(this.#fd < 0 ? -1 : this.#fd, this.pid, new PidfdOwner(this));
      if (this.#fd < 0) markPidfdClosed(this.#pidfd);
    }
    return this.#pidfd;
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
    const number = signalNumber(signal, 'signal', true, 'argument');
    if (this.#status !== null) return false;
    const r = binding().sendSignal(this.#fd, number, 0);
    if (r === 0) return true;
    if (r === -errno.ESRCH) return false; // reaped by something else; our watcher will hear of it
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

  #listenForAbort(signal: AbortSignal, killSignal: number): void {
    this.#abortSignal = signal;
    this.#onAbort = () => {
      this.kill(killSignal);
    };
    signal.addEventListener('abort', this.#onAbort, { once: true });
  }

  #setRef(ref: boolean): void {
    if (this.#ref === ref) return;
    const kind = constants().watchKind;
    // The child's watch until it is reaped; its tree's until the tree is empty.
    if (this.#status === null) {
      const r = binding().watchRef(this.#fd, kind.child, this.#ref, ref);
      if (r < 0) throw systemError(-r, 'epoll_ctl', { context: `${ref ? 'ref' : 'unref'} pid ${this.pid}` });
    }
    const tree = this.#cgroupWatch;
    if (tree !== null && tree.fd >= 0) binding().watchRef(tree.fd, kind.cgroup, this.#ref, ref);
    this.#ref = ref;
  }

  #onExit(records: Float64Array, at: number): void {
    // The addon has reaped the child and closed the pidfd. Mark both, and settle `exited`,
    // before anything that could reach user code.
    this.#fd = -1;
    if (this.#pidfd !== null) markPidfdClosed(this.#pidfd);
    const status = exitStatusFromRecord(this.pid, records, at, 'child');
    if (this.cgroup !== null) {
      // SIGKILL where the OOM killer acted in the tree (memory.events, with the memory controller).
      if (status.signal === 'SIGKILL' && (this.cgroup.stats().oomKills ?? 0) > 0) status.oomKilled = true;
      const tree = this.#cgroupWatch;
      if (noteLeaderReaped(this.cgroup) && tree !== null && tree.fd >= 0) {
        // Empty already: the watch has nothing left to tell.
        forgetExit(tree.fd);
        binding().unwatch(tree.fd, this.#ref);
        tree.fd = -1;
      }
    }
    this.#status = status;
    if (status.reason === null) {
      this.#resolve(status);
    } else {
      // Nobody has to await `exited`: a lost status must not become an unhandled rejection. The
      // handler is added here, before the rejection, rather than to every Subprocess (a promise,
      // a closure and a microtask per spawn).
      this.exited.catch(() => {});
      this.#reject(statusLostError(status));
    }
    // Nobody reads the child's stdin any more: close our end, as child_process does (an idle
    // writable pipe would never notice on its own, and its fd would stay open).
    this.stdin?.destroy();
    if (this.#onAbort !== undefined) this.#abortSignal!.removeEventListener('abort', this.#onAbort);
  }
}
