// Helpers for the tests of the `pidfd` command: run it, start it in the background, wait until
// it watches a process, and background processes for it to act on.

import assert from 'node:assert/strict';
import { spawn as cpSpawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { eventually, GUARD_MS, killAtEnd, root, waitForState } from './index.js';

export const cli = join(root, 'dist', 'cli', 'main.js');

/** Runs `pidfd ...args` to completion. */
export function pidfd(...args) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: GUARD_MS, killSignal: 'SIGKILL' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Starts `pidfd ...args` and resolves once it has printed `marker` on stdout. `done` resolves
 * when it exits; its pipes are then closed on our side even if an orphan still holds them. It is
 * killed when test t ends.
 */
export async function start(t, marker, ...args) {
  const child = killAtEnd(t, cpSpawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }));
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
  await eventually(() => stdout.includes(marker), `pidfd ${args[0]} to print ${marker}`);
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

/**
 * A background `sleep 30` that is not a child of the command under test (node:child_process
 * starts it), once it sleeps: started, its command line in place. Killed when test t ends.
 */
export async function sleeper(t) {
  // Long enough for a slow run (the sanitizer runs take a test of several commands to 40 s):
  // the test kills it, or killAtEnd does.
  const child = killAtEnd(t, cpSpawn('sleep', ['600'], { stdio: 'ignore' }));
  const exit = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  await waitForState(child.pid, ['S']);
  return { pid: child.pid, exit, kill: () => child.kill('SIGKILL') };
}

