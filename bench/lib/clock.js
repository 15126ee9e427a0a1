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
