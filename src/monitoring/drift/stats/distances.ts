/**
 * Distribution distances and goodness-of-fit tests, each written to give scipy's numbers:
 * `wasserstein_distance`, `chisquare`, `spatial.distance.jensenshannon`, plus L-infinity (the
 * category measure of SageMaker Model Monitor and Vertex AI) and PSI (no scipy counterpart; the
 * reference script computes it with numpy by the same formula).
 */
import { chi2Sf } from './special.js';

/**
 * Empty-bin floor for PSI: a share of 0 in either distribution is replaced by this before the log
 * (as Evidently does), so one empty bin gives a large but finite term instead of infinity.
 */
export const PSI_EPSILON = 1e-4;

/** Population Stability Index Σ (c − b)·ln(c / b) over bin shares, empty shares floored at PSI_EPSILON. */
export function psi(baselineCounts: readonly number[], currentCounts: readonly number[]): number {
  const nb = sum(baselineCounts);
  const nc = sum(currentCounts);
  let total = 0;
  for (let i = 0; i < baselineCounts.length; i++) {
    const b = Math.max(baselineCounts[i]! / nb, PSI_EPSILON);
    const c = Math.max(currentCounts[i]! / nc, PSI_EPSILON);
    total += (c - b) * Math.log(c / b);
  }
  return total;
}

/**
 * `scipy.stats.wasserstein_distance(a, b)` on two sorted arrays: ∫|A(x) − B(x)| dx between the
 * empirical CDFs, as Σ |i/n1 − j/n2| · (next − current) over the merged values.
 */
export function wasserstein(sortedA: ArrayLike<number>, sortedB: ArrayLike<number>): number {
  const n1 = sortedA.length;
  const n2 = sortedB.length;
  let i = 0;
  let j = 0;
  let total = 0;
  let prev = Number.NaN;
  let gap = 0;
  while (i < n1 || j < n2) {
    const x = j >= n2 || (i < n1 && sortedA[i]! <= sortedB[j]!) ? sortedA[i]! : sortedB[j]!;
    if (!Number.isNaN(prev)) total += Math.abs(gap) * (x - prev);
    while (i < n1 && sortedA[i]! <= x) i++;
    while (j < n2 && sortedB[j]! <= x) j++;
    gap = i / n1 - j / n2;
    prev = x;
  }
  return total;
}

/** scipy.stats.chisquare's statistic and p-value, with the degrees of freedom. */
export interface ChiSquareResult {
  statistic: number;
  pvalue: number;
  df: number;
}

/**
 * `scipy.stats.chisquare(observed, expected)` with expected = baseline share × Σ observed: the
 * goodness-of-fit of current category counts against the baseline's shares. Categories must have
 * a non-zero baseline count (the caller keeps unseen categories out and reports them).
 */
export function chiSquare(observed: readonly number[], baselineCounts: readonly number[]): ChiSquareResult {
  const n = sum(observed);
  const nb = sum(baselineCounts);
  let stat = 0;
  for (let i = 0; i < observed.length; i++) {
    const expected = (baselineCounts[i]! / nb) * n;
    const d = observed[i]! - expected;
    stat += (d * d) / expected;
  }
  const df = observed.length - 1;
  return { statistic: stat, pvalue: chi2Sf(stat, df), df };
}

/** `scipy.spatial.distance.jensenshannon(p, q)`: natural log, the square root of the divergence. */
export function jensenShannon(p: readonly number[], q: readonly number[]): number {
  const sp = sum(p);
  const sq = sum(q);
  let js = 0;
  for (let i = 0; i < p.length; i++) {
    const a = p[i]! / sp;
    const b = q[i]! / sq;
    const m = (a + b) / 2;
    js += relEntr(a, m) + relEntr(b, m);
  }
  return Math.sqrt(js / 2);
}

function relEntr(x: number, y: number): number {
  if (x === 0 && y >= 0) return 0;
  if (x > 0 && y > 0) return x * Math.log(x / y);
  return Infinity;
}

/** L-infinity distance max |p_i − q_i| between two normalised count vectors. */
export function lInfinity(p: readonly number[], q: readonly number[]): number {
  const sp = sum(p);
  const sq = sum(q);
  let max = 0;
  for (let i = 0; i < p.length; i++) max = Math.max(max, Math.abs(p[i]! / sp - q[i]! / sq));
  return max;
}

function sum(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}
