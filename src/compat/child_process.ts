// pidfd/child_process: Node's child_process API on pidfds. Every child is created with the
// library's engine (clone3 with CLONE_PIDFD, no fork of this process), signalled through its
// pidfd, and reaped through the exit watcher, without a SIGCHLD handler. docs/compat.md says what
// differs from Node and why.
//
// The functions exported are those of exports.ts, which pidfd/register installs in the built-in
// module (the same functions, so that identity tells whether pidfd's are in place); this module
// imports the implementation eagerly and hands it to them. Its types are not this file's:
// package.json points at types/child_process.d.ts, which are the consumer's own @types/node
// declarations of node:child_process.

import { ChildProcess, exec, execFile, execFileSync, execSync, fork, provide, spawn, spawnSync } from './exports.js';
import * as implementation from './implementation.js';

provide(implementation);

export { ChildProcess, exec, execFile, execFileSync, execSync, fork, spawn, spawnSync };

export default { ChildProcess, exec, execFile, execFileSync, execSync, fork, spawn, spawnSync };
