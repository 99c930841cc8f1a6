/**
 * Defaults, in exactly one place: raw (schema-valid) manifest → resolved `Manifest`.
 */
import path from 'node:path';
import { registeredTargets, settingsDefaults } from './targets.js';
import type {
  DriftMethod,
  FieldSpec,
  FieldType,
  Flavor,
  GgufQuantType,
  LlmBudget,
  LogContent,
  Manifest,
  PercentileLimits,
  Quantization,
  TargetName,
  TargetSettings,
  TransformerTask,
} from './types.js';

/** Tokens a transformers request is truncated to unless `model.max_tokens` says otherwise. */
const DEFAULT_MAX_TOKENS = 128;

/** The manifest as written (already schema-valid); only the loader and this file see it. */
export interface RawManifest {
  name: string;
  model: {
    path: string;
    flavor: Flavor;
    params?: number;
    /** A width, `auto` (rejected by the loader: it needs an evaluation text) or a measured quantization. */
    quantization?: Quantization | 'auto' | { eval_text: string; candidates?: GgufQuantType[]; max_loss?: number; context?: number };
    output?: 'probability' | 'label' | 'value';
    task?: TransformerTask;
    max_tokens?: number;
    context?: number;
  };
  /** Absent only for flavor llm (the schema requires it for every other flavor). */
  features?: {
    package: string;
    schema: Record<string, { type: FieldType; min?: number; max?: number; values?: (string | number | boolean)[]; nullable?: boolean; description?: string }>;
    baseline?: string;
    label?: string;
    tolerance?: number;
  };
  target?: TargetName;
  /** `targets.<name>` blocks, each valid against its target's schema fragment. */
  targets?: Record<string, Record<string, unknown> | undefined>;
  serving?: {
    compute?: string;
    expected_rps?: number;
    replicas?: { min?: number; max?: number };
    max_body_kb?: number;
    max_batch?: number;
    batching?: false | { max_batch?: number; max_wait_ms?: number };
    workers?: number;
  };
  budget?: {
    latency_ms?: Partial<Record<'p50' | 'p95' | 'p99', number>>;
    stages_ms?: Record<string, number>;
    monthly_usd?: number;
    ttft_ms?: PercentileLimits;
    itl_ms?: PercentileLimits;
    tokens_per_s?: number;
    concurrency?: number;
    request?: { prompt?: string; prompts?: string; max_tokens?: number };
  };
  monitoring?: {
    drift?: {
      threshold?: number;
      schedule?: string;
      share?: number;
      method?: DriftMethod;
      features?: Record<string, { method?: DriftMethod; threshold?: number; critical?: boolean }>;
      reference?: string;
    };
    alerts?: { email?: string | string[] };
    log_content?: LogContent;
  };
  retraining?: {
    command?: string;
    schedule?: string;
    on_drift?: boolean;
    data?: string | string[];
    gate?: { metric?: string; min_delta?: number };
    auto_deploy?: boolean;
  };
  quality?: { metric?: string; max_drop?: number; min_labels?: number };
  rollout?: { canary?: { min_requests?: number } };
}

export const DEFAULTS = {
  maxTokens: DEFAULT_MAX_TOKENS,
  /** An LLM's context when the manifest says nothing: enough for chat, small enough for the KV-cache headroom selection sized. */
  llmContext: 4096,
  tolerance: 1e-9,
  compute: 'auto',
  expectedRps: 10,
  maxBodyKb: 1024,
  maxBatch: 1000,
  batching: { max_batch: 64, max_wait_ms: 0 },
  latency: { percentile: 'p95' as const, value: 200 },
  driftSchedule: '0 2 * * *',
  driftShare: 0.5,
  driftMethod: 'auto' as const,
  retrainCommand: 'python train.py',
  gateMetric: 'auc',
  gateMinDelta: 0,
  qualityMaxDrop: 0.05,
  qualityMinLabels: 20,
  canaryMinRequests: 100,
  /** A measured quantization: the candidates, the loss accepted and the perplexity window. */
  quantizationCandidates: ['Q8_0', 'Q5_K_M', 'Q4_K_M'] as GgufQuantType[],
  quantizationMaxLoss: 0.05,
  quantizationContext: 512,
  /** An LLM's load test: streams at once, tokens per request and the prompt when none is written. */
  llmConcurrency: 4,
  llmMaxTokens: 128,
  llmPrompt: 'Write a short story about a lighthouse keeper who finds a message in a bottle.',
  /** The target when the manifest names none: the first registered one (local). */
  get target(): TargetName {
    return registeredTargets()[0]!.name;
  },
};

/**
 * Every registered target's block: a written one merged over its defaults (its schema fragment's
 * `default`s); an unwritten one only when the target needs none written (local), with its defaults.
 */
function resolveTargets(raw: RawManifest['targets']): TargetSettings {
  const out = {} as TargetSettings;
  for (const spec of registeredTargets()) {
    const block = raw?.[spec.name];
    if (block) out[spec.name] = { ...settingsDefaults(spec), ...block };
    else if (!spec.requiresSettings) out[spec.name] = settingsDefaults(spec);
  }
  return out;
}

export function resolveManifest(raw: RawManifest, file: string, targetOverride?: string): Manifest {
  const projectDir = path.dirname(path.resolve(file));
  const abs = (p: string) => path.resolve(projectDir, p);
  const schema: Record<string, FieldSpec> = {};
  for (const [name, f] of Object.entries(raw.features?.schema ?? {})) {
    schema[name] = {
      type: f.type,
      ...(f.min !== undefined && { min: f.min }),
      ...(f.max !== undefined && { max: f.max }),
      ...(f.values !== undefined && { values: f.values.map(String) }),
      nullable: f.nullable ?? false,
      ...(f.description !== undefined && { description: f.description }),
    };
  }
  const [percentile, value] = Object.entries(raw.budget?.latency_ms ?? {})[0] ?? [DEFAULTS.latency.percentile, DEFAULTS.latency.value];
  const drift = raw.monitoring?.drift ?? {};
  const data = raw.retraining?.data;
  const q = raw.model.quantization;
  const sweep = typeof q === 'object' ? q : undefined;
  return {
    file: path.resolve(file),
    projectDir,
    name: raw.name,
    model: {
      path: abs(raw.model.path),
      relativePath: raw.model.path,
      flavor: raw.model.flavor,
      ...(raw.model.params !== undefined && { params: raw.model.params }),
      quantization: typeof q === 'string' && q !== 'auto' ? q : raw.model.flavor === 'llm' ? 'fp16' : 'fp32',
      ...(sweep && {
        quantizationSweep: {
          candidates: sweep.candidates ?? DEFAULTS.quantizationCandidates,
          max_loss: sweep.max_loss ?? DEFAULTS.quantizationMaxLoss,
          eval_text: abs(sweep.eval_text),
          evalTextRelative: sweep.eval_text,
          context: sweep.context ?? DEFAULTS.quantizationContext,
        },
      }),
      output: raw.model.output ?? (raw.model.flavor === 'llm' || raw.model.task === 'embedding' ? 'value' : 'probability'),
      ...(raw.model.flavor === 'transformers' && { task: raw.model.task ?? 'classification', max_tokens: raw.model.max_tokens ?? DEFAULT_MAX_TOKENS }),
      ...(raw.model.flavor === 'llm' && { context: raw.model.context ?? DEFAULTS.llmContext }),
    },
    // An LLM manifest without a features block resolves to no package and no fields.
    features: {
      ...(raw.features && { package: raw.features.package, packageDir: abs(raw.features.package) }),
      schema,
      ...(raw.features?.baseline !== undefined && { baseline: abs(raw.features.baseline), baselineRelative: raw.features.baseline }),
      ...(raw.features?.label !== undefined && { label: raw.features.label }),
      tolerance: raw.features?.tolerance ?? DEFAULTS.tolerance,
    },
    target: (targetOverride as TargetName | undefined) ?? raw.target ?? DEFAULTS.target,
    targets: resolveTargets(raw.targets),
    serving: {
      compute: raw.serving?.compute ?? DEFAULTS.compute,
      expected_rps: raw.serving?.expected_rps ?? DEFAULTS.expectedRps,
      replicas: { min: raw.serving?.replicas?.min ?? 1, max: raw.serving?.replicas?.max ?? Math.max(1, raw.serving?.replicas?.min ?? 1) },
      max_body_bytes: (raw.serving?.max_body_kb ?? DEFAULTS.maxBodyKb) * 1024,
      max_batch: raw.serving?.max_batch ?? DEFAULTS.maxBatch,
      batching: raw.serving?.batching === false ? false : { ...DEFAULTS.batching, ...raw.serving?.batching },
      ...(raw.serving?.workers !== undefined && { workers: raw.serving.workers }),
    },
    budget: {
      latency_ms: { percentile: percentile as 'p50' | 'p95' | 'p99', value: value ?? DEFAULTS.latency.value },
      stages_ms: { ...(raw.budget?.stages_ms ?? {}) },
      ...(raw.budget?.monthly_usd !== undefined && { monthly_usd: raw.budget.monthly_usd }),
      ...(raw.model.flavor === 'llm' && { llm: resolveLlmBudget(raw.budget, abs) }),
    },
    monitoring: {
      drift: {
        schedule: drift.schedule ?? DEFAULTS.driftSchedule,
        share: drift.share ?? DEFAULTS.driftShare,
        method: drift.method ?? DEFAULTS.driftMethod,
        ...(drift.threshold !== undefined && { threshold: drift.threshold }),
        features: Object.fromEntries(
          Object.entries(drift.features ?? {}).map(([k, v]) => [
            k,
            {
              method: v.method ?? drift.method ?? 'auto',
              ...(v.threshold !== undefined && { threshold: v.threshold }),
              ...(v.critical !== undefined && { critical: v.critical }),
            },
          ]),
        ),
        ...(drift.reference !== undefined && { reference: abs(drift.reference) }),
      },
      alerts: { email: alertEmails(raw.monitoring?.alerts?.email) },
      log_content: raw.monitoring?.log_content ?? 'full',
    },
    retraining: {
      command: raw.retraining?.command ?? DEFAULTS.retrainCommand,
      ...(raw.retraining?.schedule !== undefined && { schedule: raw.retraining.schedule }),
      on_drift: raw.retraining?.on_drift ?? false,
      data: data === undefined ? [] : Array.isArray(data) ? data : [data],
      gate: { metric: raw.retraining?.gate?.metric ?? DEFAULTS.gateMetric, min_delta: raw.retraining?.gate?.min_delta ?? DEFAULTS.gateMinDelta },
      auto_deploy: raw.retraining?.auto_deploy ?? false,
    },
    quality: {
      metric: raw.quality?.metric ?? raw.retraining?.gate?.metric ?? DEFAULTS.gateMetric,
      max_drop: raw.quality?.max_drop ?? DEFAULTS.qualityMaxDrop,
      min_labels: raw.quality?.min_labels ?? DEFAULTS.qualityMinLabels,
    },
    rollout: { canary: { min_requests: raw.rollout?.canary?.min_requests ?? DEFAULTS.canaryMinRequests } },
  };
}

/**
 * `monitoring.alerts.email` as a list: one address or several, each once (addresses differing only
 * in letter case are one mailbox in practice; the first spelling is kept).
 */
export function alertEmails(email: string | string[] | undefined): string[] {
  const seen = new Set<string>();
  return (email === undefined ? [] : Array.isArray(email) ? email : [email]).filter((a) => {
    const key = a.toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** An LLM's budget: the token budgets as written, `latency_ms` as the end to end (only when written), the load test's defaults. */
function resolveLlmBudget(budget: RawManifest['budget'], abs: (p: string) => string): LlmBudget {
  const request = budget?.request;
  return {
    ...(budget?.ttft_ms !== undefined && { ttft_ms: { ...budget.ttft_ms } }),
    ...(budget?.itl_ms !== undefined && { itl_ms: { ...budget.itl_ms } }),
    ...(budget?.tokens_per_s !== undefined && { tokens_per_s: budget.tokens_per_s }),
    ...(budget?.latency_ms !== undefined && { e2e_ms: { ...budget.latency_ms } }),
    concurrency: budget?.concurrency ?? DEFAULTS.llmConcurrency,
    request: {
      ...(request?.prompts === undefined
        ? { prompt: request?.prompt ?? DEFAULTS.llmPrompt }
        : { promptsFile: abs(request.prompts), promptsRelative: request.prompts }),
      max_tokens: request?.max_tokens ?? DEFAULTS.llmMaxTokens,
    },
  };
}
