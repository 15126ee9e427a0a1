// spawnSync(), execFileSync() and execSync(): the child is started by the library's engine and
// run to its end in native code on this thread (native/sync.c): its input written, its output
// read, `timeout` and `maxBuffer` enforced with `killSignal`, and its exit reaped through its
// pidfd. No second event loop, and no fork of this process, whatever its size.

import { isArrayBufferView } from 'node:util/types';

import { SpawnError } from '../errors.js';
import { exitStatusFromRecord } from '../process/exit-status.js';
import { startSync } from '../process/start.js';
import { constants, type NativeSyncResult } from '../binding.js';
import { engineStdio, nodeChildSpec, type NodeChild } from './child-spec.js';
import { SIGTERM } from '../signals.js';
import { errnoException, genericNodeError, invalidArgType, invalidArgValue, ipcSyncFork } from './errors.js';
import { MAX_BUFFER } from './exec.js';
import {
  normalizeExecArgs,
  normalizeExecFileArgs,
  normalizeSpawnArguments,
  stdioStringToArray,
  type Options,
} from './normalize.js';
import { sanitizeKillSignal, validateMaxBuffer, validateTimeout } from './validate.js';

/** One child fd of a synchronous spawn, as Node's getValidStdio(stdio, true) describes it. */
interface SyncStdio {
  type: 'pipe' | 'overlapped' | 'ignore' | 'inherit' | 'fd';
  fd?: number;
  input?: unknown;
}

/** What spawnSync returns, in Node's key order. */
export interface SpawnSyncResult {
  error?: Error;
  status: number | null;
  signal: string | null;
  output: (Buffer | string | null)[] | null;
  pid: number;
  stdout: Buffer | string | null | undefined;
  stderr: Buffer | string | null | undefined;
}

/** The fd of a stream's handle (a socket, a pipe, a TTY), for a stream given as a child's stdio. */
function wrappedFd(value: object): number | undefined {
  for (const handle of [value, (value as { handle?: unknown }).handle, (value as { _handle?: unknown })._handle]) {
    const h = handle as { fd?: unknown; readStop?: unknown } | null | undefined;
    if (h && typeof h === 'object' && typeof h.readStop === 'function' && typeof h.fd === 'number') return h.fd;
  }
  return undefined;
}

/** Node's getValidStdio(stdio, true): what each child fd is, checked with Node's errors. */
function validStdio(option: unknown): SyncStdio[] {
  let list: unknown[];
  if (typeof option === 'string') list = stdioStringToArray(option);
  else if (Array.isArray(option)) list = option.slice();
  else throw invalidArgValue('stdio', option);
  while (list.length < 3) list.push(undefined);

  const out: SyncStdio[] = [];
  list.forEach((value, i) => {
    const setting = value ?? (i < 3 ? 'pipe' : 'ignore');
    if (setting === 'ignore') out.push({ type: 'ignore' });
    else if (setting === 'pipe' || setting === 'overlapped' || (typeof setting === 'number' && setting < 0)) {
      out.push({ type: setting === 'overlapped' ? 'overlapped' : 'pipe' });
    } else if (setting === 'ipc') throw ipcSyncFork();
    else if (setting === 'inherit') out.push({ type: 'inherit', fd: i });
    else if (typeof setting === 'number' || typeof (setting as { fd?: unknown }).fd === 'number') {
      out.push({ type: 'fd', fd: typeof setting === 'number' ? setting : (setting as { fd: number }).fd });
    } else if (typeof setting === 'object' && wrappedFd(setting) !== undefined) {
      out.push({ type: 'fd', fd: wrappedFd(setting)! });
    } else if (isArrayBufferView(setting) || typeof setting === 'string') {
      // Node skips such an entry in a synchronous spawn (its input goes in `input`).
    } else {
      throw invalidArgValue('stdio', setting);
    }
  });
  return out;
}

function toBytes(input: unknown): Uint8Array {
  if (input == null) return new Uint8Array(0);
  const view = input as ArrayBufferView;
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/** Whether this Node's spawnSync() leaves stdout and stderr undefined when there is no output. */
const NO_OUTPUT_IS_UNDEFINED = Number(process.versions.node.split('.')[0]) >= 22;

/** child_process.spawnSync(file[, args][, options]). */
export function spawnSync(file: unknown, args?: unknown, options?: unknown): SpawnSyncResult {
  const o: Options = { __proto__: null, maxBuffer: MAX_BUFFER, ...normalizeSpawnArguments(file, args, options) } as Options;
  validateTimeout(o.timeout);
  validateMaxBuffer(o.maxBuffer);
  const killSignal = sanitizeKillSignal(o.killSignal);
  const stdio = validStdio(o.stdio || 'pipe');
  if (o.input) stdio[0] = { ...stdio[0]!, input: o.input };
  for (let i = 0; i < stdio.length; i++) {
    const input = stdio[i]!.input;
    if (input == null) continue;
    if (isArrayBufferView(input)) continue;
    if (typeof input === 'string') {
      stdio[i] = { ...stdio[i]!, input: Buffer.from(input, o.encoding as BufferEncoding) };
    } else {
      throw invalidArgType(`options.stdio[${i}]`, input, ['Buffer', 'TypedArray', 'DataView', 'string']);
    }
  }

  const theFile = o.file as string;
  const argv = o.args as string[];
  const entries = engineStdio(stdio);
  // Per entry, the input to write (a socketpair's fd 0), or null: its output is read.
  const socket = constants().stdioKind.socket;
  const input = entries.map((entry) => (entry.target === 0 && entry.kind === socket ? toBytes(stdio[0]!.input) : null));
  let native: NativeSyncResult | { errno: number };
  try {
    native = startSync(nodeChildSpec(o as unknown as NodeChild, entries), {
      input,
      timeoutMs: typeof o.timeout === 'number' ? o.timeout : 0,
      maxBuffer: typeof o.maxBuffer === 'number' ? o.maxBuffer : 0,
      killSignal: killSignal ?? SIGTERM,
      run: undefined, // an own property: the addon's read of `run` never reaches Object.prototype
    });
  } catch (error) {
    if (!(error instanceof SpawnError)) throw error;
    native = { errno: -error.errno };
  }

  // Node's keys, in Node's order: error (only when there is one), status, signal, output, pid,
  // stdout, stderr.
  let errno: number;
  let fields: Omit<SpawnSyncResult, 'error'>;
  if ('errno' in native) {
    errno = -native.errno;
    fields = { status: null, signal: null, output: null, pid: 0, stdout: null, stderr: null };
  } else {
    errno = native.error;
    const status = exitStatusFromRecord(native.pid, native.record, 0, 'child');
    const output: (Buffer | string | null)[] = new Array(stdio.length).fill(null);
    for (let i = 0; i < entries.length; i++) output[entries[i]!.target] = native.output[i] ?? null;
    fields = { status: status.signal !== null ? null : status.code, signal: status.signal, output, pid: native.pid, stdout: null, stderr: null };
  }
  const encoding = o.encoding as string | undefined;
  if (fields.output && encoding && encoding !== 'buffer') {
    fields.output = fields.output.map((b) => (b ? b.toString(encoding as BufferEncoding) : b));
  }
  // Without output (the child never ran) Node 20 gives null (`output && output[1]`), Node 22 and
  // later undefined (`output?.[1]`): the running Node's answer.
  const none = NO_OUTPUT_IS_UNDEFINED ? undefined : null;
  fields.stdout = fields.output ? fields.output[1] : none;
  fields.stderr = fields.output ? fields.output[2] : none;
  if (errno === 0) return fields;
  const error = errnoException(errno, `spawnSync ${theFile}`) as Error & { path?: string; spawnargs?: string[] };
  error.path = theFile;
  error.spawnargs = argv.slice(1);
  return { error, ...fields };
}

/** The error of an execSync/execFileSync that failed, as Node's checkExecSyncError. */
function checkExecSyncError(ret: SpawnSyncResult, args: unknown[] | undefined, cmd?: string): Error | undefined {
  if (ret.error) return Object.assign(ret.error, ret);
  if (ret.status !== 0) {
    let message = `Command failed: ${cmd || (args ?? []).join(' ')}`;
    if (ret.stderr && ret.stderr.length > 0) message += `\n${ret.stderr.toString()}`;
    return genericNodeError(message, ret);
  }
  return undefined;
}

/** child_process.execFileSync(file[, args][, options]). */
export function execFileSync(file: unknown, args?: unknown, options?: unknown): Buffer | string | null | undefined {
  const n = normalizeExecFileArgs(file, args, options, undefined);
  const inheritStderr = !n.options.stdio;
  const ret = spawnSync(n.file, n.args, n.options);
  if (inheritStderr && ret.stderr) process.stderr.write(ret.stderr);
  const errArgs = [n.options.argv0 || n.file, ...(n.args as unknown[])];
  const err = checkExecSyncError(ret, errArgs);
  if (err) throw err;
  return ret.stdout;
}

/** child_process.execSync(command[, options]): the command through a shell. */
export function execSync(command: unknown, options?: unknown): Buffer | string | null | undefined {
  const n = normalizeExecArgs(command, options, null);
  const inheritStderr = !n.options.stdio;
  const ret = spawnSync(n.file, n.options);
  if (inheritStderr && ret.stderr) process.stderr.write(ret.stderr);
  const err = checkExecSyncError(ret, undefined, command as string);
  if (err) throw err;
  return ret.stdout;
}
