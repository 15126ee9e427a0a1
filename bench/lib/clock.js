// Time and CPU readings: CLOCK_MONOTONIC in ns (the clock the C helpers use) and process CPU.

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
