// A fresh Node process for one scenario (or one contender's round of it): runs
//   node [flags] bench/lib/worker.js <scenario> <params-json> <result-file>
// and returns the JSON that the scenario's run(params) returned.

import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const tmp = join(here, '..', 'results', 'tmp');
let serial = 0;

/** options: { nodeFlags: [...], env: {...} added to this process's environment }. */
export async function inWorker(scenario, params, { nodeFlags = [], env } = {}) {
  mkdirSync(tmp, { recursive: true });
  const resultFile = join(tmp, `${scenario}-${process.pid}-${Date.now()}-${serial++}.json`);
  const child = spawn(process.execPath, [...nodeFlags, join(here, 'worker.js'), scenario, JSON.stringify(params), resultFile], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: env ? { ...process.env, ...env } : process.env,
  });
  const code = await new Promise((resolve) => child.once('exit', (c, s) => resolve(c ?? s)));
  if (code !== 0) throw new Error(`worker ${scenario} ${JSON.stringify(params)} failed: ${code}`);
  const result = JSON.parse(readFileSync(resultFile, 'utf8'));
  rmSync(resultFile);
  return result;
}
