// The performance targets of DESIGN.md, checked against one results file.

import { compatTargets, registerStartupTargets } from './compat-tables.js';
import { quantile } from './stats.js';
import { footprintSummary, num, times } from './tables.js';

const CP = 'child_process';
const C = 'C posix_spawn';

/** Criterion used for "flat in K": CPU per exit at the largest K over the smallest, at most this. */
export const FLAT_LIMIT = 1.5;

/** ", per-round ratios p10–p90: a–b": a's `key` (rates by default) over b's, paired within each
 * round (min–max for fewer than 5 rounds). */
function pairedSpread(a, b, invert = false, key = 'roundRates') {
  if (!a?.[key] || !b?.[key]) return '';
  const ratios = a[key].map((x, i) => (invert ? b[key][i] / x : x / b[key][i]));
  if (ratios.length < 5) return `; per-round ratios min–max: ${times(Math.min(...ratios))}–${times(Math.max(...ratios))}`;
  return `; per-round ratios p10–p90: ${times(quantile(ratios, 0.1))}–${times(quantile(ratios, 0.9))}`;
}

/** The median of the per-round ratios of a's `key` over b's (inverted: b's over a's), or null. */
function pairedMedian(a, b, key, invert = false) {
  if (!a?.[key] || !b?.[key]) return null;
  return quantile(a[key].map((x, i) => (invert ? b[key][i] / x : x / b[key][i])), 0.5);
}

/** "; load average a → b": a scenario's load at its start and end, where it recorded them. */
function loadOf(s) {
  if (!s.loadAverage) return '';
  const f = (l) => l.map((x) => x.toFixed(1)).join(' ');
  return `; load average ${f(s.loadAverage.start)} → ${f(s.loadAverage.end)}`;
}

function verdict(ok) {
  if (ok === null) return 'not measured';
  return ok ? 'met' : 'missed';
}

/** [{ id, target, measured, verdict }] for every target the results can speak to. */
export function evaluateTargets(results) {
  const { sequential, inflight, memory, reaping, footprint, compat } = results.scenarios;
  const runRate = results.scenarios['run-rate'];
  const runCapture = results.scenarios['run-capture'];
  const runPipeline = results.scenarios['run-pipeline'];
  const runFootprint = results.scenarios['run-footprint'];
  const out = [];

  if (sequential) {
    const c = sequential.contenders;
    const vsC = pairedMedian(c.pidfd, c[C], 'roundRates', true) ?? c[C].rate.median / c.pidfd.rate.median;
    out.push({
      id: 'sequential-c',
      target: 'Sequential spawn of /bin/true: wall time within 1.10× of a C posix_spawn loop',
      measured:
        `${times(vsC)} the C loop's time per spawn (${num(c.pidfd.rate.median)} vs ` +
        `${num(c[C].rate.median)} spawns/s${pairedSpread(c.pidfd, c[C], true)}${loadOf(sequential)})`,
      verdict: verdict(vsC <= 1.1),
    });
    if (c.pidfd.cold) {
      // Measured apart (lib/apart.js): warmed up and cold, process and main thread, paired ratios.
      for (const [phase, limit, id] of [['warm', 2.0, 'sequential-cpu'], ['cold', 2.6, 'sequential-cpu-cold']]) {
        const ours = c.pidfd[phase];
        const ref = c[C][phase];
        if (!ours || !ref) continue;
        const ratio = pairedMedian(ours, ref, 'roundCpuUs');
        const main = pairedMedian(ours, ref, 'roundMainCpuUs');
        const what = phase === 'warm' ? `warmed up (after ${sequential.settle} spawns)` : `cold (after ${sequential.warmup} spawns)`;
        out.push({
          id,
          target: `Sequential spawn: the parent's CPU time per spawn, ${phase === 'warm' ? 'warmed up' : 'cold'}, within ${limit.toFixed(1)}× of the C posix_spawn loop's`,
          measured:
            `${times(ratio)} ${what} (${num(ours.cpuUsPerSpawn.median)} vs ${num(ref.cpuUsPerSpawn.median)} µs per spawn, median of per-round ratios` +
            `${pairedSpread(ours, ref, false, 'roundCpuUs')}; main thread alone ${num(ours.mainCpuUsPerSpawn.median)} µs, ${times(main)}; ` +
            `child_process ${times(pairedMedian(c[CP][phase], ref, 'roundCpuUs'))}${loadOf(sequential)})`,
          verdict: verdict(ratio <= limit),
        });
      }
      const dropin = c['pidfd/child_process'];
      if (dropin?.warm && c.pidfd.warm) {
        const ratio = pairedMedian(dropin.warm, c.pidfd.warm, 'roundCpuUs');
        const cold = pairedMedian(dropin.cold, c.pidfd.cold, 'roundCpuUs');
        out.push({
          id: 'dropin-cpu',
          target: "Drop-in: pidfd/child_process's spawn + 'exit', parent CPU per spawn within 1.3× of spawn()'s",
          measured:
            `${times(ratio)} warmed up (${num(dropin.warm.cpuUsPerSpawn.median)} vs ${num(c.pidfd.warm.cpuUsPerSpawn.median)} µs` +
            `${pairedSpread(dropin.warm, c.pidfd.warm, false, 'roundCpuUs')}); cold ${times(cold)} ` +
            `(${num(dropin.cold.cpuUsPerSpawn.median)} vs ${num(c.pidfd.cold.cpuUsPerSpawn.median)} µs)${loadOf(sequential)}`,
          verdict: verdict(ratio <= 1.3),
        });
      }
    } else if (c.pidfd.cpuUsPerSpawn && c[C].cpuUsPerSpawn) {
      // A results file from before the contenders were measured apart: one phase, in one worker.
      const cpuVsC = c.pidfd.cpuUsPerSpawn.median / c[C].cpuUsPerSpawn.median;
      out.push({
        id: 'sequential-cpu',
        target: "Sequential spawn: the parent's CPU time per spawn within 2.0× of the C posix_spawn loop's (warmed up)",
        measured:
          `${times(cpuVsC)} after 20 spawns of warm-up, all contenders in one worker (${num(c.pidfd.cpuUsPerSpawn.median)} vs ${num(c[C].cpuUsPerSpawn.median)} µs per spawn; ` +
          `child_process ${times(c[CP].cpuUsPerSpawn.median / c[C].cpuUsPerSpawn.median)})`,
        verdict: verdict(cpuVsC <= 2.0),
      });
    }
  }

  if (memory) {
    const base = memory.levels.find((l) => l.gib === 0 && !l.skipped);
    for (const gib of [4, 8]) {
      const level = memory.levels.find((l) => l.gib === gib);
      const id = `memory-${gib}`;
      const target = `Spawn latency with ${gib} GiB resident: within 1.2× of pidfd with a small heap`;
      if (!level || level.skipped || !base) {
        out.push({ id, target, measured: level?.skipped ?? 'level not run', verdict: verdict(null) });
        continue;
      }
      const m = (l, name) => l.contenders[name].latencyMs.median;
      const ratio = m(level, 'pidfd') / m(base, 'pidfd');
      out.push({
        id,
        target,
        measured:
          `${times(ratio)} (${num(m(level, 'pidfd'))} vs ${num(m(base, 'pidfd'))} ms); ` +
          `child_process ${times(m(level, CP) / m(level, 'pidfd'))} slower than pidfd there`,
        verdict: verdict(ratio <= 1.2),
      });
    }
  }

  if (inflight) {
    const c = inflight.contenders;
    const ratio = pairedMedian(c.pidfd, c[C], 'roundRates') ?? c.pidfd.rate.median / c[C].rate.median;
    let cpu = c.pidfd.warm && c[C].warm ? `; parent CPU per spawn ${num(c.pidfd.warm.cpuUsPerSpawn.median)} vs ${num(c[C].warm.cpuUsPerSpawn.median)} µs` : '';
    const kids = (x) => x?.warm?.childrenCpuUsPerSpawn?.median;
    if (Number.isFinite(kids(c.pidfd)) && Number.isFinite(kids(c[C]))) {
      // With the machine's CPU the limit, throughput goes as 1 / (parent's + children's CPU per spawn).
      const bound = (c[C].warm.cpuUsPerSpawn.median + kids(c[C])) / (c.pidfd.warm.cpuUsPerSpawn.median + kids(c.pidfd));
      cpu += `, children's ${num(kids(c.pidfd))} vs ${num(kids(c[C]))} µs: a machine whose CPU is the limit would give ${times(bound)}`;
    }
    out.push({
      id: 'inflight',
      target: `${inflight.inflight} spawns in flight: at least 0.95× the C posix_spawn loop's throughput at the same concurrency`,
      measured:
        `${times(ratio)} (${num(c.pidfd.rate.median)} vs ${num(c[C].rate.median)} spawns/s` +
        `${pairedSpread(c.pidfd, c[C])}${cpu}; child_process ${num(c[CP].rate.median)} spawns/s${loadOf(inflight)})`,
      verdict: verdict(ratio >= 0.95),
    });
  }

  if (reaping) {
    const modes = [
      ['reaping-together', 'all at once', reaping.together],
      ['reaping-one-by-one', `one by one, ${reaping.gapUs} µs apart`, reaping.oneByOne],
    ];
    for (const [id, how, perK] of modes) {
      if (perK.length < 2) continue;
      const first = perK[0];
      const last = perK[perK.length - 1];
      const cpu = (level, name) => level.contenders[name]?.cpuPerExitUs.median;
      const growth = cpu(last, 'pidfd') / cpu(first, 'pidfd');
      const cpGrowth = cpu(last, CP) / cpu(first, CP);
      out.push({
        id,
        target:
          `Exit notification, K = ${first.k} … ${last.k} exiting ${how}: parent CPU per exit flat in K ` +
          `(criterion: K=${last.k} ≤ ${FLAT_LIMIT}× K=${first.k})`,
        measured:
          `pidfd ${num(cpu(first, 'pidfd'))} → ${num(cpu(last, 'pidfd'))} µs (${times(growth)}); ` +
          `child_process ${num(cpu(first, CP))} → ${num(cpu(last, CP))} µs (${times(cpGrowth)})`,
        verdict: verdict(growth <= FLAT_LIMIT),
      });
    }
  }

  if (footprint) {
    const f = footprintSummary(footprint);
    if (f.pidfd && f[CP]) {
      const rss = f.pidfd.rssBytes.median / f[CP].rssBytes.median;
      const heap = f.pidfd.heapBytes.median / f[CP].heapBytes.median;
      out.push({
        id: 'footprint',
        target: 'Memory per live Subprocess at most that of a ChildProcess',
        measured:
          `RSS ${num(f.pidfd.rssBytes.median / 1024)} vs ${num(f[CP].rssBytes.median / 1024)} KiB (${times(rss)}), ` +
          `JS heap ${num(f.pidfd.heapBytes.median)} vs ${num(f[CP].heapBytes.median)} bytes (${times(heap)})`,
        verdict: verdict(rss <= 1 && heap <= 1),
      });
    }
  }
  out.push(...compatTargets(compat));
  out.push(...registerStartupTargets(results.scenarios['register-startup']));
  if (runRate) {
    const c = runRate.contenders;
    const ratio = c['pidfd run'].rate.median / c.execa.rate.median;
    out.push({
      id: 'run-rate',
      target: "run('/bin/true') rate: at least 2.5× execa's",
      measured:
        `${times(ratio)} (${num(c['pidfd run'].rate.median)} vs ${num(c.execa.rate.median)} runs/s` +
        `${pairedSpread(c['pidfd run'], c.execa)}); without cleanup ${num(c['pidfd run, cleanup: false'].rate.median)} runs/s`,
      verdict: verdict(ratio >= 2.5),
    });
  }

  if (runCapture) {
    const c = runCapture.contenders;
    const size = runCapture.mib >= 1024 ? `${runCapture.mib / 1024} GiB` : `${runCapture.mib} MiB`;
    const vsExeca = c['pidfd run'].mibPerS.median / c.execa.mibPerS.median;
    out.push({
      id: 'run-capture-execa',
      target: `Capturing ${size} of stdout: at least 2× execa's throughput`,
      measured: `${times(vsExeca)} (${num(c['pidfd run'].mibPerS.median)} vs ${num(c.execa.mibPerS.median)} MiB/s${pairedSpread(c['pidfd run'], c.execa)})`,
      verdict: verdict(vsExeca >= 2),
    });
    const vsC = c['C read loop'].mibPerS.median / c['pidfd run'].mibPerS.median;
    out.push({
      id: 'run-capture-c',
      target: `Capturing ${size} of stdout: within 1.5× of a C read loop`,
      measured: `${times(vsC)} the C loop's time (${num(c['pidfd run'].mibPerS.median)} vs ${num(c['C read loop'].mibPerS.median)} MiB/s${pairedSpread(c['pidfd run'], c['C read loop'], true)})`,
      verdict: verdict(vsC <= 1.5),
    });
  }

  if (runPipeline) {
    const c = runPipeline.contenders;
    const size = runPipeline.mib >= 1024 ? `${runPipeline.mib / 1024} GiB` : `${runPipeline.mib} MiB`;
    const ours = c['pidfd run().pipe()'];
    const sh = c["sh -c 'a | b'"];
    const vsSh = sh.mibPerS.median / ours.mibPerS.median;
    out.push({
      id: 'run-pipeline-sh',
      target: `A two-command pipeline moving ${size}: within 1.2× of sh -c 'a \\| b'`,
      measured: `${times(vsSh)} the shell's time (${num(ours.mibPerS.median)} vs ${num(sh.mibPerS.median)} MiB/s${pairedSpread(ours, sh, true)})`,
      verdict: verdict(vsSh <= 1.2),
    });
    const ex = c['execa .pipe()'];
    if (ex) {
      const vsExeca = ours.mibPerS.median / ex.mibPerS.median;
      out.push({
        id: 'run-pipeline-execa',
        target: `A two-command pipeline moving ${size}: at least 3× execa's .pipe()`,
        measured: `${times(vsExeca)} (${num(ours.mibPerS.median)} vs ${num(ex.mibPerS.median)} MiB/s${pairedSpread(ours, ex)})`,
        verdict: verdict(vsExeca >= 3),
      });
    }
  }

  if (runFootprint) {
    const f = footprintSummary(runFootprint);
    const ours = f['pidfd run'];
    if (ours && f.execa) {
      const rss = ours.rssBytes.median / f.execa.rssBytes.median;
      const heap = ours.heapBytes.median / f.execa.heapBytes.median;
      out.push({
        id: 'run-footprint',
        target: 'Memory per running RunProcess: no more than execa\'s',
        measured:
          `RSS ${num(ours.rssBytes.median / 1024)} vs ${num(f.execa.rssBytes.median / 1024)} KiB (${times(rss)}), ` +
          `JS heap ${num(ours.heapBytes.median)} vs ${num(f.execa.heapBytes.median)} bytes (${times(heap)})`,
        verdict: verdict(rss <= 1 && heap <= 1),
      });
    }
  }
  return out;
}
