// Contenders measured apart: each contender's share of a round runs in a fresh worker process of
// its own, so that no other library's garbage, compiled code or heap is charged to it (a pidfd
// figure measured in a worker where the other libraries had run was about 15% higher:
// SPAWN-CPU.md), and the rounds still alternate the contenders in a rotated order, so that a
// busy moment of the machine hits all of them.
//
// Inside a worker, one contender is measured twice: cold (after `warmup` untimed operations,
// `cold` timed ones: code V8 has not optimized yet, what a short-lived program sees) and warmed
// up (untimed operations until `settle` in all, then `warm` timed ones: the steady state of a
// long-running one). Each timed phase gives its wall time, the whole process's CPU time
// (process.cpuUsage(), all threads: V8's compiler and GC threads included) and the main thread's
// (/proc/thread-self/schedstat); for a C contender both are its server's (getrusage).

import { cpuMark, cpuSince } from './clock.js';
import { log } from './log.js';
import { quantile, summarize } from './stats.js';

/**
 * Runs `rounds` rounds; in round r the contenders start at index r (mod their count), each in
 * `await runOne(name, round)` (which starts a fresh worker). Returns name -> [result of each
 * round], in round order.
 */
export async function roundsApart(names, rounds, runOne, label) {
  const out = Object.fromEntries(names.map((name) => [name, []]));
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(r + i) % names.length];
      out[name][r] = await runOne(name, r);
    }
    if (label) log(`${label}: round ${r + 1}/${rounds} done`);
  }
  return out;
}

/**
 * In a worker: `untimed(count)` and `timed(count)` do `count` operations; timed() returns what
 * it measured ({ wallNs, processNs, mainNs, lat? }). Returns { cold, warm }, each that plus
 * `count` (null for a phase of 0).
 */
export async function coldAndWarm({ warmup, cold, settle, warm }, untimed, timed) {
  if (warmup > 0) await untimed(warmup);
  const c = cold > 0 ? { count: cold, ...(await timed(cold)) } : null;
  if (!(warm > 0)) return { cold: c, warm: null };
  const before = settle - warmup - cold;
  if (before > 0) await untimed(before);
  return { cold: c, warm: { count: warm, ...(await timed(warm)) } };
}

/** Wall, process and main-thread CPU time of `await fn()`: { wallNs, processNs, mainNs }. */
export async function measured(fn) {
  const mark = cpuMark();
  await fn();
  return cpuSince(mark);
}

/** "a–b": the p10–p90 of values as formatted by fmt, or min–max for fewer than 5. */
export function spread(values, fmt) {
  const v = values.filter((x) => Number.isFinite(x));
  if (v.length === 0) return '–';
  return v.length < 5 ? `${fmt(Math.min(...v))}–${fmt(Math.max(...v))}` : `${fmt(quantile(v, 0.1))}–${fmt(quantile(v, 0.9))}`;
}

/**
 * One phase's per-round results of one contender -> { n, rate, cpuUsPerSpawn, mainCpuUsPerSpawn,
 * latencyMs?, roundRates, roundCpuUs, roundMainCpuUs } (per-round arrays in round order, for
 * ratios paired within a round; rate = operations over the sum of their latencies where there
 * are latencies, else over the phase's wall time).
 */
export function summarizePhase(perRound) {
  const rounds = perRound.filter((p) => p);
  if (rounds.length === 0) return null;
  const rate = (p) => p.count / ((p.lat ? p.lat.reduce((a, b) => a + b, 0) : p.wallNs) / 1e9);
  const out = {
    n: rounds.reduce((a, p) => a + p.count, 0),
    roundRates: rounds.map(rate),
    roundCpuUs: rounds.map((p) => p.processNs / 1000 / p.count),
    roundMainCpuUs: rounds.map((p) => p.mainNs / 1000 / p.count),
  };
  if (rounds.every((p) => p.childrenNs !== undefined)) out.roundChildrenCpuUs = rounds.map((p) => p.childrenNs / 1000 / p.count);
  out.rate = summarize(out.roundRates);
  if (out.roundChildrenCpuUs) out.childrenCpuUsPerSpawn = summarize(out.roundChildrenCpuUs.filter(Number.isFinite));
  out.cpuUsPerSpawn = summarize(out.roundCpuUs);
  out.mainCpuUsPerSpawn = summarize(out.roundMainCpuUs.filter(Number.isFinite));
  if (rounds[0].lat) out.latencyMs = summarize(rounds.flatMap((p) => p.lat.map((ns) => ns / 1e6)));
  return out;
}

/**
 * name -> [{ cold, warm } per round] -> name -> { cold, warm, phase, ...the figures of `phase` }:
 * the top-level figures (rate, latencyMs, cpuUsPerSpawn, roundRates, ...) are the warmed-up
 * phase's, or the cold one's where no warmed-up phase ran; `phase` says which.
 */
export function summarizeContenders(byName) {
  const out = {};
  for (const [name, rounds] of Object.entries(byName)) {
    const cold = summarizePhase(rounds.map((r) => r.cold));
    const warm = summarizePhase(rounds.map((r) => r.warm));
    const phase = warm ? 'warm' : 'cold';
    out[name] = { ...(warm ?? cold), phase, cold, warm };
  }
  return out;
}

/** Per-round ratios a/b of a per-round array (key: 'roundCpuUs', 'roundRates', ...) of two
 * contenders' summaries (same rounds), or [] where either is missing. */
export function pairedRatios(a, b, key) {
  if (!a?.[key] || !b?.[key]) return [];
  return a[key].map((x, i) => x / b[key][i]).filter(Number.isFinite);
}
