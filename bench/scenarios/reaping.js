// Scenario 4, one K: K children exit together (or one by one, gapUs apart); how long until the
// parent has resolved every exit, and how much CPU it spent doing so.
//
// The children are the release helper (bench/c/release.c): all K wait on one FIFO, the parent
// closes it, and each (after i * gapUs) writes its exit time and exits. Measured from the release:
//   - wall time to the last resolved promise, and from the last child's exit to that moment;
//   - the parent's CPU time (process.cpuUsage: every thread of the process), divided by K.

import { cpuNs, nowNs, sleep } from '../lib/clock.js';
import { nodeContenders } from '../lib/contenders.js';
import { LimitServer } from '../lib/limit.js';
import { alternate } from '../lib/rounds.js';
import { ReleaseGate } from '../lib/release.js';
import { summarize } from '../lib/stats.js';

/** The C limit: clone3 children reaped through pidfds in one epoll set, without Node. */
export const C_REAPER = 'C pidfd+epoll';

async function reapNode(name, k, gapUs, helper) {
  const gate = new ReleaseGate(helper);
  try {
    const exits = [];
    for (let i = 0; i < k; i++) exits.push(nodeContenders[name](helper, gate.argsFor(i * gapUs)).done);
    await gate.waitReady(k);
    await sleep(50); // let the event loop go idle: only the reaping is measured
    const cpu0 = cpuNs();
    const t0 = nowNs();
    gate.release();
    await Promise.all(exits);
    const t1 = nowNs();
    const cpu1 = cpuNs();
    const last = await gate.lastExitNs(k);
    return { wallNs: t1 - t0, lagNs: t1 - last, cpuNs: cpu1 - cpu0 };
  } finally {
    gate.close();
  }
}

async function reapC(limit, k, gapUs, helper) {
  const gate = new ReleaseGate(helper); // only for its private directory
  try {
    const r = await limit.reap(k, helper, gate.dir, gapUs);
    return { wallNs: r.end_ns - r.release_ns, lagNs: r.end_ns - r.last_exit_ns, cpuNs: r.cpu_ns };
  } finally {
    gate.close();
  }
}

/** params: { k, gapUs, rounds, contenders, bins }. */
export async function run({ k, gapUs, rounds, contenders: names, bins }) {
  const limit = await LimitServer.start(bins.limit);
  const samples = Object.fromEntries(names.map((c) => [c, []]));
  const label = `reaping K=${k}${gapUs ? `, ${gapUs} µs apart` : ', together'}`;
  await alternate(names, rounds, async (name) => {
    samples[name].push(
      name === C_REAPER ? await reapC(limit, k, gapUs, bins.release) : await reapNode(name, k, gapUs, bins.release),
    );
  }, label);
  await limit.stop();

  const contenders = {};
  for (const name of names) {
    const s = samples[name];
    contenders[name] = {
      rounds: s.length,
      cpuPerExitUs: summarize(s.map((r) => r.cpuNs / k / 1e3)),
      wallMs: summarize(s.map((r) => r.wallNs / 1e6)),
      lastExitToResolvedMs: summarize(s.map((r) => r.lagNs / 1e6)),
    };
  }
  return { k, gapUs, rounds, contenders };
}
