// run() scenario 1: sequential run('/bin/true') with its output captured (each library's
// default), run after run; runs per second and this process's CPU time per run.

import { nowNs } from '../lib/clock.js';
import { alternate, shares } from '../lib/rounds.js';
import { runContenders } from '../lib/run-contenders.js';
import { summarize } from '../lib/stats.js';

const WARMUP = 20;

/** params: { n, rounds }. */
export async function run({ n, rounds }) {
  const names = Object.keys(runContenders);
  const samples = Object.fromEntries(names.map((c) => [c, { rates: [], cpuUs: [] }]));
  const perRound = shares(n, rounds);
  for (const name of names) for (let i = 0; i < WARMUP; i++) await runContenders[name]('/bin/true', []);

  await alternate(names, rounds, async (name, round) => {
    const count = perRound[round];
    const start = runContenders[name];
    const cpu0 = process.cpuUsage();
    const t0 = nowNs();
    for (let i = 0; i < count; i++) await start('/bin/true', []);
    const elapsed = nowNs() - t0;
    const cpu = process.cpuUsage(cpu0);
    samples[name].rates.push(count / (elapsed / 1e9));
    samples[name].cpuUs.push((cpu.user + cpu.system) / count);
  }, 'run-rate');

  const contenders = {};
  for (const name of names) {
    contenders[name] = {
      rate: summarize(samples[name].rates),
      cpuUsPerRun: summarize(samples[name].cpuUs),
      roundRates: samples[name].rates,
    };
  }
  return { n, rounds, contenders };
}
