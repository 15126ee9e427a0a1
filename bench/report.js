// docs/benchmarks.md and its charts, from one results file.
//
//   node bench/report.js bench/results/full-<time>.json    (npm run bench calls it after a full run)

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { compatStdioTables, compatTables, registerStartupTable } from './lib/compat-tables.js';
import { footprintChart, memoryChart, reapingChart, spawnRateChart } from './lib/charts.js';
import {
  footprintTable,
  inflightTable,
  memoryTables,
  num,
  reapingTable,
  runCaptureTable,
  runFootprintTable,
  runPipelineTable,
  runTeeTable,
  runRateTable,
  sequentialTable,
  treesTables,
} from './lib/tables.js';
import { evaluateTargets } from './lib/targets.js';
import { causes, findings } from './notes.js';

const here = dirname(fileURLToPath(import.meta.url));
const docs = join(here, '..', 'docs');
const chartDir = join(docs, 'benchmarks');

/** The scenario tables (and the targets), as markdown: what a quick run prints. */
export function renderTables(results) {
  const s = results.scenarios;
  const parts = [];
  if (s.sequential) parts.push(`### Sequential (N = ${s.sequential.n})\n\n${sequentialTable(s.sequential)}`);
  if (s.inflight) parts.push(`### ${s.inflight.inflight} in flight (N = ${s.inflight.n})\n\n${inflightTable(s.inflight)}`);
  if (s.memory) parts.push(`### Parent memory sweep\n\n${memoryTables(s.memory)}`);
  if (s.reaping) {
    parts.push(`### Exit notification scale: all at once\n\n${reapingTable(s.reaping.together)}`);
    parts.push(`### Exit notification scale: one by one, ${s.reaping.gapUs} µs apart\n\n${reapingTable(s.reaping.oneByOne)}`);
  }
  if (s.footprint) parts.push(`### Memory per live subprocess (K = ${s.footprint.k})\n\n${footprintTable(s.footprint)}`);
  if (s.trees) parts.push(treesTables(s.trees));
  if (s.compat) parts.push(`### pidfd/child_process against child_process\n\n${compatTables(s.compat)}`);
  if (s['register-startup']) parts.push(`### What --import pidfd/register adds to a process's start\n\n${registerStartupTable(s['register-startup'])}`);
  if (s['compat-stdio']) parts.push(`### A child's stdio: socketpair or kernel pipe (${s['compat-stdio'].mib} MiB)\n\n${compatStdioTables(s['compat-stdio'])}`);
  parts.push(...runSections(s, '###'));
  parts.push(`### Targets\n\n${targetsTable(results)}`);
  return parts.join('\n\n');
}

/** The run() scenarios' tables, with `level` headings. */
function runSections(s, level) {
  const parts = [];
  const size = (mib) => (mib >= 1024 ? `${mib / 1024} GiB` : `${mib} MiB`);
  if (s['run-rate']) parts.push(`${level} run('/bin/true'), one after another (N = ${s['run-rate'].n})\n\n${runRateTable(s['run-rate'])}`);
  if (s['run-capture']) parts.push(`${level} Capturing ${size(s['run-capture'].mib)} of stdout\n\n${runCaptureTable(s['run-capture'])}`);
  if (s['run-tee']) parts.push(`${level} One stdout to a capture and a file at once (${size(s['run-tee'].mib)})\n\n${runTeeTable(s['run-tee'])}`);
  if (s['run-pipeline']) parts.push(`${level} A two-command pipeline moving ${size(s['run-pipeline'].mib)}\n\n${runPipelineTable(s['run-pipeline'])}`);
  if (s['run-footprint']) parts.push(`${level} Memory per running command (K = ${s['run-footprint'].k})\n\n${runFootprintTable(s['run-footprint'])}`);
  return parts;
}

function targetsTable(results) {
  const rows = evaluateTargets(results).map((t) => {
    const cause = t.verdict === 'missed' ? (causes[t.id] ?? 'not investigated yet') : '';
    return `| ${t.target} | ${t.measured} | **${t.verdict}** | ${cause} |`;
  });
  return ['| target (DESIGN.md) | measured | verdict | cause, and what would close it |', '|---|---|---|---|', ...rows].join('\n');
}

function machineSection(results) {
  const m = results.machine;
  const load = (l) => l.map((x) => x.toFixed(2)).join(', ');
  return [
    `- Kernel: Linux ${m.kernel} (${m.kernelVersion}), ${m.arch}${m.virtualized ? ', a virtual machine' : ''}`,
    `- CPU: ${m.cpuModel}, ${m.cores} cores; memory ${num(m.memTotalGiB)} GiB (${num(m.memAvailableGiB)} GiB available at the start)`,
    `- Node ${m.node}, glibc ${m.glibc}, ${m.cc}`,
    `- pidfd ${m.versions.pidfd}, backend ${m.pidfdBackend} (${m.pidfdBackendReason})`,
    `- Comparators: Node's child_process, execa ${m.versions.execa}, nano-spawn ${m.versions['nano-spawn']}, tinyexec ${m.versions.tinyexec}`,
    `- Load average (1, 5, 15 min) at the start: ${load(m.loadAverage)}; at the end: ${load(results.loadAverageAtEnd)}`,
  ].join('\n');
}

function settingsLine(results) {
  const st = results.settings;
  const slow = Object.entries(st.memory.nSlow).map(([g, n]) => `${n} at ${g} GiB`).join(', ');
  const phases = (x) => `${x.warmup} untimed spawns, ${x.cold} timed (cold), untimed up to ${x.settle}, ${x.warm} timed (warmed up)`;
  const spawnLine =
    st.sequential.warm !== undefined
      ? `Sequential: each contender in a fresh worker per round, ${st.sequential.rounds} rounds, each worker ${phases(st.sequential)}; ` +
        `${st.inflight.inflight} in flight: the same, ${st.inflight.rounds} rounds, ${phases(st.inflight)}`
      : `Sequential N = ${st.sequential.n} in ${st.sequential.rounds} rounds; ${st.inflight.inflight} in flight, N = ${st.inflight.n} in ${st.inflight.rounds} rounds ` +
        '(a run from before the contenders were measured apart: all of them in one worker, 20 spawns of warm-up, one phase, process CPU only)';
  return (
    `${spawnLine}; memory sweep N = ${st.memory.nFast} for pidfd and the C ` +
    `loops, for the fork-based contenders ${slow}, in ${st.memory.rounds} rounds; reaping K = ` +
    `${st.reaping.ks.join(', ')}, all at once and ${st.reaping.gapUs} µs apart, ${st.reaping.rounds} rounds each; ` +
    `footprint K = ${st.footprint.k}, ` +
    `${st.footprint.repeats} fresh workers per contender.`
  );
}

/** Where the figures come from: one full run, or (bench/report.js --merge) the scenarios of a
 * later run added to a full one, each scenario still measured side by side within its run. */
function provenance(results, file) {
  const when = (r) => `${r.startedAt.replace('T', ' ').replace(/\..*/, '')} UTC`;
  const load = (l) => l.map((x) => x.toFixed(2)).join(', ');
  if (!results.mergedFrom) {
    return `A full run of \`npm run bench\`, started ${when(results)}, took\n${(results.durationS / 60).toFixed(1)} minutes. Raw results: [bench/results/${file}](../bench/results/${file}).`;
  }
  const [base, ...added] = results.mergedFrom;
  const later = added.map(
    (a) =>
      `${a.scenarios.join(', ')} from a run of \`npm run bench -- --only=${a.scenarios.join(',')}\` started ${when(a)}, ` +
      `load average ${load(a.loadAverage)} at its start ([bench/results/${a.file}](../bench/results/${a.file}))`,
  );
  return (
    `The spawn scenarios (1–5) come from a full run of \`npm run bench\` started ${when(base)} ` +
    `([bench/results/${base.file}](../bench/results/${base.file})); ${later.join('; ')}; ` +
    `merged into [bench/results/${file}](../bench/results/${file}) by \`node bench/report.js --merge\`. ` +
    'Every scenario alternates its own contenders within its run; figures of different scenarios come ' +
    'from different moments of a shared machine.'
  );
}

/** The whole of docs/benchmarks.md. */
export function renderDoc(results, resultsFile) {
  const s = results.scenarios;
  const file = basename(resultsFile);
  return `# Benchmarks

<!-- Written by \`npm run bench\` (bench/report.js) from bench/results/${file}; the analysis comes
from bench/notes.js. Edit those, not this file. -->

${provenance(results, file)}

## Targets

The performance targets of the design brief, checked against this run.

${targetsTable(results)}

![Spawn rate](benchmarks/spawn-rate.svg)

## Machine

${machineSection(results)}

The machine is shared: other jobs ran during the measurement (see the load average). Every
scenario alternates its contenders in rounds inside one run, so a busy moment hits all of them;
the ratios hold better than the absolute figures.

## How to run

\`\`\`sh
npm install                       # builds the addon and dist/
npm run bench                     # the full suite (about ${Math.ceil(results.durationS / 60)} minutes here); rewrites this page
npm run bench -- --quick          # a few minutes: smaller N, 0 and 1 GiB only; prints its tables
npm run bench -- --only=sequential,memory   # some scenarios (never rewrites this page)
node bench/compare.js <dirA> <dirB>         # two built checkouts, before and after a change (below)
node bench/report.js bench/results/<file>.json   # this page and its charts from a results file
node bench/report.js --merge <full>.json <more>.json...   # the same, with the scenarios of later runs added
PIDFD_BENCH_LIB=/other/checkout/dist/index.js npm run bench -- --quick   # another build of pidfd
\`\`\`

Nothing is downloaded at bench time: the comparators are devDependencies, and the bench compiles
its C programs (\`bench/c/\`) with \`cc\` into \`bench/results/tmp/bin/\`.

## Method

- **Same work for everyone.** Each contender spawns \`/bin/true\` (or the release helper) with
  stdin, stdout and stderr on /dev/null and waits for its exit: \`spawn(file, args, { stdio:
  'ignore' })\` and \`await sub.exited\` for pidfd; \`child_process.spawn(…, { stdio: 'ignore' })\` and
  its \`'exit'\` event; \`execa(…, { stdio: 'ignore' })\`; nano-spawn's \`spawn(…, { stdio: 'ignore' })\`;
  tinyexec's \`x(…, { nodeOptions: { stdio: 'ignore' }, throwOnError: true })\`.
- **The C limit** (\`bench/c/limit.c\`) is a server the Node worker drives over a pipe, so it is
  alternated with the others without paying its start-up. *C posix_spawn*: glibc \`posix_spawn\`
  (itself \`clone(CLONE_VM|CLONE_VFORK)\`) with /dev/null on 0–2, every signal reset to default,
  \`waitpid\`. *C clone3*: raw \`clone3(CLONE_PIDFD|CLONE_VM|CLONE_VFORK)\` doing what pidfd's child
  does (dispositions, /dev/null, \`close_range\`, \`execve\`), waited through the pidfd. *C
  pidfd+epoll* (reaping): clone3 children reaped through their pidfds in one epoll set.
- **Alternation.** Every scenario runs its contenders in rounds, each round in a rotated order;
  rates are per round, latencies per spawn. Tables give medians and the p10–p90 spread (min–max
  for fewer than 5 rounds). A ratio between two contenders is the median of the ratios paired
  within each round, where the scenario keeps per-round figures: the two ran within seconds of
  each other, under the same load.
- **Each contender apart (sequential, in flight).** Each contender's share of a round runs in a
  fresh worker process of its own, which imports only that contender's library
  (\`bench/lib/apart.js\`, \`bench/lib/spawners.js\`): pidfd's CPU per spawn was about 15% higher
  in a worker where the other libraries had run (their garbage and compiled code; SPAWN-CPU.md).
  In its worker a contender is measured twice: **cold**, right after a short warm-up (code V8
  has not optimized yet: what a short-lived program sees), and **warmed up**, after enough
  spawns for V8 to optimize the spawn path (the steady state of a long-running program).
  Spawns/s and latencies are the warmed-up phase's.
- **Parent CPU per spawn.** The spawning process's CPU time over a phase divided by its spawns:
  \`process.cpuUsage()\` (user + system, all threads, V8's compiler and GC threads included) and,
  beside it, the main thread's alone (\`/proc/thread-self/schedstat\`); the C loop's is its
  server's \`getrusage(RUSAGE_SELF)\` (one thread, so both are the same). CPU time moves much
  less with the machine's load than wall time does, and it is where a library's own overhead
  shows: the child's start-up (~0.6 ms of CPU for \`/bin/true\` here) is charged to the child.
- **Fresh processes.** Each memory level, each K and each footprint sample runs in a fresh Node
  worker started by \`bench/run.js\`, so no scenario inherits another's heap.
- **Before and after a change.** \`node bench/compare.js <dirA> <dirB> [--quick] [--rounds=N]\`
  loads two checkouts' builds (each built already: \`dist/\` and \`build/Release/pidfd.node\`; the
  harness is the checkout's that runs it, only the library comes from A and B) in alternating
  fresh workers: per build, measurement and round one worker, A first in even rounds
  and B first in odd ones. It prints parent CPU per spawn (process and main thread, warmed up and
  cold), wall time per sequential spawn, 64-in-flight throughput, \`run('/bin/true')\`'s rate and
  CPU, and the drop-in's spawn + \`'exit'\` CPU, with B/A as the median of the per-round ratios and
  their min–max, the drop-in's ratio to \`spawn()\` within each build, the C posix_spawn loop's
  CPU per spawn as a gauge of the machine, and the load average at the start and end (6 rounds,
  about 8 minutes at a load of 10; \`--quick\`, 4 smaller rounds, about 2). An A/A run (the
  same directory twice) shows the noise of the moment: at a load of 3–5, cold figures moved by
  up to ±35% between rounds and warmed-up CPU by ±10%; a difference is worth reading when the
  per-round ratios all lie on one side of 1.
- **Settings of this run.** ${settingsLine(results)}

## 1. Sequential spawn-and-await

${sequentialTable(s.sequential)}

"Speed-up vs child_process" is the contender's rate over child_process's; "time vs C posix_spawn"
is the contender's time per spawn over the C loop's (1.00× would be the limit), the median of the
per-round ratios. Parent CPU per spawn: the whole process / its main thread (see Method), warmed
up and cold; the CPU ratios are per round too. *pidfd/child_process* is the drop-in's
\`spawn(…, { stdio: 'ignore' })\` until \`'exit'\`: what Node's \`ChildProcess\` on top of
pidfd's \`spawn()\` costs.

## 2. ${s.inflight.inflight} spawns in flight

${inflightTable(s.inflight)}

The C loops keep ${s.inflight.inflight} children in flight too (posix_spawn + \`waitpid(-1)\`;
clone3 + pidfds in epoll). Throughput against the C loop is the median of the per-round ratios;
the CPU per spawn is the spawning process's over a phase (the C loop's: its server's).

## 3. Parent memory sweep

Each level runs in a fresh worker that first fills the given amount of ArrayBuffers and writes
every page; the C server holds the same amount. Levels that do not fit in the available memory
are skipped with the reason. The fork-based contenders (child_process, execa, nano-spawn,
tinyexec) run fewer spawns at high memory (n in the table), since each spawn then costs a fork
of the whole parent; with n = ${Math.min(...Object.values(results.settings.memory.nSlow))} a p99 is the largest sample or
close to it.

${memoryTables(s.memory)}

![Latency against parent memory](benchmarks/memory-latency.svg)

## 4. Exit-notification scale

K children of the release helper (\`bench/c/release.c\`) block on one FIFO; when all K have
reported ready, the parent closes the FIFO and the children exit, each after writing its
CLOCK_MONOTONIC time: **all at once**, as the issue asks, and then **one by one**, child i
sleeping i × ${s.reaping.gapUs} µs first (${Math.round(1e6 / s.reaping.gapUs)} exits a second), which is how exits
arrive in a build tool or a server, and where libuv's reaping (one SIGCHLD, then \`waitpid\` on
every live child) costs most. Measured from the release: the parent's CPU time
(\`process.cpuUsage()\`, all threads; \`getrusage\` for C) divided by K, the wall time until the
last promise resolved, and the time from the last child's own timestamp to that moment. When
all exit at once on ${results.machine.cores} cores, the children's exits and the parent's reaping
compete for the CPUs, so that lag measures scheduling as much as notification; one by one, it is
the notification latency of the last exit.

### All at once

${reapingTable(s.reaping.together)}

### One by one, ${s.reaping.gapUs} µs apart

${reapingTable(s.reaping.oneByOne)}

![Reaping cost against K](benchmarks/reaping.svg)

## 5. Memory per live subprocess

Each sample is a fresh worker (\`node --expose-gc\`): it warms the contender up with 20 spawns,
collects garbage, reads \`process.memoryUsage()\`, starts K release helpers with stdio ignored and
keeps each handle and its exit promise, waits until all K are running, collects garbage again and
reads it again. The difference is divided by K.

${footprintTable(s.footprint)}

![Memory per live subprocess](benchmarks/footprint.svg)

${runDoc(results)}
${treesDoc(results)}
${compatDoc(results)}

## Investigation and changes

${findings}
`;
}

/** The process-tree section (empty without the trees scenario). */
function treesDoc(results) {
  const t = results.scenarios.trees;
  if (!t) return '';
  return `## 7. Process trees

What a per-run cgroup (\`spawn(…, { cgroup: true })\`: create, place, watch, remove) adds to a spawn
of /bin/true, and how much of a tree each means of killing it reaches: a tree of setsid'd groups
and double-forked daemons (\`bench/scenarios/trees.js\`), killed through its cgroup, through the
process group of its first process, and with the \`tree-kill\` package (a walk of \`ps\`). The
guide is [trees.md](trees.md).

${treesTables(t).replace(/^### /gm, '### ')}
`;
}

/** The pidfd/child_process section (empty without the compat scenario). */
function compatDoc(results) {
  const c = results.scenarios.compat;
  if (!c) return '';
  return `## 8. pidfd/child_process against child_process

Each operation through \`pidfd/child_process\` and through Node's own module, in alternating rounds in
one worker; \`execFileSync\` with the parent's memory at each level; the memory per live
\`ChildProcess\`. What the figures mean, and the targets' causes, are in
[compat.md](compat.md#benchmarks).

${compatTables(c)}
${registerStartupDoc(results.scenarios['register-startup'])}
${compatStdioDoc(results.scenarios['compat-stdio'])}`;
}

/** The start-up cost of pidfd/register, inside the compat section (empty without its scenario). */
function registerStartupDoc(r) {
  if (!r) return '';
  return `
### What \`--import pidfd/register\` adds to the start of a process

\`node -e 0\` and \`node --import pidfd/register -e 0\`, and for what the registration cannot do
without, \`node --import empty-package -e 0\` and \`node -e "require('node:child_process')"\`: ${r.n}
times each in rotating order, each a fresh process started with \`spawnSync\` in a consumer's
directory (\`node_modules/pidfd\` links to the checkout), then the same under \`perf stat -e
task-clock\` for its CPU time (\`bench/scenarios/register-startup.js\`). With \`NODE_OPTIONS\`,
every Node process that a tool starts pays this once.

${registerStartupTable(r)}
`;
}

/** The socketpair-or-pipe tables of the compat section (empty without the compat-stdio scenario). */
function compatStdioDoc(s) {
  if (!s) return '';
  return `
### A child's stdio: socketpair or kernel pipe (${s.mib} MiB)

${s.mib} MiB through a child's stdout and then through its stdin, each contender once per round in
${s.rounds} alternating rounds (\`bench/scenarios/compat-stdio.js\`). "Own end" spawns through
pidfd/child_process with the child's end of a channel made by the scenario, and reads or writes the
other end with the same \`net.Socket\` that ChildProcess makes: only \`socketpair()\` or \`pipe2()\`
differs. The child's CPU is what \`/proc/self/stat\` counts for reaped children (10 ms ticks).
Why the drop-in keeps socketpairs: [compat.md](compat.md#a-childs-pipes-are-socketpairs).

${compatStdioTables(s)}
`;
}

/** The run() section of docs/benchmarks.md (empty when the results have no run() scenario). */
function runDoc(results) {
  const s = results.scenarios;
  const sections = runSections(s, '###');
  if (sections.length === 0) return '';
  const st = results.settings;
  return `## 6. run()

The high-level API against the libraries that do the same job, each called as its documentation
shows, in rounds that alternate them. \`run('/bin/true')\` and the others capture stdout and stderr
(their defaults; \`pidfd run\`'s stdin is /dev/null, the others' a pipe), run after run; \`pidfd run,
cleanup: false\` is the same without the watchdog, to show what \`cleanup\` costs. The capture reads
dd's output (1 MiB writes of zeros) as bytes with no size limit: nano-spawn and tinyexec give only
strings, which cannot hold 1 GiB, so they are not in it; the C read loop (\`bench/c/capture.c\`) is
posix_spawn and \`read()\` into a \`realloc\`'d buffer that doubles (4 KiB pages: it does not ask for
huge pages, as run()'s capture does; see "Capturing a gigabyte" below). The pipeline is the same dd into
\`wc -c\`; execa's source gets \`buffer: false\` (with its default it keeps the whole output, and
256 MiB already end Node with a fatal *invalid size* error); nano-spawn keeps the first command's
output as a string and is left out. Memory per running command: K release helpers running at once,
each started with its library's defaults. Settings: ${st['run-rate'].n} runs in ${st['run-rate'].rounds} rounds;
${st['run-capture'].mib} MiB captured and ${st['run-pipeline'].mib} MiB piped, ${st['run-capture'].rounds} rounds each;
K = ${st['run-footprint'].k}, ${st['run-footprint'].repeats} fresh workers per contender.

${sections.join('\n\n')}
`;
}

/** Writes docs/benchmarks.md and docs/benchmarks/*.svg; returns the paths written. */
export function writeReport(results, resultsFile) {
  mkdirSync(chartDir, { recursive: true });
  const files = {
    [join(chartDir, 'spawn-rate.svg')]: spawnRateChart(results),
    [join(chartDir, 'memory-latency.svg')]: memoryChart(results),
    [join(chartDir, 'reaping.svg')]: reapingChart(results),
    [join(chartDir, 'footprint.svg')]: footprintChart(results),
    [join(docs, 'benchmarks.md')]: renderDoc(results, resultsFile),
  };
  for (const [path, content] of Object.entries(files)) writeFileSync(path, content);
  return Object.keys(files);
}

/** The scenarios of each later run put into `base` (a full run), for a page of all. */
function merge(baseFile, addedFiles) {
  const base = JSON.parse(readFileSync(baseFile, 'utf8'));
  const about = (r, f, scenarios) => ({
    file: basename(f),
    startedAt: r.startedAt,
    loadAverage: r.machine.loadAverage,
    durationS: r.durationS,
    scenarios,
  });
  const merged = { ...base, settings: { ...base.settings }, scenarios: { ...base.scenarios }, mergedFrom: [about(base, baseFile, Object.keys(base.scenarios))] };
  for (const file of addedFiles) {
    const added = JSON.parse(readFileSync(file, 'utf8'));
    const names = Object.keys(added.scenarios);
    for (const name of names) {
      merged.settings[name] = added.settings[name];
      merged.scenarios[name] = added.scenarios[name];
    }
    merged.mergedFrom.push(about(added, file, names));
  }
  return merged;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  if (args[0] === '--merge' && args.length >= 3) {
    const merged = merge(args[1], args.slice(2));
    const last = args[args.length - 1];
    const out = join(dirname(last), `merged-${basename(last)}`);
    writeFileSync(out, `${JSON.stringify(merged, null, 1)}\n`);
    console.log(out);
    for (const written of writeReport(merged, out)) console.log(written);
  } else if (args.length === 1) {
    const results = JSON.parse(readFileSync(args[0], 'utf8'));
    for (const written of writeReport(results, args[0])) console.log(written);
  } else {
    console.error('usage: node bench/report.js bench/results/<file>.json\n' + '       node bench/report.js --merge bench/results/<full>.json bench/results/<more>.json...');
    process.exit(2);
  }
}
