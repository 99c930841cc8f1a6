/**
 * An LLM's measured throughput in selection: the instance type stays sized by memory and
 * quantization; the replicas follow the tokens/s `mlship budget` measured on that type, and the
 * reasons say so. The record is kept per target and instance type, void once the model changes.
 */
import { utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { estimateCost } from '../../src/budget/cost.js';
import { loadCatalog } from '../../src/instances/catalog.js';
import { recordThroughput, throughputFor, type MeasuredThroughput } from '../../src/compute/measured.js';
import { selectCompute, selectionInput, type SelectionInput } from '../../src/compute/select.js';
import { loadManifestFile } from '../../src/manifest/load.js';
import { tempDir } from '../helpers/cli.js';

const sagemaker = loadCatalog('sagemaker');

function input(over: Partial<SelectionInput>): SelectionInput {
  return {
    flavor: 'llm',
    params: 7e9,
    paramsSource: 'manifest',
    quantization: 'int4',
    expectedRps: 5,
    compute: 'auto',
    replicas: { min: 1, max: 2 },
    catalog: sagemaker,
    artifactFormat: 'gguf',
    ...over,
  };
}

function measured(over: Partial<MeasuredThroughput>): MeasuredThroughput {
  return {
    method: 'mlship budget: streaming load test',
    target: 'sagemaker',
    instanceType: 'ml.g5.xlarge',
    concurrency: 8,
    tokensPerSecond: 400,
    tokensPerRequest: 200,
    replicas: 1,
    model: { path: 'model.gguf', bytes: 4e9 },
    measuredAt: '2026-12-07T06:00:00.000Z',
    ...over,
  };
}

describe('selection with a measured LLM throughput', () => {
  it('keeps the type sized by memory and says replicas are not sized until a run exists', () => {
    const choice = selectCompute(input({}));
    expect(choice.gpu).toBe(true);
    expect(choice.reasons.join('\n')).toContain('replicas are not sized by load until `mlship budget` measures');
    expect(choice.sizing?.tokensPerSecondPerReplica).toBeUndefined();
  });

  it('sizes replicas by the measured tokens/s on the chosen type, raising replicas.max', () => {
    const type = selectCompute(input({})).instanceType;
    // 5 rps × 200 tokens = 1000 tokens/s at 400 tokens/s per replica: 3 replicas.
    const choice = selectCompute(input({ throughput: [measured({ instanceType: type })] }));
    expect(choice.instanceType).toBe(type);
    expect(choice.replicas).toEqual({ min: 1, max: 3 });
    expect(choice.sizing).toMatchObject({ instancesForExpectedRps: 3, tokensPerSecondPerReplica: 400 });
    const words = choice.reasons.join('\n');
    expect(words).toContain('measured 400 tokens/s per replica at 8 streams (mlship budget, 2026-12-07): 5 rps × 200 tokens = 1000 tokens/s needs 3 replicas');
    expect(words).toContain('replicas.max raised from 2 to 3');
    // The cost counts the replicas the load needs.
    const cost = estimateCost(input({ throughput: [measured({ instanceType: type })] }), choice);
    expect(cost.selected.instancesAtExpectedRps).toBe(3);
    expect(cost.selected.monthlyUsd.expected).toBeCloseTo(cost.selected.usdPerHour * 3 * 730, 1);
  });

  it('does not carry a throughput over to another instance type', () => {
    const choice = selectCompute(input({ throughput: [measured({ instanceType: 'ml.p4d.24xlarge' })] }));
    expect(choice.replicas).toEqual({ min: 1, max: 2 });
    expect(choice.reasons.join('\n')).toContain(`throughput was measured on ml.p4d.24xlarge, not on ${choice.instanceType}: replicas not sized by it`);
  });

  it('on a one-replica target warns that the measured throughput cannot carry the load', () => {
    const local = loadCatalog('local');
    const choice = selectCompute(
      input({ catalog: local, compute: 'cpu', throughput: [measured({ target: 'local', instanceType: 'local', tokensPerSecond: 100 })] }),
    );
    expect(choice.replicas).toEqual({ min: 1, max: 1 });
    expect(choice.warnings?.join('\n')).toContain('the expected 5 rps needs 10 replicas; the local target runs 1: requests will queue');
  });
});

describe('the throughput record', () => {
  const project = tempDir('mlship-llm-throughput-');
  afterAll(() => project.cleanup());
  const model = path.join(project.dir, 'tiny.gguf');
  writeFileSync(model, 'GGUF model bytes');
  utimesSync(model, new Date('2026-12-01T00:00:00Z'), new Date('2026-12-01T00:00:00Z'));
  writeFileSync(path.join(project.dir, 'mlship.yaml'), 'name: chat\nmodel: { path: tiny.gguf, flavor: llm }\nserving: { compute: cpu }\n');
  const manifest = loadManifestFile(path.join(project.dir, 'mlship.yaml'));
  const run = { method: 'test', target: 'local', concurrency: 4, tokensPerSecond: 900, tokensPerRequest: 64, replicas: 1 };

  it('is kept per target and instance type, read back for the current model, and feeds selection', () => {
    expect(throughputFor(manifest)).toEqual([]);
    recordThroughput(manifest, { ...run, instanceType: 'local', measuredAt: '2026-12-07T06:00:00.000Z' });
    recordThroughput(manifest, { ...run, instanceType: 'local', tokensPerSecond: 1000, measuredAt: '2026-12-07T06:10:00.000Z' });
    const kept = throughputFor(manifest);
    expect(kept).toHaveLength(1);
    expect(kept[0]).toMatchObject({ tokensPerSecond: 1000, model: { path: 'tiny.gguf', bytes: 16 } });
    const choice = selectCompute(selectionInput(manifest));
    expect(choice.sizing?.tokensPerSecondPerReplica).toBe(1000);
    expect(choice.reasons.join('\n')).toContain('measured 1000 tokens/s per replica at 4 streams');
    // The build renders without it (a build never depends on an earlier run).
    expect(selectionInput(manifest, { useBuildCost: false }).throughput).toBeUndefined();
  });

  it('is void once the model changes', () => {
    writeFileSync(model, 'another GGUF model');
    expect(throughputFor(manifest)).toEqual([]);
  });
});
