// Scenario: process trees (issue 9).
//  1. What a per-run cgroup adds to one spawn: sequential spawn + exit of /bin/true, without and
//     with `cgroup: true` (created, the child placed from its first instruction, the tree watched
//     until empty, the directory removed).
//  2. Killing a tree of about 1,000 processes that includes setsid'd groups and double-forked
//     daemons, by each means side by side: the cgroup (cgroup.kill), the process group
//     (kill(-pgid)), and the `tree-kill` npm package (a walk of `ps` by parent pid). For each:
//     the time until every process it reaches is gone, and the survivors.
//  3. The same tree with setsid'd groups only (no member leaves the parentage: what a walk can
//     reach), killed by the two walks for a tree we did not start: PidFd.killTree() (pidfds,
//     every member stopped as it is found) and `tree-kill` (`ps`, then process.kill() per pid).

import { readFileSync } from 'node:fs';

import treeKill from 'tree-kill';

import { nowNs } from '../lib/clock.js';
import { log } from '../lib/log.js';
import { alternate, shares } from '../lib/rounds.js';
import { summarize } from '../lib/stats.js';

const { spawn, PidFd } = await import(process.env.PIDFD_BENCH_LIB ?? new URL('../../dist/index.js', import.meta.url).href);

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function costOfCgroup(n, rounds) {
  const names = ['plain', 'cgroup'];
  const samples = { plain: [], cgroup: [] };
  for (let i = 0; i < 20; i++) {
    await spawn('/bin/true', [], { stdio: 'ignore' }).exited;
    const sub = spawn('/bin/true', [], { stdio: 'ignore', cgroup: true });
    await sub.cgroup.empty;
  }
  const perRound = shares(n, rounds);
  await alternate(names, rounds, async (name, round) => {
    for (let i = 0; i < perRound[round]; i++) {
      const t0 = nowNs();
      if (name === 'plain') {
        await spawn('/bin/true', [], { stdio: 'ignore' }).exited;
      } else {
        const sub = spawn('/bin/true', [], { stdio: 'ignore', cgroup: true });
        await sub.cgroup.empty; // reaped, the tree empty, the directory removed
      }
      samples[name].push((nowNs() - t0) / 1e6);
    }
  }, 'trees: cost of a cgroup');
  return Object.fromEntries(names.map((name) => [name, summarize(samples[name])]));
}

// The tree: the leader starts `groups` setsid'd groups and `groups` double-forked daemons, each
// with `per` sleepers, and `per` sleepers of its own; about (2 × groups + 1) × per processes.
// `walkable`: 2 × groups setsid'd groups and no daemon, the same size.
function treeScript(groups, per, walkable) {
  const sleepers = `i=0; while [ $i -lt ${per} ]; do sleep 300 & i=$((i+1)); done; wait`;
  return [
    `g=0; while [ $g -lt ${groups} ]; do`,
    `  setsid sh -c '${sleepers}' &`,
    walkable ? `  setsid sh -c '${sleepers}' &` : `  (sh -c '${sleepers}' &)`,
    `  g=$((g+1)); done`,
    sleepers,
  ].join('\n');
}

/** Starts the tree in a cgroup (used to count its members, whatever kills it) and waits for it. */
async function startTree(groups, per, processGroup, walkable) {
  const sub = spawn('/bin/sh', ['-c', treeScript(groups, per, walkable)], { stdio: 'ignore', cgroup: true, processGroup });
  const want = 1 + per + 2 * groups * (per + 1); // the leader, its sleepers, and each group's shell and sleepers
  const deadline = Date.now() + 120_000;
  while (sub.cgroup.pids().length < want) {
    if (Date.now() > deadline) throw new Error(`the tree reached ${sub.cgroup.pids().length} of ${want} processes`);
    await sleep(20);
  }
  return { sub, size: sub.cgroup.pids().length };
}

function alive(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

const killers = {
  cgroup: async (sub) => sub.cgroup.kill('SIGKILL'),
  'process group': async (sub) => {
    process.kill(-sub.pid, 'SIGKILL');
  },
  'tree-kill': (sub) => new Promise((resolve) => treeKill(sub.pid, 'SIGKILL', () => resolve())),
  // As for a process we did not start: opened by its pid.
  'PidFd.killTree': async (sub) => {
    const root = PidFd.open(sub.pid);
    try {
      root.killTree('SIGKILL');
    } finally {
      root.close();
    }
  },
};

async function killTrees(groups, per, rounds, walkable = false) {
  const names = walkable ? ['PidFd.killTree', 'tree-kill'] : Object.keys(killers);
  const label = walkable ? 'trees: kill, setsid only' : 'trees: kill';
  const results = Object.fromEntries(names.map((name) => [name, { ms: [], survivors: [], size: [] }]));
  await alternate(names, rounds, async (name) => {
    const { sub, size } = await startTree(groups, per, name === 'process group', walkable);
    const members = sub.cgroup.pids();
    const t0 = nowNs();
    await killers[name](sub);
    // Settled: every member that the means reached is gone. The ones it cannot reach never go;
    // they are counted once nothing has changed for 500 ms.
    let left = members.filter(alive).length;
    let steadySince = Date.now();
    let settledNs = nowNs();
    while (left > 0 && Date.now() - steadySince < 500) {
      await sleep(5);
      const now = members.filter(alive).length;
      if (now !== left) {
        left = now;
        steadySince = Date.now();
        settledNs = nowNs();
      }
    }
    if (left === 0) settledNs = nowNs();
    results[name].ms.push((settledNs - t0) / 1e6);
    results[name].survivors.push(left);
    results[name].size.push(size);
    log(`${label}: ${name} killed ${size - left} of ${size} in ${((settledNs - t0) / 1e6).toFixed(1)} ms, ${left} survived`);
    await sub.cgroup.kill('SIGKILL'); // the bookkeeping cgroup ends what survived
    await sub.cgroup.empty;
  }, label);
  return Object.fromEntries(
    names.map((name) => [name, { ms: summarize(results[name].ms), survivors: summarize(results[name].survivors), size: summarize(results[name].size) }]),
  );
}

/** params: { n, rounds, groups, per, killRounds }. */
export async function run({ n, rounds, groups, per, killRounds }) {
  return {
    n,
    rounds,
    cost: await costOfCgroup(n, rounds),
    groups,
    per,
    kill: await killTrees(groups, per, killRounds),
    killWalk: await killTrees(groups, per, killRounds, true),
  };
}
