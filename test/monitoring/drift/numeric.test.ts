/**
 * The streaming numeric accumulator against scipy: the current sample only ever passes through
 * `add()`, and every number must still match the in-memory scipy reference within 1e-9.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { NumericAccumulator } from '../../../src/monitoring/drift/numeric.js';
import { profileNumeric } from '../../../src/baseline/profile.js';
import { SpillDir } from '../../../src/monitoring/drift/spill.js';
import { wasserstein } from '../../../src/monitoring/drift/stats/distances.js';
import { closeRel, samples, type NumericCase, type Reference } from './generate.js';

const reference = JSON.parse(readFileSync(new URL('./fixtures/reference.json', import.meta.url), 'utf8')) as Reference;
const numeric = reference.cases.filter((c): c is NumericCase => c.kind === 'numeric');
const spill = new SpillDir();
afterAll(() => spill.dispose());

function expectClose(actual: number, expected: number, what: string): void {
  if (!closeRel(actual, expected)) throw new Error(`${what}: got ${actual}, scipy ${expected} (rel ${Math.abs(actual - expected) / Math.abs(expected)})`);
}

describe('streaming numeric statistics match scipy', () => {
  it.each(numeric.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const { baseline, current } = samples(c);
    const profile = profileNumeric(baseline);
    expect(profile.edges).toEqual(c.expected.edges);
    const acc = new NumericAccumulator(profile, spill.spool());
    for (const x of current) acc.add(x);
    const s = acc.finish()!;
    expectClose(s.ks.statistic, c.expected.ks_statistic, 'ks statistic');
    expectClose(s.ks.pvalue, c.expected.ks_pvalue, 'ks p-value');
    expect(s.ks.method).toBe(c.expected.ks_method);
    expectClose(s.wasserstein, c.expected.wasserstein, 'wasserstein');
    expectClose(s.wassersteinNorm, c.expected.wasserstein_norm, 'normalised wasserstein');
    expectClose(s.psi, c.expected.psi, 'psi');
  });

  it('resolves crossing intervals from a spool that went to disk', () => {
    // 200 000 values spill past the in-memory block; baseline and current from one law cross often.
    const c = numeric.find((x) => x.generate && x.expected.ks_pvalue > 0.5)!;
    const { baseline, current } = samples(c);
    const acc = new NumericAccumulator(profileNumeric(baseline), spill.spool());
    for (let r = 0; r < 10; r++) for (const x of current) acc.add(x);
    const s = acc.finish()!;
    // Ten copies of the current sample have the same CDF, so the same Wasserstein distance.
    expectClose(s.wasserstein, c.expected.wasserstein, 'wasserstein over a spilled sample');
    expect(s.count).toBe(current.length * 10);
  });

  it.each([
    ['continuous values', (r: () => number) => 1 + r()],
    ['two tied values', (r: () => number) => (r() < 0.5 ? 1.25 : 1.75)],
    ['values a few ulps apart', (r: () => number) => 1.5 + Math.floor(r() * 3) * Number.EPSILON],
  ] as const)('resolves one crossing interval larger than a batch by selection: %s', (_name, draw) => {
    let x = 99;
    const r = () => {
      x = (48271 * x) % 2147483647;
      return x / 2147483647;
    };
    const baseline = [0, 1, 2, 3];
    // 20% at or below 1, 60% inside (1, 2), 20% at or above 2: V crosses F = 0.5 inside (1, 2).
    const current = Array.from({ length: 1000 }, (_, i) => (i % 5 === 0 ? r() : i % 5 === 1 ? 2 + r() : draw(r)));
    for (const batch of [50, 7]) {
      const acc = new NumericAccumulator(profileNumeric(baseline), spill.spool(), batch);
      for (const v of current) acc.add(v);
      const s = acc.finish()!;
      const expected = wasserstein(Float64Array.from(baseline), Float64Array.from(current).sort());
      expect(closeRel(s.wasserstein, expected, 1e-12), `${s.wasserstein} vs ${expected}`).toBe(true);
    }
  });
});
