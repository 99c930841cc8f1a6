import { describe, expect, it } from 'vitest';
import { findInstance, gpuMemoryGb, loadCatalog } from '../../src/instances/catalog.js';
import { estimateParams } from '../../src/compute/estimate.js';
import { selectCompute, type SelectionInput } from '../../src/compute/select.js';
import { ManifestError } from '../../src/util/errors.js';

const sagemaker = loadCatalog('sagemaker');

function input(over: Partial<SelectionInput>): SelectionInput {
  return {
    flavor: 'sklearn',
    params: 1.2e6,
    paramsSource: 'artifact',
    quantization: 'fp32',
    expectedRps: 50,
    compute: 'auto',
    replicas: { min: 1, max: 4 },
    catalog: sagemaker,
    ...over,
  };
}

function gpuGb(type: string, target: 'sagemaker' | 'vertex' | 'azure' = 'sagemaker'): number {
  return gpuMemoryGb(findInstance(loadCatalog(target), type)!) ?? 0;
}

describe('selectCompute', () => {
  it('puts a small sklearn model on CPU and says why', () => {
    const choice = selectCompute(input({}));
    expect(choice.gpu).toBe(false);
    expect(choice.instanceType).toMatch(/^ml\.(c5|m5|t2)\./);
    expect(choice.runtime).toBe('python');
    expect(choice.reasons.join('\n')).toContain('1.2 M-parameter sklearn model');
    expect(choice.reasons.join('\n')).toMatch(/GPU would not pay off/);
    expect(choice.sizing?.gpuBreakEvenRps).toBeNull();
    expect(choice.replicas).toEqual({ min: 1, max: 4 });
  });

  it('keeps a small sklearn model on CPU even at a high rate', () => {
    const choice = selectCompute(input({ expectedRps: 5000 }));
    expect(choice.gpu).toBe(false);
    expect(choice.replicas.max).toBeGreaterThanOrEqual(choice.sizing!.instancesForExpectedRps);
  });

  it('serves a 100 M-parameter transformer on CPU at a low rate', () => {
    const choice = selectCompute(input({ flavor: 'pytorch', params: 100e6, expectedRps: 10 }));
    expect(choice.gpu).toBe(false);
    expect(choice.sizing!.cpuMsPerRequest).toBeGreaterThanOrEqual(50);
    expect(choice.sizing!.cpuMsPerRequest).toBeLessThanOrEqual(100);
    const breakEven = choice.sizing!.gpuBreakEvenRps!;
    expect(breakEven).toBeGreaterThan(10);
    expect(breakEven).toBeLessThan(500);
    expect(choice.reasons.join('\n')).toContain(`GPU would pay off above ~${breakEven}`);
  });

  it('moves a 100 M-parameter transformer to a GPU at a high rate', () => {
    const choice = selectCompute(input({ flavor: 'pytorch', params: 100e6, expectedRps: 500 }));
    expect(choice.gpu).toBe(true);
    expect(choice.reasons.join('\n')).toMatch(/GPU carries the expected rate for less/);
  });

  it('puts a 7 B LLM in fp16 on a GPU with at least 24 GB, served by vLLM', () => {
    for (const target of ['sagemaker', 'vertex', 'azure'] as const) {
      const choice = selectCompute(input({ flavor: 'llm', params: 7e9, quantization: 'fp16', expectedRps: 1, catalog: loadCatalog(target) }));
      expect(choice.gpu).toBe(true);
      expect(gpuGb(choice.instanceType, target)).toBeGreaterThanOrEqual(24);
      expect(choice.runtime).toBe('vllm');
      expect(choice.sizing!.gpuMemoryNeededGb).toBeGreaterThan(16);
    }
  });

  it('fits the same 7 B LLM in 4-bit on a smaller GPU', () => {
    const fp16 = selectCompute(input({ flavor: 'llm', params: 7e9, quantization: 'fp16' }));
    const int4 = selectCompute(input({ flavor: 'llm', params: 7e9, quantization: 'int4' }));
    expect(int4.gpu).toBe(true);
    expect(gpuGb(int4.instanceType)).toBeLessThan(gpuGb(fp16.instanceType));
    expect(int4.instanceType).toBe('ml.g4dn.xlarge');
  });

  it('serves GGUF weights and CPU-only LLMs with llama.cpp', () => {
    expect(selectCompute(input({ flavor: 'llm', params: 7e9, quantization: 'int4', artifactFormat: 'gguf' })).runtime).toBe('llama.cpp');
    const cpu = selectCompute(input({ flavor: 'llm', params: 1e9, quantization: 'int4', compute: 'cpu' }));
    expect(cpu.gpu).toBe(false);
    expect(cpu.runtime).toBe('llama.cpp');
  });

  it('rejects an LLM no instance can hold', () => {
    expect(() => selectCompute(input({ flavor: 'llm', params: 700e9, quantization: 'fp32' }))).toThrow(/no GPU instance/);
  });

  it('honours an explicit instance type, warning when the model will not fit', () => {
    const choice = selectCompute(input({ compute: 'ml.g5.xlarge' }));
    expect(choice.instanceType).toBe('ml.g5.xlarge');
    expect(choice.gpu).toBe(true);
    expect(choice.reasons.join('\n')).toContain('honoured');
    const small = selectCompute(input({ flavor: 'llm', params: 7e9, quantization: 'fp16', compute: 'ml.g4dn.xlarge' }));
    expect(small.instanceType).toBe('ml.g4dn.xlarge');
    expect(small.warnings?.[0]).toMatch(/will not load/);
  });

  it('honours cpu and gpu as written', () => {
    expect(selectCompute(input({ compute: 'gpu' })).gpu).toBe(true);
    expect(selectCompute(input({ flavor: 'pytorch', params: 100e6, expectedRps: 500, compute: 'cpu' })).gpu).toBe(false);
  });

  it('rejects an unknown instance type with a suggestion', () => {
    let error: unknown;
    try {
      selectCompute(input({ compute: 'ml.m5.larg' }));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ManifestError);
    expect((error as ManifestError).hint).toBe('did you mean "ml.m5.large"?');
    expect(() => selectCompute(input({ compute: 'Standard_DS3_v2' }))).toThrow(/not an instance type of the sagemaker catalog/);
  });

  it('uses a measured CPU time instead of the estimate', () => {
    const choice = selectCompute(input({ cpuMsPerRequest: 200, expectedRps: 100 }));
    expect(choice.sizing!.cpuMsSource).toBe('measured');
    expect(choice.sizing!.instancesForExpectedRps).toBeGreaterThan(1);
    expect(choice.reasons.join('\n')).toContain('(measured');
  });

  it('keeps the local target on this machine with the manifest replicas', () => {
    const local = loadCatalog('local');
    const choice = selectCompute(input({ catalog: local, expectedRps: 5000, replicas: { min: 1, max: 4 } }));
    expect(choice.instanceType).toBe('local');
    expect(choice.replicas).toEqual({ min: 1, max: 1 });
    expect(choice.reasons.join('\n')).toContain('the local target runs 1 replica (serving.replicas 1–4 applies on clouds)');
    expect(selectCompute(input({ catalog: local, flavor: 'llm', params: 7e9, quantization: 'fp16' })).instanceType).toBe('local-gpu');
  });
});

describe('catalogs', () => {
  const required: Record<string, string[]> = {
    sagemaker: ['ml.m5.large', 'ml.c5.xlarge', 'ml.g4dn.xlarge', 'ml.g5.xlarge', 'ml.g6.xlarge'],
    vertex: ['n1-standard-4', 'n1-standard-4+nvidia-tesla-t4', 'g2-standard-4', 'a2-highgpu-1g'],
    azure: ['Standard_DS3_v2', 'Standard_NC4as_T4_v3', 'Standard_NC24ads_A100_v4'],
    local: ['local', 'local-gpu'],
  };

  for (const target of Object.keys(required)) {
    it(`${target}: well-formed, dated and sourced`, () => {
      const catalog = loadCatalog(target);
      expect(catalog.target).toBe(target);
      expect(catalog.asOf).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(catalog.source).not.toBe('');
      for (const name of required[target]!) expect(findInstance(catalog, name), name).toBeDefined();
      const names = new Set<string>();
      for (const i of catalog.instances) {
        expect(names.has(i.type), `duplicate ${i.type}`).toBe(false);
        names.add(i.type);
        expect(i.vcpu).toBeGreaterThan(0);
        expect(i.usdPerHour).toBeGreaterThanOrEqual(0);
        expect(i.price.asOf).toMatch(/^\d{4}-\d{2}/);
        expect(i.price.source).not.toBe('');
        if (target !== 'local') expect(i.usdPerHour).toBeGreaterThan(0);
        if (i.gpu) expect(i.gpu.count).toBeGreaterThan(0);
      }
    });
  }

  it('covers T4, L4 or A10G, and A100 GPUs on every cloud', () => {
    for (const target of ['sagemaker', 'vertex', 'azure'] as const) {
      const models = new Set(loadCatalog(target).instances.flatMap((i) => (i.gpu ? [i.gpu.model] : [])));
      expect(models.has('T4'), target).toBe(true);
      expect(models.has('A100'), target).toBe(true);
      expect(
        ['L4', 'A10G', 'A10'].some((m) => models.has(m)),
        target,
      ).toBe(true);
    }
  });

  it('selects on every cloud catalog: sklearn on CPU, 7 B fp16 on a 24 GB+ GPU', () => {
    for (const target of ['sagemaker', 'vertex', 'azure'] as const) {
      const catalog = loadCatalog(target);
      expect(selectCompute(input({ catalog })).gpu, target).toBe(false);
      expect(selectCompute(input({ catalog, flavor: 'pytorch', params: 100e6, expectedRps: 2000 })).gpu, target).toBe(true);
    }
  });
});

describe('estimateParams', () => {
  it('divides neural artifacts by the quantization width and pickled trees by 8 bytes', () => {
    expect(estimateParams('pytorch', 400e6, 'fp32')).toBe(100e6);
    expect(estimateParams('llm', 14e9, 'fp16')).toBe(7e9);
    expect(estimateParams('llm', 3.5e9, 'int4')).toBe(7e9);
    expect(estimateParams('sklearn', 9.6e6, 'fp32')).toBe(1.2e6);
  });
});
