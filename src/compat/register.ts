// pidfd/register: puts pidfd/child_process in the place of Node's built-in child_process, for
// the whole process: `node --import pidfd/register app.js`, or `import 'pidfd/register'` before
// anything spawns. The built-in module's exports object is changed in place and its ESM named
// exports are synced, so that `require('child_process').spawn`, `import cp from
// 'node:child_process'` and `import { spawn } from 'node:child_process'` all reach pidfd from then
// on. (A function that a module copied out before, as `const { spawn } = require(...)`, stays
// Node's: nothing can reach that copy.)
//
// It installs the small functions of exports.ts, which load the implementation at the first call
// of any of them: what every process pays at start-up is this module and that one (well under a
// millisecond), not the whole of pidfd/child_process (about 26 ms; docs/compat.md).

//
// Where the pidfd engine cannot work (src/engine-choice.ts), register changes nothing, so that a
// NODE_OPTIONS shared by a team is harmless on every machine: off Linux (or with
// PIDFD_ENGINE=portable) and on Bun and Deno (whose child_process is their own, not Node's)
// nothing is installed at all; on a Linux where no pidfd backend works,
// which is known only once the addon has probed (at the first call, not at start-up), the
// installed functions pass every call to Node's own. isRegistered() says false in both cases,
// and NODE_DEBUG=pidfd prints why.

import { createRequire, syncBuiltinESMExports } from 'node:module';

import { childProcessRuntimeReason, portableWithoutProbe } from '../engine-choice.js';
import * as compat from './exports.js';

const require = createRequire(import.meta.url);

/** A NODE_DEBUG=pidfd line; src/debug.ts is loaded only when one is written (every module loaded
 * here is paid at the start of every process that registers). */
function debug(format: string, ...args: unknown[]): void {
  (require('../debug.js') as typeof import('../debug.js')).debug(format, ...args);
}
const builtin = require('node:child_process') as Record<string, unknown>;

/** The exports that are replaced: every function and class of child_process but Node's own
 * `_forkChild`, which only Node's bootstrap calls in a forked child. */
const names = ['ChildProcess', 'exec', 'execFile', 'execFileSync', 'execSync', 'fork', 'spawn', 'spawnSync'] as const;

/** Node's own exports, kept while pidfd's are in place. */
let saved: Record<string, unknown> | null = null;

/** Puts pidfd's child_process in place of the built-in one (again, after unregister()). */
export function register(): void {
  const portable = childProcessRuntimeReason() ?? portableWithoutProbe();
  if (portable !== null) {
    debug('register: child_process stays Node\'s own: %s', portable);
    return;
  }
  if (installed()) return;
  saved ??= Object.fromEntries(names.map((name) => [name, builtin[name]]));
  for (const name of names) builtin[name] = compat[name];
  syncBuiltinESMExports();
}

/**
 * Puts Node's own child_process back. Children already started stay pidfd's (their exits still
 * arrive). Returns false when pidfd's was not in place. An export that something else replaced
 * since register() is left as it is.
 */
export function unregister(): boolean {
  if (saved === null) return false;
  let restored = false;
  for (const name of names) {
    if (builtin[name] !== compat[name]) continue;
    builtin[name] = saved[name];
    restored = true;
  }
  saved = null;
  syncBuiltinESMExports();
  return restored;
}

/** Whether pidfd's functions are in the built-in module (every one of its exports). */
function installed(): boolean {
  return names.every((name) => builtin[name] === compat[name]);
}

/**
 * Whether the built-in child_process is pidfd's now: every one of its exports, on the pidfd
 * engine. False where the portable engine is used (then children are Node's own); on Linux this
 * decides the engine (the addon is loaded and probes, once).
 */
export function isRegistered(): boolean {
  if (!installed()) return false;
  if (compat.usesNodeOwn()) {
    debug('register: the installed functions pass every call to Node\'s own child_process (the portable engine)');
    return false;
  }
  return true;
}

register();
