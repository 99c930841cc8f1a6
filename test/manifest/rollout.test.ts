/**
 * `rollout.canary.min_requests`: the evidence a canary needs before it is promoted. Resolved with its
 * default in one place; a bad value is a diagnostic with its position, like every other key. Pure
 * (`checkManifest` with a stub for the files it probes).
 */
import { describe, expect, it } from 'vitest';
import { checkManifest } from '../../src/manifest/load.js';

const BASE = `name: churn
model: { path: model/model.joblib, flavor: sklearn }
features:
  package: features
  schema: { tenure_months: { type: integer } }
`;

const check = (extra: string) => checkManifest(`${BASE}${extra}`, '/project/mlship.yaml', { exists: (p) => (p.endsWith('features') ? 'dir' : 'file') });

describe('rollout.canary.min_requests', () => {
  it('defaults to 100 requests', () => {
    expect(check('').manifest?.rollout.canary.min_requests).toBe(100);
  });

  it('takes the value written', () => {
    const result = check('rollout:\n  canary: { min_requests: 25 }\n');
    expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(result.manifest?.rollout.canary.min_requests).toBe(25);
  });

  it.each([
    ['0', /minimum|>= 1|at least/i],
    ['2.5', /integer/i],
    ['many', /integer|number/i],
  ])('refuses %s with the line and column of the value', (value, message) => {
    const result = check(`rollout:\n  canary:\n    min_requests: ${value}\n`);
    const errors = result.diagnostics.filter((d) => d.severity === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ file: '/project/mlship.yaml', line: 8, col: 19, path: 'rollout.canary.min_requests' });
    expect(errors[0]!.message).toMatch(message);
  });

  it('names an unknown key under rollout.canary', () => {
    const errors = check('rollout:\n  canary: { min_request: 5 }\n').diagnostics.filter((d) => d.severity === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ line: 7 });
    expect(`${errors[0]!.message} ${errors[0]!.hint ?? ''}`).toMatch(/min_request/);
  });
});
