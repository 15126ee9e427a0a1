// A run's tree where no cgroup is had: the first process leads a new process group ('group'),
// signalled through the leader's pidfd (PIDFD_SIGNAL_PROCESS_GROUP, Linux 6.9; before that, each
// member through a pidfd of its own), or, with `tree: false` or a command on this process's
// terminal, is the first process alone ('leader'). A descendant that leaves the group (setsid,
// setpgid) is out of reach, and "empty" is checked at growing intervals: a group gives no event.
// The other kind: cgroup-tree.ts.

import { signalTree } from '../signals.js';
import type { PidFd } from '../process/pidfd.js';
import { groupMembers, signalEach } from '../process/procfs.js';
import type { Subprocess } from '../process/subprocess.js';
import { groupHasLiveMember, untilGone } from './group-wait.js';
import type { Reach, Tree } from './tree.js';
import { guard, unguard } from './watchdog.js';

/** Whether this kernel lets a pidfd signal a process group (6.9); learnt at the first try. */
let groupSignals = true;

/** Test hook (src/internal/testing.ts): signal a group's members one by one, as before 6.9. */
export let forceMemberSignals: (on: boolean) => void;
let memberSignalsForced = false;

export class GroupTree implements Tree {
  readonly reach: Reach;
  readonly hasCgroup = false;
  readonly #subprocess: Subprocess;
  /** The leader's pidfd, our own copy: a group can still be signalled after the leader has
   * been reaped (the subprocess's pidfd is closed then), and no pid number is ever used. A lone
   * process's copy is taken when it is guarded. */
  #pidfd: PidFd | null = null;
  #guardId: bigint | undefined;

  constructor(subprocess: Subprocess, reach: Reach) {
    this.reach = reach;
    this.#subprocess = subprocess;
    if (reach === 'group') this.#pidfd = subprocess.pidfd.dup();
  }

  static {
    forceMemberSignals = (on) => {
      memberSignalsForced = on;
    };
  }

  guard(): void {
    // A lone process is guarded through a copy of its pidfd, taken while it cannot have been
    // reaped yet (we are still in the call that started it).
    this.#pidfd ??= this.#subprocess.pidfd.dup();
    const pidfd = this.#pidfd;
    this.#guardId = guard({
      kind: this.reach === 'group' ? 'addGroup' : 'addLeader',
      pid: this.reach === 'group' ? this.#subprocess.pid : 0,
      fd: () => pidfd.fd,
      alive: () => this.alive(),
      released: () => this.#close(),
    });
  }

  kill(signal: number): boolean {
    return signalTree((n) => this.#signal(n), signal);
  }

  members(): number[] {
    // The group's number is only read while our pidfd of its leader keeps it from being reused.
    if (this.reach === 'group' && this.#pidfd !== null) return groupMembers(this.#subprocess.pid) ?? [];
    return this.#subprocess.exitStatus === null ? [this.#subprocess.pid] : [];
  }

  alive(): boolean {
    if (this.reach === 'leader' || this.#pidfd === null) return this.#signal(0);
    return groupHasLiveMember(this.#subprocess.pid, () => this.#signal(0));
  }

  /** A process group gives no event: it is checked (alive()) at growing intervals (group-wait.ts). */
  empty(limitMs: number): Promise<boolean> {
    return untilGone(() => this.alive(), limitMs);
  }

  async settled(): Promise<void> {}

  figures(): undefined {
    return undefined;
  }

  release(killed: boolean): void {
    if (this.#guardId !== undefined) unguard(this.#guardId, !killed);
    else this.#close();
  }

  #close(): void {
    this.#pidfd?.close();
    this.#pidfd = null;
  }

  #signal(signal: number): boolean {
    const pidfd = this.#pidfd;
    if (this.reach === 'leader' || pidfd === null) return this.#subprocess.kill(signal);
    if (groupSignals && !memberSignalsForced) {
      try {
        return pidfd.sendSignal(signal, { processGroup: true });
      } catch (error) {
        if ((error as { code?: string }).code !== 'EINVAL') throw error;
        groupSignals = false; // before Linux 6.9
      }
    }
    // Before Linux 6.9 a pidfd cannot address a group, and kill(-pgid) could hit an unrelated
    // group once the group is empty and its number reused. The leader gets the signal through its
    // pidfd, and every other member found in /proc through a pidfd of its own, once its /proc
    // entry (read through that pidfd) says it is still in the group. A process forked after the
    // scan is missed; see docs/run.md.
    const pgid = this.#subprocess.pid;
    const sent = pidfd.sendSignal(signal);
    const others = (groupMembers(pgid) ?? []).filter((pid) => pid !== pgid);
    return signalEach(others, signal, (stat) => stat.pgrp === pgid) || sent;
  }
}
