// The compat scenario's tables and targets (issue 12): pidfd/child_process against Node's
// child_process, side by side in one run.

import { median, quantile } from './stats.js';
import { num, times } from './tables.js';

const PC = 'pidfd/child_process';
const CP = 'child_process';

const labels = {
  spawnExit: "spawn('/bin/true', { stdio: 'ignore' }) + 'exit'",
  spawnClose: "spawn('/bin/true') (three pipes) + 'close'",
  execFile: "execFile('/bin/true') + callback",
  execFileSync: "execFileSync('/bin/true')",
  forkRoundTrip: 'fork() + one IPC round trip + exit',
};

function table(header, rows) {
  return [`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join(
    '\n',
  );
}

/** "p10–p90 of the per-round ratios" of a's rate over b's, paired within each round. */
function roundSpread(a, b) {
  const ratios = a.roundRates.map((rate, i) => rate / b.roundRates[i]);
  return `${times(quantile(ratios, 0.1))}–${times(quantile(ratios, 0.9))}`;
}

/** Per-contender medians of the footprint samples. */
function footprintBy(samples) {
  const out = {};
  for (const name of [PC, CP]) {
    const list = samples.filter((s) => s.contender === name);
    if (list.length === 0) continue;
    out[name] = { rss: median(list.map((s) => s.rssBytes)), heap: median(list.map((s) => s.heapUsedBytes)), n: list.length };
  }
  return out;
}

/** Markdown: the operations, execFileSync against the parent's memory, and the footprint. */
export function compatTables(s) {
  const parts = [];
  const rows = Object.entries(s.operations).map(([op, c]) => [
    labels[op] ?? op,
    `${num(c[PC].rate.median)} / ${num(c[CP].rate.median)}`,
    `${num(c[PC].latencyMs.median)} / ${num(c[CP].latencyMs.median)}`,
    `${num(c[PC].cpuUsPerOp.median)} / ${num(c[CP].cpuUsPerOp.median)}`,
    `**${times(c[PC].rate.median / c[CP].rate.median)}**`,
    roundSpread(c[PC], c[CP]),
  ]);
  parts.push(
    table(
      ['operation (sequential)', 'per s: pidfd / Node', 'latency median, ms: pidfd / Node', 'parent CPU per op, µs: pidfd / Node', 'pidfd speed-up', 'per-round p10–p90'],
      rows,
    ),
  );
  const levels = s.memory.levels.filter((l) => !l.skipped);
  if (levels.length > 0) {
    const base = levels.find((l) => l.gib === 0);
    parts.push(
      table(
        ['parent memory', 'execFileSync, pidfd: median / p99, ms (n)', 'Node: median / p99, ms (n)', 'Node ÷ pidfd', 'pidfd vs pidfd at 0 GiB', 'parent RSS, GiB'],
        levels.map((l) => {
          const p = l.contenders[PC];
          const c = l.contenders[CP];
          return [
            `${l.gib} GiB`,
            `${num(p.latencyMs.median)} / ${num(p.latencyMs.p99)} (${p.n})`,
            `${num(c.latencyMs.median)} / ${num(c.latencyMs.p99)} (${c.n})`,
            times(c.latencyMs.median / p.latencyMs.median),
            base ? times(p.latencyMs.median / base.contenders[PC].latencyMs.median) : '–',
            num(l.rssGiB),
          ];
        }),
      ),
    );
  }
  for (const l of s.memory.levels.filter((x) => x.skipped)) parts.push(`- ${l.gib} GiB skipped: ${l.skipped}`);
  const f = footprintBy(s.footprint.samples);
  if (f[PC] && f[CP]) {
    parts.push(
      table(
        [`live ChildProcess (K = ${s.footprint.k}, stdio ignored)`, 'RSS per child, KiB', 'JS heap per child, bytes', 'samples'],
        [PC, CP].map((name) => [name, num(f[name].rss / 1024), num(f[name].heap), String(f[name].n)]),
      ),
    );
  }
  return parts.join('\n\n');
}

function verdict(ok) {
  if (ok === null) return 'not measured';
  return ok ? 'met' : 'missed';
}

/** The compat targets of issue 12 (DESIGN.md, next layers), as evaluateTargets rows. */
export function compatTargets(s) {
  if (!s) return [];
  const out = [];
  const rate = (op) => {
    const c = s.operations[op];
    return c ? { ratio: c[PC].rate.median / c[CP].rate.median, c } : null;
  };
  for (const [id, op, goal, what] of [
    ['compat-spawn', 'spawnExit', 2.5, "compat spawn + 'exit': at least 2.5× child_process's rate"],
    ['compat-execfile', 'execFile', 2.5, "compat execFile: at least 2.5× child_process's rate"],
    ['compat-execfilesync', 'execFileSync', 2, "compat execFileSync('/bin/true'): at least 2× Node's"],
  ]) {
    const r = rate(op);
    out.push({
      id,
      target: what,
      measured: r ? `${times(r.ratio)} (${num(r.c[PC].rate.median)} vs ${num(r.c[CP].rate.median)} per s; per-round ${roundSpread(r.c[PC], r.c[CP])})` : 'not run',
      verdict: verdict(r ? r.ratio >= goal : null),
    });
  }
  const base = s.memory.levels.find((l) => l.gib === 0 && !l.skipped);
  const big = s.memory.levels.find((l) => l.gib === 4);
  const m = (l, name) => l.contenders[name].latencyMs.median;
  out.push({
    id: 'compat-execfilesync-4gib',
    target: 'compat execFileSync with 4 GiB resident: within 1.2× of its own small-heap latency',
    measured:
      big && !big.skipped && base
        ? `${times(m(big, PC) / m(base, PC))} (${num(m(big, PC))} vs ${num(m(base, PC))} ms); Node's ${times(m(big, CP) / m(big, PC))} slower there`
        : (big?.skipped ?? 'level not run'),
    verdict: verdict(big && !big.skipped && base ? m(big, PC) / m(base, PC) <= 1.2 : null),
  });
  const fork = s.operations.forkRoundTrip;
  out.push({
    id: 'compat-fork',
    target: "compat fork() + one IPC round trip + exit: no slower than Node's",
    measured: fork
      ? `${times(fork[PC].latencyMs.median / fork[CP].latencyMs.median)} Node's time (${num(fork[PC].latencyMs.median)} vs ${num(fork[CP].latencyMs.median)} ms)`
      : 'not run',
    verdict: verdict(fork ? fork[PC].latencyMs.median <= fork[CP].latencyMs.median : null),
  });
  const f = footprintBy(s.footprint.samples);
  out.push({
    id: 'compat-footprint',
    target: 'compat: memory per live ChildProcess at most that of Node\'s',
    measured:
      f[PC] && f[CP]
        ? `RSS ${num(f[PC].rss / 1024)} vs ${num(f[CP].rss / 1024)} KiB (${times(f[PC].rss / f[CP].rss)}), JS heap ${num(f[PC].heap)} vs ${num(f[CP].heap)} bytes (${times(f[PC].heap / f[CP].heap)})`
        : 'not run',
    verdict: verdict(f[PC] && f[CP] ? f[PC].rss <= f[CP].rss && f[PC].heap <= f[CP].heap : null),
  });
  return out;
}

/** Markdown: `node -e 0` with and without `--import pidfd/register` (the register-startup scenario). */
export function registerStartupTable(r) {
  const rows = Object.entries(r.variants).map(([name, v]) => [
    `\`${name}\``,
    num(v.median),
    `${num(v.p10)}–${num(v.p90)}`,
    r.cpu ? `${num(r.cpu.variants[name].median)} (${num(r.cpu.variants[name].p10)}–${num(r.cpu.variants[name].p90)})` : '–',
    String(v.n),
  ]);
  return [
    table(['process (rotating order)', 'wall time median, ms', 'wall p10–p90, ms', 'CPU time median (p10–p90), ms', 'runs'], rows),
    `Added by \`--import pidfd/register\`: **${num(r.addedMs)} ms** (difference of the medians); ` +
      (r.loadAverage ? `load average ${r.loadAverage.map((l) => l.toFixed(2)).join(', ')} when the scenario started; ` : '') +
      `median of the ${r.pairDiffMs.n} per-round differences ${num(r.pairDiffMs.median)} ms (p10–p90 ${num(r.pairDiffMs.p10)} to ${num(r.pairDiffMs.p90)})` +
      (r.cpu ? `; CPU time added (difference of the medians, \`perf stat -e task-clock\`): **${num(r.cpu.addedMs)} ms**, median of the per-round differences ${num(r.cpu.pairDiffMs.median)} ms` : '') +
      `. What the registration cannot do without: \`--import\` of an empty package adds ${num(r.emptyImportAddedMs)} ms of wall time${r.cpu ? ` and ${num(r.cpu.emptyImportAddedMs)} ms of CPU` : ''} ` +
      `(Node's ES module loader and its reading of files, which \`node -e 0\` does not start, and the resolution of a bare specifier); ` +
      `loading Node's \`child_process\` ${num(r.builtinAddedMs)} ms${r.cpu ? ` and ${num(r.cpu.builtinAddedMs)} ms of CPU` : ''}. ` +
      `What is left for pidfd's own modules: ${num(r.addedMs - r.emptyImportAddedMs - r.builtinAddedMs)} ms of wall time` +
      `${r.cpu ? `, ${num(r.cpu.addedMs - r.cpu.emptyImportAddedMs - r.cpu.builtinAddedMs)} ms of CPU` : ''}; ` +
      (r.marginal
        ? `measured in one process once those are paid, \`import('pidfd/register')\` takes ${num(r.marginal.registerMs.median)} ms (median), a second empty package ${num(r.marginal.emptyPackageMs.median)} ms` +
          (r.marginal.registerCpuMs ? ` (main-thread CPU ${num(r.marginal.registerCpuMs.median)} and ${num(r.marginal.emptyPackageCpuMs.median)} ms)` : '') +
          '.'
        : '') +
      (r.floorAddedMs !== undefined
        ? ` Against both paid at once (\`--import\` of an empty package and loading \`child_process\`: ${num(r.floorAddedMs)} ms of wall time` +
          `${r.cpu ? `, ${num(r.cpu.floorAddedMs)} ms of CPU` : ''} over \`node -e 0\`), the registration adds ${num(r.overFloorPairDiffMs.median)} ms of wall time` +
          `${r.cpu ? ` and ${num(r.cpu.overFloorPairDiffMs.median)} ms of CPU` : ''} (medians of the per-round differences).`
        : ''),
  ].join('\n\n');
}

/** The start-up target of issue 17: register adds at most 3 ms to `node -e 0`. */
export function registerStartupTargets(r) {
  if (!r) return [];
  const load = r.loadAverage ? `; load average ${r.loadAverage.map((l) => l.toFixed(2)).join(', ')} at the start of the run` : '';
  return [
    {
      id: 'register-startup',
      target: '`--import pidfd/register`: at most 3 ms added to `node -e 0` (median of 20 alternating runs; judged on CPU time where `perf` counts it)',
      measured: `${num(r.addedMs)} ms (${num(r.variants['node --import pidfd/register -e 0'].median)} vs ${num(r.variants['node -e 0'].median)} ms; per-round median ${num(r.pairDiffMs.median)} ms${r.cpu ? `; CPU time ${num(r.cpu.addedMs)} ms` : ''}` +
        `${r.floorAddedMs !== undefined ? `; over the floor of any --import registration (an empty package and Node's child_process): ${num(r.overFloorPairDiffMs.median)} ms${r.cpu ? `, CPU ${num(r.cpu.overFloorPairDiffMs.median)} ms` : ''}` : ''}${load})`,
      // The CPU time where perf could count it: on a loaded machine the wall time of a process
      // that short moves by tens of ms from run to run (either way), its CPU time much less.
      verdict: verdict((r.cpu ? r.cpu.addedMs : r.addedMs) <= 3),
    },
  ];
}

/** The compat-stdio scenario: MiB/s through a child's stdout and stdin, per kind of channel. */
export function compatStdioTables(s) {
  const parts = [];
  for (const [direction, c] of Object.entries(s.directions)) {
    const base = c['child_process (socketpair)'];
    const rows = Object.entries(c).map(([name, x]) => [
      name,
      num(x.mibPerS.median),
      `${num(x.mibPerS.p10)}–${num(x.mibPerS.p90)}`,
      base ? times(x.mibPerS.median / base.mibPerS.median) : '–',
      num(x.cpuS.median),
      num(x.childCpuS.median),
    ]);
    const what = direction === 'stdout' ? "the child's stdout (dd writing 1 MiB blocks, read here)" : "the child's stdin (1 MiB writes here, dd reading)";
    parts.push(
      table([`${what}`, 'MiB/s (median of rounds)', 'p10–p90', 'vs child_process', 'CPU of this process, s', 'CPU of the child, s'], rows),
    );
  }
  return parts.join('\n\n');
}
