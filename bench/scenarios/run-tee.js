// run() scenario: one stdout to a capture and a file at once (1 GiB in the full run), the array
// form `stdout: ['pipe', { file }]`, against execa's same form. pidfd's bytes go to the file by
// tee(2)/splice(2) on a thread of its own (native/tee.c) and only the capture's reach
// JavaScript; execa reads every byte into JavaScript and writes it to the file from there. The
// producer is dd writing 1 MiB blocks of zeros. Both the capture's length and the file's size are
// checked after each round; the file is removed, the result dropped and the garbage collected
// before the next round.

import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { execa } from 'execa';

import { nowNs } from '../lib/clock.js';
import { alternate } from '../lib/rounds.js';
import { summarize } from '../lib/stats.js';

const pidfdUrl = process.env.PIDFD_BENCH_LIB ? pathToFileURL(process.env.PIDFD_BENCH_LIB).href : new URL('../../dist/index.js', import.meta.url).href;
const { run: pidfdRun } = await import(pidfdUrl);

const contenders = {
  'pidfd run': async (file, args, log) =>
    (await pidfdRun(file, args, { encoding: 'buffer', maxBuffer: Infinity, stdout: ['pipe', { file: log }] })).stdout,
  execa: async (file, args, log) =>
    (await execa(file, args, { encoding: 'buffer', maxBuffer: Infinity, stripFinalNewline: false, stdout: ['pipe', { file: log }] })).stdout,
};

/** params: { mib, rounds }. */
export async function run({ mib, rounds }) {
  if (typeof globalThis.gc !== 'function') throw new Error('run-tee needs node --expose-gc');
  const dir = mkdtempSync(join(tmpdir(), 'pidfd-bench-tee-'));
  const log = join(dir, 'out.log');
  const argv = ['dd', 'if=/dev/zero', 'bs=1M', `count=${mib}`, 'status=none'];
  const bytes = mib * 1024 * 1024;
  const names = Object.keys(contenders);
  const samples = Object.fromEntries(names.map((name) => [name, { mibPerS: [], cpuS: [] }]));
  try {
    for (const name of names) await contenders[name]('dd', ['if=/dev/zero', 'bs=1M', 'count=4', 'status=none'], log);
    await alternate(names, rounds, async (name) => {
      rmSync(log, { force: true });
      globalThis.gc();
      const cpu0 = process.cpuUsage();
      const t0 = nowNs();
      let out = await contenders[name](argv[0], argv.slice(1), log);
      const seconds = (nowNs() - t0) / 1e9;
      const cpu = process.cpuUsage(cpu0);
      if (out.length !== bytes) throw new Error(`${name}: captured ${out.length} bytes, not ${bytes}`);
      const written = statSync(log).size;
      if (written !== bytes) throw new Error(`${name}: wrote ${written} bytes to the file, not ${bytes}`);
      out = null;
      samples[name].mibPerS.push(mib / seconds);
      samples[name].cpuS.push((cpu.user + cpu.system) / 1e6);
    }, 'run-tee');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const result = {};
  for (const name of names) {
    result[name] = { mibPerS: summarize(samples[name].mibPerS), cpuS: summarize(samples[name].cpuS), roundRates: samples[name].mibPerS };
  }
  return { mib, rounds, contenders: result };
}
