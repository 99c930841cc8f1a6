import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/instances/catalog.js';
import { estimateCost, HOURS_PER_MONTH } from '../../src/budget/cost.js';
import type { SelectionInput } from '../../src/compute/select.js';
import { vcpuFactor } from '../../src/compute/measured.js';

const input = (over: Partial<SelectionInput> = {}): SelectionInput => ({
  flavor: 'sklearn',
  params: 1e6,
  paramsSource: 'artifact',
  quantization: 'fp32',
  expectedRps: 50,
  cpuMsPerRequest: 2,
  compute: 'auto',
  replicas: { min: 1, max: 4 },
  catalog: loadCatalog('sagemaker'),
  ...over,
});

describe('estimateCost', () => {
  it('prices the selected instance per hour, month and million predictions', () => {
    const c = estimateCost(input(), undefined, 300);
    expect(c.selected.instanceType).toBe('ml.c5.large');
    expect(c.selected.usdPerHour).toBe(0.102);
    expect(c.selected.hourlyUsd).toEqual({ min: 0.102, expected: 0.102, max: 0.408 });
    expect(c.selected.monthlyUsd.expected).toBeCloseTo(0.102 * HOURS_PER_MONTH, 2);
    // $0.102/h over 50 rps × 3600 s = 180,000 predictions an hour.
    expect(c.selected.usdPerMillion.atExpectedRps).toBeCloseTo((0.102 / 180_000) * 1e6, 3);
    // 2 vCPU × 500 rps per vCPU × 60 % = 600 rps at capacity on the measuring machine, × the c5 vCPU's
    // speed relative to it (src/compute/vcpu-performance.json).
    const capacity = 600 * vcpuFactor('ml.c5.large').factor;
    expect(c.selected.perInstanceRps).toBeCloseTo(capacity, 6);
    expect(c.selected.usdPerMillion.atCapacity).toBeCloseTo((0.102 / (capacity * 3600)) * 1e6, 4);
    expect(c.msPerRequestSource).toBe('measured');
    expect(c.rpsPerWorker).toBe(500);
    expect(c.withinBudget).toBe(true);
  });

  it('offers the nearest CPU and GPU alternatives and the break-even rate', () => {
    const c = estimateCost(input({ flavor: 'pytorch', params: 100e6, cpuMsPerRequest: undefined, expectedRps: 20 }));
    expect(c.selected.gpu).toBe(false);
    expect(c.alternatives.cpu?.gpu).toBe(false);
    expect(c.alternatives.cpu?.instanceType).not.toBe(c.selected.instanceType);
    expect(c.alternatives.gpu?.gpu).toBe(true);
    expect(c.gpuBreakEvenRps).toBeGreaterThan(20);
    expect(c.findings.join('\n')).toMatch(/GPU would cost less per prediction above/);
  });

  it('flags a monthly budget the expected load exceeds', () => {
    const c = estimateCost(input({ expectedRps: 5000, replicas: { min: 1, max: 20 } }), undefined, 100);
    expect(c.selected.instancesAtExpectedRps).toBeGreaterThan(1);
    expect(c.withinBudget).toBe(false);
    expect(c.findings[0]).toMatch(/> the budget of \$100\.00/);
  });

  it('costs the local machine at zero', () => {
    const c = estimateCost(input({ catalog: loadCatalog('local') }), undefined, 10);
    expect(c.selected.instanceType).toBe('local');
    expect(c.selected.monthlyUsd.expected).toBe(0);
    expect(c.selected.usdPerMillion.atCapacity).toBeNull();
    expect(c.withinBudget).toBe(true);
  });
});
