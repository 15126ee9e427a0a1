// fork(): a Node child with an IPC channel, which a stock Node child finds through
// NODE_CHANNEL_FD and NODE_CHANNEL_SERIALIZATION_MODE (set by Node's ChildProcess.spawn, which
// also sets up the channel: json or advanced serialization, handles passed with SCM_RIGHTS).

import type { ChildProcess as NodeChildProcess } from 'node:child_process';

import { ipcRequired } from './errors.js';
import { stdioStringToArray, type Options } from './normalize.js';
import { spawn } from './spawn.js';
import { getValidatedPath, validateArray, validateNullCheck, validateNullChecks, validateObject } from './validate.js';

/** child_process.fork(modulePath[, args][, options]). */
export function fork(modulePath: unknown, args: unknown = [], options?: unknown): NodeChildProcess {
  const path = getValidatedPath(modulePath, 'modulePath');
  if (args == null) args = [];
  else if (typeof args === 'object' && !Array.isArray(args)) {
    options = args;
    args = [];
  } else validateArray(args, 'args');
  if (options != null) validateObject(options, 'options');
  const o: Options = { __proto__: null, ...(options as Options), shell: false } as Options;
  o.execPath = o.execPath || process.execPath;
  validateNullCheck(o.execPath, 'options.execPath');

  let execArgv = (o.execArgv || process.execArgv) as string[];
  validateNullChecks(execArgv, 'options.execArgv');
  // A parent started with -e would run its code again in the child: its -e is left out.
  const evaluated = (process as { _eval?: string | null })._eval;
  if (execArgv === process.execArgv && evaluated != null) {
    const index = execArgv.lastIndexOf(evaluated);
    if (index > 0) {
      execArgv = execArgv.slice();
      execArgv.splice(index - 1, 2);
    }
  }
  const argv = [...execArgv, path, ...(args as unknown[])];

  if (typeof o.stdio === 'string') o.stdio = stdioStringToArray(o.stdio, 'ipc');
  else if (!Array.isArray(o.stdio)) {
    // fd 3 is the channel; 0-2 are the parent's unless `silent`.
    o.stdio = stdioStringToArray(o.silent ? 'pipe' : 'inherit', 'ipc');
  } else if (!o.stdio.includes('ipc')) {
    throw ipcRequired('options.stdio');
  }
  return spawn(o.execPath, argv, o);
}
