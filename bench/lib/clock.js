// Time and CPU readings: CLOCK_MONOTONIC in ns (the clock the C helpers use), process CPU and the
// main thread's CPU.

import { readFileSync } from 'node:fs';

/** CLOCK_MONOTONIC now, in ns, as a Number (exact to well below a µs for a machine's uptime). */
export function nowNs() {
  return Number(process.hrtime.bigint());
}

/** User + system CPU time of this whole process so far, in ns. */
export function cpuNs() {
  const { user, system } = process.cpuUsage();
  return (user + system) * 1000;
}

/** Resolves after ms milliseconds. */
export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** This process's memory once garbage has been collected (three rounds, 20 ms apart; needs
 * node --expose-gc): what the objects still held are worth. */
export async function settledMemory() {
  for (let i = 0; i < 3; i++) {
    globalThis.gc();
    await sleep(20);
  }
  return process.memoryUsage();
}

/** The CPU time of the calling thread so far, in ns (the first field of
 * /proc/thread-self/schedstat: time on a CPU, ns, all of it, user and system), or NaN where the
 * file is missing (a kernel without schedstats). */
export function threadCpuNs() {
  try {
    return Number(readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ', 1)[0]);
  } catch {
    return NaN;
  }
}

/** A reading to measure from: wall (CLOCK_MONOTONIC), this process's CPU (all threads) and the
 * main thread's CPU, ns. */
export function cpuMark() {
  return { wall: nowNs(), process: cpuNs(), main: threadCpuNs() };
}

/** What passed since `mark` (from cpuMark()): { wallNs, processNs, mainNs }. */
export function cpuSince(mark) {
  const now = cpuMark();
  return { wallNs: now.wall - mark.wall, processNs: now.process - mark.process, mainNs: now.main - mark.main };
}

/** The CPU time of this process's reaped children so far, in ns (cutime + cstime of
 * /proc/self/stat: clock ticks, 10 ms each where USER_HZ is 100; exact enough over hundreds of
 * children), or NaN where it cannot be read. */
export function childrenCpuNs() {
  try {
    const fields = readFileSync('/proc/self/stat', 'latin1').split(') ')[1].split(' ');
    return (Number(fields[13]) + Number(fields[14])) * 1e7;
  } catch {
    return NaN;
  }
}
