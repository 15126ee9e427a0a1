// Normalize the `stdio` option into (target, kind, fd) entries for the child.

import { constants } from '../binding.js';
import { invalidArgValue } from '../errors.js';
import { validateFd } from '../validate.js';

/** A Node stream (or anything) that has a file descriptor: process.stdout, an fs stream, a socket. */
export interface StreamWithFd {
  readonly fd?: number | null;
}

/** What one child fd is connected to. */
export type StdioOption = 'pipe' | 'inherit' | 'ignore' | number | StreamWithFd | null | undefined;

/** The `stdio` option: one setting for fds 0-2, or an array indexed by child fd. */
export type StdioOptions = 'pipe' | 'inherit' | 'ignore' | readonly StdioOption[];

/** One child fd: where it comes from. */
export interface StdioEntry {
  target: number;
  /** From constants().stdioKind. */
  kind: number;
  /** The parent's fd, for stdioKind.fd. */
  fd: number;
  /** The stream the fd came from, when a stream was given. */
  stream?: object;
}

/** The parent's ends of Subprocess pipes (see handOver). */
export const subprocessStreams = new WeakSet<object>();

const expected = "'pipe', 'inherit', 'ignore', an fd number or a stream with a file descriptor";

function streamFd(value: object, name: string): number {
  const direct = (value as { fd?: unknown }).fd;
  const viaHandle = (value as { _handle?: { fd?: unknown } | null })._handle?.fd;
  const fd = typeof direct === 'number' ? direct : viaHandle;
  if (typeof fd === 'number' && Number.isInteger(fd) && fd >= 0) return fd;
  throw invalidArgValue(
    name,
    value,
    `must be ${expected}; this stream has no fd (an fs stream has one only after its 'open' event)`,
  );
}

function entryFor(target: number, value: StdioOption, name: string): StdioEntry | null {
  const kind = constants().stdioKind;
  // Node's rule: a missing entry is 'pipe' for 0-2 and 'ignore' (closed) above.
  const setting = value ?? (target < 3 ? 'pipe' : 'ignore');
  switch (setting) {
    case 'pipe':
      return { target, kind: target === 0 ? kind.pipeIn : target < 3 ? kind.pipeOut : kind.socket, fd: -1 };
    case 'inherit':
      return { target, kind: kind.fd, fd: target };
    case 'ignore':
      return target < 3 ? { target, kind: kind.devnull, fd: -1 } : null;
  }
  if (typeof setting === 'number') return { target, kind: kind.fd, fd: validateFd(setting, name) };
  if (typeof setting === 'object') return { target, kind: kind.fd, fd: streamFd(setting, name), stream: setting };
  throw invalidArgValue(name, setting, `must be ${expected}`);
}

/** The child's fds in ascending order; fds not listed are closed in the child. */
export function normalizeStdio(stdio: unknown): StdioEntry[] {
  let list: readonly StdioOption[];
  if (stdio === undefined || stdio === 'pipe' || stdio === 'inherit' || stdio === 'ignore') {
    const setting = stdio ?? 'pipe';
    list = [setting, setting, setting];
  } else if (Array.isArray(stdio)) {
    list = stdio;
  } else {
    throw invalidArgValue('stdio', stdio, "must be 'pipe', 'inherit', 'ignore' or an array indexed by child fd");
  }
  const entries: StdioEntry[] = [];
  for (let target = 0; target < 3; target++) {
    const entry = entryFor(target, list[target], `stdio[${target}]`);
    if (entry !== null) entries.push(entry);
  }
  // Above fd 2 only the entries that exist: a sparse array's length says nothing (Object.keys
  // gives an array's indices in ascending order, without walking its holes).
  if (list.length > 3) {
    for (const key of Object.keys(list)) {
      const target = Number(key);
      if (!Number.isInteger(target) || target < 3) continue;
      const entry = entryFor(target, list[target], `stdio[${target}]`);
      if (entry !== null) entries.push(entry);
    }
  }
  return entries;
}


interface HandedStream {
  readable?: boolean;
  writable?: boolean;
  pause?(): void;
  end?(): void;
  destroy?(): void;
  _handle?: { reading?: boolean; readStop?(): number } | null;
}

/**
 * After a successful spawn: the streams whose fds the child now has are no longer the parent's
 * to read. The parent's end of another Subprocess's pipe is handed over whole: closed here (a
 * writable one after its pending writes), so that the two children see each other's end of the
 * pipe as a shell pipeline would (EOF, SIGPIPE). Any other stream (a socket, process.stdin) stays
 * open, but stops reading, as child_process does: whatever the parent read would be lost to the
 * child.
 */
export function handOver(entries: readonly StdioEntry[]): void {
  for (const entry of entries) {
    const stream = entry.stream as HandedStream | undefined;
    if (stream === undefined) continue;
    if (subprocessStreams.has(stream)) {
      if (stream.writable && !stream.readable) stream.end?.();
      else stream.destroy?.();
      continue;
    }
    if (stream.readable && typeof stream.pause === 'function') {
      stream.pause();
      const handle = stream._handle;
      if (handle && typeof handle.readStop === 'function') {
        handle.reading = false;
        handle.readStop();
      }
    }
  }
}
