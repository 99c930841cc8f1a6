/** The categorical accumulator against scipy (chisquare, jensenshannon) and L-infinity. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CategoricalAccumulator, MAX_UNSEEN, OTHER_UNSEEN } from '../../../src/monitoring/drift/categorical.js';
import { closeRel, type CategoricalCase, type Reference } from './generate.js';

const reference = JSON.parse(readFileSync(new URL('./fixtures/reference.json', import.meta.url), 'utf8')) as Reference;
const cases = reference.cases.filter((c): c is CategoricalCase => c.kind === 'categorical');

function accumulate(c: CategoricalCase): CategoricalAccumulator {
  const count = Object.values(c.baseline).reduce((a, b) => a + b, 0);
  const acc = new CategoricalAccumulator({ kind: 'categorical', count, missing: 0, frequencies: c.baseline });
  for (const [k, n] of Object.entries(c.current)) for (let i = 0; i < n; i++) acc.add(k);
  return acc;
}

describe('streaming categorical statistics match scipy', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const s = accumulate(c).finish()!;
    expect(closeRel(s.jensenShannon, c.expected.js)).toBe(true);
    expect(closeRel(s.lInfinity, c.expected.linf)).toBe(true);
    expect(Object.keys(s.unseen).sort()).toEqual(c.expected.unseen);
    if (c.expected.chi2_statistic === undefined) expect(s.chi2).toBeUndefined();
    else {
      expect(closeRel(s.chi2!.statistic, c.expected.chi2_statistic)).toBe(true);
      expect(closeRel(s.chi2!.pvalue, c.expected.chi2_pvalue!)).toBe(true);
    }
  });

  it('bounds memory for endless new categories', () => {
    const acc = new CategoricalAccumulator({ kind: 'categorical', count: 2, missing: 0, frequencies: { a: 1, b: 1 } });
    for (let i = 0; i < MAX_UNSEEN + 500; i++) acc.add(`id-${i}`);
    const s = acc.finish()!;
    expect(Object.keys(s.unseen)).toHaveLength(MAX_UNSEEN + 1);
    expect(s.unseen[OTHER_UNSEEN]).toBe(500);
  });
});
