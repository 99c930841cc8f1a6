/**
 * The rough models selection works from, all in one place so they can be read and argued with:
 * parameter count from artifact size, CPU time per request, GPU throughput, memory needs. They are
 * deliberately simple; `mlship budget` replaces the CPU-time estimate with a measurement.
 */
import type { InstanceType } from '../instances/catalog.js';
import type { Flavor, Quantization } from '../manifest/types.js';

/** Bytes one parameter takes at a quantization. */
export const BYTES_PER_PARAM: Record<Quantization, number> = { fp32: 4, fp16: 2, bf16: 2, int8: 1, int4: 0.5 };

/**
 * The width of the weights: a declared quantization, or bytes per parameter measured from a file (a
 * quantized GGUF's size over the parameter count: its mixed types and scales included).
 */
export type Width = Quantization | number;

/** A GGUF source's width (llama.cpp's names): only unquantized weights are quantized from. */
export type GgufSourceType = 'F32' | 'F16' | 'BF16';

/** The manifest width of a source type (a parameter count is its bytes over this width). */
export const SOURCE_WIDTH: Record<GgufSourceType, Quantization> = { F32: 'fp32', F16: 'fp16', BF16: 'bf16' };

/** Bytes one parameter takes at a width. */
export function bytesPerParam(width: Width): number {
  return typeof width === 'number' ? width : BYTES_PER_PARAM[width];
}

/** Size instances to run at most this busy: queueing delay (and so p95) climbs steeply above it. */
export const TARGET_UTILIZATION = 0.6;

/** Tokens one request of a neural model processes (a typical short text), for FLOP counts. */
const TOKENS_PER_REQUEST = 128;
/** Share of a GPU's peak FLOPS a served model reaches with dynamic batching. */
const GPU_EFFICIENCY = 0.3;
/** A GPU host still parses HTTP and JSON per request; past this it is host-bound, per GPU. */
const GPU_HOST_LIMIT_RPS = 2000;
/** Tokens an LLM request generates, and the memory bandwidth a CPU streams weights at (llama.cpp). */
const LLM_TOKENS_PER_REQUEST = 128;
const CPU_MEMORY_BANDWIDTH_GBPS = 20;
/** GB of GPU memory the CUDA context and runtime take before any weights. */
const GPU_RUNTIME_GB = 1;
/** KV-cache headroom on top of LLM weights: 20 % of the weights, at least 2 GB. */
const KV_HEADROOM_SHARE = 0.2;
const KV_HEADROOM_MIN_GB = 2;

/** Flavors whose models are tables of trees or linear weights: a GPU does not make one request faster. */
export function isTabular(flavor: Flavor): boolean {
  return flavor === 'sklearn' || flavor === 'xgboost' || flavor === 'lightgbm';
}

/**
 * Parameter count from the artifact's size. Neural weights are stored at the quantization's width;
 * pickled tree ensembles spend about 8 bytes (one float64) per node value or threshold.
 */
export function estimateParams(flavor: Flavor, artifactBytes: number, quantization: Quantization): number {
  const perParam = isTabular(flavor) ? 8 : BYTES_PER_PARAM[quantization];
  return Math.max(1, Math.round(artifactBytes / perParam));
}

/**
 * CPU milliseconds per request on one vCPU. Tabular models: about a millisecond of framework overhead
 * plus tree walking. Neural models: ~0.75 ms per million parameters (a 100 M-parameter transformer at
 * 50–100 ms). LLMs on CPU are bound by streaming the weights once per generated token.
 */
export function estimateCpuMs(flavor: Flavor, params: number, width: Width): number {
  if (isTabular(flavor)) return 1 + (params / 1e6) * 0.5;
  if (flavor === 'llm') return ((LLM_TOKENS_PER_REQUEST * params * bytesPerParam(width)) / (CPU_MEMORY_BANDWIDTH_GBPS * 1e9)) * 1000;
  return 1 + (params / 1e6) * 0.75;
}

/**
 * Requests per second an instance carries at the target utilisation: the serving app runs one worker
 * process per vCPU (the container's CPUs), or `workers` when `serving.workers` caps it.
 */
export function cpuCapacityRps(instance: InstanceType, cpuMs: number, workers?: number): number {
  return (Math.min(instance.vcpu, workers ?? instance.vcpu) * 1000 * TARGET_UTILIZATION) / cpuMs;
}

/**
 * Requests per second a GPU instance carries at the target utilisation. Only neural models speed up:
 * 2 FLOPs per parameter per token at a fraction of peak; tabular models run as on the host CPUs.
 */
export function gpuCapacityRps(instance: InstanceType, flavor: Flavor, params: number, cpuMs: number, tokens: number = TOKENS_PER_REQUEST): number {
  const gpu = instance.gpu;
  if (!gpu || isTabular(flavor) || gpu.fp16Tflops === null) return cpuCapacityRps(instance, cpuMs);
  const perGpu = Math.min(GPU_HOST_LIMIT_RPS, (GPU_EFFICIENCY * gpu.fp16Tflops * 1e12) / (2 * params * tokens));
  return perGpu * gpu.count * TARGET_UTILIZATION;
}

/** Host memory (GB) a worker needs: the weights twice (load and serve) plus the Python runtime. */
export function hostMemoryGb(flavor: Flavor, params: number, width: Width): number {
  const weights = (params * (isTabular(flavor) ? 8 : bytesPerParam(width))) / 1e9;
  return round1(weights * 2 + 0.5);
}

/** GPU memory (GB) an LLM needs: weights + KV-cache headroom + CUDA runtime; the parts for reasons. */
export function llmGpuMemory(params: number, width: Width): { weightsGb: number; kvGb: number; runtimeGb: number; totalGb: number } {
  const weightsGb = (params * bytesPerParam(width)) / 1e9;
  const kvGb = Math.max(KV_HEADROOM_MIN_GB, weightsGb * KV_HEADROOM_SHARE);
  return { weightsGb: round1(weightsGb), kvGb: round1(kvGb), runtimeGb: GPU_RUNTIME_GB, totalGb: round1(weightsGb + kvGb + GPU_RUNTIME_GB) };
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

/** `1.2 M`, `100 M`, `7 B`, `350 k`: counts for sentences. */
export function formatCount(n: number): string {
  const fmt = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(0) : v.toFixed(1).replace(/\.0$/, ''));
  if (n >= 1e9) return `${fmt(n / 1e9)} B`;
  if (n >= 1e6) return `${fmt(n / 1e6)} M`;
  if (n >= 1e3) return `${fmt(n / 1e3)} k`;
  return String(Math.round(n));
}
