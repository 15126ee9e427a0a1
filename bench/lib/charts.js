// The charts of docs/benchmarks.md, drawn from one results file.

import { figure, fmt, hbarChart, lineChart } from './svg.js';
import { footprintSummary, ORDER } from './tables.js';

/** One colour per contender, pidfd in red; the C limits grey and dashed. */
export const STYLE = {
  pidfd: { color: '#d62728', bold: true },
  'pidfd/child_process': { color: '#e377c2' },
  child_process: { color: '#1f77b4' },
  execa: { color: '#ff7f0e' },
  'nano-spawn': { color: '#2ca02c' },
  tinyexec: { color: '#9467bd' },
  'C posix_spawn': { color: '#444444', dash: '6 4' },
  'C clone3': { color: '#9a9a9a', dash: '2 3' },
  'C pidfd+epoll': { color: '#444444', dash: '6 4' },
};

function names(contenders) {
  return ORDER.filter((n) => n in contenders);
}

function rateRows(contenders) {
  const cp = contenders.child_process.rate.median;
  return names(contenders).map((name) => {
    const rate = contenders[name].rate.median;
    return {
      label: name,
      value: rate,
      lo: contenders[name].rate.p10,
      hi: contenders[name].rate.p90,
      color: STYLE[name].color,
      bold: name === 'pidfd',
      note: name === 'pidfd' ? `${fmt(rate)} = ${(rate / cp).toFixed(2)}× child_process` : undefined,
    };
  });
}

/** Spawn rate bars: sequential and 64 in flight. */
export function spawnRateChart(results) {
  const { sequential: seq, inflight: par } = results.scenarios;
  return figure(
    [
      hbarChart({
        title: `Sequential spawn-and-await of /bin/true (N = ${seq.n} per contender)`,
        subtitle: 'Spawns per second, median of rounds; whiskers: p10–p90. Longer is better.',
        axisLabel: 'spawns per second',
        rows: rateRows(seq.contenders),
        right: 190,
      }),
      hbarChart({
        title: `${par.inflight} spawns in flight (N = ${par.n} per contender)`,
        subtitle: 'Spawns per second, median of rounds; whiskers: p10–p90. Longer is better.',
        axisLabel: 'spawns per second',
        rows: rateRows(par.contenders),
        right: 190,
      }),
    ],
    `${results.machine.cpuModel}, ${results.machine.cores} cores, Linux ${results.machine.kernel}, Node ${results.machine.node}; stdio 'ignore' for every contender.`,
  );
}

/** Latency against parent memory, log scale. */
export function memoryChart(results) {
  const levels = results.scenarios.memory.levels.filter((l) => !l.skipped);
  const all = names(levels[0].contenders);
  const series = (field) =>
    all.map((name) => ({
      name,
      ...STYLE[name],
      points: levels.map((l) => ({ x: l.gib, y: l.contenders[name].latencyMs[field] })),
    }));
  const xTicks = levels.map((l) => ({ value: l.gib, label: `${l.gib} GiB` }));
  return figure(
    [
      lineChart({
        title: 'Spawn latency against the parent\'s resident memory',
        subtitle: 'Median per spawn-and-await of /bin/true, ms, log scale. Lower is better.',
        xLabel: 'parent memory held in touched ArrayBuffers (the C programs hold the same)',
        yLabel: 'median latency, ms (log)',
        xTicks,
        series: series('median'),
        logY: true,
        legendTitle: `at ${levels[levels.length - 1].gib} GiB:`,
      }),
      lineChart({
        title: 'The same, p99',
        xLabel: 'parent memory, GiB',
        yLabel: 'p99 latency, ms (log)',
        xTicks,
        series: series('p99'),
        logY: true,
        height: 330,
        legendTitle: `at ${levels[levels.length - 1].gib} GiB:`,
      }),
    ],
    `Fork-based contenders (child_process, execa, nano-spawn, tinyexec) ran fewer spawns at 1, 4 and 8 GiB: see the table for n.`,
  );
}

/** Reaping cost and lag against K, all at once and one by one. */
export function reapingChart(results) {
  const r = results.scenarios.reaping;
  const panel = (perK, title, subtitle, yLabel, pick, height) =>
    lineChart({
      title,
      subtitle,
      xLabel: 'K, concurrent children',
      yLabel,
      xTicks: perK.map((l) => ({ value: l.k, label: String(l.k) })),
      series: names(perK[0].contenders).map((name) => ({
        name,
        ...STYLE[name],
        points: perK.map((l) => ({ x: l.k, y: Math.max(pick(l.contenders[name]), 0.01) })),
      })),
      logY: true,
      height,
      legendTitle: `at K = ${perK[perK.length - 1].k}:`,
    });
  const cpu = (c) => c.cpuPerExitUs.median;
  return figure(
    [
      panel(r.together, 'Parent CPU per exit: K children exiting all at once',
        'process.cpuUsage() from the release to the last resolved exit, ÷ K; µs, log scale. Flat in K is the target.',
        'CPU per exit, µs (log)', cpu),
      panel(r.oneByOne, `Parent CPU per exit: K children exiting one by one, ${r.gapUs} µs apart`,
        'µs, log scale. Flat in K is the target; libuv sweeps every live child on each SIGCHLD.',
        'CPU per exit, µs (log)', cpu),
      panel(r.together, 'Release → last resolved promise, all at once',
        'ms, log scale: the K exits themselves share the CPUs with the reaping. Lower is better.',
        'ms (log)', (c) => c.wallMs.median, 320),
      panel(r.oneByOne, 'Last child\'s exit → last resolved promise, one by one',
        'ms, log scale: the notification latency of one exit. Lower is better.',
        'ms (log)', (c) => c.lastExitToResolvedMs.median, 320),
    ],
    'The C line reaps clone3 children through pidfds in one epoll set: the limit without Node.',
  );
}

/** Memory per live subprocess. */
export function footprintChart(results) {
  const f = footprintSummary(results.scenarios.footprint);
  const rows = (pick, scale) =>
    names(f).map((name) => ({
      label: name,
      value: pick(f[name]).median / scale,
      lo: pick(f[name]).min / scale,
      hi: pick(f[name]).max / scale,
      color: STYLE[name].color,
      bold: name === 'pidfd',
    }));
  const k = results.scenarios.footprint.k;
  return figure([
    hbarChart({
      title: `Parent RSS per live subprocess (K = ${k}, stdio ignored)`,
      subtitle: 'KiB; median of fresh workers, whiskers min–max. Shorter is better.',
      axisLabel: 'KiB per live child',
      rows: rows((x) => x.rssBytes, 1024),
      format: (v) => fmt(v),
    }),
    hbarChart({
      title: 'JS heap per live subprocess',
      subtitle: 'bytes (heapUsed after GC); median, whiskers min–max. Shorter is better.',
      axisLabel: 'bytes per live child',
      rows: rows((x) => x.heapBytes, 1),
    }),
  ]);
}
