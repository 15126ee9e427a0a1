// What `--import pidfd/register` adds to the start of a Node process: `node -e 0` with and
// without it, in rotating order, each a fresh process started in a consumer's directory (a
// temporary one whose node_modules/pidfd links to this checkout, so that `pidfd/register`
// resolves as an installed package does). The time is the parent's wall time from spawnSync's call
// to its return (start-up, the empty program, exit, reap); the difference of the medians is the
// figure, with the median of the per-round differences beside it. Where `perf` can count, each
// round is also run under `perf stat -e task-clock`, for the CPU time of each process (all its
// threads): on a loaded machine the wall time of a 60 ms process moves by more than the 3 ms
// looked for, its CPU time much less.

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { nowNs } from '../lib/clock.js';
import { median, summarize } from '../lib/stats.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

// The first two are the figure. The next two are what the registration cannot do without:
// --import of an empty package (Node's ES module loader and its reading of files, which `node -e
// 0` does not start, and a bare specifier's resolution: any --import of a package pays them), and
// loading Node's own child_process (which must be patched before the program's first line; it
// loads net, dgram and the streams).
const variants = {
  'node -e 0': ['-e', '0'],
  'node --import pidfd/register -e 0': ['--import', 'pidfd/register', '-e', '0'],
  'node --import empty-package -e 0': ['--import', 'empty-package', '-e', '0'],
  "node -e \"require('node:child_process')\"": ['-e', "require('node:child_process')"],
  // Both at once: the floor of any registration made with --import (what pidfd's adds over it is
  // its own modules and the patching).
  "node --import empty-package -e \"require('node:child_process')\"": ['--import', 'empty-package', '-e', "require('node:child_process')"],
};

/** A consumer's directory: node_modules/pidfd (this checkout) and node_modules/empty-package. */
function consumer() {
  const dir = mkdtempSync(join(tmpdir(), 'pidfd-bench-register-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(root, join(dir, 'node_modules', 'pidfd'), 'dir');
  for (const name of ['empty-package', 'empty-package-2']) {
    mkdirSync(join(dir, 'node_modules', name), { recursive: true });
    const pkg = { name, version: '1.0.0', type: 'module', exports: { '.': './index.js' } };
    writeFileSync(join(dir, 'node_modules', name, 'package.json'), JSON.stringify(pkg));
    writeFileSync(join(dir, 'node_modules', name, 'index.js'), '// empty\n');
  }
  return dir;
}

/**
 * pidfd's own share, in one process, once what it cannot do without is paid (Node's
 * child_process and a first --import of a package): the time of `import('pidfd/register')`
 * against that of importing a second empty package, in ms.
 */
const marginalCode = `const { createRequire } = await import('node:module');
const { readFileSync } = await import('node:fs');
const main = () => Number(readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ', 1)[0]) / 1e6;
createRequire(process.cwd() + '/x.js')('node:child_process');
await import('empty-package');
let t = performance.now(), c = main();
await import('empty-package-2');
const empty = performance.now() - t, emptyCpu = main() - c;
t = performance.now(), c = main();
await import('pidfd/register');
process.stdout.write(JSON.stringify([empty, performance.now() - t, emptyCpu, main() - c]));`;

function marginalOnce() {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', marginalCode], { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`marginal: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** The directory the processes start in (consumer(), during a run). */
let cwd = root;

function once(args) {
  const t0 = nowNs();
  const r = spawnSync(process.execPath, args, { cwd, stdio: 'ignore' });
  const ms = (nowNs() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')}: exit ${r.status ?? r.signal}`);
  return ms;
}

/** The task-clock of `node args` in ms, through perf stat; null where perf cannot count. */
function cpuOnce(args) {
  const r = spawnSync('perf', ['stat', '-x,', '-e', 'task-clock', '--', process.execPath, ...args], { cwd, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) return null;
  const line = r.stderr.split('\n').find((l) => l.includes('task-clock'));
  const ms = line === undefined ? NaN : Number(line.split(',')[0]);
  return Number.isFinite(ms) ? ms : null;
}

/** params: { n, warmup }. */
export async function run({ n, warmup }) {
  cwd = consumer();
  try {
    return measure(n, warmup);
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}

function measure(n, warmup) {
  const loadAverage = loadavg();
  const names = Object.keys(variants);
  for (let i = 0; i < warmup; i++) for (const name of names) once(variants[name]);
  const ms = Object.fromEntries(names.map((name) => [name, []]));
  const cpu = Object.fromEntries(names.map((name) => [name, []]));
  const marginal = [];
  let perf = cpuOnce(['-e', '0']) !== null;
  for (let i = 0; i < n; i++) {
    // Rotate which goes first, so that none always follows another.
    const order = names.map((_, k) => names[(i + k) % names.length]);
    for (const name of order) ms[name].push(once(variants[name]));
    marginal.push(marginalOnce());
    if (!perf) continue;
    for (const name of order) {
      const c = cpuOnce(variants[name]);
      if (c === null) perf = false;
      else cpu[name].push(c);
    }
  }
  const [plain, registered, empty, builtin, floor] = names;
  const pairDiffs = ms[registered].map((t, i) => t - ms[plain][i]);
  const cpuComplete = perf && names.every((name) => cpu[name].length === n);
  return {
    n,
    loadAverage,
    variants: Object.fromEntries(names.map((name) => [name, summarize(ms[name])])),
    addedMs: median(ms[registered]) - median(ms[plain]),
    emptyImportAddedMs: median(ms[empty]) - median(ms[plain]),
    builtinAddedMs: median(ms[builtin]) - median(ms[plain]),
    floorAddedMs: median(ms[floor]) - median(ms[plain]),
    overFloorPairDiffMs: summarize(ms[registered].map((t, i) => t - ms[floor][i])),
    pairDiffMs: summarize(pairDiffs),
    marginal: {
      emptyPackageMs: summarize(marginal.map(([e]) => e)),
      registerMs: summarize(marginal.map(([, r]) => r)),
      // The main thread's CPU time of the same imports (/proc/thread-self/schedstat).
      emptyPackageCpuMs: summarize(marginal.map(([, , e]) => e)),
      registerCpuMs: summarize(marginal.map(([, , , r]) => r)),
    },
    cpu: cpuComplete
      ? {
          variants: Object.fromEntries(names.map((name) => [name, summarize(cpu[name])])),
          addedMs: median(cpu[registered]) - median(cpu[plain]),
          emptyImportAddedMs: median(cpu[empty]) - median(cpu[plain]),
          builtinAddedMs: median(cpu[builtin]) - median(cpu[plain]),
          floorAddedMs: median(cpu[floor]) - median(cpu[plain]),
          overFloorPairDiffMs: summarize(cpu[registered].map((t, i) => t - cpu[floor][i])),
          pairDiffMs: summarize(cpu[registered].map((t, i) => t - cpu[plain][i])),
        }
      : null,
  };
}
