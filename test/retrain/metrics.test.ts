/**
 * Each metric against scikit-learn on the same data: the rows are made here, sklearn scores them in
 * a real Python process, and the TypeScript values must agree to 1e-12.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { accuracy, auc, binaryLabeler, computeMetric, f1, mae, rmse, type Scored } from '../../src/retrain/metrics.js';
import { python } from '../helpers/cli.js';
import { seededRandom as rng } from '../helpers/random.js';

const SKLEARN = `
import json, sys
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score, mean_squared_error, mean_absolute_error
d = json.load(sys.stdin)
out = []
for c in d:
    y, p = c["y"], c["p"]
    pred = [1 if s > 0.5 else 0 for s in p]
    out.append({
        "auc": roc_auc_score(y, p),
        "accuracy": accuracy_score(y, pred),
        "f1": f1_score(y, pred, zero_division=0),
        "rmse": mean_squared_error(c["t"], c["v"]) ** 0.5,
        "mae": mean_absolute_error(c["t"], c["v"]),
    })
print(json.dumps(out))
`;

describe('metrics against scikit-learn', () => {
  const r = rng(7);
  // Cases: a good model, a poor one, heavy ties (rounded scores), tiny and imbalanced sets.
  const cases = [
    { n: 500, noise: 0.3, round: 0 },
    { n: 300, noise: 1.5, round: 0 },
    { n: 400, noise: 0.6, round: 1 },
    { n: 7, noise: 0.5, round: 2 },
    { n: 200, noise: 0.4, round: 0, imbalance: 0.95 },
  ].map((c) => {
    const y: (0 | 1)[] = [];
    const p: number[] = [];
    const t: number[] = [];
    const v: number[] = [];
    for (let i = 0; i < c.n; i++) {
      const label: 0 | 1 = r() > (c.imbalance ?? 0.5) ? 1 : 0;
      const logit = (label ? 1 : -1) + c.noise * (r() * 4 - 2);
      let s = 1 / (1 + Math.exp(-logit));
      if (c.round) s = Math.round(s * 10 ** c.round) / 10 ** c.round;
      y.push(label);
      p.push(s);
      const truth = 50 + 30 * r();
      t.push(truth);
      v.push(truth + c.noise * 10 * (r() - 0.5));
    }
    if (!y.includes(1)) y[0] = 1;
    if (!y.includes(0)) y[1] = 0;
    return { y, p, t, v };
  });
  const expected = JSON.parse(execFileSync(python, ['-c', SKLEARN], { input: JSON.stringify(cases) }).toString()) as Record<string, number>[];

  cases.forEach((c, i) => {
    it(`case ${i} (${c.y.length} rows)`, () => {
      const want = expected[i]!;
      const rows: Scored[] = c.y.map((label, j) => ({ output: c.p[j], label }));
      expect(computeMetric('auc', rows, 'probability')).toBeCloseTo(want.auc!, 12);
      expect(computeMetric('accuracy', rows, 'probability')).toBeCloseTo(want.accuracy!, 12);
      expect(computeMetric('f1', rows, 'probability')).toBeCloseTo(want.f1!, 12);
      const reg: Scored[] = c.t.map((label, j) => ({ output: c.v[j], label }));
      expect(computeMetric('rmse', reg, 'value')).toBeCloseTo(want.rmse!, 10);
      expect(computeMetric('mae', reg, 'value')).toBeCloseTo(want.mae!, 10);
      expect(auc(c.p, c.y)).toBeCloseTo(want.auc!, 12);
      expect(rmse(c.v, c.t)).toBeCloseTo(want.rmse!, 10);
      expect(mae(c.v, c.t)).toBeCloseTo(want.mae!, 10);
    });
  });
});

describe('labels', () => {
  it('reads 1/0, true/false and "1"/"0" as one class each', () => {
    const bin = binaryLabeler([1, 0, true, 'false', '1']);
    expect([1, 0, true, false, '1', '0', 'yes', 'no'].map(bin)).toEqual([1, 0, 1, 0, 1, 0, 1, 0]);
  });
  it('takes the larger of two other labels as positive (sklearn classes_[1])', () => {
    const bin = binaryLabeler(['stay', 'leave', 'stay']);
    expect(bin('stay')).toBe(1);
    expect(bin('leave')).toBe(0);
  });
  it('accuracy and f1 on label outputs', () => {
    expect(accuracy(['a', 'b', 'a'], ['a', 'a', 'a'])).toBeCloseTo(2 / 3);
    expect(
      computeMetric(
        'accuracy',
        [
          { output: 1, label: '1' },
          { output: 0, label: 1 },
        ],
        'label',
      ),
    ).toBe(0.5);
    expect(f1([1, 0, 1], [1, 1, 0])).toBeCloseTo(0.5);
  });
  it('AUC of one class is undefined, not a number', () => {
    expect(
      Number.isNaN(
        computeMetric(
          'auc',
          [
            { output: 0.2, label: 1 },
            { output: 0.9, label: 1 },
          ],
          'probability',
        ),
      ),
    ).toBe(true);
  });
  it('refuses AUC on label outputs and accuracy on regression', () => {
    expect(() => computeMetric('auc', [{ output: 1, label: 1 }], 'label')).toThrow(/AUC needs probabilities/);
    expect(() => computeMetric('accuracy', [{ output: 1.5, label: 1 }], 'value')).toThrow(/needs a classifier/);
  });
});
