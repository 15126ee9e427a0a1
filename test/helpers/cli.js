// Helpers for the tests of the `pidfd` command: run it, start it in the background, wait until
// it watches a process, and background processes for it to act on.

import assert from 'node:assert/strict';
import { spawn as cpSpawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { eventually, GUARD_MS, root } from './index.js';

export const cli = join(root, 'dist', 'cli', 'main.js');

/** Runs `pidfd ...args` to completion. */
export function pidfd(...args) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: GUARD_MS });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Starts `pidfd ...args` and resolves once it has printed `marker` on stdout. `done` resolves
 * when it exits; its pipes are then closed on our side even if an orphan still holds them. */
export async function start(marker, ...args) {
  const child = cpSpawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
  const ended = (stream) => new Promise((resolve) => stream.once('end', resolve));
  const streamsEnded = Promise.all([ended(child.stdout), ended(child.stderr)]);
  const done = new Promise((resolve) => child.once('exit', resolve)).then(async (code) => {
    await Promise.race([streamsEnded, new Promise((resolve) => setTimeout(resolve, 2000))]);
    child.stdout.destroy();
    child.stderr.destroy();
    return { code, stdout, stderr };
  });
  try {
    await eventually(() => stdout.includes(marker), `pidfd ${args[0]} to print ${marker}`);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return { child, done };
}

/** Resolves once process `watcher` holds a pidfd for `target` (read from its fdinfo). */
export async function holdsPidfdFor(watcher, target) {
  const pidLine = new RegExp(`^Pid:\\s+${target}$`, 'm');
  const read = (path) => {
    try {
      return readFileSync(path, 'latin1');
    } catch {
      return '';
    }
  };
  await eventually(() => {
    let fds = [];
    try {
      fds = readdirSync(`/proc/${watcher}/fdinfo`);
    } catch {}
    return fds.some((fd) => pidLine.test(read(`/proc/${watcher}/fdinfo/${fd}`)));
  }, `pid ${watcher} watching ${target}`);
}

/** A one-line error, never a stack trace. */
export function assertOneLine(stderr) {
  assert.equal(stderr.trim().split('\n').length, 1, `one line: ${stderr}`);
  assert.doesNotMatch(stderr, /^\s+at /m);
}

/** A background sleeper that is not our child's child: started with child_process. */
export function sleeper(seconds = 30) {
  const child = cpSpawn('sleep', [String(seconds)], { stdio: 'ignore' });
  const exit = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { pid: child.pid, exit, kill: () => child.kill('SIGKILL') };
}

