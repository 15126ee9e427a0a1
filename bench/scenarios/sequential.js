// Scenario 1: sequential spawn-and-await of /bin/true, one contender per worker (run by
// lib/apart.js's roundsApart: this is one contender's share of one round). Per phase (cold, then
// warmed up): the latency of each spawn and the spawning process's own CPU time per spawn (user +
// system), all its threads and its main thread alone: the library's overhead, steadier than
// wall time on a shared machine.

import { coldAndWarm, measured } from '../lib/apart.js';
import { LimitServer } from '../lib/limit.js';
import { cContenders, isNodeContender, loadContender } from '../lib/spawners.js';

/** params: { contender, warmup, cold, settle, warm, bins }. */
export async function run({ contender, bins, ...phases }) {
  if (contender in cContenders) {
    const limit = await LimitServer.start(bins.limit);
    const backend = cContenders[contender];
    const timed = async (count) => {
      const { lat, cpuNs } = await limit.sequential(backend, count);
      const wallNs = lat.reduce((a, b) => a + b, 0);
      // The C loop is one thread: its main thread's CPU is its process's.
      return { wallNs, processNs: cpuNs, mainNs: cpuNs, lat };
    };
    const result = await coldAndWarm(phases, (count) => limit.sequential(backend, count), timed);
    await limit.stop();
    return result;
  }
  if (!isNodeContender(contender)) throw new Error(`sequential: unknown contender ${contender}`);
  const start = await loadContender(contender);
  const untimed = async (count) => {
    for (let i = 0; i < count; i++) await start('/bin/true', []).done;
  };
  const timed = async (count) => {
    const lat = new Array(count);
    const m = await measured(async () => {
      for (let i = 0; i < count; i++) {
        const t0 = process.hrtime.bigint();
        await start('/bin/true', []).done;
        lat[i] = Number(process.hrtime.bigint() - t0);
      }
    });
    return { ...m, lat };
  };
  return coldAndWarm(phases, untimed, timed);
}
