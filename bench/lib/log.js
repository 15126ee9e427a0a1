// Progress on stderr, so that stdout stays free for results.

// bench/run.js sets BENCH_T0 (epoch ms), so that its workers count from the same start.
const t0 = Number(process.env.BENCH_T0) || Date.now() - performance.now();

/** Prints one progress line, prefixed with the seconds since the run started. */
export function log(...parts) {
  const t = ((Date.now() - t0) / 1000).toFixed(1).padStart(6);
  process.stderr.write(`[${t}s] ${parts.join(' ')}\n`);
}
