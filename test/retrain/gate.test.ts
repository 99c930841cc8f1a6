/** The gate arithmetic: direction per metric, min_delta, ties, NaN, and the live-quality drop. */
import { describe, expect, it } from 'vitest';
import { decideGate, qualityDropped } from '../../src/retrain/gate.js';

describe('decideGate', () => {
  it('promotes a higher AUC and holds back a lower one', () => {
    expect(decideGate({ metric: 'auc', minDelta: 0, candidate: 0.9, live: 0.8 }).promoted).toBe(true);
    const held = decideGate({ metric: 'auc', minDelta: 0, candidate: 0.7, live: 0.8 });
    expect(held.promoted).toBe(false);
    expect(held.improvement).toBeCloseTo(-0.1);
    expect(held.reason).toMatch(/candidate auc 0\.7000 vs live 0\.8000: fails/);
  });
  it('a tie passes with min_delta 0 ("at least as good")', () => {
    expect(decideGate({ metric: 'accuracy', minDelta: 0, candidate: 0.85, live: 0.85 }).promoted).toBe(true);
  });
  it('needs at least min_delta of improvement, exactly min_delta passes despite float noise', () => {
    expect(decideGate({ metric: 'auc', minDelta: 0.02, candidate: 0.81, live: 0.8 }).promoted).toBe(false);
    expect(decideGate({ metric: 'auc', minDelta: 0.1, candidate: 0.3, live: 0.2 }).promoted).toBe(true); // 0.3 - 0.2 = 0.09999999999999998
  });
  it('a negative min_delta tolerates a small loss', () => {
    expect(decideGate({ metric: 'f1', minDelta: -0.01, candidate: 0.795, live: 0.8 }).promoted).toBe(true);
  });
  it('lower is better for RMSE and MAE', () => {
    expect(decideGate({ metric: 'rmse', minDelta: 0, candidate: 1.2, live: 1.5 }).promoted).toBe(true);
    expect(decideGate({ metric: 'mae', minDelta: 0, candidate: 2, live: 1.5 }).promoted).toBe(false);
    expect(decideGate({ metric: 'rmse', minDelta: 0.5, candidate: 1.2, live: 1.5 }).promoted).toBe(false);
    expect(decideGate({ metric: 'rmse', minDelta: 0.3, candidate: 1.2, live: 1.5 }).promoted).toBe(true);
  });
  it('nothing live: promoted; an undefined candidate score: held back', () => {
    expect(decideGate({ metric: 'auc', minDelta: 0, candidate: 0.6 }).promoted).toBe(true);
    expect(decideGate({ metric: 'auc', minDelta: 0, candidate: Number.NaN, live: 0.5 }).promoted).toBe(false);
  });
});

describe('qualityDropped', () => {
  it('alerts when accuracy falls by more than max_drop', () => {
    expect(qualityDropped('accuracy', 0.78, 0.94, 0.05)).toEqual({ drop: expect.closeTo(0.16, 10), alert: true });
    expect(qualityDropped('accuracy', 0.92, 0.94, 0.05).alert).toBe(false);
    expect(qualityDropped('accuracy', 0.89, 0.94, 0.05).alert).toBe(false);
  });
  it('a rising RMSE is a drop', () => {
    expect(qualityDropped('rmse', 3, 2, 0.5)).toEqual({ drop: 1, alert: true });
    expect(qualityDropped('rmse', 1.5, 2, 0.5).alert).toBe(false);
  });
});
