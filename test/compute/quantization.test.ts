/**
 * Quantization measured, not assumed: the pure choice (src/compute/quantization.ts) over measured
 * candidates, selection sized by the served file's bytes, and the manifest's `model.quantization`
 * mapping with its diagnostics (`checkManifest`, positions included). The sweep that measures runs
 * for real in test/packaging/quantize.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/instances/catalog.js';
import { chooseQuantization, type QuantizationMeasurements } from '../../src/compute/quantization.js';
import { selectCompute, type SelectionInput } from '../../src/compute/select.js';
import { checkManifest } from '../../src/manifest/load.js';
import { ManifestError } from '../../src/util/errors.js';

const sagemaker = loadCatalog('sagemaker');

/** A 7 B-parameter LLM served from GGUF on SageMaker: what the build passes (parameters from the F16 source). */
function base(over: Partial<SelectionInput> = {}): SelectionInput {
  return {
    flavor: 'llm',
    params: 7e9,
    paramsSource: 'artifact',
    quantization: 'fp16',
    expectedRps: 1,
    compute: 'auto',
    replicas: { min: 1, max: 1 },
    catalog: sagemaker,
    artifactFormat: 'gguf',
    ...over,
  };
}

/** Sizes and losses of a 7 B model's usual files (llama.cpp's own table for Llama-2 7B, roughly). */
function sweep(losses: { Q8_0: number; Q5_K_M: number; Q4_K_M: number }, params = 7e9): QuantizationMeasurements {
  const ppl = 5.8;
  const c = (type: keyof typeof losses, bitsPerWeight: number) => ({
    type,
    bytes: Math.round((params * bitsPerWeight) / 8),
    perplexity: ppl * (1 + losses[type]),
    loss: losses[type],
    tokens_per_s: 20,
  });
  return {
    source: { type: 'F16', bytes: params * 2, perplexity: ppl, tokens_per_s: 10 },
    candidates: [c('Q8_0', 8.5), c('Q5_K_M', 5.7), c('Q4_K_M', 4.9)],
  };
}

describe('chooseQuantization', () => {
  it('takes the smallest file within max_loss on the cheapest instance, and says why', () => {
    const choice = chooseQuantization(base(), sweep({ Q8_0: 0.001, Q5_K_M: 0.018, Q4_K_M: 0.062 }), 0.05);
    expect(choice.chosen).toBe('Q5_K_M');
    expect(choice.compute.instanceType).toBe('ml.g4dn.xlarge');
    // F16 (14 GB + KV + runtime) needs a 24 GB GPU (the L4 of g6 is the cheapest); Q8_0 fits the same T4 but is larger; Q4_K_M loses too much.
    expect(choice.reason).toBe(
      'Q5_K_M: +1.8% perplexity ≤ 5%, 2.8× smaller than F16, fits ml.g4dn.xlarge (F16 (source) needs ml.g6.xlarge; Q8_0 +0.1% larger; Q4_K_M +6.2% > 5%)',
    );
    expect(choice.compute.reasons[0]).toBe(`quantization ${choice.reason}`);
    // The memory is sized from the chosen file's bytes, not params × a declared width.
    expect(choice.compute.sizing?.gpuMemoryNeededGb).toBeCloseTo((7e9 * 5.7) / 8 / 1e9 + 2 + 1, 1);
    expect(choice.bytes).toBe(Math.round((7e9 * 5.7) / 8));
  });

  it('prefers a candidate that reaches a cheaper instance over a larger one within the loss', () => {
    // 13 B: Q8_0 (13.8 GB + KV) needs a 24 GB GPU, Q5_K_M fits a 16 GB T4.
    const choice = chooseQuantization(base({ params: 13e9 }), sweep({ Q8_0: 0.001, Q5_K_M: 0.01, Q4_K_M: 0.2 }, 13e9), 0.05);
    expect(choice.chosen).toBe('Q5_K_M');
    expect(choice.compute.instanceType).toBe('ml.g4dn.xlarge');
    expect(choice.reason).toContain('Q8_0 +0.1% needs ml.g6.xlarge');
  });

  it('at the same price takes the smaller file; losses below the source count as within', () => {
    const choice = chooseQuantization(base(), sweep({ Q8_0: -0.002, Q5_K_M: 0.003, Q4_K_M: 0.004 }), 0.05);
    expect(choice.chosen).toBe('Q4_K_M');
    expect(choice.reason).toContain('Q8_0 -0.2% larger');
  });

  it('serves the source unquantized when no candidate stays within max_loss, and says so', () => {
    const choice = chooseQuantization(base(), sweep({ Q8_0: 0.02, Q5_K_M: 0.04, Q4_K_M: 0.08 }), 0.01);
    expect(choice.chosen).toBe('F16');
    expect(choice.bytes).toBe(14e9);
    expect(choice.reason).toBe('F16 (the source, unquantized): no candidate within 1%, fits ml.g6.xlarge (Q8_0 +2% > 1%; Q5_K_M +4% > 1%; Q4_K_M +8% > 1%)');
  });

  it('on a fixed machine (every instance free) takes the smallest within the loss', () => {
    const choice = chooseQuantization(base({ catalog: loadCatalog('local') }), sweep({ Q8_0: 0.001, Q5_K_M: 0.018, Q4_K_M: 0.03 }), 0.05);
    expect(choice.chosen).toBe('Q4_K_M');
    expect(choice.reason).toMatch(/^Q4_K_M: \+3% perplexity ≤ 5%, 3\.3× smaller than F16, runs on local-gpu/);
  });

  it('fails naming what each needs when nothing within the loss fits any instance', () => {
    const run = () => chooseQuantization(base({ params: 700e9 }), sweep({ Q8_0: 0.001, Q5_K_M: 0.2, Q4_K_M: 0.3 }, 700e9), 0.05);
    expect(run).toThrow(ManifestError);
    expect(run).toThrow(/no quantization within max_loss 5% fits an instance of the sagemaker catalog: F16 \(no GPU instance .*\); Q8_0 \(no GPU instance/);
    try {
      run();
    } catch (error) {
      expect((error as ManifestError).hint).toMatch(/raise model.quantization.max_loss, add smaller candidates/);
    }
  });

  it('sizes selection by the served file when one is given', () => {
    const declared = selectCompute(base());
    const served = selectCompute(base({ weights: { type: 'Q4_K_M', bytes: 4.3e9, reason: 'Q4_K_M: measured' } }));
    expect(declared.sizing?.gpuMemoryNeededGb).toBe(17.8);
    expect(served.sizing?.gpuMemoryNeededGb).toBe(7.3);
    expect(served.reasons[0]).toBe('7 B-parameter LLM in Q4_K_M (estimated from the artifact size)');
    expect(served.reasons[1]).toBe('quantization Q4_K_M: measured');
  });
});

const LLM = `name: chat
model:
  path: model/tiny-f16.gguf
  flavor: llm
`;

const check = (text: string, missing: string[] = []) =>
  checkManifest(text, '/project/mlship.yaml', { exists: (p) => (missing.some((m) => p.endsWith(m)) ? undefined : 'file') });
const errors = (text: string, missing: string[] = []) => check(text, missing).diagnostics.filter((d) => d.severity === 'error');

describe('model.quantization as a mapping', () => {
  it('resolves the defaults: Q8_0, Q5_K_M, Q4_K_M within 5%, 512-token windows; the eval text absolute', () => {
    const result = check(`${LLM}  quantization: { eval_text: data/eval.txt }\n`);
    expect(result.diagnostics).toEqual([]);
    expect(result.manifest?.model.quantizationSweep).toEqual({
      candidates: ['Q8_0', 'Q5_K_M', 'Q4_K_M'],
      max_loss: 0.05,
      context: 512,
      eval_text: '/project/data/eval.txt',
      evalTextRelative: 'data/eval.txt',
    });
    // Sizing before a build measured anything: the LLM default width.
    expect(result.manifest?.model.quantization).toBe('fp16');
  });

  it('takes what is written', () => {
    const result = check(`${LLM}  quantization:\n    eval_text: eval.txt\n    candidates: [Q6_K, Q3_K_M]\n    max_loss: 0.1\n    context: 128\n`);
    expect(result.diagnostics).toEqual([]);
    expect(result.manifest?.model.quantizationSweep).toMatchObject({ candidates: ['Q6_K', 'Q3_K_M'], max_loss: 0.1, context: 128 });
  });

  it('keeps a width as it was', () => {
    const result = check(`${LLM}  quantization: int4\n`);
    expect(result.manifest?.model.quantization).toBe('int4');
    expect(result.manifest?.model.quantizationSweep).toBeUndefined();
  });

  it('says that auto needs an evaluation text, at the value, with the mapping to write', () => {
    expect(errors(`${LLM}  quantization: auto\n`)).toEqual([
      expect.objectContaining({
        line: 5,
        col: 17,
        path: 'model.quantization',
        message: '"auto" measures candidate quantizations, and needs an evaluation text to measure perplexity on',
        hint: 'write it as a mapping naming the text (candidates and max_loss shown at their defaults): quantization: { eval_text: data/eval.txt, candidates: [Q8_0, Q5_K_M, Q4_K_M], max_loss: 0.05 }',
      }),
    ]);
  });

  it('requires eval_text in the mapping, and an existing file', () => {
    expect(errors(`${LLM}  quantization:\n    max_loss: 0.05\n`)).toEqual([
      expect.objectContaining({ line: 5, col: 3, path: 'model.quantization.eval_text', message: 'missing required field "eval_text"' }),
    ]);
    expect(errors(`${LLM}  quantization:\n    eval_text: data/eval.txt\n`, ['data/eval.txt'])).toEqual([
      expect.objectContaining({ line: 6, col: 16, path: 'model.quantization.eval_text', message: 'file not found: data/eval.txt' }),
    ]);
  });

  it('refuses an unknown candidate, a loss below zero and an unknown key, each at its position', () => {
    const found = errors(`${LLM}  quantization:\n    eval_text: eval.txt\n    candidates: [Q8_0, Q9_K]\n    max_loss: -1\n    max_los: 0.1\n`);
    expect(found.map((d) => [d.line, d.col, d.path])).toEqual([
      [7, 24, 'model.quantization.candidates.1'],
      [8, 15, 'model.quantization.max_loss'],
      [9, 5, 'model.quantization.max_los'],
    ]);
    expect(found[0]!.message).toBe('"Q9_K" is not allowed');
    expect(found[2]!.hint).toBe('did you mean "max_loss"?');
  });

  it('reports a wrong value once, for the form it was meant as (a width or a mapping)', () => {
    expect(errors(`${LLM}  quantization: fp64\n`)).toEqual([
      expect.objectContaining({ line: 5, col: 17, path: 'model.quantization', message: '"fp64" is not allowed', hint: expect.stringMatching(/fp16/) }),
    ]);
    expect(errors(`${LLM}  quantization: 5\n`)).toEqual([
      expect.objectContaining({
        line: 5,
        col: 17,
        path: 'model.quantization',
        message: 'expected one of fp32, fp16, bf16, int8, int4, auto, or a mapping; got a number (5)',
      }),
    ]);
  });

  it('applies to a GGUF LLM only', () => {
    const sklearn = `name: churn\nmodel:\n  path: model/model.joblib\n  flavor: sklearn\n  quantization: { eval_text: eval.txt }\nfeatures:\n  package: features\n  schema: { a: { type: number } }\n`;
    expect(errors(sklearn)).toEqual([
      expect.objectContaining({
        line: 5,
        col: 17,
        path: 'model.quantization',
        message: expect.stringMatching(/applies to a GGUF LLM.*not the sklearn flavor/),
      }),
    ]);
    const vllm = `name: chat\nmodel:\n  path: model/weights.tar.gz\n  flavor: llm\n  quantization: { eval_text: eval.txt }\n`;
    expect(errors(vllm)[0]?.message).toMatch(/not the file model\/weights\.tar\.gz/);
  });
});
