// The JavaScript end of exit watching: one handler per watched pidfd, fed by native batches.

import { binding, constants, type NativeConstants } from '../binding.js';
import { systemError } from '../errors.js';
import { watcherChoice } from '../runtime.js';

/** Called with the batch and the offset of this pidfd's record in it. */
export type ExitHandler = (records: Float64Array, at: number) => void;

/** By fd. An array, not a Map: a Map that goes from one entry to none at every exit (sequential
 * spawns) reallocates its table each time (V8 shrinks it on delete). */
const handlers: (ExitHandler | undefined)[] = [];
let started = false;
let batchObserver: ((records: Float64Array) => void) | undefined;
/** The addon's tables (they never change), once the first batch has come. */
let table: NativeConstants | undefined;

/** Test hook (src/internal/testing.ts): sees every batch before it is routed. */
export function observeBatches(observer: ((records: Float64Array) => void) | undefined): void {
  batchObserver = observer;
}

/** A batch: the first `length` doubles of `records`, an array the addon reuses for the next
 * batch (every handler reads its record before it returns). */
function onBatch(records: Float64Array, length: number): void {
  if (batchObserver !== undefined) batchObserver(records.slice(0, length));
  const { exitField: F, exitHow } = (table ??= constants());
  let failed = false;
  let failure: unknown;
  for (let at = 0; at < length; at += F.count) {
    const fd = records[at + F.fd]!;
    const handler = handlers[fd];
    if (handler === undefined) continue;
    // Deleted before the handler runs: the addon has already closed a child's pidfd, and its
    // number may be handed out again by the next spawn. A pending record (an observed process
    // exited, its parent has not reaped it yet) is followed by a final one; a cgroup's records
    // go on until its tree is empty (then the addon has closed its fd too).
    const how = records[at + F.how];
    if (how === exitHow.cgroup ? records[at + F.code] === 0 : how !== exitHow.pending) handlers[fd] = undefined;
    // A handler can reach user code (an AbortSignal's removeEventListener, say): whatever it
    // throws must not keep the other exits of the batch from their handlers. The first one is
    // rethrown once the batch is delivered, as an uncaught exception, as Node's own callbacks'
    // are (the addon passes it on with napi_fatal_exception).
    try {
      handler(records, at);
    } catch (error) {
      if (!failed) failure = error;
      failed = true;
    }
  }
  if (failed) throw failure;
}

/** Starts this environment's watcher, once. */
export function ensureWatcher(): void {
  if (started) return;
  const watcher = watcherChoice().name;
  const r = binding().init(onBatch, constants().watcher[watcher]);
  if (r < 0) throw systemError(-r, 'epoll_create1', { context: `pidfd: starting the exit watcher (${watcher})` });
  started = true;
}

/** Routes the exit of the process behind `fd` to `handler`. The native watch is set up by the
 * caller (spawn registers it natively, in the same call that creates the child). */
export function onExit(fd: number, handler: ExitHandler): void {
  handlers[fd] = handler;
}

/** Forgets the handler of an fd whose native watch was removed. */
export function forgetExit(fd: number): void {
  if (fd < handlers.length) handlers[fd] = undefined;
}
