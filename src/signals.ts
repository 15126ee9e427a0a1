// Signal names and numbers, and their validation.

import { constants } from 'node:os';

import { invalidArgType, unknownSignal, type ArgKind } from './errors.js';
import { validateInteger } from './validate.js';

/** A signal, by name ('SIGTERM') or number (15). */
export type Signal = NodeJS.Signals | number;

const byName = new Map<string, number>(Object.entries(constants.signals));
const byNumber = new Map<number, string>();
for (const [name, number] of byName) if (!byNumber.has(number)) byNumber.set(number, name);

// Linux's real-time signals: glibc keeps 32 and 33 for itself, so SIGRTMIN is 34.
const SIGRTMIN = 34;
const SIGRTMAX = 64;

/** The highest signal number Linux has. */
export const MAX_SIGNAL = SIGRTMAX;

// The signals the library sends or checks by itself, named once here (every other file imports
// them; test/layout.test.js checks that none defines its own).
export const SIGTERM = constants.signals.SIGTERM;
export const SIGKILL = constants.signals.SIGKILL;
export const SIGSTOP = constants.signals.SIGSTOP;
export const SIGCONT = constants.signals.SIGCONT;

function realtimeNumber(name: string): number | undefined {
  const match = /^SIGRT(MIN|MAX)(?:([+-])(\d{1,2}))?$/.exec(name);
  if (match === null) return undefined;
  const base = match[1] === 'MIN' ? SIGRTMIN : SIGRTMAX;
  const offset = match[3] === undefined ? 0 : Number(match[3]) * (match[2] === '-' ? -1 : 1);
  const n = base + offset;
  return n >= SIGRTMIN && n <= SIGRTMAX ? n : undefined;
}

/**
 * The number of a signal given by name or number. 0 is accepted where `allowZero` is set (it
 * probes for existence without sending anything). Throws ERR_UNKNOWN_SIGNAL for an unknown name,
 * ERR_OUT_OF_RANGE for a number that is not a signal, ERR_INVALID_ARG_TYPE for anything else.
 */
export function signalNumber(signal: unknown, name: string, allowZero = false, what: ArgKind = 'option'): number {
  if (typeof signal === 'string') {
    const n = byName.get(signal) ?? realtimeNumber(signal);
    if (n === undefined) throw unknownSignal(name, signal, what);
    return n;
  }
  const low = allowZero ? 0 : 1;
  const expected = `a signal name such as 'SIGTERM' or a number from ${low} to ${MAX_SIGNAL}`;
  if (typeof signal !== 'number') throw invalidArgType(name, signal, expected, what);
  return validateInteger(signal, name, low, MAX_SIGNAL, { what, expected });
}

/** The number of a signal name ('SIGTERM', 'SIGRTMIN+3'), or undefined. */
export function signalNumberOf(name: string): number | undefined {
  return byName.get(name) ?? realtimeNumber(name);
}

/** The name of a signal number: 'SIGTERM', 'SIGRTMIN+3'; a bare number as a last resort. */
export function signalName(n: number): string {
  const name = byNumber.get(n);
  if (name !== undefined) return name;
  if (n >= SIGRTMIN && n <= SIGRTMAX) return n === SIGRTMIN ? 'SIGRTMIN' : `SIGRTMIN+${n - SIGRTMIN}`;
  return `SIG${n}`;
}

/**
 * Signals whose default action stops, continues or is nothing: a tree's members that are
 * stopped are left as they are after one of these (SIGSTOP stops a tree, SIGCONT continues it,
 * SIGWINCH changes nothing).
 */
const LEAVES_STOPPED = new Set(['SIGCHLD', 'SIGCONT', 'SIGSTOP', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGWINCH', 'SIGURG'].map((name) => byName.get(name)!));

/** What follows a signal sent to a whole tree. */
export interface TreeSignalRule {
  /** SIGCONT goes to the tree right after it, so that a stopped member acts on it now (as
   * timeout(1) does): after a signal that would end a process, SIGKILL aside. */
  continueStopped: boolean;
  /** SIGKILL follows after `forceKillAfterDelay` if the tree is still there: after the run's
   * `killSignal` alone (SIGKILL aside), as execa does. */
  forceKill: boolean;
}

/**
 * The one rule for a signal sent to a tree, whatever the tree is (a per-run cgroup, a process
 * group, a lone process, a tree walked by PidFd.killTree()): every Tree, Cgroup.kill() and
 * killTree() continue stopped members after the same signals, and run() escalates after the same
 * ones. The watchdog applies it in C (native/tree_signal.h: test/signals.test.js checks that the
 * two agree on every signal). `killSignal`: the run's (none for a Cgroup's own kill(), which
 * never escalates).
 */
export function treeSignalRule(signal: number, killSignal?: number): TreeSignalRule {
  return {
    continueStopped: signal !== SIGKILL && !LEAVES_STOPPED.has(signal),
    forceKill: signal !== SIGKILL && signal === killSignal,
  };
}

/**
 * Sends `signal` to a whole tree through `send` (which signals every member and says whether any
 * received it), then SIGCONT where treeSignalRule() says so. Returns what `send` returned.
 */
export function signalTree(send: (signal: number) => boolean, signal: number): boolean {
  const sent = send(signal);
  if (sent && treeSignalRule(signal).continueStopped) send(SIGCONT);
  return sent;
}
