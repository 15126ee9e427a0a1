// What the numbers were measured on: kernel, CPU, cores, memory, Node, libc, load, versions.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

import { availableGiB } from './ballast.js';

function firstLine(command, args) {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')[0];
  } catch {
    return null;
  }
}

/** The installed version of a package of this repository (the root's own for '.'). */
function version(pkg) {
  const path = pkg === '.' ? '../../package.json' : `../../node_modules/${pkg}/package.json`;
  return JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')).version;
}

/** The machine and the software under test, as of now. */
export async function describeMachine() {
  const { support } = await import(new URL('../../dist/index.js', import.meta.url).href);
  const cpus = os.cpus();
  const s = support();
  return {
    kernel: os.release(),
    kernelVersion: os.version(),
    arch: os.arch(),
    // A hypervisor flag: a virtual machine, whose scheduling adds noise of its own.
    virtualized: /\bhypervisor\b/.test(readFileSync('/proc/cpuinfo', 'utf8')),
    cpuModel: cpus[0]?.model ?? 'unknown',
    cpuMHz: cpus[0]?.speed ?? null,
    cores: cpus.length,
    memTotalGiB: os.totalmem() / 2 ** 30,
    memAvailableGiB: await availableGiB(),
    node: process.version,
    glibc: process.report?.getReport().header.glibcVersionRuntime ?? null,
    cc: firstLine('cc', ['--version']),
    loadAverage: os.loadavg(),
    pidfdBackend: s.backend,
    pidfdBackendReason: s.reason,
    versions: {
      pidfd: version('.'),
      execa: version('execa'),
      'nano-spawn': version('nano-spawn'),
      tinyexec: version('tinyexec'),
    },
  };
}
