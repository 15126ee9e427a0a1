// The arguments of spawn(), execFile(), exec() and the sync family, checked and shaped as Node's
// lib/child_process.js does (normalizeSpawnArguments and its siblings), so that every error is
// Node's and every accepted call means what it means to Node.

import { isMainThread } from 'node:worker_threads';

import { invalidArgType, invalidArgValue } from './errors.js';
import {
  getValidatedPath,
  validateBoolean,
  validateFunction,
  validateId,
  validateNullCheck,
  validateNullChecks,
  validateObject,
  validateString,
} from './validate.js';

/** Options as the user gave them; every key is optional and checked where it is used. */
export type Options = Record<string, unknown>;

/** What Node's ChildProcess.prototype.spawn() takes: the user's options plus the resolved ones. */
export interface SpawnRequest extends Options {
  file: string;
  /** argv, argv[0] included. */
  args: string[];
  cwd: string | Uint8Array | undefined | null;
  detached: boolean;
  envPairs: string[];
  windowsHide: boolean;
  windowsVerbatimArguments: boolean;
}

const empty: Options = Object.freeze(Object.create(null));

/** The prototype of the options copies: no property and no prototype of its own, so that a key
 * the caller did not give reads as undefined whatever Object.prototype holds, as from Node's
 * `{ __proto__: null, ...options }`. */
const noInheritance: object = Object.freeze(Object.create(null));

/**
 * A copy of the caller's own enumerable options (getters read once, in order, as by a spread),
 * which inherits nothing. Not a null-prototype literal as in Node: V8 makes one of those in
 * dictionary mode, and every read of it (here, in Node's ChildProcess.prototype.spawn, in the
 * handle) then misses the inline caches; this one keeps fast properties (docs/benchmarks.md, the
 * drop-in's CPU per spawn).
 */
export function copyOptions(options: object): Options {
  return Object.assign(Object.create(noInheritance) as Options, options);
}

/**
 * The envPairs of a child that gets this process's environment as it is: an empty array marked
 * with `inherited`, so that the engine reads the C environment itself instead of a copy of every
 * variable being made in JavaScript on every spawn (the largest cost of a spawn's JavaScript, and
 * garbage that grows the heap). Node's ChildProcess.spawn() may push the IPC channel's variables
 * onto it; envPairsOf() then gives the whole list. A plain array with a symbol property rather
 * than a subclass of Array: V8 never optimized a subclass's constructor nor the functions that
 * inline it (each attempt aborted on an unstable map), which left normalizeSpawnArguments()
 * running unoptimized on every spawn.
 */
const inherited = Symbol('pidfd.inheritedEnv');

function inheritedEnv(): string[] {
  const pairs: string[] = [];
  (pairs as unknown as Record<symbol, boolean>)[inherited] = true;
  return pairs;
}

/** Node's own process.env, whose variables are the C environment (the main thread's, not a
 * Worker's copy, and not a plain object a program put in its place). */
function isNativeEnv(env: unknown): boolean {
  return env === process.env && isMainThread && Object.getPrototypeOf(process.env) !== Object.prototype;
}

/** Every KEY=VALUE of `env`, checked as Node checks them (inherited keys included, as in Node). */
function pairsOf(env: Options): string[] {
  const pairs: string[] = [];
  for (const key in env) {
    const value = env[key];
    if (value !== undefined) {
      validateNullCheck(key, `options.env['${key}']`);
      validateNullCheck(value, `options.env['${key}']`);
      pairs.push(`${key}=${String(value)}`);
    }
  }
  return pairs;
}

/** The child's environment for the engine: KEY=VALUE strings, or null for this process's own. */
export function envPairsOf(envPairs: unknown): string[] | null {
  if (!Array.isArray(envPairs)) return null;
  if ((envPairs as unknown as Record<symbol, unknown>)[inherited] !== true) return envPairs.map(String);
  return envPairs.length === 0 ? null : [...pairsOf(process.env as Options), ...envPairs];
}

/** Copies `name` from process.env into env when the caller's env does not set it. */
function copyProcessEnv(env: Options, name: string, optionEnv: unknown): void {
  if (process.env[name] && (!optionEnv || !Object.hasOwn(optionEnv as object, name))) env[name] = process.env[name];
}

/** spawn()'s (file, args, options), checked: Node's normalizeSpawnArguments. */
export function normalizeSpawnArguments(file: unknown, args: unknown, options: unknown): SpawnRequest {
  validateString(file, 'file');
  validateNullCheck(file, 'file');
  if (file.length === 0) throw invalidArgValue('file', file, 'cannot be empty');

  let argv: unknown[];
  if (Array.isArray(args)) argv = args.slice();
  else if (args == null) argv = [];
  else if (typeof args !== 'object') throw invalidArgType('args', args, 'object');
  else {
    options = args;
    argv = [];
  }
  validateNullChecks(argv, 'args');

  if (options === undefined) options = empty;
  else validateObject(options, 'options');
  const o = copyOptions(options as object);

  let cwd = o.cwd as string | Uint8Array | undefined | null;
  if (cwd != null) cwd = getValidatedPath(cwd, 'options.cwd');
  if (o.detached != null) validateBoolean(o.detached, 'options.detached');
  validateId(o.uid, 'options.uid');
  validateId(o.gid, 'options.gid');
  if (o.shell != null && typeof o.shell !== 'boolean' && typeof o.shell !== 'string') {
    throw invalidArgType('options.shell', o.shell, ['boolean', 'string']);
  }
  if (o.argv0 != null) {
    validateString(o.argv0, 'options.argv0');
    validateNullCheck(o.argv0, 'options.argv0');
  }
  if (o.windowsHide != null) validateBoolean(o.windowsHide, 'options.windowsHide');
  let windowsVerbatimArguments = o.windowsVerbatimArguments;
  if (windowsVerbatimArguments != null) validateBoolean(windowsVerbatimArguments, 'options.windowsVerbatimArguments');

  let theFile = file;
  if (o.shell) {
    validateNullCheck(o.shell, 'options.shell');
    const command = [file, ...argv].join(' ');
    if (process.platform === 'win32') {
      // Never reached (pidfd runs on Linux); kept so that the shape of the rule is Node's.
      theFile = typeof o.shell === 'string' ? o.shell : (process.env.comspec ?? 'cmd.exe');
      if (/^(?:.*\\)?cmd(?:\.exe)?$/i.test(theFile)) {
        argv = ['/d', '/s', '/c', `"${command}"`];
        windowsVerbatimArguments = true;
      } else argv = ['-c', command];
    } else {
      theFile = typeof o.shell === 'string' ? o.shell : process.platform === 'android' ? '/system/bin/sh' : '/bin/sh';
      argv = ['-c', command];
    }
  }
  // A new array rather than unshift(), which V8 does in its runtime (a call out of optimized
  // code and a copy of the elements) on every spawn.
  const full: unknown[] = [typeof o.argv0 === 'string' ? o.argv0 : theFile];
  for (let i = 0; i < argv.length; i++) full.push(argv[i]);

  const env = (o.env || process.env) as Options;
  let envPairs: string[];
  if (isNativeEnv(env)) {
    envPairs = inheritedEnv();
  } else {
    // NODE_V8_COVERAGE always reaches the child, so that coverage works with a custom env.
    copyProcessEnv(env, 'NODE_V8_COVERAGE', o.env);
    envPairs = pairsOf(env);
  }

  // `o` is this call's own copy: set the resolved options on it (the same keys in the same order
  // as Node's second spread `{ __proto__: null, ...options, args, ... }`, without copying a
  // dictionary-mode object again: ~1.3 µs a spawn).
  const request = o as SpawnRequest;
  request.args = full as string[];
  request.cwd = cwd;
  request.detached = !!o.detached;
  request.envPairs = envPairs;
  request.file = theFile;
  request.windowsHide = !!o.windowsHide;
  request.windowsVerbatimArguments = !!windowsVerbatimArguments;
  return request;
}

/** exec()'s and execSync()'s (command, options, callback): Node's normalizeExecArgs. */
export function normalizeExecArgs(
  command: unknown,
  options: unknown,
  callback: unknown,
): { file: string; options: Options; callback: unknown } {
  validateString(command, 'command');
  validateNullCheck(command, 'command');
  if (typeof options === 'function') {
    callback = options;
    options = undefined;
  }
  // A copy, so that the caller's object is not changed.
  const o: Options = { __proto__: null, ...(options as Options) } as Options;
  o.shell = typeof o.shell === 'string' ? o.shell : true;
  return { file: command, options: o, callback };
}

/** execFile()'s and execFileSync()'s (file, args, options, callback): Node's
 * normalizeExecFileArgs. */
export function normalizeExecFileArgs(
  file: unknown,
  args: unknown,
  options: unknown,
  callback: unknown,
): { file: unknown; args: unknown; options: Options; callback: ((...a: unknown[]) => unknown) | undefined } {
  // args that are neither an array, an object nor a function stay as they are: spawn() refuses
  // them then, with Node's message.
  if (Array.isArray(args)) args = args.slice();
  else if (args != null && typeof args === 'object') {
    callback = options;
    options = args;
    args = null;
  } else if (typeof args === 'function') {
    callback = args;
    options = null;
    args = null;
  }
  if (args == null) args = [];
  if (typeof options === 'function') callback = options;
  else if (options != null) validateObject(options, 'options');
  const o = (options ?? empty) as Options;
  if (callback != null) validateFunction(callback, 'callback');
  if (o.argv0 != null) {
    validateString(o.argv0, 'options.argv0');
    validateNullCheck(o.argv0, 'options.argv0');
  }
  return { file, args, options: o, callback: (callback ?? undefined) as ((...a: unknown[]) => unknown) | undefined };
}

/** 'pipe' / 'ignore' / 'overlapped' / 'inherit' as an array (plus the IPC channel for fork). */
export function stdioStringToArray(stdio: string, channel?: string): unknown[] {
  const options: unknown[] = [];
  switch (stdio) {
    case 'ignore':
    case 'overlapped':
    case 'pipe':
      options.push(stdio, stdio, stdio);
      break;
    case 'inherit':
      options.push(0, 1, 2);
      break;
    default:
      throw invalidArgValue('stdio', stdio);
  }
  if (channel) options.push(channel);
  return options;
}
