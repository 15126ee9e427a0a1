// `npm run bench:kernels [-- 7.2 6.1] [-- --n=300 --rounds=3]`: the sequential scenario on this
// machine's kernel and in the kernel matrix's guests (test/kernels/vm.sh: Debian kernels in QEMU),
// as ratios only: a guest runs under software emulation (TCG), so its absolute figures say
// nothing; what its ratios say is how pidfd's spawn compares with the C posix_spawn loop and with
// child_process on that kernel, and what `autoReap` costs there (on Linux 7.1+: CLONE_AUTOREAP,
// and the exit status from PIDFD_GET_INFO, instead of waitid; elsewhere the option is ignored).
//
// Contenders: pidfd, pidfd autoReap, child_process, C posix_spawn (bench/scenarios/sequential.js,
// each contender in a fresh worker per round; N = 2000 in 10 rounds here, 300 in 3 in a guest, --n, --rounds,
// --host-n, --host-rounds). Ratios are per round (the contenders alternate within a round, so a
// round's contenders saw the same load), and the median of the rounds is given. Kernels: 7.2 by
// default; the kernels are those of `npm run test:kernels` (fetched into its cache, which that
// command fills). Writes bench/results/kernels-<time>.json and prints a markdown table.
//
// Inside a guest it runs as `node bench/kernels.js --here` and prints `@@bench-kernel {json}`.

import { spawn, execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { homedir, loadavg, release } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { roundsApart, summarizeContenders } from './lib/apart.js';
import { buildC } from './lib/build.js';
import { inWorker } from './lib/in-worker.js';
import { median } from './lib/stats.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const suites = { '5.10': 'bullseye', 6.1: 'bookworm', 6.12: 'trixie', 7.2: 'sid' };
const CONTENDERS = ['pidfd', 'pidfd autoReap', 'child_process', 'C posix_spawn'];

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    here: { type: 'boolean', default: false },
    // In a guest (about 50 ms a spawn under emulation): N = 300 in 3 rounds takes about 100 s.
    n: { type: 'string', default: '300' },
    rounds: { type: 'string', default: '3' },
    // Here, the full bench's settings: N = 300 would be over in a second, and noisy.
    'host-n': { type: 'string', default: '2000' },
    'host-rounds': { type: 'string', default: '10' },
  },
});
let n = Number(args.n);
let rounds = Number(args.rounds);

/** Runs the sequential scenario here, each contender in a fresh Node process per round
 * (lib/apart.js: N / rounds timed spawns after 20 of warm-up, no warmed-up phase: a guest under
 * emulation could not afford one); returns its result and the kernel's conditions. */
async function measureHere() {
  const bins = buildC();
  const { support } = await import(join(root, 'dist', 'index.js'));
  const load = loadavg();
  const phases = { warmup: 20, cold: Math.ceil(n / rounds), settle: 0, warm: 0 };
  const byName = await roundsApart(CONTENDERS, rounds, (contender) => inWorker('sequential', { ...phases, contender, bins }), 'kernels');
  return {
    kernel: release(),
    autoReap: support().features.autoReap?.available ?? false,
    loadAtStart: load,
    loadAtEnd: loadavg(),
    n: phases.cold * rounds,
    rounds,
    contenders: summarizeContenders(byName),
  };
}

/** Per-round ratio a/b of per-spawn wall time (rates are spawns/s: time ratio = rate b / rate a). */
const wallRatio = (c, a, b) => median(c[a].roundRates.map((rate, r) => c[b].roundRates[r] / rate));
const cpuRatio = (c, a, b) => c[a].cpuUsPerSpawn.median / c[b].cpuUsPerSpawn.median;

function row(label, m) {
  const c = m.contenders;
  const f = (x) => `${x.toFixed(2)}×`;
  return (
    `| ${label} | ${m.autoReap ? 'yes' : 'no (ignored)'} | ` +
    `${f(wallRatio(c, 'pidfd', 'C posix_spawn'))} / ${f(cpuRatio(c, 'pidfd', 'C posix_spawn'))} | ` +
    `${f(wallRatio(c, 'pidfd autoReap', 'C posix_spawn'))} / ${f(cpuRatio(c, 'pidfd autoReap', 'C posix_spawn'))} | ` +
    `${f(wallRatio(c, 'child_process', 'C posix_spawn'))} / ${f(cpuRatio(c, 'child_process', 'C posix_spawn'))} | ` +
    `${f(wallRatio(c, 'pidfd autoReap', 'pidfd'))} / ${f(cpuRatio(c, 'pidfd autoReap', 'pidfd'))} | ` +
    `${(m.hostLoadAtStart ?? m.loadAtStart).map((l) => l.toFixed(1)).join(' ')} → ${(m.hostLoadAtEnd ?? m.loadAtEnd).map((l) => l.toFixed(1)).join(' ')} |`
  );
}

if (args.here) {
  console.log(`@@bench-kernel ${JSON.stringify(await measureHere())}`);
  process.exit(0);
}

const kernels = positionals.length > 0 ? positionals : ['7.2'];
for (const k of kernels) if (!(k in suites)) throw new Error(`bench:kernels: no kernel named ${k} (one of ${Object.keys(suites).join(', ')})`);
const cache = join(process.env.PIDFD_CI_CACHE ?? join(homedir(), '.cache', 'pidfd-ci'), 'kernels');
const started = new Date();
const out = { startedAt: started.toISOString(), n, rounds, contenders: CONTENDERS, runs: [] };

const guest = { n, rounds };
({ n, rounds } = { n: Number(args['host-n']), rounds: Number(args['host-rounds']) });
console.log(`bench:kernels: this machine (${release()}), N = ${n} in ${rounds} rounds per contender`);
out.runs.push({ where: 'host', seconds: 0, ...(await measureHere()) });
out.runs[0].seconds = Math.round((Date.now() - started) / 1000);
({ n, rounds } = guest);

for (const k of kernels) {
  const t0 = Date.now();
  const hostLoadAtStart = loadavg();
  const dir = execFileSync(join(root, 'test', 'kernels', 'fetch.sh'), [cache, suites[k]], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  console.log(`bench:kernels: ${k} in QEMU (${dir.split('/').pop()})`);
  const stdout = await new Promise((resolve) => {
    const child = spawn(join(root, 'test', 'kernels', 'vm.sh'), [dir, '--', process.execPath, join(here, 'kernels.js'), '--here', `--n=${n}`, `--rounds=${rounds}`], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, PIDFDVM_TIMEOUT: process.env.PIDFD_KERNEL_TIMEOUT ?? '600' },
    });
    let text = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      text += chunk;
      process.stdout.write(chunk);
    });
    child.on('close', () => resolve(text));
  });
  const line = /^@@bench-kernel (.*)$/m.exec(stdout);
  if (!line) {
    console.error(`bench:kernels: no result from the ${k} guest`);
    process.exitCode = 1;
    continue;
  }
  // The guest's load average is the guest's; the host's says what the emulation competed with.
  out.runs.push({ where: `QEMU TCG, kernel ${k}`, seconds: Math.round((Date.now() - t0) / 1000), ...JSON.parse(line[1]), hostLoadAtStart, hostLoadAtEnd: loadavg() });
}

const stamp = out.startedAt.replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
const file = join(here, 'results', `kernels-${stamp}.json`);
writeFileSync(file, `${JSON.stringify(out, null, 1)}\n`);
console.log(
  [
    '',
    '| where (kernel), N | autoReap | pidfd ÷ C: wall / CPU | pidfd autoReap ÷ C | child_process ÷ C | autoReap ÷ pidfd | this machine\'s load (1 5 15 min) start → end |',
    '|---|---|---|---|---|---|---|',
    ...out.runs.map((m) => row(`${m.where === 'host' ? 'this machine' : m.where} (${m.kernel}), ${m.n} in ${m.rounds} rounds`, m)),
    '',
    `N per contender; CPU = the spawning process's own CPU per spawn (the C loop's: its server's). Times: ${out.runs.map((m) => `${m.where} ${m.seconds} s`).join(', ')}.`,
    `Results: ${relative(process.cwd(), file)}`,
  ].join('\n'),
);
