// Normalize the `stdio` option into (target, kind, fd) entries for the child.

import { StdioKind } from '../binding.js';
import { describe } from '../errors.js';

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
  kind: (typeof StdioKind)[keyof typeof StdioKind];
  /** The parent's fd, for StdioKind.fd. */
  fd: number;
}

const MAX_FD = 0x7fffffff;

function streamFd(value: object, name: string): number {
  const direct = (value as { fd?: unknown }).fd;
  const viaHandle = (value as { _handle?: { fd?: unknown } | null })._handle?.fd;
  const fd = typeof direct === 'number' ? direct : viaHandle;
  if (typeof fd === 'number' && Number.isInteger(fd) && fd >= 0) return fd;
  throw Object.assign(
    new TypeError(
      `The \`${name}\` option must be 'pipe', 'inherit', 'ignore', an fd number or a stream ` +
        `with a file descriptor; got ${describe(value)} without an fd ` +
        `(an fs stream has one only after its 'open' event)`,
    ),
    { code: 'ERR_INVALID_ARG_VALUE' },
  );
}

function entryFor(target: number, value: StdioOption, name: string): StdioEntry | null {
  // Node's rule: a missing entry is 'pipe' for 0-2 and 'ignore' (closed) above.
  const setting = value ?? (target < 3 ? 'pipe' : 'ignore');
  switch (setting) {
    case 'pipe':
      return {
        target,
        kind: target === 0 ? StdioKind.pipeIn : target < 3 ? StdioKind.pipeOut : StdioKind.socket,
        fd: -1,
      };
    case 'inherit':
      return { target, kind: StdioKind.fd, fd: target };
    case 'ignore':
      return target < 3 ? { target, kind: StdioKind.devnull, fd: -1 } : null;
  }
  if (typeof setting === 'number') {
    if (!Number.isInteger(setting) || setting < 0 || setting > MAX_FD) {
      throw Object.assign(
        new RangeError(
          `The \`${name}\` option must be a file descriptor (an integer from 0 to ${MAX_FD}); ` +
            `got ${describe(setting)}`,
        ),
        { code: 'ERR_OUT_OF_RANGE' },
      );
    }
    return { target, kind: StdioKind.fd, fd: setting };
  }
  if (typeof setting === 'object') return { target, kind: StdioKind.fd, fd: streamFd(setting, name) };
  throw Object.assign(
    new TypeError(
      `The \`${name}\` option must be 'pipe', 'inherit', 'ignore', an fd number or a stream ` +
        `with a file descriptor; got ${describe(setting)}`,
    ),
    { code: 'ERR_INVALID_ARG_VALUE' },
  );
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
    throw Object.assign(
      new TypeError(
        `The \`stdio\` option must be 'pipe', 'inherit', 'ignore' or an array indexed by child ` +
          `fd; got ${describe(stdio)}`,
      ),
      { code: 'ERR_INVALID_ARG_VALUE' },
    );
  }
  const entries: StdioEntry[] = [];
  const length = Math.max(list.length, 3);
  for (let target = 0; target < length; target++) {
    const entry = entryFor(target, list[target], `stdio[${target}]`);
    if (entry !== null) entries.push(entry);
  }
  return entries;
}
