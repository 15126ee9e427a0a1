// The native side of a compat ChildProcess: an object with the shape of Node's internal Process
// handle (process_wrap), whose spawn() starts the child with the library's engine.
//
// Node's own ChildProcess.prototype.spawn() does the rest as it always does: it checks stdio and
// makes the Pipe handles of the parent's ends (getValidStdio), calls `_handle.spawn(options)`,
// turns the result into 'spawn' or 'error', wraps the pipes in sockets and sets up the IPC
// channel. This handle creates the child's ends (socketpairs, as libuv does), starts the child,
// opens each Pipe on the parent's end, and reports the exit through `onexit(code, signal)`, as
// process_wrap does.

import { binding, constants } from '../binding.js';
import { errno as errnoTable, SpawnError } from '../errors.js';
import { exitStatusFromRecord } from '../process/exit-status.js';
import { onExit } from '../process/exit-watcher.js';
import { start } from '../process/start.js';
import type { StdioEntry } from '../process/stdio.js';
import { engineStdio, nodeChildSpec, type NodeChild, type NodeStdio } from './child-spec.js';

export type { NodeStdio } from './child-spec.js';

/** What ChildProcess.prototype.spawn() passes (Node 20 and 22: one object). */
interface HandleOptions extends NodeChild {
  stdio: NodeStdio[];
}

const DETACHED = 1; // Node 24+'s flags argument: 1 detached, 2 windowsHide, 4 windowsVerbatimArguments

/** The errors that Node reports with an 'error' event, after making the child's stdio streams
 * (libuv opens them even when exec failed); Node throws the others at once. EMFILE and ENFILE
 * are reported without streams. */
const asyncErrors = new Set([errnoTable.EACCES, errnoTable.EAGAIN, errnoTable.ENOENT]);

/** Opens a Pipe on the parent's end `fd`; one that cannot take it is closed with the fd, so that
 * the child sees the end of file there, as if the parent had closed it. */
function openPipe(pipe: NodeStdio['handle'] | null, fd: number): void {
  let opened = false;
  try {
    opened = pipe?.open?.(fd) === 0;
  } catch {
    opened = false;
  }
  if (!opened) binding().close(fd);
}

/** The Pipes to open on the parent's ends, per entry; null when no entry is a pipe (no array
 * per spawn then). */
function pipesOf(stdio: readonly NodeStdio[], entries: readonly StdioEntry[]): (NodeStdio['handle'] | null)[] | null {
  const socket = constants().stdioKind.socket;
  let pipes: (NodeStdio['handle'] | null)[] | null = null;
  for (let i = 0; i < entries.length; i++) {
    if (entries[i]!.kind !== socket) continue;
    pipes ??= new Array<NodeStdio['handle'] | null>(entries.length).fill(null);
    pipes[i] = stdio[entries[i]!.target]!.handle ?? null;
  }
  return pipes;
}

/** For a child that did not start: each Pipe on a socket whose other end is closed, so that its
 * stream ends at once, as Node's do then. */
function openEnded(pipes: readonly (NodeStdio['handle'] | null)[]): void {
  for (const pipe of pipes) {
    if (!pipe) continue;
    const pair = binding().socketpair();
    if (typeof pair === 'number') continue;
    binding().close(pair[1]!);
    openPipe(pipe, pair[0]!);
  }
}

/** What a ChildProcess does when its handle reports the exit (or a spawn error, as a negative
 * exitCode): Node's `_handle.onexit`. */
export type ExitListener = (child: object, exitCode: number | null, signalCode: string) => void;

/** Set once by child-process-class.ts (one function for every handle: no field per handle). */
let childExit: ExitListener = () => {};

/** Sets what every handle calls at its child's exit. */
export function setExitListener(listener: ExitListener): void {
  childExit = listener;
}

/** The handles of running children, by pidfd: one function routes every exit (no closure per
 * child, which would cost each live ChildProcess more memory than Node's own). An array, not a
 * Map: a Map that goes from one entry to none at every exit (sequential spawns) shrinks and
 * rehashes its table each time. */
const running: (ProcessHandle | undefined)[] = [];

function routeExit(records: Float64Array, at: number): void {
  const fd = records[at + constants().exitField.fd]!;
  const handle = running[fd];
  if (handle === undefined) return;
  running[fd] = undefined;
  handle.exited(records, at);
}

/** A ChildProcess's `_handle`: spawn, kill, ref/unref and close, in process_wrap's terms. */
export class ProcessHandle {
  /** Set once the child has started, as process_wrap sets it. */
  declare pid?: number;
  #child: object;
  /** The child's pidfd while it runs (the watcher owns it); -1 before and after. */
  #pidfd = -1;
  #ref = true;

  constructor(child: object) {
    this.#child = child;
  }

  /**
   * Starts the child: 0, or a negative errno (Node turns EACCES, EAGAIN, EMFILE, ENFILE and
   * ENOENT into an 'error' event and throws the others). Takes Node 20/22's one options object,
   * or Node 24+'s (file, args, cwd, envPairs, stdio, flags, uid, gid).
   */
  spawn(first: HandleOptions | string, ...rest: unknown[]): number {
    const o: HandleOptions =
      typeof first === 'object'
        ? first
        : {
            file: first,
            args: rest[0],
            cwd: rest[1],
            envPairs: rest[2],
            stdio: rest[3] as NodeStdio[],
            detached: ((rest[4] as number) & DETACHED) !== 0,
            uid: rest[5],
            gid: rest[6],
          };
    const entries = engineStdio(o.stdio);
    const pipes = pipesOf(o.stdio, entries);
    let started;
    try {
      started = start(nodeChildSpec(o, entries), { ref: true });
    } catch (error) {
      if (!(error instanceof SpawnError)) throw error;
      const err = error.errno < 0 ? error.errno : -errnoTable.EIO;
      if (asyncErrors.has(-err) && pipes !== null) openEnded(pipes);
      return err;
    }
    for (let i = 0; pipes !== null && i < entries.length; i++) {
      const fd = started.fds[i]!;
      if (fd >= 0) openPipe(pipes[i], fd);
    }
    this.#pidfd = started.pidfd;
    this.pid = started.pid;
    running[started.pidfd] = this;
    onExit(started.pidfd, routeExit);
    return 0;
  }

  /** Sends `signal` through the pidfd: 0, or -ESRCH once the child has exited, or -errno. */
  kill(signal: number): number {
    if (this.#pidfd < 0) return -errnoTable.ESRCH;
    return binding().sendSignal(this.#pidfd, signal, 0);
  }

  ref(): void {
    this.#setRef(true);
  }

  unref(): void {
    this.#setRef(false);
  }

  hasRef(): boolean {
    return this.#ref && this.#pidfd >= 0;
  }

  /** Nothing to release: the exit watcher closes the pidfd when it reaps the child. */
  close(callback?: () => void): void {
    if (typeof callback === 'function') process.nextTick(callback);
  }

  /** The exit (or, from Node's onErrorNT, a spawn error as a negative code), for the child. */
  onexit(exitCode: number | null, signalCode?: string): void {
    childExit(this.#child, exitCode, signalCode ?? '');
  }

  /** The watcher has reaped the child and closed the pidfd: its exit record is at `at`. */
  exited(records: Float64Array, at: number): void {
    this.#pidfd = -1;
    const status = exitStatusFromRecord(this.pid!, records, at, 'child');
    // libuv reports a signal death as (0, 'SIGTERM'); a lost status (something else reaped the
    // child on a kernel without PIDFD_INFO_EXIT) as (null, ''): 'exit' then says (null, null).
    this.onexit(status.signal !== null ? 0 : status.code, status.signal ?? '');
  }

  #setRef(ref: boolean): void {
    if (this.#pidfd < 0 || this.#ref === ref) return;
    const r = binding().watchRef(this.#pidfd, constants().watchKind.child, this.#ref, ref);
    if (r === 0) this.#ref = ref;
  }
}
