// `npm run bench [-- --quick] [-- --only=sequential,memory]`: the benchmark orchestrator.
//
// Builds the C programs, describes the machine, runs every scenario in fresh worker processes
// (one per memory level, per K, per footprint sample; for the sequential and in-flight scenarios
// one per contender and round: lib/apart.js), and writes bench/results/<mode>-<time>.json. A
// complete full run also rewrites docs/benchmarks.md and its charts; a quick run (a few minutes)
// prints its tables and leaves the docs alone.

import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { roundsApart, summarizeContenders } from './lib/apart.js';
import { availableGiB } from './lib/ballast.js';
import { buildC } from './lib/build.js';
import { log } from './lib/log.js';
import { inWorker } from './lib/in-worker.js';
import { describeMachine } from './lib/machine.js';
import { renderTables, writeReport } from './report.js';
import { full, MEMORY_MARGIN_GIB, quick } from './settings.js';

const here = dirname(fileURLToPath(import.meta.url));
const SCENARIOS = ['sequential', 'inflight', 'memory', 'reaping', 'footprint', 'trees', 'compat', 'compat-stdio', 'run-rate', 'run-capture', 'run-tee', 'run-pipeline', 'run-footprint', 'register-startup', 'run-sync'];

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    'no-docs': { type: 'boolean', default: false },
  },
});
const mode = args.quick ? 'quick' : 'full';
const settings = args.quick ? quick : full;
const only = args.only ? args.only.split(',') : SCENARIOS;
for (const name of only) {
  if (!SCENARIOS.includes(name)) throw new Error(`--only: unknown scenario ${name}; known: ${SCENARIOS.join(', ')}`);
}

/** A scenario whose contenders each run in fresh workers of their own, round after round
 * (lib/apart.js): the sequential and in-flight ones. */
async function runApart(scenario, { rounds, contenders, ...params }, bins) {
  const loadAtStart = loadavg();
  const byName = await roundsApart(contenders, rounds, (contender) => inWorker(scenario, { ...params, contender, bins }), scenario);
  return {
    ...params,
    rounds,
    n: rounds * (params.warm || params.cold),
    loadAverage: { start: loadAtStart, end: loadavg() },
    contenders: summarizeContenders(byName),
  };
}

async function runMemory(bins) {
  const { levels, nFast, nSlow, rounds } = settings.memory;
  const out = { nFast, nSlow, rounds, levels: [] };
  for (const gib of levels) {
    // The worker holds gib GiB and the C limit server its own gib GiB, at the same time.
    const need = 2 * gib + MEMORY_MARGIN_GIB;
    const available = await availableGiB();
    if (available < need) {
      const reason = `needs ${need.toFixed(1)} GiB (2 × ${gib} + ${MEMORY_MARGIN_GIB}), ${available.toFixed(1)} GiB available`;
      log(`memory ${gib} GiB: skipped, ${reason}`);
      out.levels.push({ gib, skipped: reason });
      continue;
    }
    out.levels.push(await inWorker('memory-sweep', { gib, nFast, nSlow: nSlow[gib], rounds, bins }));
  }
  return out;
}

async function runReaping(bins) {
  const { ks, rounds, gapUs, contenders } = settings.reaping;
  const out = { rounds, gapUs, together: [], oneByOne: [] };
  for (const k of ks) out.together.push(await inWorker('reaping', { k, gapUs: 0, rounds, contenders, bins }));
  for (const k of ks) out.oneByOne.push(await inWorker('reaping', { k, gapUs, rounds, contenders, bins }));
  return out;
}

async function runFootprint(bins) {
  const { k, repeats, contenders } = settings.footprint;
  const samples = [];
  for (let r = 0; r < repeats; r++) {
    for (let i = 0; i < contenders.length; i++) {
      const contender = contenders[(r + i) % contenders.length];
      samples.push(await inWorker('footprint', { contender, k, bins }, { nodeFlags: ['--expose-gc'] }));
      log(`footprint: ${contender} (${r + 1}/${repeats})`);
    }
  }
  return { k, repeats, samples };
}

/** pidfd/child_process against child_process: the operations, execFileSync per memory level,
 * and the footprint, each in fresh workers. */
async function runCompat(bins) {
  const { n, rounds, memory, footprint } = settings.compat;
  const out = { ...(await inWorker('compat', { n, rounds })), memory: { rounds: memory.rounds, levels: [] }, footprint: { ...footprint, samples: [] } };
  for (const gib of memory.levels) {
    const need = gib + MEMORY_MARGIN_GIB;
    const available = await availableGiB();
    if (available < need) {
      const reason = `needs ${need.toFixed(1)} GiB (${gib} + ${MEMORY_MARGIN_GIB}), ${available.toFixed(1)} GiB available`;
      log(`compat memory ${gib} GiB: skipped, ${reason}`);
      out.memory.levels.push({ gib, skipped: reason });
      continue;
    }
    const counts = Object.fromEntries(Object.entries(memory.n).map(([name, c]) => [name, typeof c === 'number' ? c : c[gib]]));
    out.memory.levels.push(await inWorker('compat-memory', { gib, n: counts, rounds: memory.rounds }));
  }
  const contenders = ['pidfd/child_process', 'child_process'];
  for (let r = 0; r < footprint.repeats; r++) {
    for (let i = 0; i < contenders.length; i++) {
      const contender = contenders[(r + i) % contenders.length];
      out.footprint.samples.push(await inWorker('compat-footprint', { contender, k: footprint.k, bins }, { nodeFlags: ['--expose-gc'] }));
      log(`compat footprint: ${contender} (${r + 1}/${footprint.repeats})`);
    }
  }
  return out;
}

async function runFootprintOfRun(bins) {
  const { k, repeats, contenders } = settings['run-footprint'];
  const samples = [];
  for (let r = 0; r < repeats; r++) {
    for (let i = 0; i < contenders.length; i++) {
      const contender = contenders[(r + i) % contenders.length];
      samples.push(await inWorker('run-footprint', { contender, k, bins }, { nodeFlags: ['--expose-gc'] }));
      log(`run-footprint: ${contender} (${r + 1}/${repeats})`);
    }
  }
  return { k, repeats, samples };
}

/** runSync against execaSync: the rate and latency with a small heap, then the latency with `gib`
 * GiB resident (each level in a fresh worker). */
async function runSyncScenario() {
  const { n, rounds, levels } = settings['run-sync'];
  const out = { rounds, levels: [] };
  for (const { gib, n: counts } of [{ gib: 0, n }, ...levels]) {
    const need = gib + MEMORY_MARGIN_GIB;
    const available = await availableGiB();
    if (gib > 0 && available < need) {
      const reason = `needs ${need.toFixed(1)} GiB (${gib} + ${MEMORY_MARGIN_GIB}), ${available.toFixed(1)} GiB available`;
      log(`run-sync ${gib} GiB: skipped, ${reason}`);
      out.levels.push({ gib, skipped: reason });
      continue;
    }
    out.levels.push(await inWorker('run-sync', { gib, n: counts, rounds }));
  }
  return out;
}

/** The run-sync table: rate, median latency per level, and its ratio to the small heap's. */
function runSyncTable(r) {
  const base = r.levels.find((l) => l.gib === 0);
  const names = Object.keys(base.contenders);
  const lines = ['| contender | runs/s (small heap) | ' + r.levels.map((l) => `median ms, ${l.gib} GiB`).join(' | ') + ' | latency × (largest / small) |'];
  lines.push(`|${' --- |'.repeat(3 + r.levels.length)}`);
  const last = r.levels.filter((l) => !l.skipped).at(-1);
  for (const name of names) {
    const cells = r.levels.map((l) => (l.skipped ? 'skipped' : l.contenders[name].latencyMs.median.toFixed(3)));
    const ratio = last.contenders[name].latencyMs.median / base.contenders[name].latencyMs.median;
    lines.push(`| ${name} | ${base.contenders[name].rate.median.toFixed(0)} | ${cells.join(' | ')} | ${ratio.toFixed(2)} |`);
  }
  const x = base.contenders['pidfd runSync'].rate.median / base.contenders.execaSync.rate.median;
  return `${lines.join('\n')}\n\nrunSync / execaSync rate: ${x.toFixed(2)}×`;
}

const started = Date.now();
process.env.BENCH_T0 ??= String(started);
const bins = buildC();
const results = {
  mode,
  startedAt: new Date(started).toISOString(),
  machine: await describeMachine(),
  pidfdLib: process.env.PIDFD_BENCH_LIB || 'dist/ of this checkout',
  settings,
  scenarios: {},
};
log(`bench (${mode}): ${results.machine.cpuModel}, ${results.machine.cores} cores, kernel ${results.machine.kernel}, node ${results.machine.node}, load ${results.machine.loadAverage.map((l) => l.toFixed(2)).join(' ')}`);

for (const name of only) {
  const t0 = Date.now();
  if (name === 'sequential') results.scenarios.sequential = await runApart('sequential', settings.sequential, bins);
  if (name === 'inflight') results.scenarios.inflight = await runApart('inflight', settings.inflight, bins);
  if (name === 'memory') results.scenarios.memory = await runMemory(bins);
  if (name === 'reaping') results.scenarios.reaping = await runReaping(bins);
  if (name === 'footprint') results.scenarios.footprint = await runFootprint(bins);
  if (name === 'trees') results.scenarios.trees = await inWorker('trees', settings.trees);
  if (name === 'compat') results.scenarios.compat = await runCompat(bins);
  if (name === 'compat-stdio') results.scenarios['compat-stdio'] = await inWorker('compat-stdio', settings['compat-stdio']);
  if (name === 'run-rate') results.scenarios['run-rate'] = await inWorker('run-rate', settings['run-rate']);
  if (name === 'run-capture') results.scenarios['run-capture'] = await inWorker('run-capture', { ...settings['run-capture'], bins }, { nodeFlags: ['--expose-gc'] });
  if (name === 'run-tee') results.scenarios['run-tee'] = await inWorker('run-tee', settings['run-tee'], { nodeFlags: ['--expose-gc'] });
  if (name === 'run-pipeline') results.scenarios['run-pipeline'] = await inWorker('run-pipeline', settings['run-pipeline']);
  if (name === 'run-footprint') results.scenarios['run-footprint'] = await runFootprintOfRun(bins);
  if (name === 'register-startup') results.scenarios['register-startup'] = await inWorker('register-startup', settings['register-startup']);
  if (name === 'run-sync') results.scenarios['run-sync'] = await runSyncScenario();
  log(`${name}: ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}

results.durationS = (Date.now() - started) / 1000;
results.loadAverageAtEnd = (await import('node:os')).loadavg();
const stamp = results.startedAt.replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
const file = join(here, 'results', `${mode}-${stamp}.json`);
writeFileSync(file, `${JSON.stringify(results, null, 1)}\n`);

process.stdout.write(`\n${renderTables(results)}\n`);
if (results.scenarios['run-sync']) process.stdout.write(`\n### runSync('/bin/true') against execaSync\n\n${runSyncTable(results.scenarios['run-sync'])}\n`);
log(`results: ${relative(process.cwd(), file)} (${results.durationS.toFixed(0)} s)`);
if (mode === 'full' && only.length === SCENARIOS.length && !args['no-docs']) {
  const written = writeReport(results, file);
  log(`wrote ${written.map((f) => relative(process.cwd(), f)).join(', ')}`);
}
