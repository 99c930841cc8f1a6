/**
 * Quality metrics in TypeScript (accuracy, AUC, F1, RMSE, MAE), used by the live-quality check and
 * the retraining gate. Each one matches scikit-learn's definition (test/retrain/metrics.test.ts
 * compares them with sklearn on the same data), so a score mlship computes is the score train.py
 * would report.
 *
 * Classification follows the serving app's outputs: with `model.output: probability` a prediction is
 * the positive class's probability (sklearn's `predict_proba[:, 1]`, the larger of the two sorted
 * classes) and the predicted class is positive when it is above 0.5, as sklearn's `predict` decides;
 * with `model.output: label` a prediction is the class itself.
 */
import { UsageError } from '../util/errors.js';

export const METRICS = ['accuracy', 'auc', 'f1', 'rmse', 'mae'] as const;
export type MetricName = (typeof METRICS)[number];

/** How the model's outputs read: a positive-class probability, a class label, or a value (regression). */
export type OutputKind = 'probability' | 'label' | 'value';

/** One prediction with its true outcome. */
export interface Scored {
  output: unknown;
  label: unknown;
}

/** Whether a larger value of the metric is better (accuracy, AUC, F1) or worse (RMSE, MAE). */
export function higherIsBetter(metric: MetricName): boolean {
  return metric !== 'rmse' && metric !== 'mae';
}

/** Narrow a metric name from the manifest or metrics.json. */
export function asMetric(name: string): MetricName {
  if ((METRICS as readonly string[]).includes(name)) return name as MetricName;
  throw new UsageError(`unknown metric "${name}"`, { code: 'bad_metric', hint: `Use one of ${METRICS.join(', ')}.` });
}

const POSITIVE = new Set(['1', 'true', 'yes', 'positive']);
const NEGATIVE = new Set(['0', 'false', 'no', 'negative']);

/**
 * A function mapping labels to 0/1. Labels spelled like 1/true/yes (0/false/no) are positive
 * (negative); otherwise, with exactly two distinct labels, the larger one (numerically, else as text)
 * is positive — sklearn's `classes_[1]`.
 */
export function binaryLabeler(labels: unknown[]): (label: unknown) => 0 | 1 {
  const keys = new Set(labels.map(labelKey));
  if ([...keys].every((k) => POSITIVE.has(k) || NEGATIVE.has(k))) return (l) => (POSITIVE.has(labelKey(l)) ? 1 : 0);
  if (keys.size > 2) {
    throw new UsageError(`the labels have ${keys.size} classes (${[...keys].slice(0, 5).join(', ')}…); AUC and F1 here are for two classes`, {
      code: 'not_binary',
      hint: 'Use accuracy for multi-class models (quality.metric / retraining.gate.metric).',
    });
  }
  const sorted = [...keys].sort((a, b) => {
    const na = Number(a);
    const nb = Number(b);
    return Number.isFinite(na) && Number.isFinite(nb) ? na - nb : a.localeCompare(b);
  });
  const positive = sorted.at(-1);
  return (l) => (labelKey(l) === positive && sorted.length === 2 ? 1 : 0);
}

/** A label as comparable text: 1, 1.0, "1" and true are one class. */
export function labelKey(label: unknown): string {
  if (typeof label === 'boolean') return label ? 'true' : 'false';
  if (typeof label === 'number') return String(label);
  const text = String(label).trim();
  const n = Number(text);
  return text !== '' && Number.isFinite(n) ? String(n) : text.toLowerCase();
}

function toNumber(v: unknown, what: string): number {
  const n = typeof v === 'number' ? v : typeof v === 'boolean' ? Number(v) : Number(String(v));
  if (!Number.isFinite(n))
    throw new UsageError(`${what} ${JSON.stringify(v)} is not a number`, { code: 'bad_value', hint: 'RMSE and MAE need numeric predictions and labels.' });
  return n;
}

/** Fraction of predictions equal to the label. */
export function accuracy(predicted: unknown[], labels: unknown[]): number {
  let right = 0;
  for (let i = 0; i < labels.length; i++) if (labelKey(predicted[i]) === labelKey(labels[i])) right++;
  return right / labels.length;
}

/** F1 of the positive class (sklearn's `f1_score` with a binary average; 0 when undefined). */
export function f1(predicted: (0 | 1)[], truth: (0 | 1)[]): number {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < truth.length; i++) {
    if (predicted[i] === 1 && truth[i] === 1) tp++;
    else if (predicted[i] === 1) fp++;
    else if (truth[i] === 1) fn++;
  }
  return tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
}

/**
 * Area under the ROC curve: the Mann–Whitney statistic with ties counted half, which is exactly
 * sklearn's `roc_auc_score` for binary labels. Undefined (NaN) with one class only.
 */
export function auc(scores: number[], truth: (0 | 1)[]): number {
  const order = scores.map((s, i) => [s, truth[i]!] as const).sort((a, b) => a[0] - b[0]);
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]![0] === order[i]![0]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (order[k]![1] === 1) {
        positives++;
        rankSum += rank;
      }
    }
    i = j + 1;
  }
  const negatives = order.length - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Root mean squared error. */
export function rmse(predicted: number[], truth: number[]): number {
  let sum = 0;
  for (let i = 0; i < truth.length; i++) sum += (predicted[i]! - truth[i]!) ** 2;
  return Math.sqrt(sum / truth.length);
}

/** Mean absolute error. */
export function mae(predicted: number[], truth: number[]): number {
  let sum = 0;
  for (let i = 0; i < truth.length; i++) sum += Math.abs(predicted[i]! - truth[i]!);
  return sum / truth.length;
}

/**
 * One metric over scored predictions, reading outputs as `kind` says. Returns NaN when the metric is
 * undefined on these rows (no rows; AUC with one class).
 */
export function computeMetric(metric: MetricName, rows: Scored[], kind: OutputKind): number {
  if (rows.length === 0) return Number.NaN;
  const outputs = rows.map((r) => r.output);
  const labels = rows.map((r) => r.label);
  if (metric === 'rmse' || metric === 'mae') {
    const p = outputs.map((o) => toNumber(o, 'prediction'));
    const t = labels.map((l) => toNumber(l, 'label'));
    return metric === 'rmse' ? rmse(p, t) : mae(p, t);
  }
  if (kind === 'value') {
    throw new UsageError(`${metric} needs a classifier, but model.output is "value" (regression)`, {
      code: 'bad_metric',
      hint: 'Use rmse or mae for regression models.',
    });
  }
  if (kind === 'label') {
    if (metric === 'auc')
      throw new UsageError('AUC needs probabilities, but model.output is "label"', {
        code: 'bad_metric',
        hint: 'Use accuracy or f1, or serve probabilities (model.output: probability).',
      });
    if (metric === 'accuracy') return accuracy(outputs, labels);
    const bin = binaryLabeler([...labels, ...outputs]);
    return f1(outputs.map(bin), labels.map(bin));
  }
  const bin = binaryLabeler(labels);
  const truth = labels.map(bin);
  const scores = outputs.map((o) => toNumber(o, 'probability'));
  if (metric === 'auc') return auc(scores, truth);
  const predicted = scores.map((s): 0 | 1 => (s > 0.5 ? 1 : 0));
  if (metric === 'f1') return f1(predicted, truth);
  let right = 0;
  for (let i = 0; i < truth.length; i++) if (predicted[i] === truth[i]) right++;
  return right / truth.length;
}
