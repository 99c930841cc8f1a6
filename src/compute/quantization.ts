/**
 * Quantization measured, not assumed: given what `mlship build` measured of each candidate (its size,
 * its perplexity on the evaluation text and its loss over the source), choose the one to serve. Pure:
 * the sweep that measures lives in src/packaging/quantize.ts.
 *
 * The rule: among the source and the candidates within `max_loss` (relative perplexity increase over
 * the source, which is within by definition), the one on the cheapest instance selection finds for
 * its bytes; at the same price the smallest file (more KV-cache headroom, and generation on real
 * models streams the weights once per token), then the least loss. No candidate within `max_loss`
 * → the source is served unquantized (the quality bound holds; the output says so). None of those fits
 * any instance → an error naming what each needs.
 */
import { ManifestError, type MlshipError } from '../util/errors.js';
import type { GgufSourceType } from './estimate.js';
import { selectCompute, type SelectionInput } from './select.js';
import type { ComputeChoice } from './types.js';

/** One candidate as measured (build.json `quantization.candidates[]`). */
export interface MeasuredCandidate {
  /** llama.cpp's name of the type (`Q5_K_M`). */
  type: string;
  /** Size of the quantized file. */
  bytes: number;
  /** Perplexity on the evaluation text (llama-perplexity's final estimate). */
  perplexity: number;
  /** Relative perplexity increase over the source: perplexity / source − 1 (negative when lower). */
  loss: number;
  /** Generation speed (tokens per second, one thread) as llama-server timed it. */
  tokens_per_s: number;
}

/** What the sweep measured: the source (the reference) and every candidate. */
export interface QuantizationMeasurements {
  source: { type: GgufSourceType; bytes: number; perplexity: number; tokens_per_s: number };
  candidates: MeasuredCandidate[];
}

/** What was chosen, with the selection for it and the reason in words. */
export interface QuantizationChoice {
  /** The type served: a candidate's, or the source's when none stays within max_loss. */
  chosen: string;
  /** The chosen file's size (what sizes memory). */
  bytes: number;
  /** One sentence: `Q5_K_M: +1.8% perplexity ≤ 5%, 2.1× smaller than F16, fits ml.g6.xlarge`, then why not the others. */
  reason: string;
  /** The instance selection for the chosen file. */
  compute: ComputeChoice;
}

interface Option {
  type: string;
  bytes: number;
  loss: number;
  source: boolean;
  compute?: ComputeChoice;
  noFit?: MlshipError;
}

/** Choose the quantization to serve: the cheapest instance within `maxLoss` (see the module comment). Pure. */
export function chooseQuantization(base: SelectionInput, measured: QuantizationMeasurements, maxLoss: number): QuantizationChoice {
  const all: Option[] = [
    { type: measured.source.type, bytes: measured.source.bytes, loss: 0, source: true },
    ...measured.candidates.map((c) => ({ type: c.type, bytes: c.bytes, loss: c.loss, source: false })),
  ];
  const within = all.filter((o) => o.loss <= maxLoss);
  for (const o of within) {
    try {
      o.compute = selectCompute({ ...base, weights: { type: o.type, bytes: o.bytes } });
    } catch (error) {
      if (!(error instanceof ManifestError) || error.code !== 'no_instance_fits') throw error;
      o.noFit = error;
    }
  }
  const fitting = within.filter((o) => o.compute !== undefined).sort((a, b) => price(a) - price(b) || a.bytes - b.bytes || a.loss - b.loss);
  const chosen = fitting[0];
  if (!chosen) {
    throw new ManifestError(
      `no quantization within max_loss ${percent(maxLoss)} fits an instance of the ${base.catalog.target} catalog: ${within.map((o) => `${o.type} (${o.noFit?.message})`).join('; ')}`,
      {
        code: 'no_instance_fits',
        hint: 'raise model.quantization.max_loss, add smaller candidates (e.g. Q4_K_M, Q3_K_M), or name an instance type in serving.compute',
      },
    );
  }
  const compute = chosen.compute!;
  const source = measured.source;
  const where = base.catalog.sizing === 'fixed' ? `runs on ${compute.instanceType}` : `fits ${compute.instanceType}`;
  const head = chosen.source
    ? `${source.type} (the source, unquantized): ${measured.candidates.length === 0 ? 'no candidates' : `no candidate within ${percent(maxLoss)}`}, ${where}`
    : `${chosen.type}: ${signed(chosen.loss)} perplexity ≤ ${percent(maxLoss)}, ${(source.bytes / chosen.bytes).toFixed(1)}× smaller than ${source.type}, ${where}`;
  const others = all
    .filter((o) => o !== chosen)
    .map((o) => {
      const loss = o.source ? `${o.type} (source)` : `${o.type} ${signed(o.loss)}`;
      if (o.loss > maxLoss) return `${loss} > ${percent(maxLoss)}`;
      if (!o.compute) return `${loss} fits no instance`;
      if (price(o) > price(chosen)) return `${loss} needs ${o.compute.instanceType}`;
      return o.bytes > chosen.bytes ? `${loss} larger` : `${loss} more loss`;
    });
  const reason = others.length > 0 ? `${head} (${others.join('; ')})` : head;
  return { chosen: chosen.type, bytes: chosen.bytes, reason, compute: { ...compute, reasons: [`quantization ${reason}`, ...compute.reasons] } };
}

/** The relative perplexity increase of a candidate over the source. */
export function relativeLoss(perplexity: number, sourcePerplexity: number): number {
  return perplexity / sourcePerplexity - 1;
}

function price(o: Option): number {
  return o.compute!.sizing?.usdPerHour ?? 0;
}

/** `5%`, `2.5%` */
export function percent(share: number): string {
  return `${Number((share * 100).toFixed(2))}%`;
}

/** `+1.8%`, `-0.3%` */
export function signed(share: number): string {
  const p = Number((share * 100).toFixed(2));
  return `${p >= 0 ? '+' : ''}${p}%`;
}
