/**
 * The result type of compute selection (`selectCompute` in select.ts): the instance type, replicas and
 * the numbers behind the choice. Manifest, build, budget and every target read it; it lives here so
 * `budget/` and `targets/` no longer import each other for it.
 */
import type { GgufSourceType } from './estimate.js';

/** The GGUF a measured quantization serves (the build's choice), as selection needs it. */
export interface QuantizedWeights {
  /** The unquantized source it was made from (the parameter count is its bytes over its width). */
  source: { type: GgufSourceType; bytes: number };
  /** llama.cpp's name of the served type (`Q5_K_M`), or the source's when it is served unquantized. */
  type: string;
  /** The served file's size: what sizes memory. */
  bytes: number;
  /** Why it was chosen, for the plan's reasons. */
  reason?: string;
}

/** How a model is served: the generated Python app, or an LLM server container. */
export type ServingRuntime = 'python' | 'vllm' | 'llama.cpp';

/** The chosen compute, from the one selection function (`selectCompute` in select.ts). */
export interface ComputeChoice {
  instanceType: string;
  replicas: { min: number; max: number };
  gpu: boolean;
  /** Why, in words, one sentence each. */
  reasons: string[];
  /** What the build renders: the Python app, or a vLLM / llama.cpp container (LLMs). Absent = python. */
  runtime?: ServingRuntime;
  /** Problems with the choice that do not stop a deploy (an explicit type too small for the model…). */
  warnings?: string[];
  /** The numbers behind the choice, for `budget` and `deploy --plan --json`. */
  sizing?: ComputeSizing;
}

/** The estimates selection worked from. */
export interface ComputeSizing {
  params: number;
  paramsSource: 'manifest' | 'artifact';
  /** CPU milliseconds one request costs on one vCPU. */
  cpuMsPerRequest: number;
  cpuMsSource: 'measured' | 'estimated';
  /** Measured: where the figure comes from (the build's calibration, or a load test). */
  cpuMsBasis?: string;
  /** Measured: the chosen type's per-vCPU speed relative to the measuring machine (vcpu-performance.json). */
  vcpuFactor?: number;
  /** Requests per second one instance carries at the target utilisation (null: not sized by load). */
  perInstanceRps: number | null;
  /** Instances the expected rate needs. */
  instancesForExpectedRps: number;
  /** LLM: completion tokens/s one replica carried in `mlship budget`'s streaming load test, and where. */
  tokensPerSecondPerReplica?: number;
  throughputBasis?: string;
  /** Memory the model needs: host memory, and GPU memory when it runs on a GPU (GB). */
  memoryNeededGb: number;
  gpuMemoryNeededGb?: number;
  /** Rate above which a GPU costs less per prediction than CPUs; null = never (or a GPU is required). */
  gpuBreakEvenRps: number | null;
  usdPerHour: number;
}
