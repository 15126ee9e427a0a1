// PidFd.killTree(): signal a process and every descendant of it, for a process this library did
// not start, by walking parentage in /proc through pidfds: no signal can reach a recycled pid.
//
// The walk, in passes until one finds nobody new:
//  - every member found is stopped (SIGSTOP through its pidfd), and a pass begins only once every
//    member is seen stopped (each of its threads in state T) or dead, so that what a pass reads
//    cannot grow. A SIGSTOP that is merely pending is not enough: since Linux 4.20 (commit
//    c3ad2c3b02e9) only a fatal signal aborts a fork under way, so a member inside fork() when
//    the SIGSTOP came finishes it, links the child to its list, and stops after that. A pass that
//    read its list before the link found nobody new, and the walk used to end there: the child,
//    never seen, outlived the tree once its parent died (issue 19; on a loaded machine, where a
//    fork can wait a long time for the CPU). A member that is exiting hands its children to a
//    subreaper or init before it becomes a zombie: a dead member's list is final too;
//  - a child pid read from /proc/<parent>/task/*/children (or, without CONFIG_PROC_CHILDREN, from
//    the ppid of every /proc/*/stat) is trusted only once a pidfd for it is open, its stat read
//    after that names the walked parent, the child was still unreaped after the read (so the
//    stat was its own) and the parent was still unreaped after that (so the ppid was the walked
//    parent and not a process given its pid since);
//  - then the signal goes to every member through its pidfd, and SIGCONT after it to the
//    members the walk stopped (unless the signal is SIGKILL or itself a stop), and to members
//    that were stopped before the walk when treeSignalRule() says so.
// A member that left the walked parentage before it was seen (its parent exited: it went to
// init or a subreaper) cannot be found: docs/trees.md says what a cgroup guarantees instead.

import { readdirSync, readFileSync } from 'node:fs';

import { errno, pidfdError, systemError } from '../errors.js';
import { SIGCONT, SIGKILL, SIGSTOP, signalName, signalNumber, signalNumberOf, treeSignalRule, type Signal } from '../signals.js';
import { PidFd } from './pidfd.js';
import { PF_KTHREAD, processIds, readStat } from './procfs.js';

const { ESRCH, EPERM } = errno;
/** Stop signals: after one of them the walk leaves the members it stopped as they are. */
const STOPS = new Set(['SIGSTOP', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU'].map((name) => signalNumberOf(name)!));
/** Passes after which a tree that still grows (under a member that cannot be stopped) is
 * signalled as far as it was found. */
const MAX_PASSES = 64;
/** How long the walk waits for a member to stop with no other member stopping meanwhile, before
 * it signals the tree as far as it was found (complete: false): a member that cannot act on its
 * SIGSTOP (a vfork() parent whose child the walk stopped before its exec, a process in
 * uninterruptible sleep). Milliseconds. */
const STOP_WAIT_MS = 2000;

/** What PidFd.killTree() did. */
export interface KillTreeResult {
  /** The pids signalled, the root first, then in the order they were found. */
  signalled: number[];
  /** Members that could not be stopped or signalled: permission denied (EPERM). Their children
   * were walked all the same. */
  denied: number[];
  /** Walk passes made: a pass reads the children of every member; the last found nobody new. */
  passes: number;
  /** False if the tree still grew after the last pass (a member that cannot be stopped kept
   * forking), or a member did not stop (STOP_WAIT_MS): what was found was signalled, what it
   * started after that was not. */
  complete: boolean;
}

interface Member {
  pidfd: PidFd;
  pid: number;
  /** Stopped before the walk reached it (state T). */
  stoppedBefore: boolean;
  /** The walk's SIGSTOP reached it. */
  stoppedByWalk: boolean;
  denied: boolean;
  /** Seen with every thread stopped, or dead: no fork of it can be under way. */
  quiet: boolean;
}

let procChildren: boolean | undefined;
/** Whether /proc/<pid>/task/<tid>/children exists (CONFIG_PROC_CHILDREN). */
function haveProcChildren(): boolean {
  if (procChildren === undefined) {
    try {
      readFileSync(`/proc/self/task/${process.pid}/children`);
      procChildren = true;
    } catch {
      procChildren = false;
    }
  }
  return procChildren;
}

/** The child pids that the threads of `pid` list, as the kernel reports them now. */
function childrenOf(pid: number): number[] {
  const found: number[] = [];
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return found; // gone
  }
  for (const tid of tasks) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'latin1');
    } catch {
      continue; // the thread ended
    }
    for (const word of text.split(' ')) if (word !== '') found.push(Number(word));
  }
  return found;
}

/** Every pid in /proc whose ppid is one of `parents`: [child, parent] pairs (the fallback). */
function childrenByScan(parents: Set<number>): [number, number][] {
  const found: [number, number][] = [];
  for (const pid of processIds() ?? []) {
    const stat = readStat(pid);
    if (stat !== undefined && parents.has(stat.ppid)) found.push([pid, stat.ppid]);
  }
  return found;
}

/** The pids of this process and of its ancestors, up to the root of the pid namespace. */
function selfAndAncestors(): Set<number> {
  const chain = new Set<number>();
  let pid = process.pid;
  while (pid > 0 && !chain.has(pid)) {
    chain.add(pid);
    pid = readStat(pid)?.ppid ?? 0;
  }
  return chain;
}

/** Whether the process of a pidfd has not been reaped (a zombie has not; EPERM means it lives). */
function unreaped(pidfd: PidFd): boolean {
  try {
    return pidfd.sendSignal(0);
  } catch {
    return true;
  }
}

/** Whether every thread of a member is stopped (T, or t under a debugger) or dead (Z, X, or
 * gone): then no fork of it is under way, and its list of children is what it will stay. */
function quiet(member: Member): boolean {
  // Read by number: if the member has been reaped since, what was read was another process's,
  // and the member itself is dead.
  const stat = readStat(member.pid);
  if (stat === undefined) return true; // reaped
  if (!stoppedOrDead(stat.state)) return !unreaped(member.pidfd);
  if (stat.threads <= 1) return true;
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${member.pid}/task`);
  } catch {
    return true; // reaped
  }
  for (const tid of tids) {
    if (!stoppedOrDead(readStat(member.pid, Number(tid))?.state ?? 'X')) return !unreaped(member.pidfd);
  }
  return true;
}

function stoppedOrDead(state: string): boolean {
  return state === 'T' || state === 't' || state === 'Z' || state === 'X';
}

/** Blocks this thread for `ms` milliseconds (killTree() is synchronous). */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Waits until every member that the walk could stop is quiet(); false if one is not after
 * STOP_WAIT_MS without any other becoming quiet meanwhile.
 */
function waitQuiet(members: Member[]): boolean {
  let waiting = members.filter((m) => !m.quiet && !m.denied);
  let deadline = Date.now() + STOP_WAIT_MS;
  for (let wait = 0; ; wait = Math.min(wait + 1, 10)) {
    const before = waiting.length;
    waiting = waiting.filter((m) => !(m.quiet = quiet(m)));
    if (waiting.length === 0) return true;
    if (waiting.length < before) deadline = Date.now() + STOP_WAIT_MS;
    else if (Date.now() >= deadline) return false;
    pause(wait);
  }
}

/** Sends `signal` through a member's pidfd: 0 sent, ESRCH gone, or the errno. */
function send(member: Member, signal: number): number {
  try {
    return member.pidfd.sendSignal(signal) ? 0 : ESRCH;
  } catch (error) {
    const e = error as { errno?: number };
    if (typeof e.errno === 'number') return -e.errno;
    throw error;
  }
}

/**
 * The tree of `root` signalled as described at the top. `root` stays open; every other pidfd the
 * walk opens is closed before this returns or throws.
 */
export function killTree(root: PidFd, signal: Signal, context: string): KillTreeResult {
  const number = signalNumber(signal, 'signal', false, 'argument');
  const rootPid = root.pid; // ESRCH once reaped
  const name = signalName(number);
  if (selfAndAncestors().has(rootPid)) {
    throw pidfdError(
      'ERR_PIDFD_TREE_OF_SELF',
      `${context}: pid ${rootPid} is ${rootPid === process.pid ? 'this process' : 'an ancestor of this process'}: ` +
        'its tree holds this process, which would stop itself',
    );
  }
  const rootStat = readStat(rootPid);
  if (rootStat !== undefined && (rootStat.flags & PF_KTHREAD) !== 0) {
    throw systemError(EPERM, 'pidfd_send_signal', { context: `${context}: pid ${rootPid} is a kernel thread, which has no tree to kill` });
  }

  const rootMember: Member = { pidfd: root, pid: rootPid, stoppedBefore: false, stoppedByWalk: false, denied: false, quiet: false };
  const members: Member[] = [rootMember];
  const byPid = new Map<number, Member>([[rootPid, rootMember]]);
  const opened: PidFd[] = [];
  let complete = true;
  let passes = 0;

  /** Stops a member before its children are read; records whether it was stopped before. */
  const stop = (member: Member, state: string | undefined): void => {
    member.stoppedBefore = state === 'T';
    const r = send(member, SIGSTOP);
    if (r === 0) member.stoppedByWalk = !member.stoppedBefore;
    else if (r === EPERM) member.denied = true;
    else if (r !== ESRCH) throw systemError(r, 'pidfd_send_signal', { context: `${context}: SIGSTOP to pid ${member.pid}` });
  };

  /** Takes pid `child` into the tree if it still is a child of `parent`; true if it was. */
  const adopt = (child: number, parent: Member): boolean => {
    if (byPid.has(child)) return false;
    if (child === process.pid) {
      throw pidfdError('ERR_PIDFD_TREE_OF_SELF', `${context}: this process (pid ${child}) is in the tree of pid ${rootPid}`);
    }
    let pidfd: PidFd;
    try {
      pidfd = PidFd.open(child);
    } catch {
      return false; // gone (or never a process: a thread id does not appear in these lists)
    }
    const stat = readStat(child);
    // The stat read after the pidfd was opened is the child's own if it is still unreaped now,
    // and names `parent` if `parent` was not reaped by then either (it holds its pid until it is).
    let ours = stat !== undefined && stat.ppid === parent.pid && stat.state !== 'Z' && (stat.flags & PF_KTHREAD) === 0;
    if (ours) ours = unreaped(pidfd) && unreaped(parent.pidfd);
    if (!ours) {
      pidfd.close();
      return false;
    }
    opened.push(pidfd);
    const member: Member = { pidfd, pid: child, stoppedBefore: false, stoppedByWalk: false, denied: false, quiet: false };
    members.push(member);
    byPid.set(child, member);
    stop(member, stat!.state);
    return true;
  };

  try {
    stop(rootMember, rootStat?.state);
    if (rootMember.denied) {
      throw systemError(EPERM, 'pidfd_send_signal', { context: `${context}: cannot stop pid ${rootPid}` });
    }
    for (;;) {
      passes++;
      // Every member found so far stopped (or dead) before its children are read again.
      if (!waitQuiet(members)) complete = false;
      let found = 0;
      if (haveProcChildren()) {
        // Breadth first: members found in this pass are read in this pass too.
        for (let i = 0; i < members.length; i++) {
          const parent = members[i]!;
          for (const child of childrenOf(parent.pid)) if (adopt(child, parent)) found++;
        }
      } else {
        let parents = new Set(members.map((m) => m.pid));
        while (parents.size > 0) {
          const next = new Set<number>();
          for (const [child, ppid] of childrenByScan(parents)) {
            if (adopt(child, byPid.get(ppid)!)) {
              found++;
              next.add(child);
            }
          }
          parents = next;
        }
      }
      if (found === 0 || !complete) break;
      if (passes >= MAX_PASSES) {
        complete = false;
        break;
      }
    }

    const signalled: number[] = [];
    for (const member of members) {
      const r = send(member, number);
      if (r === 0) signalled.push(member.pid);
      else if (r === EPERM) member.denied = true;
      else if (r !== ESRCH) throw systemError(r, 'pidfd_send_signal', { context: `${context}: ${name} to pid ${member.pid}` });
    }
    const rule = treeSignalRule(number);
    if (number !== SIGKILL && number !== SIGCONT) {
      for (const member of members) {
        const resume = member.stoppedByWalk ? !STOPS.has(number) : member.stoppedBefore && rule.continueStopped;
        if (resume) send(member, SIGCONT);
      }
    }
    return { signalled, denied: members.filter((m) => m.denied).map((m) => m.pid), passes, complete };
  } catch (error) {
    // Thrown part way: nothing stays stopped by the walk.
    for (const member of members) if (member.stoppedByWalk) send(member, SIGCONT);
    throw error;
  } finally {
    for (const pidfd of opened) pidfd.close();
  }
}
