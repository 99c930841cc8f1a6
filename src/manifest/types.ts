/**
 * The resolved manifest: every default applied (in `resolve.ts`, the only place that knows them),
 * every path absolute. Code past the loader never sees raw YAML.
 */

export const FLAVORS = ['sklearn', 'xgboost', 'lightgbm', 'onnx', 'pytorch', 'transformers', 'llm'] as const;
export type Flavor = (typeof FLAVORS)[number];

/** A registered target's name (src/manifest/targets.ts; the descriptors in src/targets/ register them). */
export type TargetName = string;

/**
 * Each target's resolved `targets.<name>` block, by target name. Empty here: each target's descriptor
 * adds its own block's type (`declare module '…/manifest/types.js' { interface TargetSettings { … } }`),
 * so the manifest names no target and target code still reads its settings typed.
 */
export interface TargetSettings {
  [target: string]: object | undefined;
}

export const FIELD_TYPES = ['number', 'integer', 'category', 'string', 'boolean'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

/** What a `transformers` model does with its text: classify it, or embed it (mean-pooled vector). */
export const TRANSFORMER_TASKS = ['classification', 'embedding'] as const;
export type TransformerTask = (typeof TRANSFORMER_TASKS)[number];

/**
 * What drift-check compares of an LLM's traffic (src/monitoring/drift/llm.ts), the names
 * `monitoring.drift.features` takes on an LLM manifest. The behaviour features (finish reasons,
 * empty and refused completions) are critical unless the manifest says otherwise.
 */
export const LLM_DRIFT_FEATURES = [
  'prompt_tokens',
  'prompt_chars',
  'completion_tokens',
  'ttft_ms',
  'tokens_per_s',
  'finish_reason',
  'prompt_script',
  'empty_completion',
  'refusal',
] as const;
export type LlmDriftFeature = (typeof LLM_DRIFT_FEATURES)[number];

export const QUANTIZATIONS = ['fp32', 'fp16', 'bf16', 'int8', 'int4'] as const;
export type Quantization = (typeof QUANTIZATIONS)[number];
/** How an LLM's prompts and completions are kept in the prediction log (the gateway's LOG_CONTENT). */
export type LogContent = 'full' | 'redacted' | 'hashed';

/**
 * llama.cpp quantization types `model.quantization.candidates` may name (`llama-quantize`'s names):
 * the ones that make sense for serving, from near-lossless to small.
 */
export const GGUF_QUANT_TYPES = [
  'Q8_0',
  'Q6_K',
  'Q5_K_M',
  'Q5_K_S',
  'Q5_1',
  'Q5_0',
  'Q4_K_M',
  'Q4_K_S',
  'Q4_1',
  'Q4_0',
  'IQ4_NL',
  'Q3_K_L',
  'Q3_K_M',
  'Q3_K_S',
  'Q2_K',
] as const;
export type GgufQuantType = (typeof GGUF_QUANT_TYPES)[number];

/**
 * `model.quantization` as a mapping: quantization measured, not assumed. `mlship build` makes every
 * candidate from the (F32/F16/BF16) GGUF source, measures its perplexity on the evaluation text and
 * its generation speed, and serves the one selection chooses within `max_loss` (src/packaging/quantize.ts).
 */
export interface QuantizationSweepSettings {
  /** The types to make and measure, in the order written. */
  candidates: GgufQuantType[];
  /** The largest relative perplexity increase over the source accepted (0.05 = 5 %). */
  max_loss: number;
  /** Absolute path of the evaluation text (plain UTF-8) perplexity is measured on. */
  eval_text: string;
  /** As written, relative to the project. */
  evalTextRelative: string;
  /** Tokens per perplexity window (`llama-perplexity -c`); the text needs at least twice as many. */
  context: number;
}

/** A raw request field, validated on every request by the serving app. */
export interface FieldSpec {
  type: FieldType;
  min?: number;
  max?: number;
  /** Allowed values of a category field. */
  values?: string[];
  /** May the field be absent or null? */
  nullable: boolean;
  /** Drift settings for this field (from `monitoring.drift.features`). */
  description?: string;
}

export type DriftMethod = 'auto' | 'psi' | 'ks' | 'wasserstein' | 'chi2' | 'jensenshannon' | 'linf';

export interface DriftFeatureSettings {
  method: DriftMethod;
  /** Threshold for the method; undefined = the method's default. */
  threshold?: number;
  /** Undefined: the feature's default (false, except an LLM's behaviour features). */
  critical?: boolean;
}

export interface Manifest {
  /** Absolute path of the manifest file. */
  file: string;
  /** Folder holding the manifest; relative paths resolve against it. */
  projectDir: string;
  name: string;
  model: {
    /** Absolute path of the artifact. */
    path: string;
    /** As written, relative to the project. */
    relativePath: string;
    flavor: Flavor;
    /** Parameter count when declared (LLMs, deep models); estimated from the artifact otherwise. */
    params?: number;
    /** Precision the weights are sized at; with a measured quantization (`quantizationSweep`), the width sizing assumes until a build measured it. */
    quantization: Quantization;
    /** `model.quantization` written as a mapping (GGUF LLMs): the candidates `mlship build` measures. */
    quantizationSweep?: QuantizationSweepSettings;
    /** What the app returns: class probability of the positive class, the label, or a raw value. */
    output: 'probability' | 'label' | 'value';
    /** `transformers`: the task (default classification). */
    task?: TransformerTask;
    /** `transformers`: longest input in tokens, longer texts are truncated (default 128). */
    max_tokens?: number;
    /** `llm`: tokens of context per request (default 4096). */
    context?: number;
  };
  features: {
    /** Python package name shared by training and serving (absent for an LLM without a features block). */
    package?: string;
    /** Absolute path of the package folder. */
    packageDir?: string;
    /** Field name → spec, in declaration order. */
    schema: Record<string, FieldSpec>;
    /** Absolute path of the baseline data (CSV). */
    baseline?: string;
    baselineRelative?: string;
    /** Label column in the baseline data, excluded from the request schema. */
    label?: string;
    /** Absolute float tolerance of the parity check. */
    tolerance: number;
  };
  target: TargetName;
  /** Every registered target's block: written ones merged over their defaults; an unwritten one is present only when its defaults suffice (local). */
  targets: TargetSettings;
  serving: {
    /** `auto`, `cpu`, `gpu` or an explicit instance type. */
    compute: string;
    expected_rps: number;
    replicas: { min: number; max: number };
    /** Largest request body accepted, in bytes. */
    max_body_bytes: number;
    /** Largest batch of records per request. */
    max_batch: number;
    /** Adaptive micro-batching of concurrent requests, or false (one predict call per request). */
    batching: false | { max_batch: number; max_wait_ms: number };
    /** Worker processes per replica; unset: the CPUs the container may use (decided at start-up). */
    workers?: number;
  };
  budget: {
    latency_ms: { percentile: 'p50' | 'p95' | 'p99'; value: number };
    /** Stage → allocated milliseconds, in declaration order (server stages and user-declared ones). */
    stages_ms: Record<string, number>;
    monthly_usd?: number;
    /** `flavor: llm` only: the budget per token and the streaming load test that measures it. */
    llm?: LlmBudget;
  };
  monitoring: {
    drift: {
      schedule: string;
      /** Share of drifted features that makes the dataset drift. */
      share: number;
      method: DriftMethod;
      threshold?: number;
      features: Record<string, DriftFeatureSettings>;
      /** An LLM's reference traffic (absolute path): prompts, or an exported prediction log; unset: the first week of the logs. */
      reference?: string;
    };
    /** Who is told when the cloud's monitor finds drift: e-mail addresses, de-duplicated (empty: nobody). */
    alerts: { email: string[] };
    /** `llm`: how prompts and completions are kept in the prediction log. */
    log_content: LogContent;
  };
  retraining: {
    command: string;
    schedule?: string;
    on_drift: boolean;
    data: string[];
    gate: { metric: string; min_delta: number };
    auto_deploy: boolean;
  };
  /** Live quality (`mlship quality`): metric on labelled predictions vs the validation metric. */
  quality: { metric: string; max_drop: number; min_labels: number };
  /** How `deploy --strategy canary` decides: the evidence a canary needs before it is promoted. */
  rollout: { canary: { min_requests: number } };
  /** Problems that do not stop the manifest from loading (e.g. stage budgets above the total). */
  warnings?: Diagnostic[];
}

/** A budget at one or more percentiles (ms). */
export type PercentileLimits = Partial<Record<'p50' | 'p95' | 'p99', number>>;

/** An LLM's budget (`budget` of a `flavor: llm` manifest), resolved. */
export interface LlmBudget {
  /** Time to first non-empty content, per request. */
  ttft_ms?: PercentileLimits;
  /** Time between consecutive content events, all streams pooled. */
  itl_ms?: PercentileLimits;
  /** Floor on each stream's generation speed, held by 95 % of streams. */
  tokens_per_s?: number;
  /** A whole streamed completion, request sent → last event: `budget.latency_ms` when written. */
  e2e_ms?: PercentileLimits;
  /** Streams at once in the load test. */
  concurrency: number;
  /** What one load-test request asks: its prompts (in turn) and how many tokens it may generate. */
  request: {
    /** The user message of every request (absent when a prompts file is named). */
    prompt?: string;
    /** Absolute path of the prompts file (one prompt per line, sent in turn), and as written. */
    promptsFile?: string;
    promptsRelative?: string;
    max_tokens: number;
  };
}

/** A problem found in the manifest, with its position. */
export interface Diagnostic {
  severity: 'error' | 'warning';
  file: string;
  line: number;
  col: number;
  /** Dotted field path, e.g. `features.schema.plan.type`; empty for the whole file. */
  path: string;
  message: string;
  hint?: string;
}
