// Compat scenario, one memory level: execFileSync('/bin/true') latency while this process holds
// `gib` GiB of touched memory, for pidfd/child_process and Node's child_process (which forks the
// whole process for each call: it gets fewer calls at high memory). Each level runs in a fresh
// worker.

import { allocateTouched } from '../lib/ballast.js';
import { nowNs } from '../lib/clock.js';
import { compatModules, operations } from '../lib/compat-contenders.js';
import { log } from '../lib/log.js';
import { alternate, shares } from '../lib/rounds.js';
import { summarize } from '../lib/stats.js';

/** params: { gib, n: { contender: count }, rounds }. */
export async function run({ gib, n, rounds }) {
  const t0 = nowNs();
  const ballast = allocateTouched(gib);
  const rssGiB = process.memoryUsage().rss / 2 ** 30;
  log(`compat memory ${gib} GiB: allocated in ${((nowNs() - t0) / 1e9).toFixed(1)} s, rss ${rssGiB.toFixed(2)} GiB`);
  const names = Object.keys(compatModules);
  const latencies = Object.fromEntries(names.map((c) => [c, []]));
  for (const name of names) for (let i = 0; i < 3; i++) operations.execFileSync(compatModules[name]);
  await alternate(names, rounds, async (name, round) => {
    const count = shares(n[name], rounds)[round];
    for (let i = 0; i < count; i++) {
      const t = nowNs();
      operations.execFileSync(compatModules[name]);
      latencies[name].push((nowNs() - t) / 1e6);
    }
  }, `compat memory ${gib} GiB`);
  const contenders = {};
  for (const name of names) contenders[name] = { n: latencies[name].length, latencyMs: summarize(latencies[name]) };
  ballast.length = 0;
  return { gib, rssGiB, rounds, contenders };
}
