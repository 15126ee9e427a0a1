// Compat scenario: pidfd/child_process against Node's child_process, side by side, each
// operation in alternating rounds: spawn + 'exit' (stdio ignored), spawn + 'close' (default
// pipes), execFile, execFileSync, and fork() + one IPC round trip + exit. Rates per round,
// latencies per operation, and this process's CPU time per operation.

import { cpuNs, nowNs } from '../lib/clock.js';
import { compatModules, operations } from '../lib/compat-contenders.js';
import { alternate, shares } from '../lib/rounds.js';
import { summarize } from '../lib/stats.js';

const WARMUP = 10;

/** params: { n: { operation: count }, rounds }. */
export async function run({ n, rounds }) {
  const names = Object.keys(compatModules);
  const out = {};
  for (const [op, count] of Object.entries(n)) {
    const perRound = shares(count, rounds);
    const samples = Object.fromEntries(names.map((c) => [c, { lat: [], rates: [], cpuUs: [] }]));
    for (const name of names) for (let i = 0; i < Math.min(WARMUP, count); i++) await operations[op](compatModules[name]);
    await alternate(names, rounds, async (name, round) => {
      const cp = compatModules[name];
      const lat = [];
      const cpu0 = cpuNs();
      for (let i = 0; i < perRound[round]; i++) {
        const t0 = nowNs();
        await operations[op](cp);
        lat.push(nowNs() - t0);
      }
      const cpu = cpuNs() - cpu0;
      const elapsed = lat.reduce((a, b) => a + b, 0);
      samples[name].lat.push(...lat.map((ns) => ns / 1e6));
      samples[name].rates.push(lat.length / (elapsed / 1e9));
      samples[name].cpuUs.push(cpu / 1000 / lat.length);
    }, `compat ${op}`);
    out[op] = {};
    for (const name of names) {
      const s = samples[name];
      out[op][name] = {
        n: s.lat.length,
        latencyMs: summarize(s.lat),
        rate: summarize(s.rates),
        cpuUsPerOp: summarize(s.cpuUs),
        roundRates: s.rates,
      };
    }
  }
  return { rounds, n, operations: out };
}
