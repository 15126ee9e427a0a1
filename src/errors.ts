// Errors in Node's SystemError shape (code, errno, syscall, path), validation errors in Node's
// dialect (ERR_INVALID_ARG_TYPE, ERR_OUT_OF_RANGE, ERR_INVALID_ARG_VALUE), and the library's own
// codes (ERR_PIDFD_*). Every error the library throws is built here.

import { constants } from 'node:os';
import { getSystemErrorMap } from 'node:util';

/** errno numbers by name: the OS's table (os.constants.errno), plus what Node leaves out. */
export const errno: Readonly<typeof constants.errno & { EREMOTE: number }> = {
  EREMOTE: 66, // not in Node's table on Linux
  ...constants.errno,
};

// libuv's table (what Node's errors use) lacks some errnos the kernel gives here: execve's
// ENOEXEC, pidfd_getpid's EREMOTE, NFS's ESTALE. The OS's names fill the gaps.
const systemErrors = getSystemErrorMap();
const osNames = new Map<number, string>([
  ...Object.entries(constants.errno).map(([name, n]) => [n, name] as [number, string]),
  [errno.EREMOTE, 'EREMOTE'],
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

/** The error of an operation cancelled through an AbortSignal, as Node makes it. */
export function abortError(signal: AbortSignal): Error {
  return Object.assign(new Error('The operation was aborted', { cause: signal.reason }), {
    name: 'AbortError',
    code: 'ABORT_ERR',
  });
}

/** An error with one of the library's own codes (ERR_PIDFD_*). */
export function pidfdError(code: string, message: string): Error & { code: string } {
  return Object.assign(new Error(message), { code });
}

/**
 * A wrong type: `The \`cwd\` option must be a string or a file: URL; got 42`. `name` is what
 * the user wrote ('cwd', 'stdio[3]', 'pid'), `what` says whether it is an option or an argument.
 */
export function invalidArgType(name: string, value: unknown, expected: string, what: ArgKind = 'option'): TypeError {
  return withCode(new TypeError(`The \`${name}\` ${what} must be ${expected}; got ${describe(value)}`), 'ERR_INVALID_ARG_TYPE');
}

/** A number of the right type out of its range (or not an integer where one is needed). */
export function outOfRange(name: string, value: unknown, expected: string, what: ArgKind = 'option'): RangeError {
  return withCode(new RangeError(`The \`${name}\` ${what} must be ${expected}; got ${describe(value)}`), 'ERR_OUT_OF_RANGE');
}

/** A value of the right type that is still wrong; `reason` says why and what to do instead. */
export function invalidArgValue(name: string, value: unknown, reason: string, what: ArgKind = 'option'): TypeError {
  return withCode(new TypeError(`The \`${name}\` ${what} ${reason}; got ${describe(value)}`), 'ERR_INVALID_ARG_VALUE');
}

/** An unknown signal name, as Node calls it (ERR_UNKNOWN_SIGNAL). */
export function unknownSignal(name: string, value: string, what: ArgKind = 'option'): TypeError {
  return withCode(
    new TypeError(`The \`${name}\` ${what} must be a signal name such as 'SIGTERM' or a number; got unknown signal ${describe(value)}`),
    'ERR_UNKNOWN_SIGNAL',
  );
}

/** Whether a validation error is about an option of a call or one of its arguments. */
export type ArgKind = 'option' | 'argument';

function withCode<E extends Error>(error: E, code: string): E & { code: string } {
  return Object.assign(error, { code });
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
  return name && name !== 'Object' ? `an instance of ${name}` : 'an object';
}
