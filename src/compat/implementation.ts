// The implementation of pidfd/child_process, whole: the eight exports as the modules below
// define them. The module entry (child_process.ts) and pidfd/register reach it through the thin
// functions of exports.ts; nothing else imports it.

import { ChildProcess } from './child-process-class.js';
import { exec, execFile } from './exec.js';
import { fork } from './fork.js';
import { spawn } from './spawn.js';
import { execFileSync, execSync, spawnSync } from './sync.js';

export { ChildProcess, exec, execFile, execFileSync, execSync, fork, spawn, spawnSync };
