// Waiting for a process group's members to go: a group gives no event (a cgroup does:
// cgroup-tree.ts), so the trees that are groups, group-tree.ts's and the portable engine's
// (portable-tree.ts), check it at growing intervals. Nothing here loads the addon.

import { groupMembers } from '../process/procfs.js';

/**
 * Whether group `pgid` has a member that is more than a zombie. `reached()` sends signal 0 to the
 * group (each tree its own way) and says whether any process got it; zombies do too, and the
 * orphans of a killed tree stay zombies until their new parent reaps them, so /proc is asked
 * next (without /proc, signal 0's word is taken).
 */
export function groupHasLiveMember(pgid: number, reached: () => boolean): boolean {
  if (!reached()) return false;
  return (groupMembers(pgid, true)?.length ?? 1) > 0;
}

/** Resolves with true once `alive()` says false, or with false after `limitMs` (Infinity: no
 * limit); `alive()` is asked at growing intervals, 5 ms to 50 ms. */
export async function untilGone(alive: () => boolean, limitMs: number): Promise<boolean> {
  const deadline = Date.now() + limitMs;
  for (let pause = 5; alive(); pause = Math.min(pause * 2, 50)) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
  return true;
}
