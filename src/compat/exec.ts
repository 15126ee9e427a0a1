// execFile() and exec(): a child whose output is collected and handed to a callback, with
// Node's timeout, maxBuffer, killSignal and encoding, and their util.promisify forms.

import type { ChildProcess as NodeChildProcess } from 'node:child_process';
import { promisify, getSystemErrorName } from 'node:util';

import { genericNodeError, maxBufferExceeded } from './errors.js';
import { normalizeExecArgs, normalizeExecFileArgs, type Options } from './normalize.js';
import { spawn } from './spawn.js';
import { sanitizeKillSignal, validateMaxBuffer, validateTimeout } from './validate.js';

/** Node's default maxBuffer for execFile, exec and the sync family: 1 MiB. */
export const MAX_BUFFER = 1024 * 1024;

type Callback = (error: Error | null, stdout: string | Buffer, stderr: string | Buffer) => void;

/** What one output stream has given so far. */
class Collected {
  chunks: (string | Buffer)[] = [];
  length = 0;
}

/** child_process.execFile(file[, args][, options][, callback]). */
export function execFile(file: unknown, args?: unknown, options?: unknown, callback?: unknown): NodeChildProcess {
  const normalized = normalizeExecFileArgs(file, args, options, callback);
  const cb = normalized.callback as Callback | undefined;
  const o: Options = {
    __proto__: null,
    encoding: 'utf8',
    timeout: 0,
    maxBuffer: MAX_BUFFER,
    killSignal: 'SIGTERM',
    cwd: null,
    env: null,
    shell: false,
    ...normalized.options,
  } as Options;
  validateTimeout(o.timeout);
  validateMaxBuffer(o.maxBuffer);
  const killSignal = sanitizeKillSignal(o.killSignal);
  const maxBuffer = o.maxBuffer as number;
  const theArgs = normalized.args as unknown[];

  const child = spawn(normalized.file, theArgs, {
    cwd: o.cwd,
    env: o.env,
    gid: o.gid,
    shell: o.shell,
    signal: o.signal,
    uid: o.uid,
    windowsHide: !!o.windowsHide,
    windowsVerbatimArguments: !!o.windowsVerbatimArguments,
  });

  const encoding = o.encoding !== 'buffer' && Buffer.isEncoding(o.encoding as string) ? (o.encoding as BufferEncoding) : null;
  const out = new Collected();
  const err = new Collected();
  let killed = false;
  let exited = false;
  let timer: NodeJS.Timeout | null = null;
  let failure: (Error & Record<string, unknown>) | null = null;
  let cmd = normalized.file as string;

  function joined(stream: NodeChildProcess['stdout'], collected: Collected): string | Buffer {
    if (encoding || stream?.readableEncoding) return collected.chunks.join('');
    return Buffer.concat(collected.chunks as Buffer[]);
  }

  function onEnd(code?: number | null, signal?: NodeJS.Signals | null): void {
    if (exited) return;
    exited = true;
    if (timer !== null) {
      clearTimeout(timer);
      timer = null;
    }
    if (!cb) return;
    const stdout = joined(child.stdout, out);
    const stderr = joined(child.stderr, err);
    if (!failure && code === 0 && signal === null) {
      cb(null, stdout, stderr);
      return;
    }
    if (theArgs?.length) cmd += ` ${theArgs.join(' ')}`;
    if (!failure) {
      failure = genericNodeError(`Command failed: ${cmd}\n${stderr}`, {
        code: code !== undefined && code !== null && code < 0 ? getSystemErrorName(code) : code,
        killed: child.killed || killed,
        signal,
      }) as Error & Record<string, unknown>;
    }
    failure.cmd = cmd;
    cb(failure, stdout, stderr);
  }

  function onError(error: Error): void {
    failure = error as Error & Record<string, unknown>;
    child.stdout?.destroy();
    child.stderr?.destroy();
    onEnd();
  }

  function kill(): void {
    child.stdout?.destroy();
    child.stderr?.destroy();
    killed = true;
    try {
      child.kill(killSignal);
    } catch (error) {
      failure = error as Error & Record<string, unknown>;
      onEnd();
    }
  }

  if ((o.timeout as number) > 0) {
    timer = setTimeout(() => {
      kill();
      timer = null;
    }, o.timeout as number);
  }

  function collect(stream: NonNullable<NodeChildProcess['stdout']>, collected: Collected, name: 'stdout' | 'stderr'): void {
    if (encoding) stream.setEncoding(encoding);
    stream.on('data', (chunk: string | Buffer) => {
      if (maxBuffer === Infinity) {
        collected.chunks.push(chunk);
        return;
      }
      const streamEncoding = stream.readableEncoding;
      const length = streamEncoding ? Buffer.byteLength(chunk as string, streamEncoding) : chunk.length;
      collected.length += length;
      if (collected.length > maxBuffer) {
        const keep = maxBuffer - (collected.length - length);
        collected.chunks.push(chunk.slice(0, keep));
        failure = maxBufferExceeded(name) as unknown as Error & Record<string, unknown>;
        kill();
      } else {
        collected.chunks.push(chunk);
      }
    });
  }
  if (child.stdout) collect(child.stdout, out, 'stdout');
  if (child.stderr) collect(child.stderr, err, 'stderr');

  child.addListener('close', onEnd);
  child.addListener('error', onError);
  return child;
}

/** child_process.exec(command[, options][, callback]): the command through a shell. */
export function exec(command: unknown, options?: unknown, callback?: unknown): NodeChildProcess {
  const o = normalizeExecArgs(command, options, callback);
  return execFile(o.file, o.options, o.callback);
}

/** The promise form of exec/execFile, as util.promisify gives it: { stdout, stderr }, or the
 * error with stdout and stderr; the child is the promise's `child`. */
function promiseForm(original: (...args: unknown[]) => NodeChildProcess) {
  return (...args: unknown[]) => {
    let resolve!: (value: { stdout: string | Buffer; stderr: string | Buffer }) => void;
    let reject!: (error: unknown) => void;
    const promise = new Promise((res, rej) => {
      resolve = res;
      reject = rej;
    }) as Promise<unknown> & { child: NodeChildProcess };
    promise.child = original(...args, (error: (Error & Record<string, unknown>) | null, stdout: string | Buffer, stderr: string | Buffer) => {
      if (error !== null) {
        error.stdout = stdout;
        error.stderr = stderr;
        reject(error);
      } else {
        resolve({ stdout, stderr });
      }
    });
    return promise;
  };
}

for (const fn of [exec, execFile]) {
  Object.defineProperty(fn, promisify.custom, {
    enumerable: false,
    value: promiseForm(fn as (...args: unknown[]) => NodeChildProcess),
  });
}
