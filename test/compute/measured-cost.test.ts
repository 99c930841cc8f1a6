/**
 * Measured CPU cost drives selection: the figure is scaled to each instance type's vCPU by the
 * factors in src/compute/vcpu-performance.json, a slower measurement moves the choice, and the GPU
 * break-even rate follows the measured cost.
 */
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/instances/catalog.js';
import { TARGET_UTILIZATION } from '../../src/compute/estimate.js';
import { scaledCpuMs, vcpuFactor } from '../../src/compute/measured.js';
import { selectCompute, type SelectionInput } from '../../src/compute/select.js';

const sagemaker = loadCatalog('sagemaker');

function input(over: Partial<SelectionInput>): SelectionInput {
  return {
    flavor: 'sklearn',
    params: 50_000,
    paramsSource: 'artifact',
    quantization: 'fp32',
    expectedRps: 50,
    compute: 'auto',
    replicas: { min: 1, max: 4 },
    catalog: sagemaker,
    ...over,
  };
}

describe('per-vCPU performance factors', () => {
  it('cover every instance type of every cloud catalog, each with a source', () => {
    for (const target of ['sagemaker', 'vertex', 'azure'] as const) {
      for (const i of loadCatalog(target).instances) {
        const f = vcpuFactor(i.type);
        expect(f.cpu, i.type).not.toBe('unknown');
        expect(f.source, i.type).toMatch(/^https:\/\//);
        expect(f.factor).toBeGreaterThan(0.5);
        expect(f.factor).toBeLessThan(1.5);
      }
    }
    expect(vcpuFactor('local').factor).toBe(1);
  });

  it('scale a measured figure to the instance type: a faster vCPU needs less time', () => {
    const choice = selectCompute(input({ cpuMsPerRequest: 10, cpuMsBasis: 'a test' }));
    const factor = vcpuFactor(choice.instanceType).factor;
    expect(choice.sizing).toMatchObject({ cpuMsSource: 'measured', cpuMsBasis: 'a test', vcpuFactor: factor, cpuMsPerRequest: 10 });
    const vcpu = sagemaker.instances.find((i) => i.type === choice.instanceType)!.vcpu;
    expect(choice.sizing!.perInstanceRps).toBeCloseTo((vcpu * 1000 * TARGET_UTILIZATION) / scaledCpuMs(10, choice.instanceType), 2);
    expect(choice.reasons.join('\n')).toMatch(/ms of CPU per request \(measured: a test; .* ms on a ml\.\w+\.\w+ vCPU/);
  });

  it('say measured or estimated on the local target too (no sizing there)', () => {
    const local = loadCatalog('local');
    expect(selectCompute(input({ catalog: local, cpuMsPerRequest: 7, cpuMsBasis: 'a test' })).reasons.join('\n')).toContain(
      '~7.00 ms of CPU per request (measured: a test)',
    );
    expect(selectCompute(input({ catalog: local })).reasons.join('\n')).toContain('(estimated from the parameter count');
  });

  it('leave an estimate unscaled and say it is one', () => {
    const choice = selectCompute(input({}));
    expect(choice.sizing).toMatchObject({ cpuMsSource: 'estimated' });
    expect(choice.sizing).not.toHaveProperty('vcpuFactor');
    expect(choice.reasons.join('\n')).toContain('estimated from the parameter count');
  });
});

describe('a slower measured model moves the choice', () => {
  it('needs more CPU capacity at the same rate', () => {
    const fast = selectCompute(input({ cpuMsPerRequest: 2 }));
    const slow = selectCompute(input({ cpuMsPerRequest: 60 }));
    expect(fast.sizing!.instancesForExpectedRps).toBe(1);
    const capacity = (c: typeof fast) => c.sizing!.perInstanceRps! * c.sizing!.instancesForExpectedRps;
    expect(capacity(slow)).toBeGreaterThanOrEqual(50);
    expect(slow.sizing!.usdPerHour * slow.sizing!.instancesForExpectedRps).toBeGreaterThan(fast.sizing!.usdPerHour);
  });

  it('moves a BERT-base-sized transformer from CPU to GPU above its break-even rate', () => {
    const bert = (rps: number, ms: number) =>
      selectCompute(
        input({ flavor: 'transformers', params: 110e6, expectedRps: rps, cpuMsPerRequest: ms, tokensPerRequest: 128, replicas: { min: 1, max: 100 } }),
      );
    const at10 = bert(10, 80);
    const at1000 = bert(1000, 80);
    expect(at10.gpu).toBe(false);
    expect(at1000.gpu).toBe(true);
    const breakEven = at10.sizing!.gpuBreakEvenRps!;
    expect(breakEven).toBeGreaterThan(10);
    expect(breakEven).toBeLessThan(1000);
    // Twice the measured CPU cost halves the rate at which the GPU pays off.
    expect(bert(10, 160).sizing!.gpuBreakEvenRps).toBeCloseTo(breakEven / 2, -1);
  });
});
