// `node bench/compare.js <dirA> <dirB> [--quick] [--rounds=N]`: two builds of pidfd, side by side,
// for a change's before and after. Each directory is a checkout that is built already (dist/ and
// build/Release/pidfd.node: `npm install` there); the harness (bench/) is this checkout's, only the
// library is loaded from A and B (PIDFD_BENCH_LIB, PIDFD_BENCH_COMPAT). Every measurement of either build runs in a
// fresh worker process of its own (bench/lib/apart.js), the two builds alternating within each
// round (A first in even rounds, B first in odd ones) and the measurements rotating, so that a
// busy moment of a shared machine hits both alike; the figures are medians of rounds, and B/A is
// the median of the per-round ratios (each round's A and B ran within seconds of each other),
// with their min–max.
//
// Per build: parent CPU per spawn (the whole process and its main thread; warmed up and cold) and
// wall time per spawn of sequential spawn('/bin/true') + `await exited`; 64 spawns in flight
// (spawns/s and CPU per spawn); run('/bin/true') one after another (runs/s and CPU per run); the
// drop-in's spawn + 'exit' (CPU per spawn, and its ratio to spawn()'s of the same build). The C
// posix_spawn loop runs once per round as a gauge of the machine (its CPU per spawn; pidfd's
// figures over it). Prints a markdown table and the load average; writes
// bench/results/compare-<time>.json.

import { existsSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { pairedRatios, summarizeContenders } from './lib/apart.js';
import { buildC } from './lib/build.js';
import { inWorker } from './lib/in-worker.js';
import { log } from './lib/log.js';
import { median } from './lib/stats.js';
import { num, times } from './lib/tables.js';

const here = dirname(fileURLToPath(import.meta.url));

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: { quick: { type: 'boolean', default: false }, rounds: { type: 'string' } },
});
if (positionals.length !== 2) {
  console.error('usage: node bench/compare.js <dirA> <dirB> [--quick] [--rounds=N]   (each dir a built checkout of pidfd)');
  process.exit(2);
}
const dirs = positionals.map((d) => resolve(d));
for (const dir of dirs) {
  for (const file of ['dist/index.js', 'dist/compat/child_process.js']) {
    if (!existsSync(join(dir, file))) throw new Error(`compare: ${dir} has no ${file} (run \`npm install\` or \`npm run build\` there)`);
  }
  if (!existsSync(join(dir, 'build/Release/pidfd.node')) && !existsSync(join(dir, 'prebuilds'))) {
    throw new Error(`compare: ${dir} has no build/Release/pidfd.node (run \`npm install\` there)`);
  }
}

const settings = args.quick
  ? {
      rounds: 4,
      sequential: { warmup: 20, cold: 100, settle: 400, warm: 100 },
      inflight: { inflight: 64, warmup: 64, cold: 192, settle: 400, warm: 192 },
    }
  : {
      rounds: 6,
      sequential: { warmup: 20, cold: 200, settle: 1500, warm: 300 },
      inflight: { inflight: 64, warmup: 64, cold: 256, settle: 1500, warm: 640 },
    };
if (args.rounds) settings.rounds = Number(args.rounds);

// The measurements: [key, scenario, contender, build (0 = A, 1 = B; null: the C gauge)].
const tasks = [];
for (const b of [0, 1]) {
  tasks.push([`spawn ${b}`, 'sequential', 'pidfd', b]);
  tasks.push([`inflight ${b}`, 'inflight', 'pidfd', b]);
  tasks.push([`run ${b}`, 'sequential', 'pidfd run', b]);
  tasks.push([`dropin ${b}`, 'sequential', 'pidfd/child_process', b]);
}
tasks.push(['C', 'sequential', 'C posix_spawn', null]);
const byKey = Object.fromEntries(tasks.map((t) => [t[0], t]));

/** Round r's order: the measurements rotate; within each, B goes first in odd rounds. */
function orderOf(r) {
  const kinds = ['spawn', 'inflight', 'run', 'dropin', 'C'];
  const rotated = kinds.map((_, i) => kinds[(r + i) % kinds.length]);
  return rotated.flatMap((k) => (k === 'C' ? ['C'] : r % 2 ? [`${k} 1`, `${k} 0`] : [`${k} 0`, `${k} 1`]));
}

const bins = buildC();
const loadAtStart = loadavg();
const started = new Date();
log(`compare: A = ${dirs[0]}, B = ${dirs[1]}; ${settings.rounds} rounds; load ${loadAtStart.map((l) => l.toFixed(1)).join(' ')}`);

const raw = Object.fromEntries(tasks.map(([key]) => [key, []]));
for (let r = 0; r < settings.rounds; r++) {
  for (const key of orderOf(r)) {
    const [, scenario, contender, b] = byKey[key];
    const env = b === null ? {} : { PIDFD_BENCH_LIB: join(dirs[b], 'dist', 'index.js'), PIDFD_BENCH_COMPAT: join(dirs[b], 'dist', 'compat', 'child_process.js') };
    raw[key][r] = await inWorker(scenario, { ...settings[scenario], contender, bins }, { env });
  }
  log(`compare: round ${r + 1}/${settings.rounds} done, load ${loadavg()[0].toFixed(1)}`);
}
const loadAtEnd = loadavg();
// key -> [per round] -> per phase.
const s = summarizeContenders(raw);

/** A row: label, A's and B's medians (fmt), B/A as the median of per-round ratios (min–max). */
function row(label, key, phase, field, fmt = num, invert = false) {
  const a = s[`${key} 0`][phase];
  const b = s[`${key} 1`][phase];
  const value = (x) => (field === 'wallUs' ? 1e6 / x.rate.median : x[field].median);
  const roundKey = { cpuUsPerSpawn: 'roundCpuUs', mainCpuUsPerSpawn: 'roundMainCpuUs', rate: 'roundRates', wallUs: 'roundRates' }[field];
  let ratios = pairedRatios(b, a, roundKey);
  if (field === 'wallUs' || invert) ratios = ratios.map((x) => 1 / x);
  return [label, fmt(value(a)), fmt(value(b)), times(median(ratios)), `${times(Math.min(...ratios))}–${times(Math.max(...ratios))}`];
}

/** Per-round ratio x/y of two summaries' CPU, median and min–max, as text. */
function ratioText(x, y) {
  const r = pairedRatios(x, y, 'roundCpuUs');
  return `${times(median(r))} (${times(Math.min(...r))}–${times(Math.max(...r))})`;
}

const { sequential: sq, inflight: inf } = settings;
const rows = [
  row(`spawn(): parent CPU per spawn, warmed up (after ${sq.settle}), µs, process`, 'spawn', 'warm', 'cpuUsPerSpawn'),
  row('… main thread', 'spawn', 'warm', 'mainCpuUsPerSpawn'),
  row(`spawn(): parent CPU per spawn, cold (after ${sq.warmup}), µs, process`, 'spawn', 'cold', 'cpuUsPerSpawn'),
  row('… main thread', 'spawn', 'cold', 'mainCpuUsPerSpawn'),
  row('spawn(): wall time per spawn, warmed up, µs', 'spawn', 'warm', 'wallUs'),
  row('spawn(): wall time per spawn, cold, µs', 'spawn', 'cold', 'wallUs'),
  row(`${inf.inflight} in flight: spawns/s, warmed up`, 'inflight', 'warm', 'rate'),
  row(`${inf.inflight} in flight: parent CPU per spawn, warmed up, µs`, 'inflight', 'warm', 'cpuUsPerSpawn'),
  row(`${inf.inflight} in flight: spawns/s, cold`, 'inflight', 'cold', 'rate'),
  row("run('/bin/true'): runs/s, warmed up", 'run', 'warm', 'rate'),
  row("run('/bin/true'): parent CPU per run, warmed up, µs", 'run', 'warm', 'cpuUsPerSpawn'),
  row("run('/bin/true'): parent CPU per run, cold, µs", 'run', 'cold', 'cpuUsPerSpawn'),
  row("pidfd/child_process spawn + 'exit': parent CPU per spawn, warmed up, µs", 'dropin', 'warm', 'cpuUsPerSpawn'),
  row("pidfd/child_process spawn + 'exit': parent CPU per spawn, cold, µs", 'dropin', 'cold', 'cpuUsPerSpawn'),
];
const C = s.C;
const lines = [
  `| measure | A | B | B/A (median of rounds) | B/A per round, min–max |`,
  '|---|---:|---:|---:|---:|',
  ...rows.map((r) => `| ${r.join(' | ')} |`),
  '',
  '| ratio within a build (median of per-round ratios, min–max) | A | B |',
  '|---|---:|---:|',
  ...[
    ['spawn() CPU over the C posix_spawn loop\'s, warmed up', (b) => ratioText(s[`spawn ${b}`].warm, C.warm)],
    ['spawn() CPU over the C posix_spawn loop\'s, cold', (b) => ratioText(s[`spawn ${b}`].cold, C.cold)],
    ["drop-in spawn + 'exit' CPU over spawn()'s, warmed up (target ≤ 1.3×)", (b) => ratioText(s[`dropin ${b}`].warm, s[`spawn ${b}`].warm)],
    ["drop-in spawn + 'exit' CPU over spawn()'s, cold", (b) => ratioText(s[`dropin ${b}`].cold, s[`spawn ${b}`].cold)],
  ].map(([label, f]) => `| ${label} | ${f(0)} | ${f(1)} |`),
  '',
  `C posix_spawn loop (the gauge): ${num(C.warm.cpuUsPerSpawn.median)} µs of CPU per spawn warmed up, ${num(C.cold.cpuUsPerSpawn.median)} cold; ` +
    `${num(1e6 / C.warm.rate.median)} µs wall per spawn.`,
  `A = ${dirs[0]}`,
  `B = ${dirs[1]}`,
  `${settings.rounds} rounds; sequential: ${sq.warmup} untimed spawns, ${sq.cold} timed (cold), untimed to ${sq.settle}, ${sq.warm} timed (warmed up); ` +
    `in flight: ${inf.warmup} / ${inf.cold} / ${inf.settle} / ${inf.warm}. Every figure from a fresh worker per build, measurement and round.`,
  `Load average (1, 5, 15 min): ${loadAtStart.map((l) => l.toFixed(2)).join(', ')} at the start, ${loadAtEnd.map((l) => l.toFixed(2)).join(', ')} at the end.`,
];
const stamp = started.toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
const file = join(here, 'results', `compare-${stamp}.json`);
writeFileSync(file, `${JSON.stringify({ startedAt: started.toISOString(), dirs, settings, loadAtStart, loadAtEnd, results: s }, null, 1)}\n`);
process.stdout.write(`\n${lines.join('\n')}\n`);
log(`results: ${relative(process.cwd(), file)}`);
