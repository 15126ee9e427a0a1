// Scenario 1: sequential spawn-and-await of /bin/true; spawns per second for each contender, and
// the spawning process's own CPU time per spawn (user + system, all its threads): the library's
// overhead, steadier than wall time on a shared machine.

import { nowNs } from '../lib/clock.js';
import { cContenders, nodeContenders, optionalContenders, spawnAndWait } from '../lib/contenders.js';
import { LimitServer } from '../lib/limit.js';
import { alternate, shares } from '../lib/rounds.js';
import { summarize } from '../lib/stats.js';

const WARMUP = 20;

/** params: { n, rounds, bins, contenders? } (contenders: names, of lib/contenders.js's three
 * lists; all of nodeContenders and cContenders by default). */
export async function run({ n, rounds, bins, contenders: only }) {
  const limit = await LimitServer.start(bins.limit);
  const names = only ?? [...Object.keys(nodeContenders), ...Object.keys(cContenders)];
  for (const name of names) {
    if (!(name in nodeContenders || name in optionalContenders || name in cContenders)) throw new Error(`sequential: unknown contender ${name}`);
  }
  const samples = Object.fromEntries(names.map((c) => [c, { latencies: [], rates: [], cpuUs: [] }]));
  const perRound = shares(n, rounds);

  for (const name of names) {
    if (name in cContenders) await limit.sequential(cContenders[name], WARMUP);
    else for (let i = 0; i < WARMUP; i++) await spawnAndWait(name, '/bin/true');
  }

  await alternate(names, rounds, async (name, round) => {
    const count = perRound[round];
    let lat, cpuNs;
    if (name in cContenders) {
      ({ lat, cpuNs } = await limit.sequential(cContenders[name], count));
    } else {
      lat = [];
      const cpu0 = process.cpuUsage();
      for (let i = 0; i < count; i++) {
        const t0 = nowNs();
        await spawnAndWait(name, '/bin/true');
        lat.push(nowNs() - t0);
      }
      const cpu = process.cpuUsage(cpu0);
      cpuNs = (cpu.user + cpu.system) * 1000;
    }
    const elapsed = lat.reduce((a, b) => a + b, 0);
    samples[name].latencies.push(...lat.map((ns) => ns / 1e6));
    samples[name].rates.push(count / (elapsed / 1e9));
    samples[name].cpuUs.push(cpuNs / 1000 / count);
  }, 'sequential');
  await limit.stop();

  const contenders = {};
  for (const name of names) {
    contenders[name] = {
      n: samples[name].latencies.length,
      latencyMs: summarize(samples[name].latencies),
      rate: summarize(samples[name].rates),
      cpuUsPerSpawn: summarize(samples[name].cpuUs),
      roundRates: samples[name].rates, // in round order, for ratios paired within a round
    };
  }
  return { n, rounds, contenders };
}
