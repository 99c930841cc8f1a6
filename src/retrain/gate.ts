/**
 * The champion/challenger arithmetic, pure: a candidate is promoted only when it is at least
 * `min_delta` better than the live model on the same holdout with the same metric ("better" is
 * higher for accuracy/AUC/F1, lower for RMSE/MAE). The live-quality verdict (how far the live metric
 * fell below the validation metric) uses the same direction rule.
 */
import { higherIsBetter, type MetricName } from './metrics.js';

/** Rounding slack, so a candidate exactly `min_delta` better is not held back by float noise. */
const EPSILON = 1e-12;

export interface GateInput {
  metric: MetricName;
  minDelta: number;
  candidate: number;
  /** The live model's score; undefined when nothing is live (the candidate is promoted). */
  live?: number;
}

export interface GateDecision {
  promoted: boolean;
  metric: MetricName;
  candidate: number;
  live?: number;
  /** How much better the candidate is (positive = better), in the metric's units. */
  improvement?: number;
  minDelta: number;
  /** One sentence: why. */
  reason: string;
}

/** Improvement of `value` over `reference`: positive when `value` is better for this metric. */
export function improvement(metric: MetricName, value: number, reference: number): number {
  return higherIsBetter(metric) ? value - reference : reference - value;
}

/** Promote or hold back. A NaN candidate score (e.g. AUC on one class) is never promoted. */
export function decideGate(input: GateInput): GateDecision {
  const { metric, minDelta, candidate, live } = input;
  const base = { metric, candidate, minDelta, ...(live !== undefined && { live }) };
  if (Number.isNaN(candidate)) return { ...base, promoted: false, reason: `the candidate's ${metric} is undefined on the holdout (one class only?)` };
  if (live === undefined || Number.isNaN(live)) {
    return { ...base, promoted: true, reason: live === undefined ? 'no version is live: nothing to beat' : `the live ${metric} is undefined on the holdout` };
  }
  const delta = improvement(metric, candidate, live);
  const promoted = delta >= minDelta - EPSILON;
  const direction = higherIsBetter(metric) ? 'higher' : 'lower';
  const need = minDelta === 0 ? `at least as good (${direction} is better)` : `better by at least ${minDelta} (${direction} is better)`;
  return {
    ...base,
    promoted,
    improvement: delta,
    reason: `candidate ${metric} ${fmt(candidate)} vs live ${fmt(live)}: ${promoted ? 'passes' : 'fails'} the gate, which wants the candidate ${need}`,
  };
}

/** The live-quality verdict: alert when the live metric is worse than the validation one by more than `maxDrop`. */
export function qualityDropped(metric: MetricName, live: number, validation: number, maxDrop: number): { drop: number; alert: boolean } {
  const drop = -improvement(metric, live, validation);
  return { drop, alert: drop > maxDrop + EPSILON };
}

/** A score for humans: four decimals. */
export function fmt(value: number | undefined): string {
  return value === undefined ? '-' : Number.isNaN(value) ? 'undefined' : value.toFixed(4);
}
