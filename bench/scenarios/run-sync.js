// runSync() scenario: runSync('/bin/true') against execa's execaSync('/bin/true'), run after run
// (runs per second, rounds interleaved); and the latency of each call while this process holds
// `gib` GiB of touched memory (one worker per level: 0, then 4 GiB). runSync starts its child
// with clone3 and waits in native code: its latency should not grow with the parent's memory.
// execaSync goes through child_process.spawnSync (libuv's fork), whose cost does.

import { execaSync } from 'execa';

import { allocateTouched } from '../lib/ballast.js';
import { nowNs } from '../lib/clock.js';
import { log } from '../lib/log.js';
import { alternate, shares } from '../lib/rounds.js';
import { summarize } from '../lib/stats.js';

const pidfdUrl = process.env.PIDFD_BENCH_LIB
  ? (await import('node:url')).pathToFileURL(process.env.PIDFD_BENCH_LIB).href
  : new URL('../../dist/index.js', import.meta.url).href;
const { runSync } = await import(pidfdUrl);

/** name -> a synchronous run of /bin/true, output captured (each library's default). */
const contenders = {
  'pidfd runSync': () => runSync('/bin/true'),
  'pidfd runSync, tree: false': () => runSync('/bin/true', { tree: false }),
  execaSync: () => execaSync('/bin/true'),
};

const WARMUP = 20;

/** params: { gib, n: { contender: count }, rounds }: with `gib` 0, the rate too. */
export async function run({ gib, n, rounds }) {
  const names = Object.keys(contenders);
  for (const name of names) for (let i = 0; i < WARMUP; i++) contenders[name]();
  const t0 = nowNs();
  const ballast = allocateTouched(gib);
  const rssGiB = process.memoryUsage().rss / 2 ** 30;
  if (gib > 0) log(`run-sync ${gib} GiB: allocated in ${((nowNs() - t0) / 1e9).toFixed(1)} s, rss ${rssGiB.toFixed(2)} GiB`);
  const samples = Object.fromEntries(names.map((c) => [c, { rates: [], latencies: [] }]));
  await alternate(names, rounds, async (name, round) => {
    const count = shares(typeof n === 'number' ? n : n[name], rounds)[round];
    const call = contenders[name];
    const start = nowNs();
    for (let i = 0; i < count; i++) {
      const t = nowNs();
      call();
      samples[name].latencies.push((nowNs() - t) / 1e6);
    }
    samples[name].rates.push(count / ((nowNs() - start) / 1e9));
  }, `run-sync ${gib} GiB`);
  const out = {};
  for (const name of names) {
    out[name] = { n: samples[name].latencies.length, rate: summarize(samples[name].rates), latencyMs: summarize(samples[name].latencies) };
  }
  ballast.length = 0;
  return { gib, rssGiB, rounds, contenders: out };
}
