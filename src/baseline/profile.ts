/**
 * The baseline profile: computed at build from `features.baseline` (plus the model's outputs on the
 * same rows) and stored with each version; the reference `drift-check` compares logs against.
 */

/** Version of the profile file format. */
export const PROFILE_FORMAT = 1;
/** Baseline values kept for exact KS / Wasserstein; larger baselines keep an even sample. */
export const MAX_SORTED_VALUES = 200_000;
/** Quantile bins for PSI and the report's histograms. */
export const DEFAULT_BINS = 10;

/** A numeric column: summary, quantile bins and its sorted values (for exact KS and Wasserstein). */
export interface NumericProfile {
  kind: 'numeric';
  count: number;
  missing: number;
  mean: number | null;
  std: number | null;
  min: number | null;
  max: number | null;
  /** Interior bin edges at the baseline's quantiles (unique, ascending); bins are (-inf, e0], (e0, e1], …, (ek, +inf). */
  edges: number[];
  /** Baseline counts per bin: edges.length + 1 entries. */
  counts: number[];
  /** Non-missing baseline values, ascending (all, or an even sample past MAX_SORTED_VALUES). */
  sorted: number[];
}

/** A categorical column: category frequencies. */
export interface CategoricalProfile {
  kind: 'categorical';
  count: number;
  missing: number;
  /** Category → count, over non-missing values. */
  frequencies: Record<string, number>;
}

/** One column's profile. */
export type FeatureProfile = NumericProfile | CategoricalProfile;

/** The stored baseline: one profile per feature and one for the model's outputs. */
export interface BaselineProfile {
  format: typeof PROFILE_FORMAT;
  /** Where the rows came from (relative path) and its sha256. */
  source: { path: string; sha256?: string };
  rows: number;
  features: Record<string, FeatureProfile>;
  /** The model's outputs on the same rows. */
  output?: FeatureProfile;
}

/** A raw cell as profiling reads it. */
export type Value = number | string | boolean | null | undefined;

function isMissing(v: Value): boolean {
  return v === null || v === undefined || v === '' || (typeof v === 'number' && Number.isNaN(v));
}

/** Profile of one numeric column. */
export function profileNumeric(values: readonly Value[], bins = DEFAULT_BINS): NumericProfile {
  const present: number[] = [];
  let missing = 0;
  for (const v of values) {
    const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
    if (isMissing(v) || !Number.isFinite(n)) missing++;
    else present.push(n);
  }
  present.sort((a, b) => a - b);
  const count = present.length;
  if (count === 0) return { kind: 'numeric', count: 0, missing, mean: null, std: null, min: null, max: null, edges: [], counts: [0], sorted: [] };
  let sum = 0;
  for (const x of present) sum += x;
  const mean = sum / count;
  let ss = 0;
  for (const x of present) ss += (x - mean) ** 2;
  const std = count > 1 ? Math.sqrt(ss / (count - 1)) : 0;
  const edges: number[] = [];
  for (let i = 1; i < bins; i++) {
    const q = quantile(present, i / bins);
    if (edges.length === 0 || q > edges[edges.length - 1]!) edges.push(q);
  }
  if (edges.length > 0 && edges[edges.length - 1] === present[count - 1]) edges.pop();
  const counts = binCounts(present, edges);
  return {
    kind: 'numeric',
    count,
    missing,
    mean,
    std,
    min: present[0]!,
    max: present[count - 1]!,
    edges,
    counts,
    sorted: evenSample(present, MAX_SORTED_VALUES),
  };
}

/** Profile of one categorical column. */
export function profileCategorical(values: readonly Value[]): CategoricalProfile {
  const frequencies: Record<string, number> = {};
  let missing = 0;
  let count = 0;
  for (const v of values) {
    if (isMissing(v)) {
      missing++;
      continue;
    }
    const key = String(v);
    frequencies[key] = (frequencies[key] ?? 0) + 1;
    count++;
  }
  return { kind: 'categorical', count, missing, frequencies };
}

/** Linear-interpolated quantile of ascending values (numpy's default method). */
export function quantile(sorted: readonly number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** Counts per bin (-inf, e0], (e0, e1], …, (ek, +inf) of ascending values. */
export function binCounts(sorted: readonly number[], edges: readonly number[]): number[] {
  const counts = new Array<number>(edges.length + 1).fill(0);
  let b = 0;
  for (const x of sorted) {
    while (b < edges.length && x > edges[b]!) b++;
    counts[b]!++;
  }
  return counts;
}

function evenSample(sorted: number[], max: number): number[] {
  if (sorted.length <= max) return sorted;
  const out = new Array<number>(max);
  for (let i = 0; i < max; i++) out[i] = sorted[Math.floor((i * (sorted.length - 1)) / (max - 1))]!;
  return out;
}
