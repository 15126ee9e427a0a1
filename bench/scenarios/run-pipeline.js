// run() scenario 3: a two-command pipeline moving a large amount of data (1 GiB in the full
// run): dd writing 1 MiB blocks of zeros into wc -c. run().pipe() hands one kernel pipe to both
// commands; `sh -c 'a | b'` is the same data path made by a shell; execa, nano-spawn and tinyexec
// pipe through JavaScript streams.

import { nowNs } from '../lib/clock.js';
import { alternate } from '../lib/rounds.js';
import { pipelineContenders } from '../lib/run-contenders.js';
import { summarize } from '../lib/stats.js';

/** params: { mib, rounds, contenders }. */
export async function run({ mib, rounds, contenders: only }) {
  const a = ['dd', 'if=/dev/zero', 'bs=1M', `count=${mib}`, 'status=none'];
  const b = ['wc', '-c'];
  const expected = String(mib * 1024 * 1024);
  const names = Object.keys(pipelineContenders).filter((name) => only === undefined || only.includes(name));
  const samples = Object.fromEntries(names.map((name) => [name, { mibPerS: [], cpuS: [] }]));
  for (const name of names) await pipelineContenders[name](['dd', 'if=/dev/zero', 'bs=1M', 'count=4', 'status=none'], b);

  await alternate(names, rounds, async (name) => {
    const cpu0 = process.cpuUsage();
    const t0 = nowNs();
    const out = await pipelineContenders[name](a, b);
    const seconds = (nowNs() - t0) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    if (String(out).trim() !== expected) throw new Error(`${name}: wc -c said ${out}, not ${expected}`);
    samples[name].mibPerS.push(mib / seconds);
    samples[name].cpuS.push((cpu.user + cpu.system) / 1e6);
  }, 'run-pipeline');

  const contenders = {};
  for (const name of names) {
    contenders[name] = { mibPerS: summarize(samples[name].mibPerS), cpuS: summarize(samples[name].cpuS), roundRates: samples[name].mibPerS };
  }
  return { mib, rounds, contenders };
}
