/**
 * Instance selection: ONE pure function shared by `deploy`, `deploy --plan` and `budget`. CPU unless a
 * GPU pays off: tabular and small neural models are sized by CPU time per request against the expected
 * rate, and a GPU is chosen only when it carries that rate for less money; LLMs are sized by the GPU
 * memory their weights and KV cache need.
 */
import { artifactBytes } from '../util/fs.js';
import { ManifestError } from '../util/errors.js';
import type { Flavor, Manifest, Quantization } from '../manifest/types.js';
import { buildCostFor, buildQuantizationFor, scaledCpuMs, throughputFor, vcpuFactor, type MeasuredCost, type MeasuredThroughput } from './measured.js';
import type { ComputeChoice, ComputeSizing, QuantizedWeights, ServingRuntime } from './types.js';
import { catalogOf } from '../manifest/targets.js';
import { describeInstance, findInstance, gpuMemoryGb, instanceHint, loadCatalog, type Catalog, type InstanceType } from '../instances/catalog.js';
import {
  cpuCapacityRps,
  estimateCpuMs,
  estimateParams,
  formatCount,
  gpuCapacityRps,
  hostMemoryGb,
  isTabular,
  llmGpuMemory,
  SOURCE_WIDTH,
  TARGET_UTILIZATION,
  type Width,
} from './estimate.js';

/** The parameter estimate from artifact size, re-exported for callers of selection. */
export { estimateParams } from './estimate.js';

/** Everything selection looks at. */
export interface SelectionInput {
  flavor: Flavor;
  /** Parameter count: declared in the manifest or estimated from the artifact (`estimateParams`). */
  params: number;
  paramsSource: 'manifest' | 'artifact';
  quantization: Quantization;
  expectedRps: number;
  /**
   * Measured CPU milliseconds per request on one vCPU of the machine that measured it; estimated from
   * the model when absent. A measured figure is scaled to each instance type's vCPU (measured.ts).
   */
  cpuMsPerRequest?: number;
  /** Where the measured figure comes from, in words ("the build's calibration on …"). */
  cpuMsBasis?: string;
  /** Tokens one request carries (text models: `model.max_tokens`), for the GPU's FLOP count. */
  tokensPerRequest?: number;
  /** `serving.compute`: auto, cpu, gpu or an instance type of the catalog. */
  compute: string;
  /** `serving.replicas` from the manifest. */
  replicas: { min: number; max: number };
  /** `serving.workers`: worker processes per replica; unset, the app runs one per vCPU (as sized here). */
  workers?: number;
  catalog: Catalog;
  /** GGUF weights run on llama.cpp whatever the hardware. */
  artifactFormat?: 'gguf' | 'other';
  /**
   * LLMs with a measured quantization: the GGUF file served (its llama.cpp type and size). Its bytes
   * size the memory instead of `params × quantization`; `params` stays the source's count.
   */
  weights?: { type: string; bytes: number; reason?: string };
  /** An LLM's throughput as `mlship budget` measured it on the target's deployments (one per instance type). */
  throughput?: MeasuredThroughput[];
}

/** The width selection sizes an input's weights at: the served file's bytes per parameter, or the declared quantization. */
function widthOf(input: SelectionInput): Width {
  return input.weights ? input.weights.bytes / input.params : input.quantization;
}

/** The name of that width in sentences: `Q5_K_M`, `fp16`. */
function widthName(input: SelectionInput): string {
  return input.weights?.type ?? input.quantization;
}

/** One instance type evaluated against the input. */
export interface Option {
  instance: InstanceType;
  gpu: boolean;
  /** Whether the model fits in its memory (GPU memory for LLMs on a GPU); unknown memory counts as fitting. */
  fits: boolean;
  /** Requests per second one instance carries at the target utilisation. */
  perInstanceRps: number;
  /** Instances needed for the expected rate. */
  instances: number;
  /** Price of those instances per hour. */
  usdPerHourAtLoad: number;
}

/** Choose the instance type, replica range and runtime; explain why in words. Pure. */
export function selectCompute(input: SelectionInput): ComputeChoice {
  const llm = input.flavor === 'llm';
  const cpuMs = input.cpuMsPerRequest ?? estimateCpuMs(input.flavor, input.params, widthOf(input));
  const options = evaluateOptions(input, cpuMs);
  const cpuOptions = rank(options.filter((o) => !o.gpu && o.fits));
  const gpuOptions = rank(options.filter((o) => o.gpu && o.fits));
  const breakEven = llm ? null : gpuBreakEvenRps(options);
  const reasons: string[] = [describeModel(input)];
  if (input.weights?.reason) reasons.push(`quantization ${input.weights.reason}`);
  const warnings: string[] = [];
  const gpuNeed = llm ? llmGpuMemory(input.params, widthOf(input)) : undefined;
  if (gpuNeed) {
    reasons.push(
      `needs ~${gpuNeed.totalGb} GB of GPU memory: ${gpuNeed.weightsGb} GB of ${widthName(input)} weights + ${gpuNeed.kvGb} GB KV-cache headroom + ${gpuNeed.runtimeGb} GB runtime`,
    );
  }

  let chosen: Option;
  const compute = input.compute.toLowerCase();
  if (compute !== 'auto' && compute !== 'cpu' && compute !== 'gpu') {
    const instance = findInstance(input.catalog, input.compute);
    if (!instance) throw unknownInstanceError(input.compute, input.catalog);
    chosen = options.find((o) => o.instance === instance)!;
    reasons.push(`serving.compute names ${describeInstance(instance)}: honoured as written`);
    if (!chosen.fits) warnings.push(tooSmall(chosen, input, gpuNeed?.totalGb));
  } else if (compute === 'cpu' || (compute === 'auto' && !llm && preferCpu(cpuOptions, gpuOptions))) {
    chosen = cpuOptions[0] ?? noFit('CPU', input);
    reasons.push(
      compute === 'cpu'
        ? 'serving.compute is cpu'
        : input.catalog.sizing === 'fixed'
          ? `CPU: ${isTabular(input.flavor) ? `${input.flavor} models do not run faster on a GPU` : 'set serving.compute: gpu to use this machine’s GPU'}`
          : `${input.expectedRps} rps: CPU is the cheapest way to carry the expected rate`,
    );
  } else {
    chosen = gpuOptions[0] ?? noFit('GPU', input);
    reasons.push(
      compute === 'gpu'
        ? 'serving.compute is gpu'
        : llm
          ? 'an LLM needs a GPU: the cheapest one whose memory holds the model'
          : `${input.expectedRps} rps: a GPU carries the expected rate for less than CPUs`,
    );
  }

  const sizedByLoad = input.catalog.sizing !== 'fixed' && !llm;
  const measured = input.cpuMsPerRequest !== undefined;
  const factor = vcpuFactor(chosen.instance.type);
  const basis = measured
    ? `measured: ${input.cpuMsBasis ?? 'on this machine'}${factor.factor === 1 ? '' : `; ${fmtMs(scaledCpuMs(cpuMs, chosen.instance.type))} ms on a ${chosen.instance.type} vCPU (×1/${factor.factor}, ${factor.cpu})`}`
    : 'estimated from the parameter count: `mlship build` measures it';
  if (sizedByLoad) {
    reasons.push(
      `~${fmtMs(cpuMs)} ms of CPU per request (${basis}): ${chosen.instance.type} carries ~${fmtRps(chosen.perInstanceRps)} rps at ${TARGET_UTILIZATION * 100}% utilisation, so ${chosen.instances} instance${chosen.instances === 1 ? '' : 's'} for ${input.expectedRps} rps`,
    );
  } else if (!llm) {
    reasons.push(`~${fmtMs(cpuMs)} ms of CPU per request (${basis})`);
  }
  if (!llm) reasons.push(breakEvenWords(breakEven, input, chosen));
  if (!llm && !chosen.gpu && input.workers !== undefined && input.workers < chosen.instance.vcpu) {
    // Sized with the worker count the app will run: say that the rest of the machine idles.
    warnings.push(
      `serving.workers is ${input.workers}: the app uses ${input.workers} of ${chosen.instance.type}'s ${chosen.instance.vcpu} vCPUs (unset it to use them all)`,
    );
  }

  // An LLM's type is sized by memory; its replicas by the throughput measured on that type, if any.
  const llmSized = llm ? llmReplicas(input, chosen, reasons) : undefined;
  const needed = sizedByLoad ? chosen.instances : llmSized?.instances;
  const replicas = { ...input.replicas };
  if (needed !== undefined && needed > replicas.max) {
    reasons.push(`replicas.max raised from ${replicas.max} to ${needed} to carry ${input.expectedRps} rps`);
    replicas.max = needed;
  }

  const cap = input.catalog.maxReplicas;
  if (cap !== undefined && replicas.max > cap) {
    reasons.push(
      `the ${input.catalog.target} target runs ${cap} replica${cap === 1 ? '' : 's'} (serving.replicas ${replicas.min}–${replicas.max} applies on clouds)`,
    );
    replicas.min = Math.min(replicas.min, cap);
    replicas.max = cap;
    if (needed !== undefined && needed > cap && llmSized)
      warnings.push(
        `at the measured ${fmtRps(llmSized.measured.tokensPerSecond)} tokens/s the expected ${input.expectedRps} rps needs ${needed} replicas; the ${input.catalog.target} target runs ${cap}: requests will queue`,
      );
  }

  const runtime = chooseRuntime(input, chosen);
  if (runtime !== 'python')
    reasons.push(
      `served by ${runtime === 'vllm' ? 'vLLM' : 'llama.cpp'}${runtime === 'llama.cpp' && !chosen.gpu ? ' on CPU (slow: seconds per request)' : ''}`,
    );

  const sizing: ComputeSizing = {
    params: input.params,
    paramsSource: input.paramsSource,
    cpuMsPerRequest: round3(cpuMs),
    cpuMsSource: measured ? 'measured' : 'estimated',
    ...(measured && { cpuMsBasis: input.cpuMsBasis ?? 'measured on this machine', vcpuFactor: factor.factor }),
    perInstanceRps: sizedByLoad ? round3(chosen.perInstanceRps) : null,
    instancesForExpectedRps: sizedByLoad ? chosen.instances : llmSized ? Math.min(replicas.max, Math.max(replicas.min, llmSized.instances)) : replicas.min,
    ...(llmSized && {
      tokensPerSecondPerReplica: llmSized.measured.tokensPerSecond,
      throughputBasis: `mlship budget at ${llmSized.measured.concurrency} streams on ${llmSized.measured.instanceType} (${llmSized.measured.measuredAt.slice(0, 10)})`,
    }),
    memoryNeededGb: hostMemoryGb(input.flavor, input.params, widthOf(input)),
    ...(gpuNeed && { gpuMemoryNeededGb: gpuNeed.totalGb }),
    gpuBreakEvenRps: breakEven === null ? null : Math.round(breakEven),
    usdPerHour: chosen.instance.usdPerHour,
  };
  return {
    instanceType: chosen.instance.type,
    replicas,
    gpu: chosen.gpu,
    reasons,
    runtime,
    ...(warnings.length > 0 && { warnings }),
    sizing,
  };
}

/**
 * An LLM's replicas from its measured throughput on the chosen type: the expected rate times the
 * tokens a request generates, over the tokens/s one replica carried at the budget's concurrency (no
 * further headroom: that concurrency is the load the latency budgets held at). Says why in `reasons`.
 */
function llmReplicas(input: SelectionInput, chosen: Option, reasons: string[]): { instances: number; measured: MeasuredThroughput } | undefined {
  const all = input.throughput ?? [];
  const measured = all.find((t) => t.instanceType === chosen.instance.type);
  if (!measured) {
    reasons.push(
      all.length > 0
        ? `throughput was measured on ${all.map((t) => t.instanceType).join(', ')}, not on ${chosen.instance.type}: replicas not sized by it`
        : 'replicas are not sized by load until `mlship budget` measures the deployment’s tokens/s',
    );
    return undefined;
  }
  const demand = input.expectedRps * measured.tokensPerRequest;
  const instances = Math.max(1, Math.ceil(demand / measured.tokensPerSecond));
  reasons.push(
    `measured ${fmtRps(measured.tokensPerSecond)} tokens/s per replica at ${measured.concurrency} stream${measured.concurrency === 1 ? '' : 's'} (mlship budget, ${measured.measuredAt.slice(0, 10)}): ${input.expectedRps} rps × ${fmtRps(measured.tokensPerRequest)} tokens = ${fmtRps(demand)} tokens/s needs ${instances} replica${instances === 1 ? '' : 's'}`,
  );
  return { instances, measured };
}

/** Every catalog instance evaluated for the input (also used by the cost report for alternatives). */
export function evaluateOptions(
  input: SelectionInput,
  cpuMs: number = input.cpuMsPerRequest ?? estimateCpuMs(input.flavor, input.params, widthOf(input)),
): Option[] {
  const llm = input.flavor === 'llm';
  const hostGb = hostMemoryGb(input.flavor, input.params, widthOf(input));
  const gpuGb = llm ? llmGpuMemory(input.params, widthOf(input)).totalGb : 0;
  return input.catalog.instances.map((instance) => {
    const gpu = instance.gpu !== null;
    const memory = gpu && llm ? gpuMemoryGb(instance) : instance.memoryGb;
    const fits = memory === null || memory >= (gpu && llm ? gpuGb : hostGb);
    // A measured figure is per vCPU of the measuring machine: scale it to this type's vCPU.
    const ms = input.cpuMsPerRequest === undefined ? cpuMs : scaledCpuMs(cpuMs, instance.type);
    const perInstanceRps = gpu ? gpuCapacityRps(instance, input.flavor, input.params, ms, input.tokensPerRequest) : cpuCapacityRps(instance, ms, input.workers);
    // LLM throughput depends on batching and output length far more than on FLOPs: not sized by
    // load here; `mlship budget` measures it.
    const instances = llm ? 1 : Math.max(1, Math.ceil(input.expectedRps / perInstanceRps));
    return { instance, gpu, fits, perInstanceRps, instances, usdPerHourAtLoad: instances * instance.usdPerHour };
  });
}

/** Cheapest at the expected load first; ties go to fewer instances, then the cheaper type. */
export function rank(options: Option[]): Option[] {
  return [...options].sort((a, b) => a.usdPerHourAtLoad - b.usdPerHourAtLoad || a.instances - b.instances || a.instance.usdPerHour - b.instance.usdPerHour);
}

/** CPU unless a GPU is strictly cheaper at the expected rate. */
function preferCpu(cpu: Option[], gpu: Option[]): boolean {
  if (!cpu[0]) return false;
  if (!gpu[0]) return true;
  return cpu[0].usdPerHourAtLoad <= gpu[0].usdPerHourAtLoad;
}

/**
 * The rate above which one GPU instance costs less than the CPUs carrying the same rate (CPU cost
 * grows with the rate; a GPU instance is a fixed price up to its capacity). Null when no GPU is ever
 * cheaper per prediction (tabular models, free local hardware).
 */
export function gpuBreakEvenRps(options: Option[]): number | null {
  const cpu = options.filter((o) => !o.gpu && o.fits && o.instance.usdPerHour > 0);
  const gpu = options.filter((o) => o.gpu && o.fits && o.instance.usdPerHour > 0);
  if (cpu.length === 0 || gpu.length === 0) return null;
  const cpuUsdPerRps = Math.min(...cpu.map((o) => o.instance.usdPerHour / o.perInstanceRps));
  let best: number | null = null;
  for (const g of gpu) {
    if (g.instance.usdPerHour / g.perInstanceRps >= cpuUsdPerRps) continue;
    const rps = g.instance.usdPerHour / cpuUsdPerRps;
    if (best === null || rps < best) best = rps;
  }
  return best;
}

function chooseRuntime(input: SelectionInput, chosen: Option): ServingRuntime {
  if (input.flavor !== 'llm') return 'python';
  if (input.artifactFormat === 'gguf' || !chosen.gpu) return 'llama.cpp';
  return 'vllm';
}

function describeModel(input: SelectionInput): string {
  const kind = input.flavor === 'llm' ? 'LLM' : `${input.flavor} model`;
  const source = input.paramsSource === 'manifest' ? 'declared in model.params' : 'estimated from the artifact size';
  const quant = input.flavor === 'llm' || !isTabular(input.flavor) ? ` in ${widthName(input)}` : '';
  return `${formatCount(input.params)}-parameter ${kind}${quant} (${source})`;
}

function breakEvenWords(breakEven: number | null, input: SelectionInput, chosen: Option): string {
  if (input.catalog.sizing === 'fixed') return 'runs on this machine: no hourly price to compare';
  if (breakEven === null) {
    return isTabular(input.flavor)
      ? `a GPU would not pay off at any rate: ${input.flavor} models do not run faster on a GPU`
      : 'a GPU would not pay off at any rate for this model in this catalog';
  }
  if (chosen.gpu) return `a GPU pays off above ~${fmtRps(breakEven)} rps; below that CPUs would be cheaper`;
  return `a GPU would pay off above ~${fmtRps(breakEven)} rps`;
}

function tooSmall(option: Option, input: SelectionInput, gpuNeedGb: number | undefined): string {
  const i = option.instance;
  if (gpuNeedGb !== undefined && option.gpu) {
    return `${i.type} has ${gpuMemoryGb(i)} GB of GPU memory; the model needs ~${gpuNeedGb} GB: it will not load (quantize it or pick a larger type)`;
  }
  return `${i.type} has ${i.memoryGb} GB of memory; the model needs ~${hostMemoryGb(input.flavor, input.params, widthOf(input))} GB: it will not load`;
}

function noFit(kind: 'CPU' | 'GPU', input: SelectionInput): never {
  const need =
    input.flavor === 'llm' && kind === 'GPU'
      ? `${llmGpuMemory(input.params, widthOf(input)).totalGb} GB of GPU memory`
      : `${hostMemoryGb(input.flavor, input.params, widthOf(input))} GB of memory`;
  throw new ManifestError(`no ${kind} instance in the ${input.catalog.target} catalog has the ${need} this model needs`, {
    code: 'no_instance_fits',
    hint:
      input.flavor === 'llm' ? 'quantize the model (model.quantization: int4) or name a type in serving.compute' : 'name an instance type in serving.compute',
  });
}

/** The error for a `serving.compute` that is not in the catalog, with the closest name. */
export function unknownInstanceError(type: string, catalog: Catalog): ManifestError {
  return new ManifestError(`serving.compute: "${type}" is not an instance type of the ${catalog.target} catalog`, {
    code: 'unknown_instance_type',
    hint: instanceHint(type, catalog),
  });
}

/** Extra inputs a caller may have: the artifact's size and a measured CPU time per request. */
export interface ManifestSelectionOptions {
  /** Artifact size in bytes; read from disk when absent. */
  modelBytes?: number;
  /** A measured CPU time per request (one vCPU); without it, the current build's calibration when there is one. */
  cpuMsPerRequest?: number;
  cpuMsBasis?: string;
  /**
   * Look for measurements: the build's calibration, an LLM's measured throughput (default true; the
   * build's own rendering passes false so a build id never depends on an earlier build or run).
   */
  useBuildCost?: boolean;
  /** A catalog other than the manifest target's (the cost report's cloud comparison). */
  catalog?: Catalog;
  /**
   * A measured quantization's served file (the build's choice), and the source it was made from (for
   * the parameter count); without it, the current build's record when there is one (`useBuildCost`).
   */
  quantized?: QuantizedWeights;
}

/**
 * `selectCompute` for a resolved manifest: the target's catalog, `model.params` or an estimate from
 * the artifact size. What `deploy --plan`, the targets and `budget` call.
 */
export function selectForManifest(manifest: Manifest, options: ManifestSelectionOptions = {}): ComputeChoice {
  return selectCompute(selectionInput(manifest, options));
}

/** The selection input a manifest describes (exported for the cost report's alternatives). */
export function selectionInput(manifest: Manifest, options: ManifestSelectionOptions = {}): SelectionInput {
  const { model, serving } = manifest;
  const quantized = options.quantized ?? (model.quantizationSweep && options.useBuildCost !== false ? buildQuantizationFor(manifest) : undefined);
  let params = model.params;
  if (params === undefined) {
    // A measured quantization serves a smaller file: the parameter count comes from its source.
    params = quantized
      ? estimateParams(model.flavor, quantized.source.bytes, SOURCE_WIDTH[quantized.source.type])
      : estimateParams(model.flavor, options.modelBytes ?? modelBytes(model.path), model.quantization);
  }
  let measured: { cpuMsPerRequest: number; cpuMsBasis: string } | undefined;
  if (options.cpuMsPerRequest !== undefined)
    measured = { cpuMsPerRequest: options.cpuMsPerRequest, cpuMsBasis: options.cpuMsBasis ?? 'measured on this machine' };
  else if (options.useBuildCost !== false && model.flavor !== 'llm') {
    const cost = buildCostFor(manifest);
    if (cost) measured = { cpuMsPerRequest: cost.perRequest.cpuMs, cpuMsBasis: describeCalibration(cost) };
  }
  const throughput = options.useBuildCost !== false && model.flavor === 'llm' ? throughputFor(manifest) : [];
  return {
    flavor: model.flavor,
    params,
    paramsSource: model.params === undefined ? 'artifact' : 'manifest',
    quantization: model.quantization,
    expectedRps: serving.expected_rps,
    ...measured,
    ...(model.max_tokens !== undefined && { tokensPerRequest: model.max_tokens }),
    compute: serving.compute,
    replicas: serving.replicas,
    ...(serving.workers !== undefined && { workers: serving.workers }),
    catalog: options.catalog ?? loadCatalog(catalogOf(manifest.target)),
    artifactFormat: model.path.toLowerCase().endsWith('.gguf') ? 'gguf' : 'other',
    ...(quantized && { weights: { type: quantized.type, bytes: quantized.bytes, ...(quantized.reason !== undefined && { reason: quantized.reason }) } }),
    ...(throughput.length > 0 && { throughput }),
  };
}

/** `the build's calibration on AMD EPYC (one thread, 2026-11-30)` */
export function describeCalibration(cost: MeasuredCost): string {
  return `the build's calibration on ${cost.machine.cpu} (one thread, ${cost.measuredAt.slice(0, 10)})`;
}

function modelBytes(file: string): number {
  try {
    return artifactBytes(file);
  } catch {
    return 0;
  }
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}

function fmtMs(n: number): string {
  return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
}

function fmtRps(n: number): string {
  return n >= 100 ? String(Math.round(n)) : n.toPrecision(2);
}
