// The argument checks of child_process, in Node's order and words (lib/internal/validators.js and
// lib/child_process.js): each throws the error Node throws for the same value.

import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';

import { invalidArgType, invalidArgValue, outOfRange, unknownSignal } from './errors.js';

export function validateString(value: unknown, name: string): asserts value is string {
  if (typeof value !== 'string') throw invalidArgType(name, value, 'string');
}

export function validateBoolean(value: unknown, name: string): asserts value is boolean {
  if (typeof value !== 'boolean') throw invalidArgType(name, value, 'boolean');
}

/** An object, not null, not an array (Node's validateObject with its default options). */
export function validateObject(value: unknown, name: string): asserts value is object {
  if (value === null || Array.isArray(value) || typeof value !== 'object') throw invalidArgType(name, value, 'Object');
}

export function validateArray(value: unknown, name: string): asserts value is unknown[] {
  if (!Array.isArray(value)) throw invalidArgType(name, value, 'Array');
}

export function validateFunction(value: unknown, name: string): asserts value is (...args: unknown[]) => unknown {
  if (typeof value !== 'function') throw invalidArgType(name, value, 'Function');
}

/** Anything with an `aborted` property passes, as in Node. */
export function validateAbortSignal(value: unknown, name: string): asserts value is AbortSignal | undefined {
  if (value !== undefined && (value === null || typeof value !== 'object' || !('aborted' in value))) {
    throw invalidArgType(name, value, 'AbortSignal');
  }
}

export function validateOneOf(value: unknown, name: string, oneOf: readonly unknown[]): void {
  if (!oneOf.includes(value)) {
    const allowed = oneOf.map((v) => (typeof v === 'string' ? `'${v}'` : String(v))).join(', ');
    throw invalidArgValue(name, value, `must be one of: ${allowed}`);
  }
}

/** A string that reaches the kernel cannot hold a NUL (it would be cut there). */
export function validateNullCheck(value: unknown, name: string): void {
  if (typeof value === 'string' && value.includes('\u0000')) {
    throw invalidArgValue(name, value, 'must be a string without null bytes');
  }
}

export function validateNullChecks(values: readonly unknown[], name: string): void {
  for (let i = 0; i < values.length; i++) validateNullCheck(values[i], `${name}[${i}]`);
}

/** Node's isInt32: `value === (value | 0)` (which throws for a symbol or a bigint, as Node's does). */
export function isInt32(value: unknown): boolean {
  return value === ((value as number) | 0);
}

/**
 * Node 26 checks uid, gid, timeout and maxBuffer with its general validators (validateInt32,
 * validateInteger, validateNumber), whose messages say the type and the range apart; Node 20 to
 * 24 have checks of their own with other wording. The errors here are the running Node's.
 */
const generalValidators = Number(process.versions.node.split('.')[0]) >= 26;

/** options.uid and options.gid: an int32. */
export function validateId(value: unknown, name: string): void {
  if (value == null) return;
  if (!generalValidators) {
    if (!isInt32(value)) throw invalidArgType(name, value, 'int32');
    return;
  }
  if (typeof value !== 'number') throw invalidArgType(name, value, 'number');
  if (!Number.isInteger(value)) throw outOfRange(name, value, 'an integer');
  if (value < -(2 ** 31) || value > 2 ** 31 - 1) throw outOfRange(name, value, '>= -2147483648 && <= 2147483647');
}

export function validateTimeout(timeout: unknown): void {
  if (timeout == null) return;
  if (!generalValidators) {
    if (!(Number.isInteger(timeout) && (timeout as number) >= 0)) throw outOfRange('timeout', timeout, 'an unsigned integer');
    return;
  }
  if (typeof timeout !== 'number') throw invalidArgType('timeout', timeout, 'number');
  if (!Number.isInteger(timeout)) throw outOfRange('timeout', timeout, 'an integer');
  if (timeout < 0 || timeout > Number.MAX_SAFE_INTEGER) throw outOfRange('timeout', timeout, `>= 0 && <= ${Number.MAX_SAFE_INTEGER}`);
}

export function validateMaxBuffer(maxBuffer: unknown): void {
  if (maxBuffer == null || (typeof maxBuffer === 'number' && maxBuffer >= 0)) return;
  if (!generalValidators) throw outOfRange('options.maxBuffer', maxBuffer, 'a positive number');
  if (typeof maxBuffer !== 'number') throw invalidArgType('options.maxBuffer', maxBuffer, 'number');
  throw outOfRange('options.maxBuffer', maxBuffer, '>= 0');
}

const signalNumbers = constants.signals as Record<string, number>;
const knownNumbers = new Set(Object.values(signalNumbers));

/** A signal name (any case) or number, as its number; Node's convertToValidSignal. */
export function convertToValidSignal(signal: unknown): number {
  if (typeof signal === 'number' && knownNumbers.has(signal)) return signal;
  if (typeof signal === 'string') {
    const n = signalNumbers[signal.toUpperCase()];
    if (n !== undefined && Object.hasOwn(signalNumbers, signal.toUpperCase())) return n;
  }
  throw unknownSignal(signal);
}

/** The `killSignal` option as a number, or undefined when not given. */
export function sanitizeKillSignal(killSignal: unknown): number | undefined {
  if (typeof killSignal === 'string' || typeof killSignal === 'number') return convertToValidSignal(killSignal);
  if (killSignal != null) throw invalidArgType('options.killSignal', killSignal, ['string', 'number']);
  return undefined;
}

/** A URL as Node recognises one (internal/url isURL). */
function isURL(value: unknown): value is URL {
  const v = value as { href?: unknown; protocol?: unknown; auth?: unknown; path?: unknown } | null | undefined;
  return Boolean(v?.href && v.protocol && v.auth === undefined && v.path === undefined);
}

/** A path option (a string, a Buffer or a file: URL), as Node's getValidatedPath. */
export function getValidatedPath(value: unknown, name: string): string | Uint8Array {
  const path = isURL(value) ? fileURLToPath(value) : value;
  if (typeof path === 'string') {
    if (path.includes('\u0000')) throw invalidArgValue(name, path, 'must be a string, Uint8Array, or URL without null bytes');
    return path;
  }
  if (path instanceof Uint8Array) {
    if (path.includes(0)) throw invalidArgValue(name, path, 'must be a string, Uint8Array, or URL without null bytes');
    return path;
  }
  throw invalidArgType(name, path, ['string', 'Buffer', 'URL']);
}
