/** The pure statistics against scipy's numbers (test/monitoring/drift/fixtures/reference.json). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ks2samp, kstwoSf } from '../../../src/monitoring/drift/stats/ks.js';
import { chiSquare, jensenShannon, lInfinity, wasserstein } from '../../../src/monitoring/drift/stats/distances.js';
import { closeRel, samples, type CategoricalCase, type NumericCase, type Reference } from './generate.js';

const reference = JSON.parse(readFileSync(new URL('./fixtures/reference.json', import.meta.url), 'utf8')) as Reference;
const numeric = reference.cases.filter((c): c is NumericCase => c.kind === 'numeric');
const categorical = reference.cases.filter((c): c is CategoricalCase => c.kind === 'categorical');

function expectClose(actual: number, expected: number, what: string): void {
  if (!closeRel(actual, expected)) throw new Error(`${what}: got ${actual}, scipy ${expected} (rel ${Math.abs(actual - expected) / Math.abs(expected)})`);
}

describe('kstwo.sf (asymptotic KS p-value) matches scipy', () => {
  it.each(reference.kstwo.map((k) => [`n=${k.n} x=${k.x.toPrecision(6)}`, k] as const))('%s', (_name, k) => {
    expectClose(kstwoSf(k.x, k.n), k.sf, `kstwo.sf(${k.x}, ${k.n})`);
  });
});

describe('in-memory numeric statistics match scipy', () => {
  it.each(numeric.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const { baseline, current } = samples(c);
    const a = Float64Array.from(baseline).sort();
    const b = Float64Array.from(current).sort();
    const ks = ks2samp(a, b);
    expectClose(ks.statistic, c.expected.ks_statistic, 'ks statistic');
    expectClose(ks.pvalue, c.expected.ks_pvalue, 'ks p-value');
    expect(ks.method).toBe(c.expected.ks_method);
    expectClose(wasserstein(a, b), c.expected.wasserstein, 'wasserstein');
  });
});

describe('categorical statistics match scipy', () => {
  it.each(categorical.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const cats = [...new Set([...Object.keys(c.baseline), ...Object.keys(c.current)])].sort();
    const p = cats.map((k) => c.baseline[k] ?? 0);
    const q = cats.map((k) => c.current[k] ?? 0);
    expectClose(jensenShannon(p, q), c.expected.js, 'jensen-shannon');
    expectClose(lInfinity(p, q), c.expected.linf, 'l-infinity');
    if (c.expected.chi2_statistic !== undefined) {
      const known = cats.filter((k) => (c.baseline[k] ?? 0) > 0);
      const chi = chiSquare(
        known.map((k) => c.current[k] ?? 0),
        known.map((k) => c.baseline[k]!),
      );
      expectClose(chi.statistic, c.expected.chi2_statistic, 'chi-square statistic');
      expectClose(chi.pvalue, c.expected.chi2_pvalue!, 'chi-square p-value');
    }
  });
});
