// Scenario 3, one memory level: per-spawn latency of /bin/true while this process (and the C
// limit server) holds `gib` GiB of touched memory. The orchestrator runs each level in a fresh
// worker, so that no level inherits another's heap.

import { nowNs } from '../lib/clock.js';
import { allocateTouched } from '../lib/ballast.js';
import { cContenders, nodeContenders, spawnAndWait } from '../lib/contenders.js';
import { LimitServer } from '../lib/limit.js';
import { log } from '../lib/log.js';
import { alternate, shares } from '../lib/rounds.js';
import { summarize } from '../lib/stats.js';

/** Contenders that fork the whole parent (libuv's uv_spawn): they get nSlow spawns, not nFast. */
export const forkingContenders = ['child_process', 'execa', 'nano-spawn', 'tinyexec'];

/** params: { gib, nFast, nSlow, rounds, bins }. */
export async function run({ gib, nFast, nSlow, rounds, bins }) {
  // The server first: starting it is a fork of this process, cheapest while it is small.
  const limit = await LimitServer.start(bins.limit, gib);
  const t0 = nowNs();
  const ballast = allocateTouched(gib);
  const rssGiB = process.memoryUsage().rss / 2 ** 30;
  log(`memory ${gib} GiB: allocated in ${((nowNs() - t0) / 1e9).toFixed(1)} s, rss ${rssGiB.toFixed(2)} GiB`);

  const names = [...Object.keys(nodeContenders), ...Object.keys(cContenders)];
  const counts = Object.fromEntries(
    names.map((c) => [c, forkingContenders.includes(c) ? nSlow : nFast]),
  );
  const latencies = Object.fromEntries(names.map((c) => [c, []]));

  // Warm-up (code loaded and optimised): 20 spawns, 3 for the forking contenders.
  for (const name of names) {
    const warmup = forkingContenders.includes(name) ? 3 : 20;
    if (name in cContenders) await limit.sequential(cContenders[name], warmup);
    else for (let i = 0; i < warmup; i++) await spawnAndWait(name, '/bin/true');
  }

  await alternate(names, rounds, async (name, round) => {
    const count = shares(counts[name], rounds)[round];
    if (name in cContenders) {
      const { lat } = await limit.sequential(cContenders[name], count);
      latencies[name].push(...lat.map((ns) => ns / 1e6));
      return;
    }
    for (let i = 0; i < count; i++) {
      const t = nowNs();
      await spawnAndWait(name, '/bin/true');
      latencies[name].push((nowNs() - t) / 1e6);
    }
  }, `memory ${gib} GiB`);
  await limit.stop();

  const contenders = {};
  for (const name of names) contenders[name] = { n: latencies[name].length, latencyMs: summarize(latencies[name]) };
  ballast.length = 0;
  return { gib, rssGiB, nFast, nSlow, rounds, contenders };
}
