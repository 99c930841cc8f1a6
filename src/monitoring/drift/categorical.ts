/**
 * Streaming statistics for one categorical feature: a count per category (memory grows with the
 * number of distinct categories, never with the number of predictions; past MAX_UNSEEN new
 * categories, further new ones are counted together).
 */
import type { CategoricalProfile } from '../../baseline/profile.js';
import { chiSquare, jensenShannon, lInfinity, type ChiSquareResult } from './stats/distances.js';

/** Distinct categories unseen in the baseline that are tracked one by one. */
export const MAX_UNSEEN = 1000;
/** The bucket for unseen categories past MAX_UNSEEN. */
export const OTHER_UNSEEN = '(other unseen)';

/** One categorical feature's statistics against its baseline frequencies. */
export interface CategoricalStats {
  count: number;
  /**
   * Goodness of fit of the current counts of the baseline's categories against the baseline's
   * shares (scipy.stats.chisquare, expected = share × current count over those categories).
   * Categories the baseline never saw have no expected count, so they are left out here and
   * reported in `unseen`; undefined when fewer than two baseline categories or no current values
   * fall in them.
   */
  chi2?: ChiSquareResult;
  /** Jensen–Shannon distance over all categories (unseen ones included). */
  jensenShannon: number;
  /** L-infinity distance of the shares over all categories. */
  lInfinity: number;
  /** Current counts of categories the baseline never saw. */
  unseen: Record<string, number>;
  /** Categories, baseline counts and current counts (for the report). */
  distribution: { categories: string[]; baseline: number[]; current: number[] };
}

/** Accumulates one categorical feature's current values; call `finish()` once after the stream. */
export class CategoricalAccumulator {
  private readonly counts = new Map<string, number>();
  private unseenKinds = 0;
  private n = 0;

  constructor(readonly profile: CategoricalProfile) {}

  add(category: string): void {
    this.addCount(category, 1);
  }

  /**
   * `times` values of one category: the same as `add` that many times, since where a category is
   * counted (its own count or OTHER_UNSEEN) is settled when it is first seen.
   */
  addCount(category: string, times: number): void {
    this.n += times;
    const c = this.counts.get(category);
    if (c !== undefined) {
      this.counts.set(category, c + times);
      return;
    }
    const known = Object.hasOwn(this.profile.frequencies, category);
    if (!known && this.unseenKinds >= MAX_UNSEEN) {
      this.counts.set(OTHER_UNSEEN, (this.counts.get(OTHER_UNSEEN) ?? 0) + times);
      return;
    }
    if (!known) this.unseenKinds++;
    this.counts.set(category, times);
  }

  finish(): CategoricalStats | undefined {
    if (this.n === 0 || this.profile.count === 0) return undefined;
    const freq = this.profile.frequencies;
    const known = Object.keys(freq).filter((k) => freq[k]! > 0);
    const unseen: Record<string, number> = {};
    for (const [k, v] of this.counts) if (!(freq[k]! > 0)) unseen[k] = v;
    const categories = [...known, ...Object.keys(unseen)];
    const baseline = categories.map((k) => freq[k] ?? 0);
    const current = categories.map((k) => this.counts.get(k) ?? 0);
    const observedKnown = known.map((k) => this.counts.get(k) ?? 0);
    const inKnown = observedKnown.reduce((a, b) => a + b, 0);
    return {
      count: this.n,
      chi2:
        known.length > 1 && inKnown > 0
          ? chiSquare(
              observedKnown,
              known.map((k) => freq[k]!),
            )
          : undefined,
      jensenShannon: jensenShannon(baseline, current),
      lInfinity: lInfinity(baseline, current),
      unseen,
      distribution: { categories, baseline, current },
    };
  }
}
