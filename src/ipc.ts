// pidfd/ipc: the child's side of a run with `ipc: true` (also exported by 'pidfd'). The channel
// is Node's own (process.send(), 'message'); these are its promise shapes, with execa's names,
// and the graceful cancel's signal. They work in any Node process started with an IPC channel
// (run() with `ipc`, child_process.fork()); they load no native code.

/** What a child sees of a graceful cancel: Node routes a message whose `cmd` starts with
 * `NODE_` to 'internalMessage', never to 'message': a child's own listeners never see it. */
export const CANCEL_COMMAND = 'NODE_PIDFD_CANCEL';

/** The child's word that it listens for the cancel (the first getCancelSignal() sends it, an
 * internal message too). Node keeps no internal message that nothing listens to: a cancel that
 * came before is gone, so the parent, once it has canceled, sends it again on this word. */
export const CANCEL_LISTENING_COMMAND = 'NODE_PIDFD_CANCEL_LISTENING';

/** The options of getOneMessage(), in the parent and in the child. */
export interface GetOneMessageOptions {
  /** Only a message for which it returns true is taken (in the parent, the others stay for
   * other readers). */
  filter?: (message: unknown) => boolean;
}

interface ChannelProcess {
  send(message: unknown, handle: undefined, options: object, callback: (error: Error | null) => void): boolean;
  connected: boolean;
}

function noChannel(method: string): Error & { code: string } {
  return Object.assign(
    new Error(`${method}() needs an IPC channel to the parent: this process was not started with one (run() with \`ipc: true\` and \`node: true\`, or fork())`),
    { code: 'ERR_PIDFD_IPC_NO_CHANNEL' },
  );
}

function disconnected(what: string): Error & { code: string } {
  return Object.assign(new Error(`cannot ${what} the parent: the IPC channel is closed (the parent disconnected)`), { code: 'ERR_PIDFD_IPC_DISCONNECTED' });
}

function channelProcess(method: string): ChannelProcess {
  if (typeof process.send !== 'function') throw noChannel(method);
  return process as unknown as ChannelProcess;
}

/** Sends `message` to the parent (runProcess.getOneMessage(), getEachMessage()); resolves once
 * it is written. */
export function sendMessage(message: unknown): Promise<void> {
  let p: ChannelProcess;
  try {
    p = channelProcess('sendMessage');
  } catch (error) {
    return Promise.reject(error);
  }
  if (!p.connected) return Promise.reject(disconnected('send a message to'));
  return new Promise((resolve, reject) => {
    try {
      p.send(message, undefined, {}, (error) => (error ? reject(error) : resolve()));
    } catch (error) {
      reject(error);
    }
  });
}

/**
 * Messages from the parent that no reader has taken, in order. Node holds the messages that come
 * while the child has no 'message' listener and emits them all at once, in one tick, when the
 * first listener comes: a getOneMessage() that took the first of them and stopped listening
 * would lose the rest. So one listener (dispatch) serves every reader, a message no reader takes
 * is kept here for the next, and the listener stays until the end of the tick in which the last
 * reader left.
 */
const kept: unknown[] = [];
/** The readers waiting, oldest first: each returns true if it takes the message. */
const readers: ((message: unknown) => boolean)[] = [];
let listening = false;

function dispatch(message: unknown): void {
  for (const reader of [...readers]) if (reader(message)) return;
  kept.push(message);
}

function addReader(reader: (message: unknown) => boolean): void {
  readers.push(reader);
  if (listening) return;
  listening = true;
  process.on('message', dispatch);
}

function removeReader(reader: (message: unknown) => boolean): void {
  const i = readers.indexOf(reader);
  if (i >= 0) readers.splice(i, 1);
  if (readers.length > 0) return;
  // Not at once: the rest of a batch Node is emitting in this tick must reach `kept`. While the
  // listener is on, the channel keeps this process alive; without readers it lets it go.
  process.nextTick(() => {
    if (readers.length > 0 || !listening) return;
    listening = false;
    process.off('message', dispatch);
  });
}

/** Takes the oldest kept message that `filter` accepts: [message] or undefined. A throwing
 * filter throws here. */
function takeKept(filter: ((message: unknown) => boolean) | undefined): [unknown] | undefined {
  for (let i = 0; i < kept.length; i++) {
    if (filter === undefined || filter(kept[i])) return [kept.splice(i, 1)[0]];
  }
  return undefined;
}

/**
 * The next message from the parent (with `filter`: the next one it returns true for; the others
 * stay for other readers). While it waits, the channel keeps this process alive. Rejects if the
 * parent disconnects first. A message the parent sent before anything listened is not lost:
 * Node holds it until the child listens, and what one call does not take is kept for the next.
 */
export function getOneMessage(options?: GetOneMessageOptions): Promise<unknown> {
  let p: ChannelProcess;
  try {
    p = channelProcess('getOneMessage');
  } catch (error) {
    return Promise.reject(error);
  }
  const filter = options?.filter;
  try {
    const found = takeKept(filter);
    if (found !== undefined) return Promise.resolve(found[0]);
  } catch (error) {
    return Promise.reject(error);
  }
  if (!p.connected) return Promise.reject(disconnected('get a message from'));
  return new Promise((resolve, reject) => {
    const reader = (message: unknown): boolean => {
      try {
        if (filter !== undefined && !filter(message)) return false;
      } catch (error) {
        done();
        reject(error);
        return false;
      }
      done();
      resolve(message);
      return true;
    };
    const onDisconnect = (): void => {
      done();
      reject(disconnected('get a message from'));
    };
    const done = (): void => {
      removeReader(reader);
      process.off('disconnect', onDisconnect);
    };
    addReader(reader);
    process.on('disconnect', onDisconnect);
  });
}

/** Every message from the parent (those kept for want of a reader first), until it disconnects
 * (runProcess's channel closes at the end of the run, or the loop is left). While it runs, the
 * channel keeps this process alive. */
export async function* getEachMessage(): AsyncGenerator<unknown, void, undefined> {
  const p = channelProcess('getEachMessage');
  const queue: unknown[] = kept.splice(0);
  let wake: (() => void) | undefined;
  let open = p.connected;
  const reader = (message: unknown): boolean => {
    queue.push(message);
    wake?.();
    return true;
  };
  const onDisconnect = (): void => {
    open = false;
    wake?.();
  };
  addReader(reader);
  process.on('disconnect', onDisconnect);
  try {
    for (;;) {
      if (queue.length > 0) {
        yield queue.shift();
        continue;
      }
      if (!open) return;
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
  } finally {
    removeReader(reader);
    process.off('disconnect', onDisconnect);
    // What it received and did not yield stays for the next reader.
    kept.unshift(...queue);
  }
}

let cancel: AbortController | undefined;

/**
 * The AbortSignal of a run with `gracefulCancel`: aborted (with the parent's reason, as the
 * channel can carry it) when the parent's `signal` aborts, whether that was before or after this
 * call (a cancel that came before it, even before this process loaded pidfd/ipc, is sent again
 * once it is called). Clean up and exit before the parent's forceKillAfterDelay; after it,
 * killSignal comes. Listening for it does not keep this process alive.
 */
export function getCancelSignal(): AbortSignal {
  const p = channelProcess('getCancelSignal');
  if (cancel === undefined) {
    const controller = new AbortController();
    cancel = controller;
    // Node gives a message whose `cmd` starts with NODE_ to 'internalMessage', not 'message'.
    const onInternal = (message: { cmd?: unknown; reason?: unknown } | null): void => {
      if (message?.cmd !== CANCEL_COMMAND) return;
      process.off('internalMessage' as 'message', onInternal);
      controller.abort(message.reason);
    };
    process.on('internalMessage' as 'message', onInternal);
    // Listening now: a cancel the parent sent before this listener was dropped by Node, and the
    // parent sends it again on this word (a run's channel; fork()'s parent ignores it).
    if (p.connected) {
      try {
        p.send({ cmd: CANCEL_LISTENING_COMMAND }, undefined, {}, () => {});
      } catch {
        // The channel closed meanwhile: there is no parent left to cancel.
      }
    }
  }
  return cancel.signal;
}
