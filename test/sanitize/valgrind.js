// `npm run test:valgrind`: valgrind memcheck over a short spawn/kill/wait loop.
//
// Valgrind 3.19 cannot run the library as Node uses it: it has no wrappers for pidfd_open (434)
// and pidfd_send_signal (424) ("unhandled amd64-linux syscall", answered ENOSYS), answers clone3
// with ENOSYS, and runs clone(CLONE_VM | CLONE_VFORK) as a plain copy (memory not shared). The
// probe then finds no backend. So the pass has two parts (docs/reliability.md):
//  1. test/sanitize/c/spawn-loop.c, the native core (spawn.c, create.c, probe.c, child.c, clone.c) without Node:
//     100 iterations of four spawns with the clone backend, which valgrind runs as a copy that
//     still gets its pidfd from the kernel (CLONE_PIDFD), the child's setup code checked by
//     memcheck in the copy; and 20 with the fork backend, whose pidfd_open valgrind refuses, so
//     that its kill-and-reap cleanup path runs instead.
//  2. node with the real addon, test/sanitize/valgrind-node.mjs, 100 iterations: every spawn plan
//     goes through the addon's marshalling and comes back as a failure object (ENOSYS).
// Every process valgrind ran (the copies included) must report 0 errors, definite and indirect
// leaks counted as errors; Node/V8 reports would be suppressed by test/sanitize/valgrind.supp.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { root } from '../helpers/index.js';

const here = join(root, 'test', 'sanitize');
const out = join(root, 'build', 'valgrind');
const logs = mkdtempSync(join(tmpdir(), 'pidfd-valgrind-'));
const iterations = Number(process.env.PIDFD_VALGRIND_ITERATIONS ?? 100);

try {
  console.log(execFileSync('valgrind', ['--version'], { encoding: 'utf8' }).trim());
} catch {
  console.error('valgrind is not installed (Debian: apt-get install valgrind)');
  process.exit(1);
}

mkdirSync(out, { recursive: true });
const loop = join(out, 'spawn-loop');
execFileSync(
  'cc',
  [
    '-g',
    '-O1',
    '-D_GNU_SOURCE',
    '-std=gnu11',
    '-Wall',
    '-Wextra',
    '-Werror',
    '-o',
    loop,
    join(here, 'c', 'spawn-loop.c'),
    ...['spawn.c', 'create.c', 'probe.c', 'child.c', 'clone.c'].map((f) => join(root, 'native', f)),
  ],
  { stdio: 'inherit' },
);

const memcheck = [
  '--tool=memcheck',
  '--trace-children=no',
  '--child-silent-after-fork=no',
  '--leak-check=full',
  '--show-leak-kinds=definite,indirect',
  '--errors-for-leak-kinds=definite,indirect',
  '--track-origins=yes',
  '--num-callers=40',
  // Each error between markers: a copy that went on to execve never writes its ERROR SUMMARY.
  '--error-markers=PIDFD-ERROR-BEGIN,PIDFD-ERROR-END',
  `--suppressions=${join(here, 'valgrind.supp')}`,
];

function underValgrind(name, command) {
  console.log(`\n--- ${name}: valgrind ${command.join(' ')}`);
  const r = spawnSync('valgrind', [...memcheck, `--log-file=${join(logs, `${name}.%p`)}`, ...command], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (r.status !== 0) console.error(`${name}: exit status ${r.status ?? r.signal}`);
  return r.status === 0;
}

const ok = [
  underValgrind('loop-clone', [loop, 'clone', String(iterations)]),
  underValgrind('loop-fork', [loop, 'fork', String(Math.ceil(iterations / 5))]),
  underValgrind('node', [process.execPath, join(here, 'valgrind-node.mjs'), String(iterations)]),
].every(Boolean);

let processes = 0;
let errors = 0;
const unhandled = new Set();
for (const file of readdirSync(logs).sort()) {
  const text = readFileSync(join(logs, file), 'utf8');
  for (const m of text.matchAll(/unhandled amd64-linux syscall: (\d+)/g)) unhandled.add(Number(m[1]));
  processes++;
  const n = text.split('PIDFD-ERROR-BEGIN').length - 1;
  const summary = /ERROR SUMMARY: (\d+) errors/.exec(text); // absent when the process exec'd
  errors += Math.max(n, Number(summary?.[1] ?? 0));
  if (n > 0 || Number(summary?.[1] ?? 0) > 0) console.error(`\n--- ${file}: ${n} errors ---\n${text}`);
}
console.log(
  `\nvalgrind: ${processes} processes checked (the program, and its copies until they exec'd or exited), ` +
    `${errors} errors; syscalls valgrind refused: ${[...unhandled].join(', ') || 'none'}`,
);
if (errors === 0 && ok) rmSync(logs, { recursive: true, force: true });
else console.error(`logs kept in ${logs}`);
process.exit(errors === 0 && ok ? 0 : 1);
