// spawn(): child_process.spawn on the library's engine, with Node's `timeout` and `signal`.

import * as events from 'node:events';
import type { ChildProcess as NodeChildProcess } from 'node:child_process';

import { ChildProcess } from './child-process-class.js';
import { AbortError } from './errors.js';
import { normalizeSpawnArguments } from './normalize.js';
import { sanitizeKillSignal, validateAbortSignal, validateTimeout } from './validate.js';

/** Kills the child for an aborted signal; 'error' with an AbortError if the signal reached it. */
function abortChildProcess(child: NodeChildProcess, killSignal: number | undefined, reason: unknown): void {
  try {
    if (child.kill(killSignal)) child.emit('error', new AbortError(undefined, { cause: reason }));
  } catch (error) {
    child.emit('error', error);
  }
}

/** Calls `listener` once when `signal` aborts; returns what undoes it. */
function onAbort(signal: AbortSignal, listener: () => void): () => void {
  const add = (events as { addAbortListener?: (s: AbortSignal, l: () => void) => { [Symbol.dispose](): void } })
    .addAbortListener;
  if (add !== undefined) {
    const disposable = add(signal, listener);
    return () => disposable[Symbol.dispose]();
  }
  signal.addEventListener('abort', listener, { once: true });
  return () => signal.removeEventListener('abort', listener);
}

/** child_process.spawn(file[, args][, options]). */
export function spawn(file: unknown, args?: unknown, options?: unknown): NodeChildProcess {
  const o = normalizeSpawnArguments(file, args, options);
  validateTimeout(o.timeout);
  validateAbortSignal(o.signal, 'options.signal');
  const killSignal = sanitizeKillSignal(o.killSignal);
  const child = new ChildProcess();
  (child as unknown as { spawn(options: object): number }).spawn(o);

  const timeout = o.timeout as number | undefined;
  if (timeout !== undefined && timeout !== null && timeout > 0) {
    let timer: NodeJS.Timeout | null = setTimeout(() => {
      if (timer === null) return;
      try {
        child.kill(killSignal);
      } catch (error) {
        child.emit('error', error);
      }
      timer = null;
    }, timeout);
    child.once('exit', () => {
      if (timer !== null) {
        clearTimeout(timer);
        timer = null;
      }
    });
  }

  const signal = o.signal as AbortSignal | undefined;
  if (signal) {
    const abort = () => abortChildProcess(child, killSignal, signal.reason);
    if (signal.aborted) process.nextTick(abort);
    else child.once('exit', onAbort(signal, abort));
  }
  return child;
}
