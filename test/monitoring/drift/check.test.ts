/** The check's verdicts on the edges: all-missing columns, missing-rate change, wrong types. */
import { describe, expect, it } from 'vitest';
import { runDriftCheck } from '../../../src/monitoring/drift/check.js';
import { profileRows } from '../../../src/monitoring/drift/baseline.js';
import type { FieldSpec, Manifest } from '../../../src/manifest/types.js';
import type { LogSource } from '../../../src/logs/types.js';

const num: FieldSpec = { type: 'number', nullable: true };
const cat: FieldSpec = { type: 'category', nullable: true };
const schema: Record<string, FieldSpec> = { x: num, y: num, z: cat, gone: num };
const settings: Manifest['monitoring']['drift'] = { schedule: '0 2 * * *', share: 0.5, method: 'auto', features: {} };

function source(lines: unknown[]): LogSource {
  return {
    description: 'memory',
    format: 'mlship',
    async *lines() {
      for (const l of lines) yield typeof l === 'string' ? l : JSON.stringify(l);
    },
  };
}

describe('runDriftCheck', () => {
  const baseRows = Array.from({ length: 50 }, (_, i) => ({ x: i, y: i % 7, z: i % 3 === 0 ? 'a' : 'b', gone: null }));
  const baseline = profileRows(baseRows, schema, 'rows');

  it('calls a feature logged as all-missing drifted, skips one the baseline never had, and reports missing rates', async () => {
    const lines = Array.from({ length: 40 }, (_, i) => ({ ts: '2026-11-27T00:00:00Z', input: { x: i % 2 ? i : null, z: i % 3 === 0 ? 'a' : 'b', gone: i } }));
    const r = await runDriftCheck({ baseline, baselineSource: 'rows', sources: [source(lines)], schema, settings });
    const byName = Object.fromEntries(r.features.map((f) => [f.name, f]));
    expect(byName.y).toMatchObject({ drift: true, score: null, note: expect.stringMatching(/all missing/) });
    expect(byName.gone).toMatchObject({ method: null, drift: false, note: expect.stringMatching(/baseline has no values/) });
    expect(byName.x!.missing).toEqual({ baseline: 0, current: 0.5 });
    expect(byName.x!.method).toBe('ks');
    expect(r.share).toBeCloseTo(1 / 3);
  });

  it('leaves out a row with a wrongly typed field, whole, and counts it', async () => {
    const ok = { ts: 't', input: { x: 1, y: 2, z: 'a' } };
    const r = await runDriftCheck({
      baseline,
      baselineSource: 'rows',
      sources: [source([ok, { input: { x: 'seven', y: 2, z: 'a' } }, { input: { x: 1, y: 2, z: { nested: true } } }, ok])],
      schema,
      settings,
    });
    expect(r.rows).toBe(2);
    expect(r.malformed).toBe(2);
    expect(r.malformed_reasons).toEqual({ wrong_type: 2 });
    expect(r.features.find((f) => f.name === 'y')!.counts.current).toBe(2);
  });

  it('refuses to run on nothing', async () => {
    await expect(runDriftCheck({ baseline, baselineSource: 'rows', sources: [source(['{"oops'])], schema, settings })).rejects.toThrow(
      /no predictions to check/,
    );
  });
});
