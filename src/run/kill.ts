// Killing a run's tree, and why. Owns the run's kills: kill(), the timeout's timer, the cancel's
// listener on the `signal` option, maxBuffer and a failed input each send killSignal to the
// tree, and SIGKILL follows after forceKillAfterDelay where something is left for it. It records
// what the outcome says of them in a KillState (outcome.ts), and says how long the end of a
// killed run waits for its tree (treeWait()) and for its output (outputClosed()).

import { setLongTimeout } from '../timers.js';
import { SIGKILL, treeSignalRule } from '../signals.js';
import type { FirstProcess } from './engine.js';
import type { IpcChannel } from './ipc.js';
import type { NormalizedRun } from './options.js';
import { noKills, type KillState } from './outcome.js';
import type { Tree } from './tree.js';


/** After a killed tree is empty, how long its output pipes may take to reach EOF before they are
 * given up on (a process outside the tree, a setsid'd one, still holds them). */
const ABANDON_GRACE_MS = 200;
/** How long a killed tree may take to empty after SIGKILL before the run ends anyway. */
const EMPTY_GRACE_MS = 2000;

/** What the end of a run waits to close: a Capture, the IPC channel. */
export interface Closing {
  readonly done: Promise<unknown>;
  /** Stop waiting: close our end. */
  abandon(): void;
  /** A tee's (engine.ts): the tree is gone, so wait for nothing but what is left to copy; it
   * then ends by itself, and is not abandoned. */
  stop?(): void;
}

/** The kills of one run: made with its options, armed once its tree has started, ended with it. */
export class Killer {
  readonly state: KillState = noKills();
  readonly #n: NormalizedRun;
  #tree: Tree | undefined;
  #subprocess: FirstProcess | undefined;
  #ipc: IpcChannel | null = null;
  #cancelGraceTimer: (() => void) | undefined;
  #cancelTimer: (() => void) | undefined;
  #cancelForceTimer: (() => void) | undefined;
  #onAbort: (() => void) | undefined;
  #killed = false;
  #onKilled: (() => void) | undefined;
  #whenKilled: Promise<void> | undefined;
  #finished = false;

  constructor(n: NormalizedRun) {
    this.#n = n;
  }

  /** Whether a signal that ends processes (or SIGKILL) was sent to the tree. */
  get killed(): boolean {
    return this.#killed;
  }

  /** The tree has started: the timeout runs from now, and the `signal` option is listened to
   * (with `gracefulCancel`, its abort is a message on `ipc`). */
  arm(subprocess: FirstProcess, tree: Tree, ipc: IpcChannel | null): void {
    const n = this.#n;
    this.#subprocess = subprocess;
    this.#tree = tree;
    this.#ipc = ipc;
    if (n.timeout > 0) this.#cancelTimer = setLongTimeout(() => this.#onTimeout(), n.timeout);
    if (n.signal !== undefined) {
      this.#onAbort = () => this.#onCancel();
      n.signal.addEventListener('abort', this.#onAbort, { once: true });
    }
  }

  /** The run has ended: nothing is killed any more, and the timers and the listener go. */
  end(): void {
    this.#finished = true;
    this.#cancelTimer?.();
    this.#cancelGraceTimer?.();
    this.#cancelForceTimer?.();
    if (this.#onAbort !== undefined) this.#n.signal!.removeEventListener('abort', this.#onAbort);
  }

  /** Sends `signal` to the tree (with what follows it: treeSignalRule()). Returns whether any
   * process received it; false before the start and after the end. */
  kill(signal: number): boolean {
    const tree = this.#tree;
    if (tree === undefined || this.#finished) return false;
    const sent = tree.kill(signal);
    const rule = treeSignalRule(signal, this.#n.killSignal);
    // Only a signal that would end a process makes this a killed run (its tree then waited for,
    // its daemons not let go); kill('SIGSTOP'), kill('SIGCONT') or a SIGWINCH leave the run as
    // it was.
    if (!this.#killed && (signal === SIGKILL || rule.continueStopped)) {
      this.#killed = true;
      this.state.exitedBeforeKill = this.#subprocess!.exitStatus !== null;
      this.#onKilled?.();
    }
    const delay = this.#n.forceKillAfterDelay;
    if (rule.forceKill && delay >= 0 && this.#cancelForceTimer === undefined) {
      this.#cancelForceTimer = setLongTimeout(() => {
        // Forced only where something was left for SIGKILL to end (zombies aside).
        if (this.#finished || !tree.alive()) return;
        tree.kill(SIGKILL);
        this.state.forced = true;
      }, delay);
    }
    return sent;
  }

  #onTimeout(): void {
    this.state.timedOut = true;
    this.kill(this.#n.killSignal);
  }

  #onCancel(): void {
    this.state.canceled = true;
    const n = this.#n;
    if (n.ipc?.gracefulCancel && this.#ipc !== null && this.#ipc.sendCancel(n.signal!.reason)) {
      // The child was told: it has forceKillAfterDelay to end on its own, then killSignal (and
      // SIGKILL after as long again, as after any killSignal).
      this.state.gracefullyCanceled = true;
      const delay = n.forceKillAfterDelay;
      if (delay >= 0) {
        this.#cancelGraceTimer = setLongTimeout(() => {
          if (this.#finished) return;
          this.state.gracePassed = true;
          this.state.cancelUnheard = this.#ipc?.cancelHeard === false;
          this.kill(n.killSignal);
        }, delay);
      }
      return;
    }
    // Not graceful, or the child cannot be told (its channel is closed): killSignal now.
    this.kill(n.killSignal);
  }

  /** A capture went past maxBuffer. */
  overflow(): void {
    if (this.state.maxBuffer) return;
    this.state.maxBuffer = true;
    this.kill(this.#n.killSignal);
  }

  /** The input failed: the first error is the run's. */
  inputFailed(error: Error): void {
    this.state.inputError ??= error;
    this.kill(this.#n.killSignal);
  }

  /** Resolves once something has killed the tree. */
  whenKilled(): Promise<void> {
    if (this.#killed) return Promise.resolve();
    this.#whenKilled ??= new Promise((resolve) => {
      this.#onKilled = resolve;
    });
    return this.#whenKilled;
  }

  /** How long to wait for a killed tree to empty: until its SIGKILL, and a little more. */
  emptyLimit(): number {
    const delay = this.#n.forceKillAfterDelay;
    return delay < 0 ? Infinity : delay + EMPTY_GRACE_MS;
  }

  /**
   * How long the end of the run waits, after the first process, for the rest of its tree (0: not
   * at all). A killed tree is waited for until it is empty (emptyLimit()). `pidfd run` waits for
   * a cgroup's whole tree however it ends; without a cgroup, it leaves a killed process group
   * that no SIGKILL follows as it is, as timeout(1) does.
   */
  treeWait(tree: Tree): number {
    const waitForTree = this.#n.launch?.waitForTree === true;
    if (waitForTree && tree.hasCgroup) return Infinity;
    if (!this.#killed) return 0;
    if (waitForTree && this.#n.forceKillAfterDelay < 0) return 0;
    return this.emptyLimit();
  }

  /** Waits for the captured pipes (and the IPC channel) to reach EOF. When the tree has been
   * killed and is empty, a pipe still open is held by a process out of the tree's reach: it is
   * given up on. */
  async outputClosed(tree: Tree, captures: Closing[]): Promise<void> {
    if (captures.length === 0) return;
    let over = false;
    let grace: NodeJS.Timeout | undefined;
    const closed = Promise.all(captures.map((c) => c.done)).then(() => true);
    // Every wait here keeps the event loop alive (the run is not over), and none outlives it.
    const abandoned = this.whenKilled()
      .then(() => (over ? true : tree.empty(this.emptyLimit())))
      .then(() => {
        // The tree is gone: a tee copies what its pipe holds and ends, whether or not each of its
        // places reads (a place that does not is given up, and the outcome says so).
        if (!over) for (const capture of captures) capture.stop?.();
        return new Promise<false>((resolve) => (over ? resolve(false) : (grace = setTimeout(resolve, ABANDON_GRACE_MS, false))));
      });
    const ended = await Promise.race([closed, abandoned]);
    over = true;
    clearTimeout(grace);
    if (!ended) {
      for (const capture of captures) if (capture.stop === undefined) capture.abandon();
      await closed;
    }
  }
}
