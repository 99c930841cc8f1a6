/**
 * `monitoring.alerts.email` resolved: one address or a list becomes a list, each address once; absent
 * means nobody. Pure (`checkManifest` with a stub for the files it probes); the diagnostics with
 * their positions are in broken.test.ts, through the spawned CLI.
 */
import { describe, expect, it } from 'vitest';
import { checkManifest } from '../../src/manifest/load.js';

const BASE = `name: churn
model: { path: model/model.joblib, flavor: sklearn }
features:
  package: features
  schema: { tenure_months: { type: integer } }
`;

function emails(monitoring: string): string[] | undefined {
  const result = checkManifest(`${BASE}${monitoring}`, '/project/mlship.yaml', { exists: (p) => (p.endsWith('features') ? 'dir' : 'file') });
  expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return result.manifest?.monitoring.alerts.email;
}

describe('monitoring.alerts.email', () => {
  it('is an empty list when absent', () => {
    expect(emails('')).toEqual([]);
  });

  it('takes one address as a list of one', () => {
    expect(emails('monitoring:\n  alerts: { email: ml-team@example.com }\n')).toEqual(['ml-team@example.com']);
  });

  it('keeps a list in order, each address once (first spelling kept)', () => {
    expect(emails('monitoring:\n  alerts:\n    email: [ml@example.com, ops@example.com, ML@Example.com, ops@example.com]\n')).toEqual([
      'ml@example.com',
      'ops@example.com',
    ]);
  });
});
