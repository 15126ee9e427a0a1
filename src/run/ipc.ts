// The IPC channel of a run with `ipc: true`: the parent's end of the socketpair whose other end
// is the child's NODE_CHANNEL_FD. The protocol is Node's own (json lines, or v8 serialization
// with a length header for 'advanced'; handles passed with SCM_RIGHTS): the parent's end is set
// up by Node's ChildProcess.prototype.spawn(), as the drop-in's fork() is (compat/handle.ts),
// on an object that starts nothing. Its handle only opens Node's IPC Pipe on our end, and Node
// then adds send(), 'message', disconnect() and 'disconnect' to it; the child side is Node's
// own process.send() and 'message' (or pidfd/ipc).
//
// On top of it: messages waiting for a reader (none is lost because nobody listened yet),
// getOneMessage() with a filter, getEachMessage(), and the graceful cancel message.

import nodeChildProcess from 'node:child_process';
import { EventEmitter } from 'node:events';

import { binding } from '../binding.js';
import { invalidArgType, invalidArgValue, pidfdError, systemError } from '../errors.js';
import { CANCEL_COMMAND, CANCEL_LISTENING_COMMAND, type GetOneMessageOptions } from '../ipc.js';

export type { GetOneMessageOptions } from '../ipc.js';

/** How messages are written: Node's `serialization` (json: JSON; advanced: the structured
 * clone algorithm through v8.serialize: Map, Set, BigInt, Date, typed arrays, cycles...). */
export type Serialization = 'json' | 'advanced';


/** The fields of a Node ChildProcess that the channel uses. */
interface ChannelChild extends EventEmitter {
  connected: boolean;
  channel?: { ref(): void } | null;
  send(message: unknown, callback: (error: Error | null) => void): boolean;
  disconnect(): void;
  spawn(options: object): number;
  _handle: unknown;
}

/** The `_handle` of the channel's ChildProcess: its spawn() starts nothing; it opens Node's IPC
 * Pipe (made by Node's getValidStdio()) on the parent's end of the socketpair. Node 20/22 pass
 * one options object, Node 24+ (file, args, cwd, envPairs, stdio, ...). */
class ChannelHandle {
  pid: number;
  #fd: number;

  constructor(fd: number, pid: number) {
    this.#fd = fd;
    this.pid = pid;
  }

  spawn(first: { stdio?: unknown } | string, ...rest: unknown[]): number {
    const stdio = (typeof first === 'object' ? first.stdio : rest[3]) as { ipc?: boolean; handle?: { open(fd: number): number } }[];
    const pipe = stdio.find((entry) => entry.ipc)!.handle!;
    const r = pipe.open(this.#fd);
    if (r !== 0) binding().close(this.#fd);
    return r;
  }

  kill(): number {
    return 0;
  }
  ref(): void {}
  unref(): void {}
  hasRef(): boolean {
    return false;
  }
  close(callback?: () => void): void {
    if (typeof callback === 'function') process.nextTick(callback);
  }
}

const ChildProcessPrototype = nodeChildProcess.ChildProcess.prototype;

/** A run's IPC channel, parent side. */
export class IpcChannel {
  readonly #child: ChannelChild;
  /** Messages that arrived while no reader took them, in order. */
  readonly #waiting: unknown[] = [];
  /** The pending getOneMessage() calls and the running getEachMessage() loops. */
  readonly #readers = new Set<(message: unknown) => boolean>();
  readonly #closeListeners = new Set<() => void>();
  #open = true;
  readonly #serialization: Serialization;
  /** The graceful cancel as it was sent, sent again each time the child says it listens. */
  #cancel: object | undefined;
  #cancelHeard = false;
  readonly closed: Promise<void>;

  /** Takes the parent's end `fd` (closed with the channel; closed here if it cannot be used). */
  static open(fd: number, serialization: Serialization, pid: number, command: string): IpcChannel {
    const child = Object.create(ChildProcessPrototype) as ChannelChild & Record<string, unknown>;
    EventEmitter.call(child);
    Object.assign(child, { _closesNeeded: 1, _closesGot: 0, connected: false, signalCode: null, exitCode: null, killed: false, spawnfile: null });
    child._handle = new ChannelHandle(fd, pid);
    // Nothing to report there: every send here has a callback, and the object starts nothing.
    child.on('error', () => {});
    const r = child.spawn({ file: process.execPath, args: [], envPairs: [], stdio: ['ignore', 'ignore', 'ignore', 'ipc'], serialization });
    if (r !== 0) throw systemError(-r, 'uv_pipe_open', { context: `the IPC channel of \`${command}\`` });
    return new IpcChannel(child, serialization);
  }

  /** The channel of a Node ChildProcess started with an 'ipc' stdio entry (the portable
   * engine's). */
  static of(child: nodeChildProcess.ChildProcess, serialization: Serialization): IpcChannel {
    return new IpcChannel(child as unknown as ChannelChild, serialization);
  }

  private constructor(child: ChannelChild, serialization: Serialization) {
    this.#child = child;
    this.#serialization = serialization;
    // Node's channel unrefs itself after each send it has written: the end of a run that waits
    // for the channel to close (the child has exited, its EOF is on the way) would then let the
    // event loop empty before the EOF is read (seen in a worker). Held until it closes, which
    // the end of the run makes sure of.
    child.channel?.ref();
    child.on('message', (message: unknown) => this.#deliver(message));
    // The child's getCancelSignal() says it listens: a cancel sent before it may have come while
    // nothing listened (Node drops such an internal message), so it goes again. A child that
    // already had it ignores this one.
    child.on('internalMessage', (message: { cmd?: unknown } | null) => {
      if (message?.cmd !== CANCEL_LISTENING_COMMAND) return;
      this.#cancelHeard = true;
      if (this.#cancel !== undefined && this.connected) this.#trySend(this.#cancel);
    });
    this.closed = new Promise((resolve) => {
      const closed = (): void => {
        this.#open = false;
        for (const listener of this.#closeListeners) listener();
        resolve();
      };
      if (!child.connected) closed();
      else child.once('disconnect', closed);
    });
  }

  /** Whether messages can still be sent and received. */
  get connected(): boolean {
    return this.#open && this.#child.connected;
  }

  /** Sends `message`; resolves once it is written to the channel. */
  send(message: unknown, command: string): Promise<void> {
    if (!this.connected) return Promise.reject(disconnected(command, 'send a message to'));
    return new Promise((resolve, reject) => {
      try {
        this.#child.send(message, (error) => (error ? reject(error) : resolve()));
      } catch (error) {
        reject(error); // a message that cannot be serialized (a function; a BigInt in json)
      }
    });
  }

  /** The graceful cancel message; false if it could not be sent (the channel is closed). Sent
   * now (the child may listen already), and again whenever the child says it listens, until the
   * channel closes: a child that calls getCancelSignal() late still sees it. */
  sendCancel(reason: unknown): boolean {
    if (!this.connected) return false;
    // The reason as the channel can carry it: JSON would make an Error `{}`, and the structured
    // clone refuses some (a DOMException on older Nodes): its message then.
    const text = reason instanceof Error || (typeof reason === 'object' && reason !== null && 'message' in reason) ? String((reason as Error).message) : String(reason);
    const candidates = this.#serialization === 'json' && typeof reason === 'object' && reason !== null ? [text] : [reason, text];
    for (const candidate of candidates) {
      const message = { cmd: CANCEL_COMMAND, reason: candidate };
      if (this.#trySend(message)) {
        this.#cancel = message;
        return true;
      }
    }
    return false;
  }

  /** Whether the child has said it listens for the cancel (called getCancelSignal()). */
  get cancelHeard(): boolean {
    return this.#cancelHeard;
  }

  /** Sends an internal message, written whenever the channel can; false if it cannot be sent
   * (it cannot be serialized, or the channel is closed). */
  #trySend(message: object): boolean {
    try {
      this.#child.send(message, () => {});
      return true;
    } catch {
      return false;
    }
  }

  /** The next message (the first that `filter` accepts); rejects if the channel closes first. */
  getOne(filter: ((message: unknown) => boolean) | undefined, command: string): Promise<unknown> {
    const index = filter === undefined ? (this.#waiting.length > 0 ? 0 : -1) : this.#waiting.findIndex((m) => filter(m));
    if (index >= 0) return Promise.resolve(this.#waiting.splice(index, 1)[0]);
    if (!this.connected) return Promise.reject(disconnected(command, 'get a message from'));
    return new Promise((resolve, reject) => {
      const reader = (message: unknown): boolean => {
        let taken: boolean;
        try {
          taken = filter === undefined || filter(message);
        } catch (error) {
          done();
          reject(error);
          return false;
        }
        if (taken) {
          done();
          resolve(message);
        }
        return taken;
      };
      const onClose = (): void => {
        done();
        reject(disconnected(command, 'get a message from', true));
      };
      const done = (): void => {
        this.#readers.delete(reader);
        this.#closeListeners.delete(onClose);
      };
      this.#readers.add(reader);
      this.#closeListeners.add(onClose);
    });
  }

  /** Every message, those waiting first, until the channel closes. */
  async *each(): AsyncGenerator<unknown, void, undefined> {
    const queue = this.#waiting.splice(0);
    let wake: (() => void) | undefined;
    const reader = (message: unknown): boolean => {
      queue.push(message);
      wake?.();
      return true;
    };
    const onClose = (): void => wake?.();
    this.#readers.add(reader);
    this.#closeListeners.add(onClose);
    try {
      for (;;) {
        if (queue.length > 0) {
          yield queue.shift();
          continue;
        }
        if (!this.connected) return;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    } finally {
      this.#readers.delete(reader);
      this.#closeListeners.delete(onClose);
      // Read from the queue and not yet yielded: for the next reader, in order.
      this.#waiting.unshift(...queue);
    }
  }

  /** Closes our end (at the end of the run): readers end, sends fail. */
  disconnect(): void {
    if (this.#child.connected) this.#child.disconnect();
  }

  #deliver(message: unknown): void {
    let taken = false;
    for (const reader of [...this.#readers]) if (reader(message)) taken = true;
    if (!taken) this.#waiting.push(message);
  }
}

/** The channel of a run for runProcess.<method>() (null if it did not start); throws
 * ERR_PIDFD_IPC_DISABLED for a run without `ipc`. */
export function channelOf(n: { ipc: unknown; command: string }, started: { ipc: IpcChannel | null } | undefined, method: string): IpcChannel | null {
  if (n.ipc === null) {
    throw pidfdError('ERR_PIDFD_IPC_DISABLED', `runProcess.${method}() needs the \`ipc: true\` option (with \`node: true\`): \`${n.command}\` has no IPC channel`);
  }
  return started?.ipc ?? null;
}

/** runProcess.sendMessage(). */
export function sendMessageTo(channel: IpcChannel | null, message: unknown, command: string): Promise<void> {
  if (message === undefined) return Promise.reject(invalidArgValue('message', message, 'must not be undefined (Node cannot send it)', 'argument'));
  return channel?.send(message, command) ?? Promise.reject(notStarted(command, 'send a message to'));
}

/** runProcess.getOneMessage(). */
export function getOneMessageFrom(channel: IpcChannel | null, options: GetOneMessageOptions | undefined, command: string): Promise<unknown> {
  const filter = options?.filter;
  if (filter !== undefined && typeof filter !== 'function') return Promise.reject(invalidArgType('filter', filter, 'a function'));
  return channel?.getOne(filter, command) ?? Promise.reject(notStarted(command, 'get a message from'));
}

function notStarted(command: string, what: string): Error {
  return pidfdError('ERR_PIDFD_IPC_DISCONNECTED', `cannot ${what} \`${command}\`: it did not start`);
}

function disconnected(command: string, what: string, during = false): Error {
  const when = during ? 'its IPC channel closed before a message came' : 'its IPC channel is closed (it exited or disconnected)';
  return pidfdError('ERR_PIDFD_IPC_DISCONNECTED', `cannot ${what} \`${command}\`: ${when}`);
}
