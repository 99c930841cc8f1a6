import { describe, expect, it } from 'vitest';
import { analyzeLatency } from '../../src/budget/latency.js';
import type { Sample } from '../../src/budget/load-test.js';
import { parseServerTiming } from '../../src/budget/server-timing.js';
import { summarize } from '../../src/budget/stats.js';
import type { Manifest } from '../../src/manifest/types.js';

const budget: Manifest['budget'] = {
  latency_ms: { percentile: 'p95', value: 150 },
  stages_ms: { network: 20, validate: 5, features: 15, model: 40, postprocess: 5, log: 5, db: 10 },
};

/** 100 samples: stage values i/100 of the given maxima, client total = stages + 2 ms. */
function samples(stages: Record<string, number>, n = 100): Sample[] {
  return Array.from({ length: n }, (_, i) => {
    const s = Object.fromEntries(Object.entries(stages).map(([k, v]) => [k, (v * (i + 1)) / n]));
    const sum = Object.values(s).reduce((a, b) => a + b, 0);
    return { status: 200, totalMs: sum + 2, stages: s };
  });
}

describe('parseServerTiming', () => {
  it('reads name;dur pairs, descriptions, several headers and repeats', () => {
    expect(parseServerTiming('validate;dur=0.4, features;desc="a, b";dur=1.5,model;dur=3')).toEqual({ validate: 0.4, features: 1.5, model: 3 });
    expect(parseServerTiming(['a;dur=1', 'a;dur=2, miss, bad;dur=x'])).toEqual({ a: 3 });
    expect(parseServerTiming(undefined)).toEqual({});
  });
});

describe('summarize', () => {
  it('takes nearest-rank percentiles', () => {
    const p = summarize(Array.from({ length: 100 }, (_, i) => i + 1));
    expect([p.p50, p.p95, p.p99, p.max, p.count]).toEqual([50, 95, 99, 100, 100]);
  });
});

describe('analyzeLatency', () => {
  it('measures server stages, keeps user stages as declared, and finds the remainder', () => {
    const r = analyzeLatency(samples({ validate: 1, features: 4, model: 10, post: 1, log: 1 }), budget);
    expect(r.verdict).toBe('within');
    expect(r.stages.map((s) => [s.name, s.kind, s.status])).toEqual([
      ['network', 'declared', 'declared'],
      ['validate', 'server', 'ok'],
      ['features', 'server', 'ok'],
      ['model', 'server', 'ok'],
      ['postprocess', 'server', 'ok'],
      ['log', 'server', 'ok'],
      ['db', 'declared', 'declared'],
    ]);
    expect(r.stages.find((s) => s.name === 'postprocess')?.serverName).toBe('post');
    expect(r.stages.find((s) => s.name === 'model')?.measured?.p95).toBeCloseTo(9.5);
    expect(r.remainder?.p50).toBeCloseTo(2);
    expect(r.declaredMs).toBe(30);
    expect(r.endToEndMs).toBeCloseTo(r.client.p95 + 30);
  });

  it('names the stage over its allocation', () => {
    const r = analyzeLatency(samples({ validate: 1, features: 40, model: 10, post: 1, log: 1 }), budget);
    expect(r.verdict).toBe('over');
    expect(r.overStages).toEqual(['features']);
    expect(r.findings[0]).toMatch(/^features is over its allocation: p95 38\.0 ms > 15\.0 ms/);
  });

  it('fails the chain when the whole exceeds the target even if every stage fits', () => {
    const slow = samples({ model: 30 }).map((s) => ({ ...s, totalMs: s.totalMs + 120 }));
    const r = analyzeLatency(slow, budget);
    expect(r.overStages).toEqual([]);
    expect(r.verdict).toBe('over');
    expect(r.findings.join('\n')).toMatch(/> the p95 target of 150 ms/);
  });

  it('reports unallocated server stages, failures and a missing Server-Timing header', () => {
    const withExtra = samples({ model: 10, cache: 1 });
    const r = analyzeLatency(withExtra, budget);
    expect(r.stages.at(-1)).toMatchObject({ name: 'cache', kind: 'server', status: 'unallocated', allocatedMs: null });
    const failing = [...samples({ model: 1 }, 90), ...Array.from({ length: 10 }, () => ({ status: 500, totalMs: 1, stages: {} }))];
    const f = analyzeLatency(failing, budget);
    expect(f.failed).toBe(10);
    expect(f.verdict).toBe('over');
    const none = analyzeLatency(
      samples({}).map((s) => ({ ...s, stages: {} })),
      budget,
    );
    expect(none.server).toBeNull();
    expect(none.findings.join('\n')).toMatch(/no Server-Timing header/);
  });
});

describe('analyzeLatency with micro-batches', () => {
  it('reports the batch sizes the server said (X-Batch-Size) and judges the queue stage like any other', () => {
    const s = samples({ validate: 1, queue: 3, features: 4, model: 10, post: 1, log: 1 }).map((x, i) => ({ ...x, batchSize: (i % 4) + 1 }));
    const r = analyzeLatency(s, { ...budget, stages_ms: { ...budget.stages_ms, queue: 2 } });
    expect(r.batchSize?.p50).toBe(2);
    expect(r.batchSize?.max).toBe(4);
    expect(r.findings.join('\n')).toContain('micro-batches of 2 records at p50');
    expect(r.stages.find((x) => x.name === 'queue')?.status).toBe('over');
    expect(analyzeLatency(samples({ model: 1 }), budget).batchSize).toBeNull();
  });
});
