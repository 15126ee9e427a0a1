// The errors of child_process, in Node's own words: the codes, classes, messages and fields that
// Node's lib/internal/errors.js gives them, since programs (and Node's own tests) compare them.
// The argument checks take their arguments in the order of src/errors.ts's namesakes: the name,
// the value given, then what was expected (Node's own helpers put the value last).

import { inspect, getSystemErrorName } from 'node:util';

type ErrorClass = ErrorConstructor | TypeErrorConstructor | RangeErrorConstructor;

/** An error as Node's internal `NodeError`s are: `code` set, `name` inherited, and a stack and
 * toString() that show `Name [CODE]: message`. */
function nodeError<T extends Error>(Base: ErrorClass, code: string, message: string): T & { code: string } {
  const error = new Base(message) as T & { code: string };
  Object.defineProperty(error, 'toString', {
    value(this: Error) {
      return `${this.name} [${code}]: ${this.message}`;
    },
    enumerable: false,
    writable: true,
    configurable: true,
  });
  // The stack is rendered when first read: with the code in the name, then the name goes back to
  // the class's own.
  error.name = `${Base.name} [${code}]`;
  void error.stack;
  delete (error as { name?: string }).name;
  error.code = code;
  return error;
}

const typeWords = new Set(['string', 'function', 'number', 'object', 'Function', 'Object', 'boolean', 'bigint', 'symbol']);
const className = /^([A-Z][a-z0-9]*)+$/;

/** "and the value was": `type number (1)`, `an instance of Object`, `function f`, `null`. */
function received(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  switch (typeof value) {
    case 'function':
      return `function ${value.name}`;
    case 'object': {
      const ctor = (value as { constructor?: { name?: string } }).constructor;
      if (ctor && 'name' in ctor) return `an instance of ${ctor.name}`;
      return inspect(value, { depth: -1 });
    }
    case 'string': {
      const shown = value.length > 28 ? `${value.slice(0, 25)}...` : value;
      return shown.includes("'") ? `type string (${JSON.stringify(shown)})` : `type string ('${shown}')`;
    }
    case 'number':
      return `type number (${Object.is(value, -0) ? '-0' : String(value)})`;
    case 'bigint':
      return `type bigint (${value}n)`;
    default: {
      let shown = inspect(value, { colors: false });
      if (shown.length > 28) shown = `${shown.slice(0, 25)}...`;
      return `type ${typeof value} (${shown})`;
    }
  }
}

/** "a, b, or c" / "a or b" / "a", after `many` for two or more and `one` for one. */
function list(items: string[], many: string, one: string): string {
  if (items.length > 2) return `${many}${items.slice(0, -1).join(', ')}, or ${items[items.length - 1]}`;
  if (items.length === 2) return `${many}${items[0]} or ${items[1]}`;
  return `${one}${items[0]}`;
}

/** ERR_INVALID_ARG_TYPE: `The "options.uid" property must be int32. Received type string ('a')`. */
export function invalidArgType(name: string, actual: unknown, expected: string | string[]): TypeError & { code: string } {
  let message = name.endsWith(' argument') ? `The ${name} ` : `The "${name}" ${name.includes('.') ? 'property' : 'argument'} `;
  message += 'must be ';
  const types: string[] = [];
  const instances: string[] = [];
  const other: string[] = [];
  for (const value of Array.isArray(expected) ? expected : [expected]) {
    if (typeWords.has(value)) types.push(value.toLowerCase());
    else if (className.test(value)) instances.push(value);
    else other.push(value);
  }
  // `object` among instances is spelled as the class, to set the kinds apart.
  if (instances.length > 0 && types.includes('object')) {
    types.splice(types.indexOf('object'), 1);
    instances.push('Object');
  }
  const parts: string[] = [];
  if (types.length > 0) parts.push(list(types, 'one of type ', 'of type '));
  if (instances.length > 0) {
    parts.push(instances.length > 2 ? list(instances, 'an instance of ', '') : `an instance of ${instances.join(' or ')}`);
  }
  if (other.length > 0) {
    if (other.length > 1) parts.push(list(other, 'one of ', ''));
    else parts.push(`${other[0]!.toLowerCase() !== other[0] ? 'an ' : ''}${other[0]}`);
  }
  message += `${parts.join(' or ')}. Received ${received(actual)}`;
  return nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', message);
}

/** ERR_INVALID_ARG_VALUE: `The argument 'stdio' is invalid. Received 'foo'`. */
export function invalidArgValue(name: string, value: unknown, reason = 'is invalid'): TypeError & { code: string } {
  let shown = inspect(value);
  if (shown.length > 128) shown = `${shown.slice(0, 128)}...`;
  const kind = name.includes('.') ? 'property' : 'argument';
  return nodeError(TypeError, 'ERR_INVALID_ARG_VALUE', `The ${kind} '${name}' ${reason}. Received ${shown}`);
}

function withSeparators(digits: string): string {
  let out = '';
  let i = digits.length;
  const start = digits[0] === '-' ? 1 : 0;
  for (; i >= start + 4; i -= 3) out = `_${digits.slice(i - 3, i)}${out}`;
  return `${digits.slice(0, i)}${out}`;
}

/** ERR_OUT_OF_RANGE: `The value of "timeout" is out of range. It must be .... Received -1`. */
export function outOfRange(name: string, input: unknown, range: string): RangeError & { code: string } {
  let shown: string;
  if (Number.isInteger(input) && Math.abs(input as number) > 2 ** 32) shown = withSeparators(String(input));
  else if (typeof input === 'bigint') {
    shown = String(input);
    if (input > 2n ** 32n || input < -(2n ** 32n)) shown = withSeparators(shown);
    shown += 'n';
  } else shown = inspect(input);
  return nodeError(RangeError, 'ERR_OUT_OF_RANGE', `The value of "${name}" is out of range. It must be ${range}. Received ${shown}`);
}

export function unknownSignal(signal: unknown): TypeError & { code: string } {
  return nodeError(TypeError, 'ERR_UNKNOWN_SIGNAL', `Unknown signal: ${String(signal)}`);
}

export function ipcRequired(name: string): Error & { code: string } {
  return nodeError(Error, 'ERR_CHILD_PROCESS_IPC_REQUIRED', `Forked processes must have an IPC channel, missing value 'ipc' in ${name}`);
}

export function maxBufferExceeded(stream: string): RangeError & { code: string } {
  return nodeError(RangeError, 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER', `${stream} maxBuffer length exceeded`);
}

export function ipcOnePipe(): Error & { code: string } {
  return nodeError(Error, 'ERR_IPC_ONE_PIPE', 'Child process can have only one IPC pipe');
}

export function ipcSyncFork(): Error & { code: string } {
  return nodeError(Error, 'ERR_IPC_SYNC_FORK', 'IPC cannot be used with synchronous forks');
}

export function invalidSyncForkInput(value: unknown): TypeError & { code: string } {
  return nodeError(
    TypeError,
    'ERR_INVALID_SYNC_FORK_INPUT',
    `Asynchronous forks do not support Buffer, TypedArray, DataView or string input: ${inspect(value)}`,
  );
}

/** Node's ErrnoException: `spawn foo ENOENT`, with errno (negative), code and syscall. */
export function errnoException(err: number, syscall: string): Error & { errno: number; code: string; syscall: string } {
  const code = getSystemErrorName(err);
  const error = new Error(`${syscall} ${code}`) as Error & { errno: number; code: string; syscall: string };
  error.errno = err;
  error.code = code;
  error.syscall = syscall;
  return error;
}

/** A plain Error with extra fields, as Node's genericNodeError. */
export function genericNodeError(message: string, fields: object): Error {
  return Object.assign(new Error(message), fields);
}

/** Node's AbortError (code ABORT_ERR), with the signal's reason as the cause. */
export class AbortError extends Error {
  code: string;
  constructor(message = 'The operation was aborted', options?: { cause?: unknown }) {
    super(message, options);
    this.code = 'ABORT_ERR';
    this.name = 'AbortError';
  }
}
