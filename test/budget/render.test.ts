import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { judge } from '../../src/budget/budget.js';
import { analyzeLatency } from '../../src/budget/latency.js';
import type { Sample } from '../../src/budget/load-test.js';
import { renderBudget } from '../../src/budget/render.js';
import { renderReport } from '../../src/budget/report.js';
import { loadManifestFile } from '../../src/manifest/load.js';
import { exampleDir } from '../helpers/cli.js';

const manifest = loadManifestFile(path.join(exampleDir, 'mlship.yaml'));
const load = {
  url: 'http://127.0.0.1:8080/predict',
  durationSeconds: 2,
  connections: 4,
  targetRps: 50,
  responses: 100,
  achievedRps: 50,
  errors: 0,
  timeouts: 0,
  statusCounts: { 200: 100 },
  generator: { cpuPercent: 4.2, cpuMs: 84, saturated: false },
};

function samples(features: number, extra: Record<string, number> = {}): Sample[] {
  return Array.from({ length: 100 }, (_, i) => {
    const stages = { validate: 0.2, features: features * (0.5 + i / 200), model: 3 + i / 50, post: 0.05, log: 0.1, ...extra };
    return { status: 200, totalMs: Object.values(stages).reduce((a, b) => a + b, 0) + 1.5, stages };
  });
}

describe('renderBudget', () => {
  it('draws one waterfall row per stage plus the remainder and totals, without NaN', () => {
    const result = judge(manifest, load.url, load, analyzeLatency(samples(4), manifest.budget));
    const text = renderBudget(result);
    const rows = text.split('\n');
    for (const stage of ['network', 'validate', 'features', 'model', 'post', 'log', 'remainder', 'client total', 'end to end']) {
      expect(
        rows.some((r) => r.startsWith(stage)),
        stage,
      ).toBe(true);
    }
    expect(text).not.toMatch(/NaN|undefined/);
    expect(text).toContain('✔ within budget');
    expect(rows.find((r) => r.startsWith('network'))).toContain('declared, not measured');
    expect(text).toMatch(/For comparison on sagemaker/);
  });

  it('marks the stage over its allocation and the verdict', () => {
    const result = judge(manifest, load.url, load, analyzeLatency(samples(40), manifest.budget));
    const text = renderBudget(result);
    expect(result.verdict).toBe('over');
    expect(text.split('\n').find((r) => r.startsWith('features'))).toMatch(/OVER by/);
    expect(text).toContain('Over budget: over budget in features');
  });
});

describe('renderReport', () => {
  it('is one self-contained document that escapes what the server reports', () => {
    const result = judge(manifest, load.url, load, analyzeLatency(samples(4, { '<img src=x onerror=alert(1)>': 1 }), manifest.budget));
    const html = renderReport(result, { name: 'churn', generatedAt: new Date('2026-11-28T12:00:00Z') });
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).not.toContain('<img');
    expect(html).not.toMatch(/<script|<link|@import|url\(/);
    expect(html).toContain('within budget');
  });
});
