// Scenario 2: spawns of /bin/true with 64 in flight, one contender per worker (one contender's
// share of one round; lib/apart.js). Per phase (cold, then warmed up): the throughput, the
// spawning process's CPU time per spawn (all threads, and the main thread alone), and its
// children's (with 64 in flight on a few cores the machine's CPU is the limit: parent and children
// share it, so the parent's CPU per spawn bounds the throughput).

import { coldAndWarm, measured } from '../lib/apart.js';
import { childrenCpuNs } from '../lib/clock.js';
import { LimitServer } from '../lib/limit.js';
import { cContenders, isNodeContender, loadContender } from '../lib/spawners.js';

/** count spawns, `width` at a time, each lane starting the next one when its child exits. */
async function pool(start, count, width) {
  let started = 0;
  const lane = async () => {
    while (started < count) {
      started++;
      await start('/bin/true', []).done;
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, count) }, lane));
}

/** params: { contender, inflight, warmup, cold, settle, warm, bins }. */
export async function run({ contender, inflight, bins, ...phases }) {
  if (contender in cContenders) {
    const limit = await LimitServer.start(bins.limit);
    const backend = cContenders[contender];
    const timed = async (count) => {
      const { ns, cpuNs, childrenNs } = await limit.inflight(backend, count, inflight);
      return { wallNs: ns, processNs: cpuNs, mainNs: cpuNs, childrenNs };
    };
    const result = await coldAndWarm(phases, (count) => limit.inflight(backend, count, inflight), timed);
    await limit.stop();
    return result;
  }
  if (!isNodeContender(contender)) throw new Error(`inflight: unknown contender ${contender}`);
  const start = await loadContender(contender);
  return coldAndWarm(
    phases,
    (count) => pool(start, count, inflight),
    async (count) => {
      const kids0 = childrenCpuNs();
      const m = await measured(() => pool(start, count, inflight));
      return { ...m, childrenNs: childrenCpuNs() - kids0 };
    },
  );
}
