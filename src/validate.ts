// Argument validation in Node's dialect, for every layer: a wrong type is a TypeError
// ERR_INVALID_ARG_TYPE, a number out of its range a RangeError ERR_OUT_OF_RANGE, anything else a
// TypeError ERR_INVALID_ARG_VALUE. Each message names the option or argument, the value and what
// is expected. Validation runs before any system call.

import { invalidArgType, invalidArgValue, outOfRange, type ArgKind } from './errors.js';

/** A plain options object (not null, not an array). */
export function validateObject(value: unknown, name: string, what: ArgKind = 'argument'): object {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalidArgType(name, value, 'an object', what);
  }
  return value;
}

/** A string without NUL bytes (the kernel would cut it there); empty only where allowed. */
export function validateString(
  value: unknown,
  name: string,
  { empty = false, what = 'option' }: { empty?: boolean; what?: ArgKind } = {},
): string {
  if (typeof value !== 'string') throw invalidArgType(name, value, 'a string', what);
  if (!empty && value.length === 0) throw invalidArgValue(name, value, 'must not be empty', what);
  if (value.includes('\0')) {
    throw invalidArgValue(name, value, 'must not contain NUL bytes (the kernel would cut the string there)', what);
  }
  return value;
}

export function validateBoolean(value: unknown, name: string, what: ArgKind = 'option'): boolean {
  if (typeof value !== 'boolean') throw invalidArgType(name, value, 'a boolean', what);
  return value;
}

/** An integer in [min, max]. `expected` describes the range in the message. */
export function validateInteger(
  value: unknown,
  name: string,
  min: number,
  max: number,
  { what = 'option', expected = `an integer from ${min} to ${max}` }: { what?: ArgKind; expected?: string } = {},
): number {
  if (typeof value !== 'number') throw invalidArgType(name, value, expected, what);
  if (!Number.isInteger(value) || value < min || value > max) throw outOfRange(name, value, expected, what);
  return value;
}

/** An fd number. */
export function validateFd(value: unknown, name: string, what: ArgKind = 'option'): number {
  return validateInteger(value, name, 0, 0x7fffffff, { what, expected: 'a file descriptor (an integer from 0 to 2147483647)' });
}

/** One of a list of strings. */
export function validateOneOf<T extends string>(value: unknown, name: string, list: readonly T[], what: ArgKind = 'option'): T {
  if (typeof value !== 'string') throw invalidArgType(name, value, `one of ${list.map((x) => `'${x}'`).join(', ')}`, what);
  if (!list.includes(value as T)) {
    throw invalidArgValue(name, value, `must be one of ${list.map((x) => `'${x}'`).join(', ')}`, what);
  }
  return value as T;
}

const abortedGetter = Object.getOwnPropertyDescriptor(AbortSignal.prototype, 'aborted')!.get!;

/**
 * A real AbortSignal. The brand is checked (AbortSignal's own `aborted` getter refuses anything
 * else), so a look-alike object cannot pass here and fail later inside exit delivery.
 */
export function validateAbortSignal(value: unknown, name: string): AbortSignal {
  if (value !== null && typeof value === 'object') {
    try {
      abortedGetter.call(value);
      return value as AbortSignal;
    } catch {
      // not an AbortSignal
    }
  }
  throw invalidArgType(name, value, 'an AbortSignal', 'option');
}

/**
 * Refuses keys of `options` that are not in `known`; `foreign` maps options of other libraries
 * (child_process, execa) to what to do here instead.
 */
export function validateKnownOptions(
  options: object,
  known: ReadonlySet<string>,
  call: string,
  foreign: Readonly<Record<string, string>> = {},
): void {
  for (const key of Object.keys(options)) {
    if (known.has(key)) continue;
    const hint = foreign[key];
    throw invalidArgValue(
      key,
      (options as Record<string, unknown>)[key],
      hint === undefined
        ? `is not an option of ${call}; the options are ${[...known].join(', ')}`
        : `is not supported by ${call}: ${hint}`,
    );
  }
}

