// `npm run test:kernels`: the kernel matrix. Boots Debian's kernels 5.10 (bullseye), 6.1
// (bookworm), 6.12 (trixie) and 7.2 (sid) in QEMU, one after the other, and runs in each the
// smoke suite and the test files whose behaviour depends on the kernel (a subset per kernel,
// below), in the default pass. The guest's root is this machine's / over 9p with a RAM overlay
// (test/kernels/vm.sh), so it runs this checkout, this node and the addon built by `npm install`.
//
// What it needs and gets by itself: qemu-system-x86, busybox-static and cpio (apt-get install
// when missing: it must run as root then), the kernels (test/kernels/fetch.sh: `apt-get download`
// into $PIDFD_CI_CACHE/kernels or ~/.cache/pidfd-ci/kernels, unpacked, never installed). Where
// that is impossible (not root and the tools missing, no Debian mirror, no x86-64), it says why
// and exits 0: a skip, not a pass. Each VM is bounded (PIDFD_KERNEL_TIMEOUT seconds, 600 by
// default); a VM that gives no exit status fails the run.
//
// Usage: node test/kernels/run.js [5.10 6.1 ...]   (all four by default)
// Environment: PIDFDVM_ACCEL=kvm on a host with real KVM (see vm.sh), PIDFD_KERNEL_TIMEOUT.
// At the end it prints, kernel by kernel, what support() reported and how each part went: the
// kernel table of docs/internals.md comes from this output.

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { buildHelpers } from '../helpers/build.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');

// Per kernel: the Debian suite whose kernel it is, and the test files (words for test/run.js) run
// in its guest besides the smoke suite and test/kernels/features.test.js (every kernel: the 7.1
// flags and their fallbacks). The kernel-dependent files are spread over the kernels to keep the
// matrix near ten minutes under software emulation on an idle 2-CPU machine; the two ends (5.10:
// no pidfs, no cgroup.kill, no PIDFD_INFO_EXIT; 7.2: the newest flags) get the most. Not here:
// test/native/watch.test.js and test/native/child.test.js, whose storms of spawns and signals
// take minutes under emulation. test/run/tree.test.js runs on 6.12 and 7.2 (its guests were once
// SIGKILLed by a test that read pid 0 when its timeout beat the command's first line: see
// docs/internals.md).
const kernels = [
  { name: '5.10', suite: 'bullseye', tests: ['process/spawn.test', 'process/pidfd.test', 'cgroup/'] },
  { name: '6.1', suite: 'bookworm', tests: ['process/spawn.test', 'compat/events'] },
  { name: '6.12', suite: 'trixie', tests: ['process/spawn.test', 'process/pidfd.test', 'cgroup/', 'run/tree'] },
  { name: '7.2', suite: 'sid', tests: ['process/spawn.test', 'process/pidfd.test', 'cgroup/', 'compat/events', 'run/tree'] },
];

function skip(reason) {
  console.log(`test:kernels: SKIPPED: ${reason}`);
  process.exit(0);
}

function have(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** qemu-system-x86_64, a static busybox, cpio, zstd and xz: installed through apt-get when missing. */
function ensureTools() {
  const staticBusybox = () =>
    existsSync('/bin/busybox') && spawnSync('ldd', ['/bin/busybox'], { stdio: 'ignore' }).status !== 0;
  const missing = () =>
    [
      ['qemu-system-x86_64', 'qemu-system-x86'],
      ['cpio', 'cpio'],
      ['zstd', 'zstd'],
      ['xz', 'xz-utils'],
      ['dpkg-deb', 'dpkg'],
    ]
      .filter(([command]) => !have(command))
      .map(([, pkg]) => pkg)
      .concat(staticBusybox() ? [] : ['busybox-static']);
  let need = missing();
  if (need.length === 0) return;
  if (process.getuid?.() !== 0) skip(`missing ${need.join(', ')} and not root to apt-get install them`);
  if (!have('apt-get')) skip(`missing ${need.join(', ')} and no apt-get`);
  console.log(`test:kernels: apt-get install ${need.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let r = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...need], { stdio: 'inherit', env });
  if (r.status !== 0) {
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    r = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...need], { stdio: 'inherit', env });
  }
  need = missing();
  if (need.length > 0) skip(`apt-get could not install ${need.join(', ')}`);
}

if (process.platform !== 'linux' || process.arch !== 'x64') skip('the kernel matrix boots x86-64 Debian kernels: needs Linux on x86-64');
if (!existsSync(join(root, 'build', 'Release')) || !existsSync(join(root, 'dist', 'index.js'))) {
  console.error('test:kernels: run `npm install` first (the guests use this checkout\'s addon and dist/)');
  process.exit(1);
}
ensureTools();
if (!have('apt-get') || !existsSync('/etc/apt')) skip('no apt-get to fetch Debian kernels with');
// The C helpers are built here, not in each guest (a compiler under emulation is slow).
buildHelpers();

const cache = join(process.env.PIDFD_CI_CACHE ?? join(homedir(), '.cache', 'pidfd-ci'), 'kernels');
mkdirSync(cache, { recursive: true });
const only = process.argv.slice(2);
const selected = kernels.filter((k) => only.length === 0 || only.includes(k.name));
if (selected.length === 0) {
  console.error(`test:kernels: no kernel named ${only.join(' or ')} (one of ${kernels.map((k) => k.name).join(', ')})`);
  process.exit(2);
}

/** Runs command in a guest of the kernel in dir, its output shown as it comes and kept. */
function boot(dir, command) {
  return new Promise((resolve) => {
    const child = spawn(join(here, 'vm.sh'), [dir, '--', ...command], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, PIDFDVM_TIMEOUT: String(timeout) },
    });
    let stdout = '';
    // Interrupted, the guest goes too (vm.sh kills its QEMU on SIGTERM).
    const stop = (signal) => {
      child.kill('SIGTERM');
      process.exit(signal === 'SIGINT' ? 130 : 143);
    };
    process.once('SIGINT', stop).once('SIGTERM', stop);
    child.on('close', () => process.off('SIGINT', stop).off('SIGTERM', stop));
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      process.stdout.write(chunk);
    });
    child.on('close', (status, signal) => resolve({ status, signal, stdout }));
  });
}

const timeout = Number(process.env.PIDFD_KERNEL_TIMEOUT ?? 600);
const results = [];
for (const kernel of selected) {
  const started = Date.now();
  let dir;
  try {
    dir = execFileSync(join(here, 'fetch.sh'), [cache, kernel.suite], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  } catch (error) {
    // No mirror is a skip (this machine cannot get the kernel), not a failure of pidfd.
    results.push({ kernel, status: 'skipped', why: `could not fetch ${kernel.suite}'s kernel (${error.message.split('\n')[0]})` });
    continue;
  }
  console.log(`\n=== test:kernels: ${kernel.name} (${kernel.suite}, ${dir.split('/').pop()}) ===`);
  const r = await boot(dir, ['node', join(here, 'guest.js'), ...kernel.tests]);
  const summary = /^@@pidfd-kernel (.*)$/m.exec(r.stdout);
  results.push({
    kernel,
    status: r.status === 0 ? 'passed' : 'FAILED',
    why: r.status === 125 ? `no exit status from the guest within ${timeout} s` : r.status === 0 ? '' : `exit ${r.status ?? r.signal}`,
    summary: summary ? JSON.parse(summary[1]) : null,
    seconds: Math.round((Date.now() - started) / 1000),
  });
}

console.log('\n=== test:kernels: summary ===');
for (const { kernel, status, why, summary, seconds } of results) {
  console.log(`${kernel.name} (${kernel.suite}): ${status}${why ? ` (${why})` : ''}${seconds ? `, ${seconds} s` : ''}`);
  if (summary) {
    console.log(`  uname -r ${summary.release}; backend ${summary.backend}, watcher ${summary.watcher}`);
    console.log(`  available: ${summary.available.join(', ')}`);
    console.log(`  not available: ${summary.unavailable.map(([n, r]) => `${n} (${r})`).join('; ') || 'none'}`);
    for (const part of summary.parts) console.log(`  ${part.name}: ${part.status} (${part.seconds} s)`);
  }
}
if (results.some((r) => r.status === 'FAILED')) process.exit(1);
if (results.every((r) => r.status === 'skipped')) skip(results.map((r) => r.why).join('; '));
