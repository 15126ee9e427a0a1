// run() scenario 2: capturing a large stdout (1 GiB in the full run) as bytes, against the
// libraries that can give bytes and against a C read loop (bench/c/capture.c) into a realloc'd
// buffer. The producer is dd writing 1 MiB blocks of zeros. Each contender's result is dropped
// and the garbage collected before the next one, so that each starts from the same memory.

import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

import { nowNs } from '../lib/clock.js';
import { alternate } from '../lib/rounds.js';
import { captureContenders } from '../lib/run-contenders.js';
import { summarize } from '../lib/stats.js';

/** The C reference, driven like the limit server: one command per line, JSON back. */
async function startC(path) {
  const child = spawn(path, [], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => JSON.parse((await lines.next()).value);
  if (!(await next()).ready) throw new Error('capture server did not start');
  return {
    async capture(argv) {
      child.stdin.write(`cap ${argv.join(' ')}\n`);
      const answer = await next();
      if (answer.error) throw new Error(`capture server: ${answer.error}`);
      return answer;
    },
    async stop() {
      child.stdin.end('quit\n');
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

/** params: { mib, rounds, bins }. */
export async function run({ mib, rounds, bins }) {
  if (typeof globalThis.gc !== 'function') throw new Error('run-capture needs node --expose-gc');
  const argv = ['dd', 'if=/dev/zero', 'bs=1M', `count=${mib}`, 'status=none'];
  const bytes = mib * 1024 * 1024;
  const c = await startC(bins.capture);
  const names = [...Object.keys(captureContenders), 'C read loop'];
  const samples = Object.fromEntries(names.map((name) => [name, { mibPerS: [], cpuS: [] }]));
  // Warm-up: each contender once on a small output.
  for (const name of Object.keys(captureContenders)) await captureContenders[name]('dd', ['if=/dev/zero', 'bs=1M', 'count=4', 'status=none']);

  await alternate(names, rounds, async (name) => {
    globalThis.gc();
    let seconds;
    let cpuS;
    if (name === 'C read loop') {
      const answer = await c.capture(argv);
      if (answer.bytes !== bytes) throw new Error(`C read loop: ${answer.bytes} bytes`);
      seconds = answer.ns / 1e9;
      cpuS = answer.cpu_ns / 1e9;
    } else {
      const cpu0 = process.cpuUsage();
      const t0 = nowNs();
      let out = await captureContenders[name](argv[0], argv.slice(1));
      seconds = (nowNs() - t0) / 1e9;
      const cpu = process.cpuUsage(cpu0);
      cpuS = (cpu.user + cpu.system) / 1e6;
      if (out.length !== bytes) throw new Error(`${name}: ${out.length} bytes, not ${bytes}`);
      out = null;
    }
    samples[name].mibPerS.push(mib / seconds);
    samples[name].cpuS.push(cpuS);
  }, 'run-capture');
  await c.stop();

  const contenders = {};
  for (const name of names) {
    contenders[name] = { mibPerS: summarize(samples[name].mibPerS), cpuS: summarize(samples[name].cpuS), roundRates: samples[name].mibPerS };
  }
  return { mib, rounds, contenders };
}
