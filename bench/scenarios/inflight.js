// Scenario 2: spawns of /bin/true with 64 in flight, one contender per worker (one contender's
// share of one round; lib/apart.js). Per phase (cold, then warmed up): the throughput, and the
// spawning process's CPU time per spawn (all threads, and the main thread alone).

import { coldAndWarm, measured } from '../lib/apart.js';
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
      const { ns, cpuNs } = await limit.inflight(backend, count, inflight);
      return { wallNs: ns, processNs: cpuNs, mainNs: cpuNs };
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
    (count) => measured(() => pool(start, count, inflight)),
  );
}
