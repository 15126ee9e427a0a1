// Scenario 2: N spawns of /bin/true with 64 in flight; throughput for each contender.

import { nowNs } from '../lib/clock.js';
import { cContenders, nodeContenders, spawnAndWait } from '../lib/contenders.js';
import { LimitServer } from '../lib/limit.js';
import { alternate, shares } from '../lib/rounds.js';
import { summarize } from '../lib/stats.js';

/** count spawns, `width` at a time, each lane starting the next one when its child exits. */
async function pool(name, count, width) {
  let started = 0;
  const lane = async () => {
    while (started < count) {
      started++;
      await spawnAndWait(name, '/bin/true');
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, count) }, lane));
}

/** params: { n, inflight, rounds, bins }. */
export async function run({ n, inflight, rounds, bins }) {
  const limit = await LimitServer.start(bins.limit);
  const names = [...Object.keys(nodeContenders), ...Object.keys(cContenders)];
  const rates = Object.fromEntries(names.map((c) => [c, []]));
  const perRound = shares(n, rounds);

  for (const name of names) {
    if (name in cContenders) await limit.inflight(cContenders[name], inflight, inflight);
    else await pool(name, inflight, inflight);
  }

  await alternate(names, rounds, async (name, round) => {
    const count = perRound[round];
    let ns;
    if (name in cContenders) {
      ns = await limit.inflight(cContenders[name], count, inflight);
    } else {
      const t0 = nowNs();
      await pool(name, count, inflight);
      ns = nowNs() - t0;
    }
    rates[name].push(count / (ns / 1e9));
  }, 'inflight');
  await limit.stop();

  const contenders = {};
  for (const name of names) {
    // roundRates in round order, for ratios paired within a round.
    contenders[name] = { n, rate: summarize(rates[name]), roundRates: rates[name] };
  }
  return { n, inflight, rounds, contenders };
}
