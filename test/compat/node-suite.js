// Runs Node's own child_process tests (../shared/node-child-process-tests, beside the checkout)
// with child_process replaced by pidfd/child_process, and fails if a file that passes with the
// real child_process fails here, unless node-suite-exclusions.json lists it with its reason. A
// file that fails is run once more on its own before it counts (the machine is shared).
//
//   node test/compat/node-suite.js [--suite DIR] [--jobs N]
//
// Without the suite (a clone on its own) it says so and succeeds: `npm test` does not need it.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values } = parseArgs({
  options: {
    suite: { type: 'string', default: join(root, '..', 'shared', 'node-child-process-tests') },
    jobs: { type: 'string', default: '2' },
  },
});
const suite = resolve(values.suite);
const runner = join(suite, 'run.mjs');
if (!existsSync(runner)) {
  console.log(`node-child-process-tests: skipped: ${suite} does not exist (Node's tests live beside the checkout, ` +
    'in ../shared/node-child-process-tests, and are not part of the repository)');
  process.exit(0);
}
const compatModule = join(root, 'dist', 'compat', 'child_process.js');
const exclusions = JSON.parse(readFileSync(join(root, 'test', 'compat', 'node-suite-exclusions.json'), 'utf8')).files;
const work = mkdtempSync(join(tmpdir(), 'pidfd-node-suite-'));

/** Runs the suite (or the files matching `filter`); returns its results file's content. */
function runSuite(filter, name) {
  const out = join(work, `${name}.json`);
  const args = [runner, '--jobs', values.jobs, '--out', out, ...(filter ? ['--filter', filter] : [])];
  const r = spawnSync(process.execPath, args, {
    stdio: 'inherit',
    env: { ...process.env, COMPAT_MODULE: compatModule },
  });
  if (!existsSync(out)) throw new Error(`the suite's runner wrote no results (exit ${r.status ?? r.signal})`);
  return JSON.parse(readFileSync(out, 'utf8'));
}

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
try {
  const first = runSuite(null, 'all');
  const { summary } = first;
  if (summary.missingExports?.length) throw new Error(`pidfd/child_process lacks exports: ${summary.missingExports.join(', ')}`);
  let lost = summary.lost ?? [];
  const retried = [];
  if (lost.length > 0) {
    console.log(`\nrunning again on their own: ${lost.join(' ')}`);
    const again = runSuite(lost.map((f) => `^${escape(f)}$`).join('|'), 'again');
    const passedNow = new Set(again.results.filter((r) => r.status === 'pass').map((r) => r.file));
    retried.push(...lost.filter((f) => passedNow.has(f)));
    lost = lost.filter((f) => !passedNow.has(f));
  }
  const excused = lost.filter((f) => f in exclusions);
  const failing = lost.filter((f) => !(f in exclusions));
  const kept = summary.baselinePass - lost.length;
  console.log(`\nnode-child-process-tests with pidfd/child_process: ${kept}/${summary.baselinePass} of the files that pass at baseline` +
    (retried.length ? ` (${retried.length} on a second run: ${retried.join(' ')})` : ''));
  for (const f of excused) console.log(`  excluded: ${f}: ${exclusions[f]}`);
  if (failing.length > 0) {
    console.error(`  failing, and not in test/compat/node-suite-exclusions.json: ${failing.join(' ')}`);
    process.exitCode = 1;
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
