// Order statistics for benchmark samples: medians and spreads, never means of noisy data.

/** The q-quantile (0..1) of values, by linear interpolation between order statistics. */
export function quantile(values, q) {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** Median, p10, p90, p99, min, max and count of values. */
export function summarize(values) {
  return {
    n: values.length,
    median: quantile(values, 0.5),
    p10: quantile(values, 0.1),
    p90: quantile(values, 0.9),
    p99: quantile(values, 0.99),
    min: values.length ? Math.min(...values) : NaN,
    max: values.length ? Math.max(...values) : NaN,
  };
}

/** The median of values. */
export function median(values) {
  return quantile(values, 0.5);
}
