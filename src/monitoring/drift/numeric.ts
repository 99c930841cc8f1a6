/**
 * Streaming drift statistics for one numeric feature against its baseline profile, in memory that
 * depends on the baseline only (never on the number of logged predictions).
 *
 * The baseline's sorted values split the line into its distinct points u0 < u1 < … < u(k−1) and the
 * open intervals between them. For every current value we keep only counters per interval:
 * `eq[i]` (values equal to u_i), `between[i]` (values in the open interval (u_(i−1), u_i)), and two
 * sums of offsets within that interval (from its left end and to its right end).
 *
 * - KS, exactly: on an open interval the baseline CDF F is constant and the current CDF V only
 *   rises, so |F − V| over the current points inside it is extreme at its first and last point;
 *   the values V takes there and at every u_i follow from the counts alone. These are exactly the
 *   points scipy evaluates (every value of either sample), with the same i/n1 − j/n2 arithmetic.
 * - Wasserstein, exactly: ∫|F − V| over an interval where V stays on one side of F is
 *   |F − V_end|·L + Σ offsets / m (the offset sums above), so no values are needed. Only where V
 *   crosses F inside an interval do we need the current values there in order; those intervals are
 *   resolved after the stream from a spool of the current values (memory while the stream runs: one
 *   block; afterwards: only the values inside crossing intervals, in batches).
 * - PSI: counts per baseline-quantile bin (the profile's edges).
 *
 * Values are taken in batches: a batch is first grouped by coarse range (a counting sort into
 * GROUPS equal-width groups over the baseline's range), then located group by group, so the lookups
 * walk the baseline arrays in order instead of jumping to a random interval per value (per-value
 * random lookups were cache misses and cost several times more; a full sort cost more too).
 */
import type { NumericProfile } from '../../baseline/profile.js';
import type { Spool } from './spill.js';
import { cdfGap, ksPValue, ksStatistic, type KsResult } from './stats/ks.js';
import { psi } from './stats/distances.js';

/** Evidently's floor for the baseline standard deviation when normalising Wasserstein. */
export const WASSERSTEIN_STD_FLOOR = 0.001;
/** Most crossing-interval values held in memory at once while resolving Wasserstein. */
const CROSSING_BATCH = 1_000_000;
/** Current values grouped and merged at a time (256 KiB per feature). */
const BATCH = 32_768;
/** Coarse groups of a batch (a 16 KiB count table that stays in the first-level cache). */
const GROUPS = 4096;

/** One numeric feature's statistics against its baseline profile. */
export interface NumericStats {
  /** Current (non-missing) values. */
  count: number;
  /** Baseline values the KS and Wasserstein comparisons use (the profile's sorted values). */
  baselineCount: number;
  ks: KsResult;
  /** scipy.stats.wasserstein_distance(baseline, current). */
  wasserstein: number;
  /** Wasserstein / max(population std of the baseline, 0.001), as Evidently normalises it. */
  wassersteinNorm: number;
  psi: number;
  /** Baseline and current counts per PSI bin (for the report). */
  bins: { edges: number[]; baseline: number[]; current: number[] };
  current: { mean: number; std: number; min: number; max: number };
}

/** Accumulates one numeric feature's current values; call `finish()` once after the stream. */
export class NumericAccumulator {
  private readonly u: Float64Array;
  /** Baseline count <= u_i. */
  private readonly cumB: Uint32Array;
  private readonly n1: number;
  private readonly eq: Float64Array;
  private readonly between: Float64Array;
  private readonly leftSum: Float64Array;
  private readonly rightSum: Float64Array;
  private readonly edges: number[];
  private readonly psiCounts: number[];
  /** bucketStart[b] = first index whose value is >= the start of bucket b. */
  private readonly bucketStart: Uint32Array;
  private readonly lo: number;
  private readonly invWidth: number;
  private readonly pending = new Float64Array(BATCH);
  private readonly grouped = new Float64Array(BATCH);
  private readonly groupOf = new Uint16Array(BATCH);
  private readonly groupCounts = new Uint32Array(GROUPS + 2);
  private pendingCount = 0;
  private n = 0;
  private mean = 0;
  private m2 = 0;
  private min = Infinity;
  private max = -Infinity;

  constructor(
    readonly profile: NumericProfile,
    private readonly spool: Spool,
    /** Most crossing-interval values held at once (tests make it small). */
    private readonly crossingBatch = CROSSING_BATCH,
  ) {
    const sorted = profile.sorted;
    this.n1 = sorted.length;
    const distinct: number[] = [];
    const cum: number[] = [];
    for (let i = 0; i < sorted.length; i++) {
      if (distinct.length === 0 || sorted[i]! !== distinct[distinct.length - 1]) {
        distinct.push(sorted[i]!);
        cum.push(i + 1);
      } else cum[cum.length - 1] = i + 1;
    }
    this.u = Float64Array.from(distinct);
    this.cumB = Uint32Array.from(cum);
    const k = distinct.length;
    this.eq = new Float64Array(k);
    this.between = new Float64Array(k + 1);
    this.leftSum = new Float64Array(k + 1);
    this.rightSum = new Float64Array(k + 1);
    this.lo = k > 0 ? distinct[0]! : 0;
    const range = k > 1 ? distinct[k - 1]! - this.lo : 0;
    const buckets = range > 0 ? Math.min(1 << 16, 2 * k) : 1;
    this.invWidth = range > 0 ? buckets / range : 0;
    this.bucketStart = new Uint32Array(buckets);
    for (let b = 0, i = 0; b < buckets; b++) {
      const start = this.lo + b / this.invWidth;
      while (i < k && distinct[i]! < start) i++;
      this.bucketStart[b] = i;
    }
    this.edges = profile.edges;
    this.psiCounts = new Array<number>(profile.edges.length + 1).fill(0);
  }

  /**
   * Index of the first distinct baseline value >= x (k when none). A table of equal-width buckets
   * over the baseline's range gives a starting index one or two steps from the answer; the walk
   * that follows makes the result exact whatever the bucket arithmetic rounded to.
   */
  private locate(x: number): number {
    const u = this.u;
    const k = u.length;
    if (!(x > u[0]!)) return 0;
    if (x > u[k - 1]!) return k;
    let b = Math.floor((x - this.lo) * this.invWidth);
    if (b >= this.bucketStart.length) b = this.bucketStart.length - 1;
    let i = this.bucketStart[b]!;
    let hi = b + 1 < this.bucketStart.length ? this.bucketStart[b + 1]! : k;
    if (hi - i > 8) {
      // A dense bucket: binary search inside it.
      while (i < hi) {
        const mid = (i + hi) >>> 1;
        if (u[mid]! < x) i = mid + 1;
        else hi = mid;
      }
    }
    while (i > 0 && u[i - 1]! >= x) i--;
    while (i < k && u[i]! < x) i++;
    return i;
  }

  /** One current value (finite). */
  add(x: number): void {
    this.pending[this.pendingCount++] = x;
    if (this.pendingCount === BATCH) this.flush();
  }

  /** Many current values (finite), in order: the same as `add` for each. */
  addAll(values: Float64Array): void {
    for (let from = 0; from < values.length; ) {
      const n = Math.min(values.length - from, BATCH - this.pendingCount);
      this.pending.set(values.subarray(from, from + n), this.pendingCount);
      this.pendingCount += n;
      from += n;
      if (this.pendingCount === BATCH) this.flush();
    }
  }

  /** Group the pending batch by range and merge it into the interval counters in order. */
  private flush(): void {
    const count = this.pendingCount;
    if (count === 0) return;
    const { u, eq, between, leftSum, rightSum, edges, psiCounts, pending, grouped, groupOf, groupCounts } = this;
    const k = u.length;
    // Counting sort by group: 0 below the baseline, 1…GROUPS across its range, GROUPS+1 above.
    const lo = u[0]!;
    const hi = u[k - 1]!;
    const inv = hi > lo ? GROUPS / (hi - lo) : 0;
    groupCounts.fill(0);
    let n = this.n;
    let mean = this.mean;
    let m2 = this.m2;
    let min = this.min;
    let max = this.max;
    for (let j = 0; j < count; j++) {
      const x = pending[j]!;
      n++;
      const d = x - mean;
      mean += d / n;
      m2 += d * (x - mean);
      if (x < min) min = x;
      if (x > max) max = x;
      let g: number;
      if (x <= lo) g = 0;
      else if (x > hi) g = GROUPS + 1;
      else {
        g = 1 + Math.floor((x - lo) * inv);
        if (g > GROUPS) g = GROUPS;
      }
      groupOf[j] = g;
      groupCounts[g]!++;
    }
    let offset = 0;
    for (let g = 0; g < GROUPS + 2; g++) {
      const c = groupCounts[g]!;
      groupCounts[g] = offset;
      offset += c;
    }
    for (let j = 0; j < count; j++) grouped[groupCounts[groupOf[j]!]!++] = pending[j]!;
    for (let j = 0; j < count; j++) {
      const x = grouped[j]!;
      const i = this.locate(x);
      if (i < k && u[i] === x) eq[i]!++;
      else {
        between[i]!++;
        if (i > 0) leftSum[i]! += x - u[i - 1]!;
        if (i < k) rightSum[i]! += u[i]! - x;
      }
      let b = 0;
      while (b < edges.length && x > edges[b]!) b++;
      psiCounts[b]!++;
    }
    this.n = n;
    this.mean = mean;
    this.m2 = m2;
    this.min = min;
    this.max = max;
    this.spool.pushAll(grouped.subarray(0, count));
    this.pendingCount = 0;
  }

  /** From i (with u[i] < x), the first index whose value is >= x: a few steps, else a jump. */
  private advance(i: number, x: number): number {
    const u = this.u;
    for (let step = 0; step < 8; step++) {
      i++;
      if (i >= u.length || u[i]! >= x) return i;
    }
    return this.locate(x);
  }

  /** The statistics; undefined when there are no current values or no baseline values. */
  finish(): NumericStats | undefined {
    this.flush();
    const m = this.n;
    const n1 = this.n1;
    if (m === 0 || n1 === 0) return undefined;
    const { u, cumB, eq, between, leftSum, rightSum } = this;
    const k = u.length;
    let maxDiff = -Infinity;
    let minDiff = Infinity;
    const seen = (diff: number): void => {
      if (diff > maxDiff) maxDiff = diff;
      if (diff < minDiff) minDiff = diff;
    };
    let w = 0;
    const crossings: Crossing[] = [];
    let b = 0; // baseline count <= left end of the interval
    let c = 0; // current count <= left end of the interval
    for (let i = 0; i <= k; i++) {
      const inside = between[i]!;
      if (inside > 0) {
        seen(cdfGap(b, n1, c + 1, m));
        seen(cdfGap(b, n1, c + inside, m));
      }
      if (i === 0) w += rightSum[0]! / m;
      else if (i === k) w += leftSum[k]! / m;
      else {
        const length = u[i]! - u[i - 1]!;
        if (inside === 0) w += Math.abs(cdfGap(b, n1, c, m)) * length;
        else if ((c + inside) * n1 <= b * m) w += Math.abs(cdfGap(b, n1, c + inside, m)) * length + leftSum[i]! / m;
        else if (c * n1 >= b * m) w += Math.abs(cdfGap(b, n1, c, m)) * length + rightSum[i]! / m;
        else crossings.push({ interval: i, count: inside, b, c });
      }
      c += inside;
      if (i < k) {
        b = cumB[i]!;
        c += eq[i]!;
        seen(cdfGap(b, n1, c, m));
      }
    }
    w += this.resolveCrossings(crossings, m);
    const ks = ksPValue(ksStatistic(maxDiff, minDiff), n1, m);
    return {
      count: m,
      baselineCount: n1,
      ks,
      wasserstein: w,
      wassersteinNorm: w / Math.max(populationStd(this.profile.sorted), WASSERSTEIN_STD_FLOOR),
      psi: psi(this.profile.counts, this.psiCounts),
      bins: { edges: [...this.edges], baseline: [...this.profile.counts], current: [...this.psiCounts] },
      current: { mean: this.mean, std: m > 1 ? Math.sqrt(this.m2 / (m - 1)) : 0, min: this.min, max: this.max },
    };
  }

  /**
   * ∫|F − V| over the intervals where V crosses F: read the spool, keep the values that fall in a
   * batch of crossing intervals, sort each interval's values and integrate step by step exactly as
   * scipy does. Batches keep at most `crossingBatch` values in memory; an interval holding more than
   * that on its own is resolved by selection instead (`resolveLargeCrossing`).
   */
  private resolveCrossings(crossings: Crossing[], m: number): number {
    let total = 0;
    const small: Crossing[] = [];
    for (const cr of crossings) {
      if (cr.count > this.crossingBatch) total += this.resolveLargeCrossing(cr, m);
      else small.push(cr);
    }
    crossings = small;
    for (let start = 0; start < crossings.length; ) {
      let end = start;
      let size = 0;
      while (end < crossings.length && (end === start || size + crossings[end]!.count <= this.crossingBatch)) size += crossings[end++]!.count;
      const batch = crossings.slice(start, end);
      const slot = new Map<number, number>();
      const offsets = new Int32Array(batch.length + 1);
      batch.forEach((cr, j) => {
        slot.set(cr.interval, j);
        offsets[j + 1] = offsets[j]! + cr.count;
      });
      const fill = offsets.slice(0, batch.length);
      const values = new Float64Array(size);
      const lo = batch[0]!.interval;
      const hi = batch[batch.length - 1]!.interval;
      let i = 0;
      let prev = Infinity;
      this.spool.forEach((x) => {
        // The spool holds sorted runs (one per batch): walk forward within a run, jump between runs.
        if (x >= prev) {
          if (i < this.u.length && this.u[i]! < x) i = this.advance(i, x);
        } else i = this.locate(x);
        prev = x;
        if (i < lo || i > hi || (i < this.u.length && this.u[i] === x)) return;
        const j = slot.get(i);
        if (j !== undefined) values[fill[j]!++] = x;
      });
      batch.forEach((cr, j) => {
        const part = values.subarray(offsets[j]!, offsets[j + 1]!).sort();
        let prev = this.u[cr.interval - 1]!;
        let cur = cr.c;
        for (const x of part) {
          total += Math.abs(cdfGap(cr.b, this.n1, cur, m)) * (x - prev);
          cur++;
          prev = x;
        }
        total += Math.abs(cdfGap(cr.b, this.n1, cur, m)) * (this.u[cr.interval]! - prev);
      });
      start = end;
    }
    return total;
  }

  /** Visit the spooled values strictly inside interval `interval` (between u[interval-1] and u[interval]). */
  private forEachIn(interval: number, visit: (x: number) => void): void {
    const a = this.u[interval - 1]!;
    const b = this.u[interval]!;
    this.spool.forEach((x) => {
      if (x > a && x < b) visit(x);
    });
  }

  /**
   * ∫|F − V| over one crossing interval with more values than fit a batch, in bounded memory.
   * V rises past F at the kStar-th smallest value x* inside the interval; selection finds x* by
   * narrowing a value range with 4096-bin histograms over the spool (each pass divides the range
   * by 4096) until the values left in range fit a batch, then sorts those. One last pass sums the
   * offsets on either side of x*:
   *   ∫_a^x* (F − V) = (F − V0)(x* − a) − Σ_{x<x*} (x* − x)/m
   *   ∫_x*^b (V − F) = (V(x*) − F)(b − x*) + Σ_{x>x*} (b − x)/m
   */
  private resolveLargeCrossing(cr: Crossing, m: number): number {
    const a = this.u[cr.interval - 1]!;
    const b = this.u[cr.interval]!;
    const n1 = this.n1;
    // Smallest number of interval values that lifts V to F or above: (c + kStar)·n1 >= b·m.
    let rank = Math.ceil((cr.b * m - cr.c * n1) / n1);
    // Invariant: x* is the rank-th smallest interval value in (lo, hi].
    let lo = a;
    let hi = b;
    let xStar = Number.NaN;
    const BINS = 4096;
    const edges = new Float64Array(BINS + 1);
    const counts = new Float64Array(BINS);
    while (Number.isNaN(xStar)) {
      const width = (hi - lo) / BINS;
      for (let j = 0; j < BINS; j++) edges[j] = lo + j * width;
      edges[BINS] = hi;
      counts.fill(0);
      let inRange = 0;
      let vmin = Infinity;
      let vmax = -Infinity;
      this.forEachIn(cr.interval, (x) => {
        if (x <= lo || x > hi) return;
        // Bin j holds (edges[j], edges[j+1]]: start from the arithmetic guess, settle on the edges.
        let j = width > 0 ? Math.floor((x - lo) / width) : BINS - 1;
        if (j > BINS - 1) j = BINS - 1;
        if (j < 0) j = 0;
        while (j > 0 && x <= edges[j]!) j--;
        while (j < BINS - 1 && x > edges[j + 1]!) j++;
        counts[j]!++;
        inRange++;
        if (x < vmin) vmin = x;
        if (x > vmax) vmax = x;
      });
      if (vmin === vmax) {
        xStar = vmin;
        break;
      }
      if (inRange <= this.crossingBatch) {
        const values = new Float64Array(inRange);
        let f = 0;
        this.forEachIn(cr.interval, (x) => {
          if (x > lo && x <= hi) values[f++] = x;
        });
        xStar = values.sort()[rank - 1]!;
        break;
      }
      let j = 0;
      while (rank > counts[j]!) rank -= counts[j++]!;
      if (edges[j] === lo && edges[j + 1] === hi) {
        // The range no longer splits (a few ulps wide): step through its distinct values.
        let cur = lo;
        while (Number.isNaN(xStar)) {
          let next = Infinity;
          let c = 0;
          this.forEachIn(cr.interval, (x) => {
            if (x <= cur || x > hi) return;
            if (x < next) {
              next = x;
              c = 1;
            } else if (x === next) c++;
          });
          if (rank <= c) xStar = next;
          else {
            rank -= c;
            cur = next;
          }
        }
        break;
      }
      lo = edges[j]!;
      hi = edges[j + 1]!;
    }
    let cntLess = 0;
    let cntEq = 0;
    let sumLess = 0; // Σ (x* − x) over x < x*
    let sumMore = 0; // Σ (b − x) over x > x*
    this.forEachIn(cr.interval, (x) => {
      if (x < xStar) {
        cntLess++;
        sumLess += xStar - x;
      } else if (x === xStar) cntEq++;
      else sumMore += b - x;
    });
    const left = Math.abs(cdfGap(cr.b, n1, cr.c, m)) * (xStar - a) - sumLess / m;
    const right = Math.abs(cdfGap(cr.b, n1, cr.c + cntLess + cntEq, m)) * (b - xStar) + sumMore / m;
    return left + right;
  }
}

interface Crossing {
  interval: number;
  count: number;
  /** Baseline and current counts <= the interval's left end. */
  b: number;
  c: number;
}

/** numpy's np.std (ddof = 0), two-pass. */
export function populationStd(values: readonly number[]): number {
  if (values.length === 0) return 0;
  let sum = 0;
  for (const x of values) sum += x;
  const mean = sum / values.length;
  let ss = 0;
  for (const x of values) ss += (x - mean) ** 2;
  return Math.sqrt(ss / values.length);
}
