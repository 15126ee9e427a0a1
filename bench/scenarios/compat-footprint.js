// Compat scenario, one module in a fresh worker (run with --expose-gc): RSS and JS heap per live
// ChildProcess, with K children alive at once, started with spawn(file, args, { stdio: 'ignore' })
// and awaited through 'exit'.

import { settledMemory } from '../lib/clock.js';
import { compatModules, operations } from '../lib/compat-contenders.js';
import { ReleaseGate } from '../lib/release.js';


/** params: { contender, k, bins }. */
export async function run({ contender, k, bins }) {
  if (typeof globalThis.gc !== 'function') throw new Error('compat-footprint needs node --expose-gc');
  const cp = compatModules[contender];
  for (let i = 0; i < 20; i++) await operations.spawnExit(cp);
  const gate = new ReleaseGate(bins.release);
  try {
    const before = await settledMemory();
    const exits = [];
    for (let i = 0; i < k; i++) {
      const child = cp.spawn(bins.release, gate.args, { stdio: 'ignore' });
      exits.push(new Promise((resolve) => child.once('exit', resolve)));
    }
    await gate.waitReady(k);
    const during = await settledMemory();
    gate.release();
    await Promise.all(exits);
    const per = (field) => (during[field] - before[field]) / k;
    return { contender, k, rssBytes: per('rss'), heapUsedBytes: per('heapUsed'), externalBytes: per('external') };
  } finally {
    gate.close();
  }
}
