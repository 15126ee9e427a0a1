// The eight exports of pidfd/child_process as pidfd/register installs them: small functions that
// load the implementation (implementation.ts and the about 25 modules under it) at their first
// call, synchronously, with require() of the ES module. Loading it all at start-up, in every
// process that runs with `--import pidfd/register` (NODE_OPTIONS: every Node process a tool
// starts), cost about 26 ms; this module costs well under one. The module entry,
// child_process.ts, exports these same functions, so that `require('node:child_process').spawn
// === require('pidfd/child_process').spawn` tells whether pidfd's are in place; it hands over the
// implementation it imported eagerly, and then nothing is loaded at a call.
//
// Each function has the name and the length of Node's (and of the implementation's), passes
// `this` and its arguments on as they are, and returns what the implementation returns.
// `util.promisify(exec)` and `util.promisify(execFile)` find the implementation's promise form.
//
// Where the pidfd engine cannot work (src/engine-choice.ts: another platform, or a Linux where no pidfd
// backend works), and on Bun and Deno (whose child_process is not Node's), the implementation is
// the runtime's own child_process, as it was before pidfd/register replaced it: every export then
// behaves exactly as the runtime's, and the addon is never loaded.

import { createRequire } from 'node:module';

import { childProcessEngine } from '../engine-choice.js';

type Implementation = typeof import('./implementation.js');

const require = createRequire(import.meta.url);
const builtin = require('node:child_process') as typeof import('node:child_process');

/** Node's own exports, taken before pidfd/register replaces them (register.ts imports this
 * module first): the implementation where the pidfd engine cannot work. */
const nodeOwn = Object.fromEntries(
  ['ChildProcess', 'exec', 'execFile', 'execFileSync', 'execSync', 'fork', 'spawn', 'spawnSync'].map((name) => [
    name,
    (builtin as unknown as Record<string, unknown>)[name],
  ]),
) as unknown as Implementation;

let implementation: Implementation | null = null;
let provided: Implementation | null = null;

/** The implementation, loaded at the first call of any export unless provide() gave it; Node's
 * own where the portable engine is chosen (decided at this first call). */
function load(): Implementation {
  if (implementation !== null) return implementation;
  implementation = childProcessEngine().name === 'portable' ? nodeOwn : (provided ?? (require('./implementation.js') as Implementation));
  return implementation;
}

/** Hands over the implementation that the module entry imported (no load at the first call). */
export function provide(loaded: Implementation): void {
  provided ??= loaded;
}

/** Whether the exports pass calls to Node's own here (the portable engine); decides the engine,
 * without loading the implementation. */
export function usesNodeOwn(): boolean {
  return implementation !== null ? implementation === nodeOwn : childProcessEngine().name === 'portable';
}

type FunctionName = 'exec' | 'execFile' | 'execFileSync' | 'execSync' | 'fork' | 'spawn' | 'spawnSync';

function forward<K extends FunctionName>(name: K, length: number): Implementation[K] {
  const fn = function (this: unknown, ...args: unknown[]): unknown {
    return Reflect.apply(load()[name], this, args);
  };
  Object.defineProperty(fn, 'name', { value: name });
  Object.defineProperty(fn, 'length', { value: length });
  return fn as unknown as Implementation[K];
}

/** util.promisify.custom (a registered symbol: no need to load node:util for it). */
const promisifyCustom = Symbol.for('nodejs.util.promisify.custom');

/** exec and execFile: their promise form is the implementation's, reached at its first call. */
function withPromiseForm<K extends 'exec' | 'execFile'>(name: K, length: number): Implementation[K] {
  const fn = forward(name, length);
  const promiseForm = (...args: unknown[]): unknown => {
    const custom = (load()[name] as unknown as Record<symbol, (...a: unknown[]) => unknown>)[promisifyCustom]!;
    return custom(...args);
  };
  Object.defineProperty(fn, promisifyCustom, { enumerable: false, value: promiseForm });
  return fn;
}

export const spawn = forward('spawn', 3);
export const exec = withPromiseForm('exec', 3);
export const execFile = withPromiseForm('execFile', 4);
export const fork = forward('fork', 1);
export const spawnSync = forward('spawnSync', 3);
export const execFileSync = forward('execFileSync', 3);
export const execSync = forward('execSync', 2);

/**
 * `ChildProcess`: Node's prototype (so `instanceof` holds both ways, and a subclass inherits
 * Node's methods), the implementation's constructor (child-process-class.ts), which it calls on `this`.
 */
export const ChildProcess = function ChildProcess(this: object): object | void {
  const implementation = load();
  // Bun's and Deno's own ChildProcess is a class, which cannot be called on `this`.
  if (implementation === nodeOwn) return Reflect.construct(nodeOwn.ChildProcess, [], new.target ?? ChildProcess) as object;
  (implementation.ChildProcess as unknown as (this: object) => void).call(this);
} as unknown as Implementation['ChildProcess'];
ChildProcess.prototype = builtin.ChildProcess.prototype;
Object.setPrototypeOf(ChildProcess, Object.getPrototypeOf(builtin.ChildProcess) as object);
