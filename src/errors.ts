// Errors in Node's SystemError shape (code, errno, syscall, path), and the library's own codes.

import { constants } from 'node:os';
import { getSystemErrorMap } from 'node:util';

// libuv's table (what Node's errors use) lacks some errnos the kernel gives here: execve's
// ENOEXEC, pidfd_getpid's EREMOTE, NFS's ESTALE. The OS's names fill the gaps.
const systemErrors = getSystemErrorMap();
const osNames = new Map<number, string>([
  ...Object.entries(constants.errno).map(([name, n]) => [n, name] as [number, string]),
  [66, 'EREMOTE'], // not in Node's table on Linux
]);
const extraDescriptions: Record<string, string> = {
  ENOEXEC: 'exec format error',
  EREMOTE: 'object is remote',
  ESTALE: 'stale file handle',
  ECHILD: 'no child processes',
};

/** The errno name for a positive errno ("ENOENT"), or "E<number>" when nobody has a name. */
export function errnoName(errno: number): string {
  return systemErrors.get(-errno)?.[0] ?? osNames.get(errno) ?? `E${errno}`;
}

/** The description for a positive errno ("no such file or directory"). */
export function errnoDescription(errno: number): string {
  return systemErrors.get(-errno)?.[1] ?? extraDescriptions[errnoName(errno)] ?? `error ${errno}`;
}

/** Fields of a SystemError-shaped error. `errno` is negative, as in Node's own errors. */
export interface SystemErrorFields {
  code: string;
  errno: number;
  syscall: string;
  path?: string;
}

/** An error with Node's SystemError fields, from a positive errno. */
export function systemError(
  errno: number,
  syscall: string,
  details: { path?: string; context?: string } = {},
): Error & SystemErrorFields {
  const code = errnoName(errno);
  const where = details.path === undefined ? syscall : `${syscall} '${details.path}'`;
  const prefix = details.context === undefined ? '' : `${details.context}: `;
  const error = new Error(`${prefix}${code}: ${errnoDescription(errno)}, ${where}`) as Error &
    SystemErrorFields;
  error.code = code;
  error.errno = -errno;
  error.syscall = syscall;
  if (details.path !== undefined) error.path = details.path;
  return error;
}

/** Thrown by spawn() when the child could not be created or could not start the program. */
export class SpawnError extends Error implements SystemErrorFields {
  /** The errno name, e.g. 'ENOENT', or 'ERR_PIDFD_CHILD_REPORT' for a malformed report. */
  code: string;
  /** The negative errno, as in Node's own errors. */
  errno: number;
  /** The step that failed: 'execve', 'chdir', 'dup3', 'setuid', 'clone3', ... */
  syscall: string;
  /** The file, directory or cgroup the failing step worked on. */
  path?: string;
  /** The stdio target fd the failing step worked on. */
  fd?: number;
  /** The program, as given to spawn(). */
  spawnfile: string;
  /** argv as the child would have seen it. */
  spawnargs: string[];

  constructor(
    message: string,
    fields: SystemErrorFields & { spawnfile: string; spawnargs: string[]; fd?: number },
  ) {
    super(message);
    this.name = 'SpawnError';
    this.code = fields.code;
    this.errno = fields.errno;
    this.syscall = fields.syscall;
    if (fields.path !== undefined) this.path = fields.path;
    if (fields.fd !== undefined) this.fd = fields.fd;
    this.spawnfile = fields.spawnfile;
    this.spawnargs = fields.spawnargs;
  }
}

/** The error every call raises on an operating system other than Linux. */
export function unsupportedPlatformError(): Error & SystemErrorFields {
  const error = new Error(
    `pidfd: process file descriptors exist only on Linux (this is ${process.platform}); ` +
      'use node:child_process here',
  ) as Error & SystemErrorFields;
  error.code = 'ENOSYS';
  error.errno = -38;
  error.syscall = 'pidfd_open';
  return error;
}

/** An error with one of the library's own codes (ERR_PIDFD_*). */
export function pidfdError(code: string, message: string): Error & { code: string } {
  return Object.assign(new Error(message), { code });
}

/** A validation error that names the option, the value and the fix. */
export function invalidArg(
  kind: 'type' | 'range',
  name: string,
  value: unknown,
  expected: string,
): TypeError | RangeError {
  const message = `The \`${name}\` option must be ${expected}; got ${describe(value)}`;
  const error = kind === 'type' ? new TypeError(message) : new RangeError(message);
  return Object.assign(error, {
    code: kind === 'type' ? 'ERR_INVALID_ARG_TYPE' : 'ERR_OUT_OF_RANGE',
  });
}

/** A short, safe description of a value for an error message. */
export function describe(value: unknown): string {
  if (typeof value === 'string') {
    const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    return JSON.stringify(shown);
  }
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  const name = (value as object).constructor?.name;
  return name ? `an instance of ${name}` : 'an object';
}
