// The watchdog of this environment: one pidfd-watchdog process (native/watchdog.c) that kills
// run()'s trees when this process dies, however it dies. Started with the first tree it has to
// guard, let go when the event loop empties with nothing left to guard.

import { binding, constants, watchdogPath } from '../binding.js';
import { errno, pidfdError, systemError } from '../errors.js';
import { forgetExit, onExit } from '../process/exit-watcher.js';
import { childSpec } from '../process/spec.js';
import { PidFd } from '../process/pidfd.js';
import { start } from '../process/start.js';
import { normalizeStdio } from '../process/stdio.js';
import { SIGKILL } from '../signals.js';

/** What the watchdog is to kill: a process group (through its leader's pidfd), a lone process,
 * or (with the per-run cgroups of issue 9) a cgroup directory. */
export type GuardKind = 'addGroup' | 'addLeader' | 'addCgroup';

/** One guarded tree: the descriptor the watchdog gets a copy of (kept open by its owner for as
 * long as it is guarded), whether the tree still has members, and how to let go of it. */
export interface Guarded {
  kind: GuardKind;
  /** addGroup: the leader's pid (the group's id); else 0. */
  pid: number;
  fd(): number;
  /** Whether the tree still has members (checked when the event loop empties). */
  alive(): boolean;
  /** Called once the tree is no longer guarded: its owner closes the descriptor. */
  released(): void;
}

interface Running {
  pid: number;
  pidfd: number;
  socket: number;
  owned: object;
}

let running: Running | null = null;
let nextId = 1n;
const guarded = new Map<bigint, Guarded>();
let listening = false;

/** Room for the remove records held back (see forget()) and the record sent with them. */
const HELD_REMOVES = 15;
const records = new Uint8Array(16 * (HELD_REMOVES + 1));
const recordWords = new Uint32Array(records.buffer);
const recordIds = new BigUint64Array(records.buffer);
/** The removes of cgroups whose directory is gone, not sent yet: they go with the next record. */
const heldRemoves: bigint[] = [];

/** Starts the watchdog: fds 0-2 on /dev/null, its control socket at fd 3, a pidfd of this
 * process at fd 4, in a session of its own (a terminal's signals for our group must not reach
 * it). Its exit is watched, so that a watchdog that dies is reaped and replaced. */
function startWatchdog(): Running {
  if (constants().watchdogRecordSize !== 16) throw pidfdError('ERR_PIDFD_BINDING', 'watchdog record size mismatch');
  const self = PidFd.self();
  let started;
  try {
    const spec = childSpec({
      file: watchdogPath(),
      argv: ['pidfd-watchdog'],
      stdio: normalizeStdio(['ignore', 'ignore', 'ignore', 'pipe', self.fd]),
      setsid: true,
    });
    started = start(spec, { ref: false });
  } finally {
    self.close();
  }
  const socket = started.fds[3]!;
  const r: Running = { pid: started.pid, pidfd: started.pidfd, socket, owned: binding().own(socket) };
  onExit(started.pidfd, () => {
    // The watchdog died while this process lives (someone killed it): the trees it guarded
    // get a new one.
    if (running !== r) return;
    binding().closeOwned(r.owned);
    running = null;
    heldRemoves.length = 0; // a new watchdog never knew them
    if (guarded.size > 0) resend();
  });
  if (!listening) {
    listening = true;
    // Before any other listener: the invariant checks of a test file, or a program's own
    // accounting, see the process as it will exit.
    process.prependListener('beforeExit', letGo);
  }
  return r;
}

/** Starts the watchdog now if none runs: before a run's child starts, so that a watchdog that
 * cannot start fails the run before anything else has. */
export function ensureWatchdog(): void {
  running ??= startWatchdog();
}

/** The records to send: the removes held back, then `op` if given (one sendmsg: the watchdog
 * wakes once). */
function pack(op?: { code: number; id: bigint; pid: number }): Uint8Array {
  const remove = constants().watchdogOp.remove;
  let n = 0;
  const put = (code: number, id: bigint, pid: number): void => {
    recordWords[4 * n] = code;
    recordWords[4 * n + 1] = pid;
    recordIds[2 * n + 1] = id;
    n++;
  };
  for (const held of heldRemoves) put(remove, held, 0);
  heldRemoves.length = 0;
  if (op !== undefined) put(op.code, op.id, op.pid);
  return records.subarray(0, 16 * n);
}

function send(op: GuardKind | 'remove', id: bigint, fd: number, pid = 0): void {
  running ??= startWatchdog();
  const bytes = pack({ code: constants().watchdogOp[op], id, pid });
  const r = binding().sendWithFd(running.socket, bytes, fd);
  if (r === bytes.length) return;
  // EPIPE: the watchdog has died and its exit has not been seen yet. Anything else is a bug.
  if (r !== -errno.EPIPE) throw systemError(-r, 'sendmsg', { context: 'pidfd watchdog' });
  stop(false);
  resend();
}

/** Sends every guarded tree to a new watchdog (after the previous one died). */
function resend(): void {
  for (const [id, tree] of guarded) send(tree.kind, id, tree.fd(), tree.pid);
}

/** Has the watchdog kill `tree` if this process dies. Returns the id to unguard it with. */
export function guard(tree: Guarded): bigint {
  const id = nextId++;
  guarded.set(id, tree);
  try {
    send(tree.kind, id, tree.fd(), tree.pid);
  } catch (error) {
    guarded.delete(id);
    throw error;
  }
  return id;
}

/**
 * The run of a guarded tree has ended. An empty tree is no longer guarded (a group whose leader
 * has exited is dropped by the watchdog itself once empty; a cgroup needs the remove record).
 * With `over` (a run that settled without being killed), the tree is forgotten even if it still
 * has members: what the command left running on purpose (a daemon) is on its own, as with
 * execa. Otherwise (a killed run whose tree has not emptied yet) a tree with members stays
 * guarded until the event loop empties and finds it empty: until then, this process's death
 * kills it too.
 */
export function unguard(id: bigint, over = false): void {
  const tree = guarded.get(id);
  if (tree === undefined) return;
  const alive = tree.alive();
  if (alive && !over) return;
  forget(id, tree, alive);
}

/** Stops guarding a tree; the watchdog is told unless it forgets the tree by itself (an empty
 * group, a lone process that has exited). */
function forget(id: bigint, tree: Guarded, alive = false): void {
  guarded.delete(id);
  if (running !== null) {
    if (tree.kind === 'addCgroup' && !alive && heldRemoves.length < HELD_REMOVES) {
      // An empty cgroup (its directory removed, or about to be by its owner): killing it would
      // reach nothing, so its remove waits for the next record (the next run's add) rather than
      // waking the watchdog once more per run. The watchdog closes its copy of the directory then.
      heldRemoves.push(id);
    } else if (tree.kind === 'addCgroup' || alive) {
      send('remove', id, -1);
    }
  }
  tree.released();
}

/**
 * When the event loop empties with no tree left to guard, the watchdog is let go: its socket is
 * closed, it exits, and it is reaped here, so that a process about to exit has no child and no
 * descriptor of ours left. The next guarded run starts a new one.
 */
function letGo(): void {
  if (running === null) return;
  for (const [id, tree] of guarded) if (!tree.alive()) forget(id, tree);
  if (guarded.size > 0) return;
  stop(true);
}

/** Closes the control socket and reaps the watchdog (waiting at most a second for it). */
function stop(wait: boolean): void {
  // The removes held back go first, so that the watchdog, at the end of its socket, knows no
  // cgroup any more and exits (a watchdog that died meanwhile has nothing to be told).
  if (wait && heldRemoves.length > 0) binding().sendWithFd(running!.socket, pack(), -1);
  heldRemoves.length = 0;
  const r = running!;
  running = null;
  // The watchdog leaves the exit watcher first: it is reaped here, now, not in a later turn.
  forgetExit(r.pidfd);
  const native = binding();
  native.unwatch(r.pidfd, false);
  native.closeOwned(r.owned);
  if (!wait || native.wait(r.pidfd, 1000) === -errno.ETIMEDOUT) native.sendSignal(r.pidfd, SIGKILL, 0);
  native.wait(r.pidfd, -1);
  native.close(r.pidfd);
}

/** The watchdog's pid, or null when none runs (for tests). */
export function watchdogPid(): number | null {
  return running?.pid ?? null;
}
