// run() scenario 4, one contender in a fresh worker (run with --expose-gc): RSS and JS heap per
// running command, with K commands alive at once, each with its library's defaults (stdout and
// stderr captured). The commands are the release helper, which waits on a FIFO.

import { settledMemory } from '../lib/clock.js';
import { ReleaseGate } from '../lib/release.js';
import { liveRunContenders } from '../lib/run-contenders.js';


/** params: { contender, k, bins }. */
export async function run({ contender, k, bins }) {
  if (typeof globalThis.gc !== 'function') throw new Error('run-footprint needs node --expose-gc');
  const start = liveRunContenders[contender];
  for (let i = 0; i < 20; i++) await start('/bin/true', []).done;
  const gate = new ReleaseGate(bins.release);
  try {
    const before = await settledMemory();
    const live = [];
    for (let i = 0; i < k; i++) live.push(start(bins.release, gate.args));
    await gate.waitReady(k);
    const during = await settledMemory();
    gate.release();
    await Promise.all(live.map((c) => c.done));
    const per = (field) => (during[field] - before[field]) / k;
    return { contender, k, rssBytes: per('rss'), heapUsedBytes: per('heapUsed'), externalBytes: per('external') };
  } finally {
    gate.close();
  }
}
