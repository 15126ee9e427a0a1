// pidfd/child_process: Node's child_process API on pidfds. Every child is created with the
// library's engine (clone3 with CLONE_PIDFD, no fork of this process), signalled through its
// pidfd, and reaped through the exit watcher, without a SIGCHLD handler. docs/compat.md says what
// differs from Node and why.

import { ChildProcess } from './child-process.js';
import { exec, execFile } from './exec.js';
import { fork } from './fork.js';
import { spawn } from './spawn.js';
import { execFileSync, execSync, spawnSync } from './sync.js';

export { ChildProcess, exec, execFile, execFileSync, execSync, fork, spawn, spawnSync };

export default { ChildProcess, exec, execFile, execFileSync, execSync, fork, spawn, spawnSync };
