// Scenario 5, one contender in a fresh worker (run with --expose-gc): RSS and JS heap per live
// subprocess, with K children alive at once and stdio ignored.

import { settledMemory } from '../lib/clock.js';
import { nodeContenders, spawnAndWait } from '../lib/contenders.js';
import { ReleaseGate } from '../lib/release.js';


/** params: { contender, k, bins }. */
export async function run({ contender, k, bins }) {
  if (typeof globalThis.gc !== 'function') throw new Error('footprint needs node --expose-gc');
  // Load and warm the contender's code, so that only per-child memory is left to measure.
  for (let i = 0; i < 20; i++) await spawnAndWait(contender, '/bin/true');
  const gate = new ReleaseGate(bins.release);
  try {
    const before = await settledMemory();
    const live = [];
    for (let i = 0; i < k; i++) live.push(nodeContenders[contender](bins.release, gate.args));
    await gate.waitReady(k);
    const during = await settledMemory();
    gate.release();
    await Promise.all(live.map((c) => c.done));
    const per = (field) => (during[field] - before[field]) / k;
    return {
      contender,
      k,
      rssBytes: per('rss'),
      heapUsedBytes: per('heapUsed'),
      externalBytes: per('external'),
      live: live.length,
    };
  } finally {
    gate.close();
  }
}
