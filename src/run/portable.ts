// The portable engine of run() and `$`: the first process of a run started with Node's own
// child_process, where the pidfd engine cannot work (src/engine-choice.ts: another platform, or a Linux
// where no pidfd backend works). Same options, RunResult and RunError (run-process.ts builds
// them for either engine); what differs is the tree and its guarantees (docs/runtimes.md):
//
// - the tree is a process group on Linux, macOS and other Unixes: the first process starts
//   detached (Node calls setsid(): a session and process group of its own) and the group is
//   signalled with kill(-pgid), by number; on Windows it is what `taskkill /T /F` finds (the
//   processes whose parent chain leads back to the first one); with `tree: false`, or when the
//   first process uses this process's terminal, it is the first process alone;
// - `cleanup` kills the tree from this process's 'exit' event and on SIGINT, SIGTERM and SIGHUP
//   when nothing else listens for them (the signal is then raised again): a SIGKILL of this
//   process, or a crash of Node itself, leaves the tree running (no watchdog: that needs pidfds);
// - there is no per-run cgroup: a `tree` object (limits) is refused with ERR_PIDFD_UNSUPPORTED;
// - no rusage (Node does not give it), and a status lost to another reaper cannot happen (Node
//   reaps its own children).
//
// Nothing here loads the addon.

import { ChildProcess } from 'node:child_process';
import { closeSync, constants as fs, openSync, statSync } from 'node:fs';
import { constants as os } from 'node:os';
import type { Readable } from 'node:stream';
import { isatty } from 'node:tty';
import { getSystemErrorName } from 'node:util';

import { errnoDescription, SpawnError, systemError } from '../errors.js';
import { startedRun, type RunEngine } from './engine.js';
import { IpcChannel } from './ipc.js';
import type { NormalizedRun, StdioSetting } from './options.js';
import type { Reach } from './tree.js';
import { PortableChild, PortableTree, unsupportedError } from './portable-tree.js';


/** Whether path is a FIFO (stat does not open it). */
function isFifo(path: string): boolean {
  try {
    return statSync(path).isFIFO();
  } catch {
    return false;
  }
}

const O_NONBLOCK = (fs as { O_NONBLOCK?: number }).O_NONBLOCK ?? 0;

/** Opens a `{ file }` output as the pidfd engine does: never waiting for a FIFO's reader (one
 * with no reader fails with ENXIO). A FIFO is then opened again without O_NONBLOCK, which the
 * child would otherwise share (a reader is there: the open returns at once). */
function openOutput(setting: { path: string; append: boolean }): number {
  const flags = fs.O_WRONLY | fs.O_CREAT | (setting.append ? fs.O_APPEND : fs.O_TRUNC);
  let fd: number;
  try {
    fd = openSync(setting.path, flags | O_NONBLOCK, 0o666);
  } catch (error) {
    const e = error as { code?: string; errno?: number };
    if (e.code !== 'ENXIO') throw error;
    throw systemError(-e.errno!, 'open', { path: setting.path, context: 'a FIFO that no process has open for reading (run() does not wait for one)' });
  }
  if (O_NONBLOCK !== 0 && isFifo(setting.path)) {
    const blocking = openSync(setting.path, flags, 0o666);
    closeSync(fd);
    fd = blocking;
  }
  return fd;
}

type NodeStdio = 'pipe' | 'inherit' | 'ignore' | 'ipc' | number | Readable;

/** One child fd as Node's spawn takes it; files are opened here (their fds go to `opened`). */
function stdioValue(setting: StdioSetting, input: boolean, opened: number[]): NodeStdio {
  switch (setting.kind) {
    case 'pipe':
    case 'stream':
      return 'pipe';
    case 'stdout':
      throw new Error("unreachable: stderr as stdout is set by startPortable()");
    case 'tee':
      throw new Error('unreachable: refused by startPortable()');
    case 'inherit':
    case 'ignore':
      return setting.kind;
    case 'fd': {
      const given = setting.fd as number | { fd?: number | null; _handle?: { fd?: number } };
      if (typeof given === 'number') return given;
      const fd = given.fd ?? given._handle?.fd;
      if (typeof fd === 'number' && fd >= 0) return fd;
      return given as unknown as Readable;
    }
    case 'file': {
      // A FIFO to read is fed by the run (run-process.ts), through a pipe: its writer may come later.
      if (input && isFifo(setting.path)) return 'pipe';
      const fd = input ? openSync(setting.path, fs.O_RDONLY) : openOutput(setting);
      opened.push(fd);
      return fd;
    }
  }
}

/** Whether a child given these fds would use this process's terminal (then it stays in this
 * process's group and session, as the pidfd engine keeps it: a new session has no terminal). */
function usesTerminal(stdio: NodeStdio[]): boolean {
  return stdio.some((value, i) => (value === 'inherit' ? isatty(i) : typeof value === 'number' && isatty(value)));
}

/** The environment as Node's ChildProcess takes it: NAME=value strings. */
function envPairs(env: string[] | null): string[] {
  if (env !== null) return env;
  const pairs: string[] = [];
  for (const [name, value] of Object.entries(process.env)) if (value !== undefined) pairs.push(`${name}=${value}`);
  return pairs;
}

interface SpawnableChildProcess extends ChildProcess {
  /** Node's own (lib/internal/child_process.js), undocumented but there since Node 0.x: starts
   * the child of already normalized options, and returns libuv's error for the failures that
   * spawn() reports only in a later tick (ENOENT, EACCES, EAGAIN, EMFILE, ENFILE); throws others. */
  spawn(options: {
    file: string;
    args: string[];
    cwd?: string;
    envPairs: string[];
    stdio: NodeStdio[];
    detached: boolean;
    windowsHide: boolean;
    windowsVerbatimArguments: boolean;
  }): number | undefined;
}

/** The SpawnError of a start that Node's spawn refused, from libuv's (negative) error number.
 * libuv reports the child's failed execvp (ENOENT, EACCES, ...) as the spawn's error: `syscall`
 * says 'execve' for those, as the pidfd engine does; 'fork' for EAGAIN, 'pipe' for EMFILE and
 * ENFILE. */
export function spawnError(uvErrno: number, n: NormalizedRun): SpawnError {
  let code: string;
  try {
    code = getSystemErrorName(uvErrno);
  } catch {
    code = `E${-uvErrno}`;
  }
  const syscall = code === 'EAGAIN' ? 'fork' : code === 'EMFILE' || code === 'ENFILE' ? 'pipe' : 'execve';
  const where = syscall === 'execve' ? `execve '${n.file}'` : syscall;
  return new SpawnError(`spawn ${n.file} ${code}: ${errnoDescription(-uvErrno)}, ${where}`, {
    code,
    errno: uvErrno,
    syscall,
    ...(syscall === 'execve' ? { path: n.file } : {}),
    spawnfile: n.file,
    spawnargs: n.argv,
  });
}

/** Checks `cwd` first: libuv's spawn says ENOENT for a missing cwd as for a missing program. */
function checkCwd(n: NormalizedRun): void {
  if (n.cwd === undefined) return;
  let directory: boolean;
  try {
    directory = statSync(n.resolvedCwd).isDirectory();
  } catch (error) {
    const e = error as { errno?: number; code?: string };
    throw new SpawnError(`spawn ${n.file}: cwd ${n.resolvedCwd}: ${e.code}`, {
      code: e.code ?? 'ENOENT',
      errno: e.errno ?? -2,
      syscall: 'chdir',
      path: n.resolvedCwd,
      spawnfile: n.file,
      spawnargs: n.argv,
    });
  }
  if (!directory) {
    throw new SpawnError(`spawn ${n.file}: cwd ${n.resolvedCwd}: ENOTDIR`, {
      code: 'ENOTDIR',
      errno: -(os.errno.ENOTDIR ?? 20),
      syscall: 'chdir',
      path: n.resolvedCwd,
      spawnfile: n.file,
      spawnargs: n.argv,
    });
  }
}

/** Refuses what Node's child_process cannot do of run `n`'s options, before anything is opened. */
export function checkPortable(n: NormalizedRun): void {
  if (n.tree.required) {
    throw unsupportedError('`tree` with limits or a parent (a per-run cgroup)', "Linux's cgroup v2 and the pidfd engine");
  }
  if (n.launch?.cgroupPath !== undefined) throw unsupportedError('--cgroup', "Linux's cgroup v2 and the pidfd engine");
  if (process.platform === 'win32' && n.file === '/bin/sh') {
    // run()'s `shell: true` is /bin/sh -c on every platform, with POSIX quoting.
    throw unsupportedError('`shell: true` (/bin/sh)', 'a POSIX shell: give `shell` the path of one (Git for Windows has bash.exe), or run cmd.exe yourself');
  }
  for (const [name, id] of [['uid', n.uid], ['gid', n.gid]] as const) {
    if (id < 0) continue;
    if (process.platform === 'win32') throw unsupportedError(`\`${name}\``, 'POSIX user and group ids (Windows has none)');
  }
  if (n.stderr.kind === 'stdout' && n.stdout.kind === 'pipe') {
    // Node's child_process makes a pipe per fd, and two pipes are not merged in JavaScript.
    throw unsupportedError("`stderr: 'stdout'` with a captured stdout", "one pipe for both fds, which the pidfd engine makes (Node's child_process gives each fd its own): send both to a file, or capture them apart with `all`");
  }
  for (const name of ['stdout', 'stderr'] as const) {
    if (n[name].kind === 'tee') {
      throw unsupportedError(
        `\`${name}\` to several places at once (an array of places)`,
        "the pidfd engine (a thread of its addon copies the child's pipe with tee(2)/splice(2)): give one place, or capture it and write it yourself",
      );
    }
  }
  if (n.extraStdio.length > 0 && process.platform === 'win32') {
    throw unsupportedError('`stdio[3+]`', 'POSIX file descriptors (Windows passes only fds 0-2 to a program that is not Node)');
  }
  checkCwd(n);
}

/**
 * The portable engine (a RunEngine, as engine.ts's startRun): starts the first process of run `n`
 * with Node's child_process; `stdinStream`, the stdout of the command before it in a pipeline
 * (destroyed here once the child has it, or if it could not start). Throws a SpawnError if the
 * program could not start (at once, as the pidfd engine does), and ERR_PIDFD_UNSUPPORTED for
 * what this engine cannot do. `argv0` is argv[0] (Node's spawn takes the whole argv); `uid`,
 * `gid` and `stdio[3+]` go to Node's spawn as they are.
 */
export const startPortable: RunEngine = (n, stdinStream, events) => {
  const opened: number[] = [];
  let child: SpawnableChildProcess;
  let tree: PortableTree;
  let first: PortableChild;
  try {
    checkPortable(n);
    const stdout = stdioValue(n.stdout, false, opened);
    // `stderr: 'stdout'` (2>&1): the same file or fd as stdout, this process's stdout where
    // stdout is inherited. (A captured stdout was refused: checkPortable().)
    const stderr = n.stderr.kind === 'stdout' ? (stdout === 'inherit' ? 1 : stdout) : stdioValue(n.stderr, false, opened);
    const stdio: NodeStdio[] = [stdinStream ?? stdioValue(n.stdin, true, opened), stdout, stderr];
    const reach: Reach = n.launch?.reach ?? (n.tree.enabled && !usesTerminal(stdio) ? 'group' : 'leader');
    // Above fd 2: a hole is closed in the child, as spawn() does.
    for (const entry of n.extraStdio) {
      while (stdio.length < entry.target) stdio.push('ignore');
      stdio[entry.target] = entry.fd;
    }
    // `ipc`: Node's own channel, at the fd the pidfd engine gives it (Node sets NODE_CHANNEL_FD
    // and the serialization mode itself).
    if (n.ipc !== null) {
      while (stdio.length < n.ipc.fd) stdio.push('ignore');
      stdio[n.ipc.fd] = 'ipc';
    }
    child = new ChildProcess() as SpawnableChildProcess;
    if (typeof child.spawn !== 'function') {
      throw unsupportedError('run()', "Node's ChildProcess.prototype.spawn (this runtime's child_process has none)");
    }
    // Node emits the error of a failed start in a later tick as well: it is ours, thrown now.
    child.on('error', () => {});
    const options = {
      file: n.file,
      args: n.argv,
      cwd: n.cwd === undefined ? undefined : n.resolvedCwd,
      envPairs: n.ipc === null ? envPairs(n.env) : envPairs(n.env).filter((pair) => !/^NODE_CHANNEL_(FD|SERIALIZATION_MODE)=/.test(pair)),
      stdio,
      ...(n.ipc !== null ? { serialization: n.ipc.serialization } : {}),
      detached: reach === 'group' && process.platform !== 'win32',
      windowsHide: true,
      windowsVerbatimArguments: false,
      // Node's process wrap takes an int32 and casts it to uid_t: an id above 2^31 goes as its
      // 32 bits (4294967294 as -2), which the cast gives back whole.
      ...(n.uid >= 0 ? { uid: n.uid | 0 } : {}),
      ...(n.gid >= 0 ? { gid: n.gid | 0 } : {}),
    };
    let failed: number | undefined;
    try {
      failed = child.spawn(options);
    } catch (error) {
      if ((error as { syscall?: string }).syscall === 'spawn' && !(error instanceof SpawnError)) {
        throw spawnError((error as { errno?: number }).errno ?? -1, n);
      }
      throw error;
    }
    if (typeof failed === 'number' && failed < 0) {
      // Node closes the parent's ends of the pipes it made only in a later turn: closed now,
      // as the pidfd engine leaves nothing open after a failed start. (spawn() replaced
      // options.stdio with its own entries: { type: 'pipe', handle } for each pipe.)
      for (const entry of options.stdio as unknown as { type?: string; handle?: { close(): void } }[]) {
        if (entry.type === 'pipe') entry.handle?.close();
      }
      throw spawnError(failed, n);
    }
    first = new PortableChild(child);
    tree = new PortableTree(first, child, reach);
    if (n.cleanup) tree.guard();
  } finally {
    for (const fd of opened) closeSync(fd);
    // The previous command of a pipeline now writes to this one (or, if this one could not
    // start, must not wait for a reader that will never come): our end goes.
    stdinStream?.destroy();
  }
  const stdout = n.stdout.kind === 'pipe' ? (child.stdout ?? undefined) : undefined;
  const stderr = n.stderr.kind === 'pipe' ? (child.stderr ?? undefined) : undefined;
  return startedRun(n, stdinStream, events, first, tree, stdout, stderr, n.ipc === null ? null : IpcChannel.of(child, n.ipc.serialization));
};

export { PortableTree, unsupportedError } from './portable-tree.js';
