// Runs inside a test:kernels guest (test/kernels/run.js boots it): prints support(), then runs
// the smoke suite, test/kernels/features.test.js and the test files named by the arguments
// (words for test/run.js) in the default pass. Its last line, `@@pidfd-kernel {json}`, is the
// summary run.js prints; the exit code is 1 if any part failed.

import { spawnSync } from 'node:child_process';
import { release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const { support } = await import(join(root, 'dist', 'index.js'));

const s = support();
console.log(`## uname -r ${release()}`);
console.log(`## support(): ${JSON.stringify(s)}`);

const parts = [];
function part(name, command, env = {}) {
  console.log(`\n## ${name}`);
  const started = Date.now();
  const r = spawnSync(command[0], command.slice(1), { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  const seconds = Math.round((Date.now() - started) / 100) / 10;
  const status = r.status === 0 ? 'passed' : `FAILED (${r.status ?? r.signal})`;
  console.log(`## ${name}: ${status} in ${seconds} s`);
  parts.push({ name, status, seconds });
}

part('smoke', [process.execPath, join(root, 'test', 'smoke', 'smoke.js')]);
const words = ['kernels/', ...process.argv.slice(2)];
part(`test/run.js ${words.join(' ')}`, [process.execPath, join(root, 'test', 'run.js'), ...words], { PIDFD_TEST_PASSES: 'default' });

const entries = Object.entries(s.features);
console.log(
  `@@pidfd-kernel ${JSON.stringify({
    release: release(),
    backend: s.backend,
    watcher: s.watcher?.name ?? null,
    available: entries.filter(([, f]) => f.available).map(([n]) => n),
    unavailable: entries.filter(([, f]) => !f.available).map(([n, f]) => [n, f.reason]),
    parts,
  })}`,
);
process.exit(parts.every((p) => p.status === 'passed') ? 0 : 1);
