// Markdown tables of a results file: one per scenario, medians with their spread and ratios
// against child_process and against the C posix_spawn loop.

import { pairedRatios, spread } from './apart.js';
import { median } from './stats.js';

export const ORDER = ['pidfd', 'pidfd/child_process', 'child_process', 'execa', 'nano-spawn', 'tinyexec', 'C posix_spawn', 'C clone3', 'C pidfd+epoll'];
const CP = 'child_process';
const C = 'C posix_spawn';

/** 3 significant digits, thousands separated from 1000 up. */
export function num(v, digits = 3) {
  if (v === undefined || v === null || !Number.isFinite(v)) return '–';
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  return Number(v.toPrecision(digits)).toString();
}

/** A ratio as "2.53×". */
export function times(v) {
  return Number.isFinite(v) ? `${v >= 10 ? v.toFixed(0) : v.toFixed(2)}×` : '–';
}

function table(header, rows) {
  const lines = [`| ${header.join(' | ')} |`, `|${header.map((h, i) => (i === 0 ? '---' : '---:')).join('|')}|`];
  for (const row of rows) lines.push(`| ${row.join(' | ')} |`);
  return lines.join('\n');
}

function ordered(contenders) {
  return ORDER.filter((name) => name in contenders);
}

function bold(name) {
  return name === 'pidfd' ? '**pidfd**' : name;
}

/** "a / b": process CPU and main-thread CPU per spawn of one phase's summary. */
function cpuPair(p) {
  return p ? `${num(p.cpuUsPerSpawn.median)} / ${num(p.mainCpuUsPerSpawn.median)}` : '–';
}

/** The median of per-round ratios key(a)/key(b), with their spread: "2.31× (2.10–2.52)". */
function pairedCell(a, b, key, invert = false) {
  const r = pairedRatios(a, b, key).map((x) => (invert ? 1 / x : x));
  if (r.length === 0) return '–';
  return `${times(median(r))} (${spread(r, (x) => times(x).replace('×', ''))})`;
}

/** Scenario 1: sequential spawn-and-await. Rates and latencies are the warmed-up phase's where
 * there is one (results of a run before the contenders were measured apart have only the one). */
export function sequentialTable(s) {
  const c = s.contenders;
  const rows = ordered(c).map((name) => [
    bold(name),
    num(c[name].rate.median),
    `${num(c[name].rate.p10)}–${num(c[name].rate.p90)}`,
    num(c[name].latencyMs.median),
    num(c[name].latencyMs.p99),
    times(c[name].rate.median / c[CP].rate.median),
    pairedCell(c[name], c[C], 'roundRates', true),
    ...(c[name].cold
      ? [cpuPair(c[name].warm), pairedCell(c[name].warm, c[C].warm, 'roundCpuUs'), cpuPair(c[name].cold), pairedCell(c[name].cold, c[C].cold, 'roundCpuUs')]
      : [c[name].cpuUsPerSpawn ? num(c[name].cpuUsPerSpawn.median) : '–', c[name].cpuUsPerSpawn && c[C].cpuUsPerSpawn ? times(c[name].cpuUsPerSpawn.median / c[C].cpuUsPerSpawn.median) : '–']),
  ]);
  const cpuHeader = c[C].cold
    ? [
        'parent CPU per spawn, warmed up, µs: process / main thread',
        'CPU vs C posix_spawn, warmed up (p10–p90)',
        'parent CPU per spawn, cold, µs: process / main thread',
        'CPU vs C posix_spawn, cold (p10–p90)',
      ]
    : ['parent CPU per spawn, µs', 'CPU vs C posix_spawn'];
  return table(
    [
      'contender',
      'spawns/s (median of rounds)',
      'p10–p90',
      'latency median, ms',
      'p99, ms',
      'speed-up vs child_process',
      'time vs C posix_spawn (p10–p90)',
      ...cpuHeader,
    ],
    rows,
  );
}

/** Scenario 2: 64 in flight. */
export function inflightTable(s) {
  const c = s.contenders;
  const apart = Boolean(c[C].cold);
  const rows = ordered(c).map((name) => [
    bold(name),
    num(c[name].rate.median),
    `${num(c[name].rate.p10)}–${num(c[name].rate.p90)}`,
    times(c[name].rate.median / c[CP].rate.median),
    pairedCell(c[name], c[C], 'roundRates'),
    ...(apart
      ? [
          num(c[name].cold.rate.median),
          cpuPair(c[name].warm),
          pairedCell(c[name].warm, c[C].warm, 'roundCpuUs'),
          cpuPair(c[name].cold),
          num(c[name].warm.childrenCpuUsPerSpawn?.median),
        ]
      : []),
  ]);
  return table(
    [
      'contender',
      'spawns/s (median of rounds)',
      'p10–p90',
      'speed-up vs child_process',
      'throughput vs C posix_spawn (p10–p90)',
      ...(apart
        ? [
            'spawns/s, cold',
            'parent CPU per spawn, warmed up, µs: process / main thread',
            'CPU vs C posix_spawn, warmed up',
            'parent CPU per spawn, cold, µs: process / main thread',
            "children's CPU per spawn, warmed up, µs",
          ]
        : []),
    ],
    rows,
  );
}

/** Scenario 3: latency per memory level, then the ratios the targets are about. */
export function memoryTables(s) {
  const levels = s.levels.filter((l) => !l.skipped);
  const names = ordered(levels[0]?.contenders ?? {});
  const latency = table(
    ['contender', ...levels.map((l) => `${l.gib} GiB: median / p99, ms (n)`)],
    names.map((name) => [
      bold(name),
      ...levels.map((l) => {
        const x = l.contenders[name];
        return `${num(x.latencyMs.median)} / ${num(x.latencyMs.p99)} (${x.n})`;
      }),
    ]),
  );
  const base = levels.find((l) => l.gib === 0)?.contenders.pidfd.latencyMs.median;
  const ratios = table(
    ['parent memory', 'pidfd vs pidfd at 0 GiB', 'child_process ÷ pidfd', 'pidfd ÷ C posix_spawn', 'parent RSS, GiB'],
    levels.map((l) => {
      const m = (name) => l.contenders[name].latencyMs.median;
      return [`${l.gib} GiB`, times(m('pidfd') / base), times(m(CP) / m('pidfd')), times(m('pidfd') / m(C)), num(l.rssGiB)];
    }),
  );
  const skipped = s.levels.filter((l) => l.skipped).map((l) => `- ${l.gib} GiB skipped: ${l.skipped}`);
  return [latency, ratios, ...skipped].join('\n\n');
}

/** Scenario 4: reaping K children, for one way of exiting (s.together or s.oneByOne). */
export function reapingTable(perK) {
  const rows = [];
  for (const level of perK) {
    const c = level.contenders;
    for (const name of ordered(c)) {
      const x = c[name];
      rows.push([
        String(level.k),
        bold(name),
        `${num(x.cpuPerExitUs.median)} (${num(x.cpuPerExitUs.p10)}–${num(x.cpuPerExitUs.p90)})`,
        num(x.wallMs.median),
        num(x.lastExitToResolvedMs.median),
        c[CP] ? times(c[CP].cpuPerExitUs.median / x.cpuPerExitUs.median) : '–',
        c['C pidfd+epoll'] ? times(x.cpuPerExitUs.median / c['C pidfd+epoll'].cpuPerExitUs.median) : '–',
      ]);
    }
  }
  return table(
    ['K', 'contender', 'parent CPU per exit, µs: median (p10–p90)', 'release → last resolved, ms', 'last exit → last resolved, ms', 'CPU: child_process ÷ this', 'CPU: this ÷ C pidfd+epoll'],
    rows,
  );
}

/** Per-contender medians of the footprint samples. */
export function footprintSummary(s) {
  const by = {};
  for (const sample of s.samples) (by[sample.contender] ??= []).push(sample);
  const out = {};
  for (const [name, list] of Object.entries(by)) {
    const rss = list.map((x) => x.rssBytes);
    const heap = list.map((x) => x.heapUsedBytes);
    out[name] = {
      n: list.length,
      rssBytes: { median: median(rss), min: Math.min(...rss), max: Math.max(...rss) },
      heapBytes: { median: median(heap), min: Math.min(...heap), max: Math.max(...heap) },
    };
  }
  return out;
}

/** Scenario 5: memory per live subprocess. */
export function footprintTable(s) {
  const f = footprintSummary(s);
  const rows = ordered(f).map((name) => {
    const x = f[name];
    return [
      bold(name),
      `${num(x.rssBytes.median / 1024)} (${num(x.rssBytes.min / 1024)}–${num(x.rssBytes.max / 1024)})`,
      `${num(x.heapBytes.median)} (${num(x.heapBytes.min)}–${num(x.heapBytes.max)})`,
      f[CP] ? times(x.rssBytes.median / f[CP].rssBytes.median) : '–',
      f[CP] ? times(x.heapBytes.median / f[CP].heapBytes.median) : '–',
    ];
  });
  return table(
    ['contender', `RSS per live child, KiB: median (min–max of ${s.repeats})`, 'JS heap per live child, bytes', 'RSS vs child_process', 'heap vs child_process'],
    rows,
  );
}

/** Scenario: process trees — a per-run cgroup's cost, and killing a tree by each means. */
export function treesTables(t) {
  const cost = table(
    ['spawn of /bin/true', 'latency median, ms', 'p10–p90, ms'],
    ['plain', 'cgroup'].map((name) => [
      name === 'cgroup' ? 'with `cgroup: true` (create, place, watch, remove)' : 'plain',
      num(t.cost[name].median),
      `${num(t.cost[name].p10)}–${num(t.cost[name].p90)}`,
    ]),
  );
  const kill = table(
    ['means', 'tree size', 'time until all it reaches are gone, ms (median)', 'survivors (median)'],
    Object.entries(t.kill).map(([name, k]) => [bold(name === 'cgroup' ? 'pidfd' : name) === '**pidfd**' ? '**cgroup (pidfd)**' : name, num(k.size.median), num(k.ms.median), num(k.survivors.median)]),
  );
  // Results from before the walk was measured have no killWalk.
  const walk =
    t.killWalk === undefined
      ? ''
      : `\n\n### Killing a tree of about ${num(t.killWalk['tree-kill'].size.median)} processes with setsid'd groups, none leaving the parentage: the two walks\n\n` +
        table(
          ['walk (a tree we did not start)', 'tree size', 'time until all are gone, ms (median)', 'survivors (median)'],
          Object.entries(t.killWalk).map(([name, k]) => [name === 'PidFd.killTree' ? '**PidFd.killTree**' : name, num(k.size.median), num(k.ms.median), num(k.survivors.median)]),
        );
  return (
    `### What a per-run cgroup adds to a spawn (N = ${t.n})\n\n${cost}\n\nAdded per spawn: ` +
    `${num(t.cost.cgroup.median - t.cost.plain.median)} ms (median).\n\n` +
    `### Killing a tree of about ${num(t.kill.cgroup.size.median)} processes with setsid'd groups and double-forked daemons\n\n${kill}${walk}`
  );
}

// ---- run() ----

const RUN_ORDER = [
  'pidfd run',
  'pidfd run, cleanup: false',
  'pidfd run, tree: false',
  'pidfd run().pipe()',
  "sh -c 'a | b'",
  'C read loop',
  'execa',
  'execa .pipe()',
  'nano-spawn',
  'nano-spawn .pipe()',
  'tinyexec',
  'tinyexec .pipe()',
  'child_process.execFile',
];

function runOrdered(contenders) {
  return [...RUN_ORDER.filter((name) => name in contenders), ...Object.keys(contenders).filter((n) => !RUN_ORDER.includes(n))];
}

/** A contender's name in a table cell: '|' escaped, ours in bold. */
function runBold(name) {
  const escaped = name.replaceAll('|', '\\|');
  return name.startsWith('pidfd') ? `**${escaped}**` : escaped;
}

/** run() scenario 1: run('/bin/true') after run('/bin/true'). */
export function runRateTable(s) {
  const c = s.contenders;
  const rows = runOrdered(c).map((name) => [
    runBold(name),
    num(c[name].rate.median),
    `${num(c[name].rate.p10)}–${num(c[name].rate.p90)}`,
    times(c[name].rate.median / c.execa.rate.median),
    num(c[name].cpuUsPerRun.median),
  ]);
  return table(['contender', 'runs/s (median of rounds)', 'p10–p90', 'speed-up vs execa', "this process's CPU per run, µs"], rows);
}

/** run() scenario 2: capturing a large stdout. */
/** run-tee: MiB/s through a capture and a file at once, against execa's array form. */
export function runTeeTable(s) {
  const c = s.contenders;
  const rows = Object.keys(c).map((name) => [
    runBold(name),
    num(c[name].mibPerS.median),
    `${num(c[name].mibPerS.p10)}–${num(c[name].mibPerS.p90)}`,
    times(c[name].mibPerS.median / c.execa.mibPerS.median),
    num(c[name].cpuS.median),
  ]);
  return table(['contender', 'MiB/s (median of rounds)', 'p10–p90', 'throughput vs execa', 'CPU of the running process, s'], rows);
}

export function runCaptureTable(s) {
  const c = s.contenders;
  const C = c['C read loop'];
  const rows = runOrdered(c).map((name) => [
    runBold(name),
    num(c[name].mibPerS.median),
    `${num(c[name].mibPerS.p10)}–${num(c[name].mibPerS.p90)}`,
    times(c[name].mibPerS.median / c.execa.mibPerS.median),
    times(C.mibPerS.median / c[name].mibPerS.median),
    num(c[name].cpuS.median),
  ]);
  return table(
    ['contender', 'MiB/s (median of rounds)', 'p10–p90', 'throughput vs execa', 'time vs C read loop', 'CPU of the capturing process, s'],
    rows,
  );
}

/** run() scenario 3: a two-command pipeline. */
export function runPipelineTable(s) {
  const c = s.contenders;
  const sh = c["sh -c 'a | b'"];
  const ex = c['execa .pipe()'];
  const rows = runOrdered(c).map((name) => [
    runBold(name),
    num(c[name].mibPerS.median),
    `${num(c[name].mibPerS.p10)}–${num(c[name].mibPerS.p90)}`,
    sh ? times(sh.mibPerS.median / c[name].mibPerS.median) : '–',
    ex ? times(c[name].mibPerS.median / ex.mibPerS.median) : '–',
    num(c[name].cpuS.median),
  ]);
  return table(
    ['contender', 'MiB/s (median of rounds)', 'p10–p90', "time vs sh -c 'a \\| b'", 'throughput vs execa .pipe()', 'CPU of the Node process, s'],
    rows,
  );
}

/** Per-contender medians of the run() footprint samples. */
export function runFootprintSummary(s) {
  return footprintSummary(s);
}

/** run() scenario 4: memory per running command. */
export function runFootprintTable(s) {
  const f = footprintSummary(s);
  const rows = runOrdered(f).map((name) => {
    const x = f[name];
    return [
      runBold(name),
      `${num(x.rssBytes.median / 1024)} (${num(x.rssBytes.min / 1024)}–${num(x.rssBytes.max / 1024)})`,
      `${num(x.heapBytes.median)} (${num(x.heapBytes.min)}–${num(x.heapBytes.max)})`,
      f.execa ? times(x.rssBytes.median / f.execa.rssBytes.median) : '–',
      f.execa ? times(x.heapBytes.median / f.execa.heapBytes.median) : '–',
    ];
  });
  return table(
    ['contender', `RSS per running command, KiB: median (min–max of ${s.repeats})`, 'JS heap per running command, bytes', 'RSS vs execa', 'heap vs execa'],
    rows,
  );
}
