// The tree of a portable run (src/run/portable.ts starts it): its first process as Node's
// ChildProcess gives it, and the tree that run() kills and waits for: a process group signalled
// with kill(-pgid) by number on Unix, what `taskkill /T /F` finds on Windows, or the first
// process alone; `cleanup` through this process's 'exit' event and its SIGINT/SIGTERM/SIGHUP.
// Nothing here loads the addon.

import { execFile, execFileSync, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';

import { engine } from '../engine-choice.js';
import { pidfdError } from '../errors.js';
import type { ExitStatus } from '../process/exit-status.js';
import { groupMembers } from '../process/procfs.js';
import { SIGKILL, signalName, signalTree } from '../signals.js';
import type { FirstProcess } from './engine.js';
import { groupHasLiveMember, untilGone } from './group-wait.js';
import type { Reach, Tree } from './tree.js';
import { taskkillArguments, windowsEndingSignals } from './windows.js';

/** The platform in words, for errors. */
function platformWords(): string {
  const p = process.platform;
  return p === 'linux' ? 'this Linux' : p === 'darwin' ? 'macOS (darwin)' : p === 'win32' ? 'Windows (win32)' : p;
}

/** The error of an option or operation that the portable engine cannot honour. */
export function unsupportedError(what: string, needs: string): Error & { code: string } {
  return pidfdError(
    'ERR_PIDFD_UNSUPPORTED',
    `pidfd: ${what} needs ${needs}; on ${platformWords()} run() uses Node's child_process (the portable engine: ${engine().reason})`,
  );
}

/** The first process of a portable run. */
export class PortableChild implements FirstProcess {
  readonly pid: number;
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  readonly exited: Promise<ExitStatus>;
  #status: ExitStatus | null = null;

  constructor(child: ChildProcess) {
    this.pid = child.pid!;
    this.stdin = child.stdin;
    this.stdout = child.stdout;
    this.stderr = child.stderr;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.#status = { pid: this.pid, code, signal, coreDumped: false, rusage: null, reason: null, oomKilled: false };
        resolve(this.#status);
      });
    });
  }

  get exitStatus(): ExitStatus | null {
    return this.#status;
  }
}

/** process.kill that says whether the target existed (ESRCH: no; EPERM: not ours, which a
 * group number taken again by another user's group would be). */
function signalled(pid: number, signal: number | string): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ESRCH' || code === 'EPERM') return false;
    throw error;
  }
}

/**
 * The tree of a portable run: its process group (Unix), what taskkill /T finds (Windows), or its
 * first process alone.
 */
export class PortableTree implements Tree {
  readonly reach: Reach;
  readonly hasCgroup = false;
  readonly #first: PortableChild;
  readonly #child: ChildProcess;
  #guarded = false;

  constructor(first: PortableChild, child: ChildProcess, reach: Reach) {
    this.reach = reach;
    this.#first = first;
    this.#child = child;
  }

  /** `cleanup`: the tree is killed when this process exits (its 'exit' event, or SIGINT, SIGTERM
   * and SIGHUP that nothing else listens for); no watchdog here. */
  guard(): void {
    if (this.#guarded) return;
    guardTree(this);
    this.#guarded = true;
  }

  get #pid(): number {
    return this.#first.pid;
  }

  get #leaderRuns(): boolean {
    return this.#first.exitStatus === null;
  }

  /**
   * Sends `signal` to the tree, with treeSignalRule()'s SIGCONT after a signal that would end a
   * process. On Windows only a signal that ends a process can be sent (the tree is ended with
   * taskkill /T /F); another throws ERR_PIDFD_UNSUPPORTED. Returns whether any process got it.
   */
  kill(signal: number): boolean {
    if (process.platform === 'win32') return this.#killWindows(signal);
    return signalTree((n) => this.#signal(n), signal);
  }

  #signal(signal: number): boolean {
    if (this.reach === 'leader') return this.#leaderRuns && signalled(this.#pid, signal);
    // By number: once the group is empty its number may be another's (docs/runtimes.md).
    return signalled(-this.#pid, signal);
  }

  #killWindows(signal: number): boolean {
    if (signal === 0) return this.alive();
    const name = signalName(signal);
    if (!windowsEndingSignals.has(name)) {
      throw unsupportedError(`sending ${name} to a run's tree`, 'POSIX signals (Windows can only end a process)');
    }
    if (!this.#leaderRuns) return false;
    if (this.reach === 'leader') return this.#child.kill('SIGKILL');
    execFile('taskkill', taskkillArguments(this.#pid), { windowsHide: true }, () => {});
    return true;
  }

  /** The pids of the tree now, as far as this platform shows them. */
  members(): number[] {
    if (this.reach === 'group' && process.platform !== 'win32') {
      const members = groupMembers(this.#pid);
      if (members !== null) return members;
    }
    return this.#leaderRuns ? [this.#pid] : [];
  }

  /** Whether any process of the tree is left (zombies aside where /proc shows them). */
  alive(): boolean {
    if (this.reach === 'leader' || process.platform === 'win32') return this.#leaderRuns;
    return groupHasLiveMember(this.#pid, () => signalled(-this.#pid, 0));
  }

  /** Resolves with true once the tree is empty, or false after `limitMs` (no platform gives an
   * event for a group: group-wait.ts checks it at growing intervals). */
  empty(limitMs: number): Promise<boolean> {
    return untilGone(() => this.alive(), limitMs);
  }

  async settled(): Promise<void> {}

  figures(): undefined {
    return undefined;
  }

  /** The run is over: a tree that was not killed is on its own; a killed one that still has
   * members stays under `cleanup` until it is empty. */
  release(killed: boolean): void {
    if (!this.#guarded) return;
    if (killed && this.alive()) {
      const check = setInterval(() => {
        if (this.alive()) return;
        clearInterval(check);
        this.#unguard();
      }, 100);
      check.unref();
      return;
    }
    this.#unguard();
  }

  #unguard(): void {
    this.#guarded = false;
    unguardTree(this);
  }

  /** SIGKILL to the whole tree, synchronously: this process is exiting. */
  killNow(): void {
    try {
      if (process.platform === 'win32') {
        if (this.#leaderRuns) execFileSync('taskkill', taskkillArguments(this.#pid), { stdio: 'ignore', windowsHide: true });
      } else if (this.reach === 'group') {
        signalled(-this.#pid, SIGKILL);
      } else if (this.#leaderRuns) {
        signalled(this.#pid, SIGKILL);
      }
    } catch {
      // exiting anyway: nothing more can be done
    }
  }
}

// ---- cleanup: the trees to kill when this process exits ----

const guarded = new Set<PortableTree>();
const exitSignals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function killGuarded(): void {
  for (const tree of guarded) tree.killNow();
  guarded.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  // Another listener means the program handles the signal itself (and may not exit): its exit,
  // if it comes, kills the trees.
  if (process.listenerCount(signal) > 1) return;
  killGuarded();
  removeHandlers();
  process.kill(process.pid, signal); // the default action, now that no listener is left
}

function installHandlers(): void {
  process.on('exit', killGuarded);
  for (const signal of exitSignals) process.on(signal, onSignal);
}

function removeHandlers(): void {
  process.off('exit', killGuarded);
  for (const signal of exitSignals) process.off(signal, onSignal);
}

function guardTree(tree: PortableTree): void {
  if (guarded.size === 0) installHandlers();
  guarded.add(tree);
}

function unguardTree(tree: PortableTree): void {
  if (!guarded.delete(tree)) return;
  if (guarded.size === 0) removeHandlers();
}
