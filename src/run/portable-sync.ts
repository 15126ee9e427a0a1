// runSync() and `$.sync` on the portable engine (src/engine-choice.ts: another platform, a Linux
// where no pidfd backend works, PIDFD_ENGINE=portable): the run goes through Node's own
// child_process.spawnSync, with run()'s options where they map, and its RunResult or RunError is
// outcome.ts's, from the same record (RunState) as the native loop's and run()'s: the same fields
// and the same words. What differs, because spawnSync does it and cannot be told otherwise
// (docs/run.md, "Synchronous runs"):
//
// - `timeout` and maxBuffer kill the first process only (spawnSync's killSignal), while this
//   thread blocks in it; on Linux, macOS and other Unixes the first process leads a process
//   group of its own (as with the portable run()), and what is left in that group is sent
//   SIGKILL once spawnSync has returned. On Windows what the first process started is left
//   running (taskkill /T finds a tree by its first process, which is gone by then).
// - forceKillAfterDelay does not apply: spawnSync sends killSignal once. A command that ignores
//   it keeps this thread blocked until it ends.
// - maxBuffer in lines (`lines: true`) is applied to what was read, after the command ended: it
//   is not killed when it goes past it (maxBuffer in bytes kills it, as run()'s).
// - `all: true` is refused (ERR_PIDFD_UNSUPPORTED): spawnSync reads stdout and stderr apart, and
//   the order of their writes is lost.
// - `cleanup` has nothing to do: nothing outlives the call but what a Unix command left in its
//   group after a normal end (run() leaves it running as well).
//
// Nothing here loads the addon.

import { spawnSync, type SpawnSyncOptions, type StdioOptions } from 'node:child_process';
import { closeSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { isatty } from 'node:tty';


import type { ExitStatus } from '../process/exit-status.js';
import { SIGKILL } from '../signals.js';
import { ByteStore, LineLimit, MAX_CAPTURE } from './capture.js';
import { RunError } from './error.js';
import { withFormats } from './formats.js';
import type { NormalizedRun, StdioSetting } from './options.js';
import { noKills, outcomeOf, type Exceeded, type KillState } from './outcome.js';
import { checkPortable, spawnError, unsupportedError } from './portable.js';
import type { RunResult } from './result.js';
import { openSyncFile } from './run-sync.js';

/** The bytes of runSync()'s `input`, read whole (run-sync.ts's). */
type InputBytes = (input: NonNullable<NormalizedRun['input']>) => Uint8Array;

/** One child fd as spawnSync takes it; files are opened here (their fds go to `opened`). */
function syncStdio(setting: StdioSetting, target: number, opened: number[]): 'pipe' | 'ignore' | 'inherit' | number {
  switch (setting.kind) {
    case 'pipe':
      return 'pipe';
    case 'ignore':
      return 'ignore';
    case 'inherit':
      return target;
    case 'fd': {
      const value = setting.fd as number | { fd?: number | null; _handle?: { fd?: number } };
      const fd = typeof value === 'number' ? value : (value.fd ?? value._handle?.fd);
      if (typeof fd !== 'number' || fd < 0) throw unsupportedError('a stream without a file descriptor as stdio in runSync()', 'an fd for the child');
      return fd;
    }
    case 'file': {
      const fd = openSyncFile(setting, target); // as run-sync.ts opens them
      opened.push(fd);
      return fd;
    }
    case 'stream':
    case 'stdout':
    case 'tee': // refused by normalizeRunSync() before anything opens
      throw new Error('unreachable: refused or handled before');
  }
}

/** The environment as spawnSync takes it, from the NAME=value strings run() makes. */
function envObject(env: string[] | null): NodeJS.ProcessEnv | undefined {
  if (env === null) return undefined;
  const object: NodeJS.ProcessEnv = {};
  for (const pair of env) {
    const at = pair.indexOf('=');
    object[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return object;
}

/** Sends SIGKILL to what is left in process group `pgid` (its leader has been reaped: the number
 * stays the group's while it has members, so this reaches no one else). */
function killGroupLeft(pgid: number): void {
  try {
    process.kill(-pgid, SIGKILL);
  } catch {
    // ESRCH: nothing was left.
  }
}

/** runSync() on the portable engine: its RunResult, or its RunError. */
export function runSyncPortable(n: NormalizedRun, inputBytes: InputBytes, startedAt = performance.now()): RunResult<any> | RunError {
  const kills: KillState = noKills();
  const exceeded: { stdout: Exceeded; stderr: Exceeded } = { stdout: false, stderr: false };
  const stores: [ByteStore | undefined, ByteStore | undefined] = [undefined, undefined];
  let startError: unknown;
  let status: ExitStatus | undefined;
  let pid: number | undefined;
  const opened: number[] = [];
  try {
    if (n.all) {
      throw unsupportedError('`all: true` in runSync()', "stdout and stderr read as one stream in the order they were written, which Node's spawnSync cannot give (it reads them apart): use run(), or capture them apart");
    }
    checkPortable(n);
    const stdout = syncStdio(n.stdout, 1, opened);
    // `stderr: 'stdout'` (2>&1): stdout's file or fd (a captured stdout was refused before).
    const stderr = n.stderr.kind === 'stdout' ? stdout : syncStdio(n.stderr, 2, opened);
    const stdio: ('pipe' | 'ignore' | 'inherit' | number)[] = [syncStdio(n.stdin, 0, opened), stdout, stderr];
    for (const entry of n.extraStdio) {
      while (stdio.length < entry.target) stdio.push('ignore');
      stdio[entry.target] = entry.fd;
    }
    const unix = process.platform !== 'win32';
    // As the portable run(): a process group of its own, unless it uses this process's terminal.
    const group = unix && n.tree.enabled && !stdio.some((v) => typeof v === 'number' && isatty(v));
    const byteLimit = n.lines ? MAX_CAPTURE : Math.min(n.maxBuffer, MAX_CAPTURE);
    // `detached` (setsid()) is honoured by spawnSync too, though @types/node omits it there.
    const options: SpawnSyncOptions & { detached: boolean } = {
      cwd: n.cwd === undefined ? undefined : n.resolvedCwd,
      env: envObject(n.env),
      argv0: n.argv[0],
      stdio: stdio as StdioOptions,
      input: n.stdin.kind === 'pipe' ? inputBytes(n.input ?? '') : undefined,
      timeout: n.timeout > 0 ? n.timeout : undefined,
      killSignal: n.killSignal,
      maxBuffer: byteLimit,
      detached: group,
      windowsHide: true,
      // Node's process wrap takes an int32 (portable.ts's spawn does the same).
      ...(n.uid >= 0 ? { uid: n.uid | 0 } : {}),
      ...(n.gid >= 0 ? { gid: n.gid | 0 } : {}),
    };
    const r = spawnSync(n.file, n.argv.slice(1), options);
    const error = r.error as (Error & { code?: string; errno?: number }) | undefined;
    if (error !== undefined && error.code !== 'ETIMEDOUT' && error.code !== 'ENOBUFS') {
      // Started or not: spawnSync reports a failed start (ENOENT, EACCES, ...) with pid 0.
      if (!r.pid) throw spawnError(error.errno ?? -1, n);
      throw error;
    }
    pid = r.pid;
    status = { pid: r.pid, code: r.status, signal: r.signal, coreDumped: false, rusage: null, reason: null, oomKilled: false };
    kills.timedOut = error?.code === 'ETIMEDOUT';
    const outputs = [r.output?.[1] as Buffer | null | undefined, r.output?.[2] as Buffer | null | undefined];
    for (const i of [0, 1] as const) {
      const name = i === 0 ? 'stdout' : 'stderr';
      let bytes = outputs[i];
      if (bytes == null || n[name].kind !== 'pipe') continue;
      const store = new ByteStore(byteLimit);
      if (bytes.length > byteLimit) {
        // spawnSync keeps the whole read that went past maxBuffer: what is kept stops at it.
        bytes = bytes.subarray(0, byteLimit);
        exceeded[name] = 'bytes';
      } else if (n.lines && n.maxBuffer !== Infinity) {
        const keep = new LineLimit(n.maxBuffer, n.encoding).keep(bytes);
        if (keep < bytes.length) {
          bytes = bytes.subarray(0, keep);
          exceeded[name] = 'lines';
        }
      }
      store.append(bytes);
      stores[i] = store;
    }
    kills.maxBuffer = exceeded.stdout !== false || exceeded.stderr !== false;
    // The first process was killed (timeout, maxBuffer): what it left in its group goes too.
    if (group && error !== undefined) killGroupLeft(r.pid);
  } catch (error) {
    startError = error;
  } finally {
    for (const fd of opened) closeSync(fd);
  }
  const outcome = outcomeOf({
    n,
    startError,
    pid,
    status,
    statusError: undefined,
    kills,
    stdout: stores[0],
    stderr: stores[1],
    all: undefined,
    exceeded,
    durationMs: performance.now() - startedAt,
    cgroup: undefined,
  });
  return outcome instanceof RunError ? outcome : withFormats(outcome);
}
