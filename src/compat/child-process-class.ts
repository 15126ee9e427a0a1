// ChildProcess: Node's own class, with a handle that spawns through the library's engine.
//
// The objects are real child_process.ChildProcess instances (Node's prototype: spawn, kill, ref,
// unref, [Symbol.dispose], and the IPC channel's send/disconnect), so `instanceof` holds both
// ways and every method behaves as Node's. Only the constructor is this module's: Node's would
// allocate an internal Process handle that a ChildProcess spawned here never uses, and that is
// never freed when it is not spawned.

import nodeChildProcess from 'node:child_process';
import diagnosticsChannel from 'node:diagnostics_channel';
import { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';

import { errnoException } from './errors.js';
import { ProcessHandle, setExitListener } from './handle.js';

/** The fields of a ChildProcess that this module reads and writes. */
export interface ChildFields extends EventEmitter {
  _closesNeeded: number;
  _closesGot: number;
  connected: boolean;
  signalCode: string | null;
  exitCode: number | null;
  killed: boolean;
  spawnfile: string | null;
  spawnargs: string[];
  _handle: ProcessHandle | null;
  stdin: { destroy(): void } | null;
  stdio: (Readable | null)[] | undefined;
}

const NodeChildProcess = nodeChildProcess.ChildProcess;
const channel = diagnosticsChannel.channel('child_process');

/** Sets up a new ChildProcess as Node's constructor does, but with this module's handle. */
function init(child: ChildFields): void {
  EventEmitter.call(child);
  child._closesNeeded = 1;
  child._closesGot = 0;
  child.connected = false;
  child.signalCode = null;
  child.exitCode = null;
  child.killed = false;
  child.spawnfile = null;
  child._handle = new ProcessHandle(child);
  if (channel.hasSubscribers) channel.publish({ process: child });
}

/**
 * `child_process.ChildProcess`: `new ChildProcess()` then `child.spawn(options)` starts a child
 * with the library's engine. Its prototype is Node's ChildProcess.prototype.
 */
export const ChildProcess = function ChildProcess(this: ChildFields) {
  init(this);
} as unknown as typeof NodeChildProcess;
ChildProcess.prototype = NodeChildProcess.prototype;
Object.setPrototypeOf(ChildProcess, EventEmitter);

/** Whether a stream is another child's stdio now (Node marks it so in spawn()). */
function isUsedAsStdio(stream: object): boolean {
  for (const symbol of Object.getOwnPropertySymbols(stream)) {
    if (symbol.description === 'kIsUsedAsStdio') return Boolean((stream as Record<symbol, unknown>)[symbol]);
  }
  return false;
}

/** Reads what nobody has read of the child's output, so that each stream ends and closes. */
function flushStdio(child: ChildFields): void {
  const stdio = child.stdio;
  if (stdio == null) return;
  for (const stream of stdio) {
    if (!stream || !stream.readable || isUsedAsStdio(stream)) continue;
    stream.resume();
  }
}

/** Whether the child has any stdio stream (flushStdio's work). */
function hasStreams(child: ChildFields): boolean {
  const stdio = child.stdio;
  if (stdio == null) return false;
  for (let i = 0; i < stdio.length; i++) if (stdio[i]) return true;
  return false;
}

/** One more of the things 'close' waits for (the exit, each output stream, the IPC channel). */
function maybeClose(child: ChildFields): void {
  child._closesGot++;
  if (child._closesGot === child._closesNeeded) child.emit('close', child.exitCode, child.signalCode);
}

/** The handle's exit, or a spawn error (a negative code): what Node's `_handle.onexit` does. */
setExitListener(function onChildExit(object: object, exitCode: number | null, signalCode: string): void {
  const child = object as ChildFields;
  if (signalCode) child.signalCode = signalCode;
  else child.exitCode = exitCode;
  child.stdin?.destroy();
  child._handle?.close();
  child._handle = null;
  if (exitCode !== null && exitCode < 0) {
    const syscall = child.spawnfile ? `spawn ${child.spawnfile}` : 'spawn';
    const error = errnoException(exitCode, syscall) as Error & { path?: string; spawnargs?: string[] };
    if (child.spawnfile) error.path = child.spawnfile;
    error.spawnargs = child.spawnargs.slice(1);
    child.emit('error', error);
  } else {
    child.emit('exit', child.exitCode, child.signalCode);
  }
  // Output nobody reads is drained on the next tick, so that the user can still start reading
  // now that the child has exited; then its streams end, and 'close' follows. A child without
  // streams (every stdio 'ignore', 'inherit' or an fd) has nothing to drain: no tick for it.
  if (hasStreams(child)) process.nextTick(flushStdio, child);
  maybeClose(child);
});
