/** Percentiles for latency samples (nearest-rank, as load-testing tools report them). */

export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
  mean: number;
  max: number;
  count: number;
}

/** The value at percentile `p` (0–100) of an ascending array, nearest-rank. */
export function percentileOfSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** p50/p95/p99, mean and max of a list of values (not modified). */
export function summarize(values: readonly number[]): Percentiles {
  const sorted = Float64Array.from(values).sort();
  const list = Array.from(sorted);
  let sum = 0;
  for (const v of list) sum += v;
  return {
    p50: round(percentileOfSorted(list, 50)),
    p95: round(percentileOfSorted(list, 95)),
    p99: round(percentileOfSorted(list, 99)),
    mean: round(list.length ? sum / list.length : NaN),
    max: round(list.length ? list[list.length - 1]! : NaN),
    count: list.length,
  };
}

/** Milliseconds to three decimals: enough for sub-millisecond stages, short in JSON. */
export function round(n: number): number {
  return Number.isFinite(n) ? Math.round(n * 1000) / 1000 : n;
}
