/**
 * The one schema of `mlship.yaml`, as JSON Schema (draft-07). The loader validates with it and the
 * build publishes it as `dist/mlship.schema.json` for editors (`# yaml-language-server: $schema=…`).
 *
 * `x-expected` (ignored by validators and editors) words a pattern for error messages and for the
 * manifest reference, docs/manifest.md, which `npm run docs` generates from this schema: each
 * property's `description` is its meaning there, `default` its default (taken from `DEFAULTS`, the
 * values the loader fills in), and `x-default` words a default that is not one value.
 *
 * The `target` choices and the `targets.<name>` blocks come from the registered targets (targets.ts):
 * each target's descriptor carries its block's properties, so the schema names no target
 * (`manifestSchema()` fills them in).
 *
 * Values that end up inside generated files (names, paths, package names, field names) are held to
 * strict patterns here, so nothing a manifest says can inject text into a Dockerfile or Python file.
 */
import { DEFAULTS } from './resolve.js';
import { registeredTargets } from './targets.js';
import { FIELD_TYPES, FLAVORS, GGUF_QUANT_TYPES, QUANTIZATIONS, TRANSFORMER_TASKS } from './types.js';

/** Resource names: lowercase letters, digits and single hyphens; 2–40 chars. */
export const NAME_PATTERN = '^[a-z][a-z0-9]*(-[a-z0-9]+)*$';
/** A relative path inside the project: no absolute paths, no `..`, no shell or quote characters. */
export const RELATIVE_PATH_PATTERN = '^(?!/)(?!.*(^|/)\\.\\.?(/|$))[A-Za-z0-9_][A-Za-z0-9._/-]*$';
/** A Python identifier (the features package name). */
export const IDENTIFIER_PATTERN = '^[A-Za-z_][A-Za-z0-9_]*$';
/**
 * A field (column) name: any JSON string without control characters — `Monthly Charges`,
 * `customer-id`, `age (years)` are real column names. Names reach generated files only as quoted
 * data literals (Python/JSON/YAML string escapes), never as code.
 */
export const FIELD_NAME_PATTERN = '^[^\\u0000-\\u001f\\u007f]+$';
/** A relative path or glob inside the project. */
export const GLOB_PATTERN = '^(?!/)(?!.*(^|/)\\.\\.(/|$))[A-Za-z0-9_*?.\\[\\]/-]+$';
/** Five-field cron. */
export const CRON_PATTERN = '^[0-9*/,A-Za-z-]+( [0-9*/,A-Za-z-]+){4}$';
/** Instance types and words like auto/cpu/gpu. */
export const COMPUTE_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._+-]*$';
/**
 * An e-mail address: the HTML form's definition (what browsers accept) with a dotted domain. No
 * spaces, quotes or commas, so a list joins into one comma-separated recipient field unambiguously.
 */
export const EMAIL_PATTERN =
  "^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$";
/** A category value: printable, no quotes, backslashes or newlines. */
export const CATEGORY_VALUE_PATTERN = '^[^"\'\\\\\\n\\r\\t`$]+$';

const positive = { type: 'number', exclusiveMinimum: 0 } as const;
const nonNegative = { type: 'number', minimum: 0 } as const;
const relativePath = { type: 'string', pattern: RELATIVE_PATH_PATTERN, maxLength: 255, 'x-expected': 'a relative path inside the project' } as const;
const cron = { type: 'string', pattern: CRON_PATTERN, 'x-expected': 'a five-field cron expression' } as const;
const email = { type: 'string', pattern: EMAIL_PATTERN, maxLength: 254, 'x-expected': 'an e-mail address' } as const;
/** Budget percentiles of a token metric: one or more of p50, p95, p99. */
const tokenPercentiles = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  'x-expected': 'one or more of `p50`, `p95`, `p99` in ms, e.g. `{p50: 200, p95: 500}`',
  properties: { p50: positive, p95: positive, p99: positive },
} as const;
const driftMethods = ['auto', 'psi', 'ks', 'wasserstein', 'chi2', 'jensenshannon', 'linf'];

const field = {
  type: 'object',
  additionalProperties: false,
  required: ['type'],
  properties: {
    type: { enum: [...FIELD_TYPES], description: 'the type a request must send' },
    min: { type: 'number', description: 'smallest value accepted (number, integer)' },
    max: { type: 'number', description: 'largest value accepted (number, integer)' },
    values: {
      description: 'the allowed values of a category',
      type: 'array',
      minItems: 1,
      uniqueItems: true,
      items: { type: ['string', 'number', 'boolean'], pattern: CATEGORY_VALUE_PATTERN },
    },
    nullable: { type: 'boolean', default: false, description: 'the field may be missing or null' },
    description: {
      type: 'string',
      maxLength: 500,
      pattern: '^[^\\n\\r]*$',
      'x-expected': 'one line of text',
      description: 'what the field is (in the OpenAPI document)',
    },
  },
} as const;

const baseSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://mlship.dev/schema/mlship.schema.json',
  title: 'mlship.yaml',
  description: 'mlship manifest: serving, features, registry, observability and retraining for one model.',
  type: 'object',
  additionalProperties: false,
  required: ['name', 'model'],
  // `features` (the package and request schema) applies to every flavor but llm: an LLM server takes
  // text through its own OpenAI-compatible routes, so the block is optional there.
  if: { properties: { model: { properties: { flavor: { const: 'llm' } }, required: ['flavor'] } }, required: ['model'] },
  else: { required: ['features'] },
  properties: {
    name: {
      type: 'string',
      pattern: NAME_PATTERN,
      minLength: 2,
      maxLength: 40,
      'x-expected': 'lowercase letters, digits and single hyphens, starting with a letter',
      description: 'project name; becomes resource names',
    },
    model: {
      type: 'object',
      description: 'the model artifact and how it is loaded',
      additionalProperties: false,
      required: ['path', 'flavor'],
      properties: {
        path: { ...relativePath, description: 'model artifact, relative to the manifest; must exist' },
        flavor: { enum: [...FLAVORS], description: 'how the artifact is loaded ([how to save each](flavors.md))' },
        params: {
          ...positive,
          'x-default': 'from the artifact',
          description: 'parameter count: the size of deep models and LLMs, for the CPU/GPU choice',
        },
        quantization: {
          'x-default': '`fp16` for `llm`, else `fp32`',
          description:
            'precision of the weights: the size of deep models and LLMs, for the CPU/GPU choice; for a GGUF LLM, a mapping measures candidate quantizations and serves the one within `max_loss` ([measured quantization](llm.md#quantization-measured))',
          // A string is a width (`auto` is accepted here so the loader can say what it needs); a mapping is a measured quantization.
          oneOf: [
            { enum: [...QUANTIZATIONS, 'auto'] },
            {
              type: 'object',
              additionalProperties: false,
              required: ['eval_text'],
              properties: {
                eval_text: { ...relativePath, description: 'plain text perplexity is measured on, relative to the manifest; at least twice `context` tokens' },
                candidates: {
                  type: 'array',
                  minItems: 1,
                  uniqueItems: true,
                  items: { enum: [...GGUF_QUANT_TYPES] },
                  default: DEFAULTS.quantizationCandidates,
                  description: "llama.cpp quantization types to make and measure (`llama-quantize`'s names)",
                },
                max_loss: {
                  type: 'number',
                  minimum: 0,
                  maximum: 10,
                  default: DEFAULTS.quantizationMaxLoss,
                  description: 'the largest relative perplexity increase over the source accepted (0.05 = 5 %)',
                },
                context: {
                  type: 'integer',
                  minimum: 16,
                  maximum: 32768,
                  default: DEFAULTS.quantizationContext,
                  description: 'tokens per perplexity window (`llama-perplexity -c`)',
                },
              },
            },
          ],
        },
        output: {
          enum: ['probability', 'label', 'value'],
          'x-default': '`value` for `llm` and `task: embedding`, else `probability`',
          description: 'what a prediction returns',
        },
        task: {
          enum: [...TRANSFORMER_TASKS],
          default: 'classification',
          description: '`transformers` only: what the model answers: class probabilities, or an embedding (a mean-pooled vector; set `output: value`)',
        },
        max_tokens: {
          type: 'integer',
          minimum: 1,
          maximum: 8192,
          default: DEFAULTS.maxTokens,
          description: '`transformers` only: the longest input in tokens; longer texts are truncated',
        },
        context: {
          type: 'integer',
          minimum: 64,
          maximum: 1048576,
          'x-default': `\`${DEFAULTS.llmContext}\` for \`llm\``,
          description:
            "`llm` only: tokens of context per request (prompt and completion together): llama-server's `--ctx-size`, vLLM's `--max-model-len`; a request whose `max_tokens` exceeds it gets a 400",
        },
      },
    },
    features: {
      type: 'object',
      additionalProperties: false,
      required: ['package', 'schema'],
      'x-default': 'required, except for `flavor: llm`',
      description: 'the request schema and the package that turns it into features',
      properties: {
        package: {
          type: 'string',
          pattern: IDENTIFIER_PATTERN,
          maxLength: 64,
          'x-expected': 'a Python identifier',
          description: 'the shared features package next to the manifest',
        },
        schema: {
          type: 'object',
          minProperties: 1,
          propertyNames: { pattern: FIELD_NAME_PATTERN, maxLength: 200 },
          'x-key': 'field',
          description:
            'raw request fields, validated on every request. The field name is any column name without control characters (`Monthly Charges`, `customer-id`, `age (years)`), carried into generated files only as a quoted literal',
          additionalProperties: field,
        },
        baseline: { ...relativePath, description: 'training sample (CSV): drift baseline and parity-check rows' },
        label: {
          type: 'string',
          pattern: FIELD_NAME_PATTERN,
          maxLength: 200,
          'x-expected': 'a column name',
          description: 'label column of the baseline (not a request field)',
        },
        tolerance: { ...nonNegative, default: DEFAULTS.tolerance, description: 'absolute tolerance of the feature-parity check' },
      },
    },
    target: { description: 'where to deploy (`--target` overrides)' },
    targets: {
      type: 'object',
      additionalProperties: false,
      description: "each target's settings ([targets](targets.md))",
    },
    serving: {
      type: 'object',
      additionalProperties: false,
      description: 'the serving app and its instances ([serving](serving.md))',
      properties: {
        compute: {
          type: 'string',
          pattern: COMPUTE_PATTERN,
          'x-expected': "`auto`, `cpu`, `gpu` or an instance type of the target's catalog",
          default: DEFAULTS.compute,
          description: 'CPU unless a GPU pays off ([measured cost](compute.md))',
        },
        expected_rps: { ...positive, default: DEFAULTS.expectedRps, description: 'expected load, for instance selection and cost' },
        replicas: {
          type: 'object',
          additionalProperties: false,
          description: 'autoscaling bounds',
          properties: {
            min: { type: 'integer', minimum: 1, default: 1, description: 'fewest replicas' },
            max: { type: 'integer', minimum: 1, 'x-default': '`max(1, min)`', description: 'most replicas' },
          },
        },
        max_body_kb: { type: 'integer', minimum: 1, maximum: 1048576, default: DEFAULTS.maxBodyKb, description: 'largest request body (413 above it)' },
        max_batch: { type: 'integer', minimum: 1, maximum: 100000, default: DEFAULTS.maxBatch, description: 'most records in one request (413 above it)' },
        batching: {
          default: DEFAULTS.batching,
          description: 'adaptive micro-batching of concurrent requests (one transform + one predict per batch); false turns it off',
          oneOf: [
            { type: 'boolean', const: false },
            {
              type: 'object',
              additionalProperties: false,
              properties: {
                max_batch: {
                  type: 'integer',
                  minimum: 1,
                  maximum: 4096,
                  default: DEFAULTS.batching.max_batch,
                  description: 'records per transform + predict call',
                },
                max_wait_ms: {
                  type: 'number',
                  minimum: 0,
                  maximum: 1000,
                  default: DEFAULTS.batching.max_wait_ms,
                  description: 'extra wait for a fuller batch; 0 never waits when idle',
                },
              },
            },
          ],
        },
        workers: {
          type: 'integer',
          minimum: 1,
          maximum: 256,
          'x-default': 'the CPUs the container may use',
          description: 'worker processes per replica (`MLSHIP_WORKERS` overrides at run time)',
        },
      },
    },
    budget: {
      type: 'object',
      additionalProperties: false,
      description: 'latency and cost budgets ([budgets](budgets.md))',
      properties: {
        latency_ms: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          maxProperties: 1,
          'x-expected': 'one of `{p50: ms}`, `{p95: ms}`, `{p99: ms}`',
          default: { [DEFAULTS.latency.percentile]: DEFAULTS.latency.value },
          description:
            'end-to-end latency target; for `flavor: llm`, the time of a whole streamed completion (request sent → last event), judged only when written',
          properties: { p50: positive, p95: positive, p99: positive },
        },
        stages_ms: {
          type: 'object',
          propertyNames: { pattern: '^[a-z][a-z0-9_-]*$', maxLength: 40, 'x-expected': 'a stage name (lowercase letters, digits, _ and -)' },
          'x-expected': 'stage → ms',
          description:
            'allocation per stage (`network`, `validate`, `features`, `model`, `post`, `log`, …); a warning when they add up to more than the target. Not for `llm` (its budget is per token)',
          additionalProperties: nonNegative,
        },
        ttft_ms: {
          ...tokenPercentiles,
          description: '`llm` only: time to first token (request sent → first non-empty content of the stream), at one or more percentiles',
        },
        itl_ms: {
          ...tokenPercentiles,
          description: '`llm` only: inter-token latency (between consecutive content events of a stream, all streams pooled), at one or more percentiles',
        },
        tokens_per_s: {
          ...positive,
          description:
            '`llm` only: a floor on each stream’s generation speed (completion tokens after the first ÷ time from first to last token), held by 95 % of streams',
        },
        concurrency: {
          type: 'integer',
          minimum: 1,
          maximum: 256,
          'x-default': `${DEFAULTS.llmConcurrency} for \`llm\``,
          description: '`llm` only: streams at once in the load test: the load the token budgets hold at',
        },
        request: {
          type: 'object',
          additionalProperties: false,
          description: '`llm` only: what one load-test request asks (a chat completion, streamed)',
          properties: {
            prompt: {
              type: 'string',
              minLength: 1,
              maxLength: 100000,
              'x-default': 'a short built-in prompt',
              description: 'the user message of every request',
            },
            prompts: { ...relativePath, description: 'a text file of prompts, one per line, sent in turn (instead of `prompt`)' },
            max_tokens: {
              type: 'integer',
              minimum: 1,
              maximum: 131072,
              default: DEFAULTS.llmMaxTokens,
              description: 'tokens each request may generate',
            },
          },
        },
        monthly_usd: { ...nonNegative, description: 'cost ceiling' },
      },
    },
    monitoring: {
      type: 'object',
      additionalProperties: false,
      description: 'drift checks and who hears of them',
      properties: {
        drift: {
          type: 'object',
          additionalProperties: false,
          description: 'the drift check ([drift](drift.md))',
          properties: {
            threshold: {
              ...positive,
              'x-default': "the method's own (p < 0.05 for KS and chi-square, distance ≥ 0.1 otherwise)",
              description: 'per-feature verdict',
            },
            schedule: { ...cron, default: DEFAULTS.driftSchedule, description: 'when the drift check runs (CI workflow)' },
            share: {
              type: 'number',
              exclusiveMinimum: 0,
              maximum: 1,
              default: DEFAULTS.driftShare,
              description: 'the share of drifted features that makes the data set drift',
            },
            method: { enum: driftMethods, default: DEFAULTS.driftMethod, description: 'the statistic per feature' },
            reference: {
              ...relativePath,
              'x-default': 'the first week of the logs',
              description:
                'an LLM\'s baseline traffic ([LLM drift](llm.md#drift-for-llm-traffic)): JSON lines of requests (`{"messages": [...]}` or `{"prompt": "..."}`, optional `"completion"`) or an exported prediction log; must exist',
            },
            features: {
              type: 'object',
              propertyNames: { pattern: FIELD_NAME_PATTERN, maxLength: 200 },
              'x-key': 'field',
              description:
                "per-field overrides (`output` for the model's output; an LLM's: prompt_tokens, prompt_chars, completion_tokens, ttft_ms, tokens_per_s, finish_reason, prompt_script, empty_completion, refusal)",
              additionalProperties: {
                type: 'object',
                additionalProperties: false,
                properties: {
                  method: { enum: driftMethods, 'x-default': '`monitoring.drift.method`', description: 'the statistic for this field' },
                  threshold: { ...positive, 'x-default': '`monitoring.drift.threshold`', description: 'the verdict for this field' },
                  critical: {
                    type: 'boolean',
                    'x-default': "false (an LLM's finish_reason, empty_completion and refusal: true)",
                    description: 'the data set drifts when this field drifts',
                  },
                },
              },
            },
          },
        },
        log_content: {
          enum: ['full', 'redacted', 'hashed'],
          default: 'full',
          description:
            '`llm` only: how prompts and completions are kept in the prediction log: `full`, `redacted` (their length only) or `hashed` (their sha256: equal prompts stay countable); token counts and timings are always logged',
        },
        alerts: {
          type: 'object',
          additionalProperties: false,
          description: "who the cloud's drift monitor tells when it finds drift",
          properties: {
            email: {
              type: ['string', 'array'],
              'x-expected': 'an e-mail address or a list of them',
              description:
                "who the cloud's drift monitor mails when it finds drift (Azure ML, Vertex AI); each address is checked where it is written, one listed twice is mailed once (a warning), and on Azure the addresses joined with commas must fit in 499 characters. On SageMaker mlship adds an SNS topic and CloudWatch alarms for it; the local target sends no e-mail, and `deploy` says so",
              pattern: email.pattern,
              maxLength: email.maxLength,
              minItems: 1,
              items: email,
            },
          },
        },
      },
    },
    retraining: {
      type: 'object',
      additionalProperties: false,
      description: 'retraining ([quality and retraining](quality-and-retraining.md))',
      properties: {
        command: {
          type: 'string',
          minLength: 1,
          pattern: '^[^\\n\\r`]+$',
          'x-expected': 'one command line without backquotes',
          default: DEFAULTS.retrainCommand,
          description: 'run from the project folder to (re)train; writes the model and `metrics.json`',
        },
        schedule: { ...cron, description: 'when retraining runs (CI workflow)' },
        on_drift: { type: 'boolean', default: false, description: 'retrain when drift is found' },
        data: {
          type: ['string', 'array'],
          'x-expected': 'a path or glob, or a list of them',
          description: 'new labelled data',
          pattern: GLOB_PATTERN,
          items: { type: 'string', pattern: GLOB_PATTERN },
        },
        gate: {
          type: 'object',
          additionalProperties: false,
          description: 'a new version must beat the live one on the holdout',
          properties: {
            metric: { enum: ['accuracy', 'auc', 'f1', 'rmse', 'mae'], default: DEFAULTS.gateMetric, description: 'the metric the gate compares' },
            min_delta: { type: 'number', default: DEFAULTS.gateMinDelta, description: 'by how much the candidate must be better' },
          },
        },
        auto_deploy: { type: 'boolean', default: false, description: 'deploy a version that passes the gate' },
      },
    },
    quality: {
      type: 'object',
      additionalProperties: false,
      description: 'live quality: `mlship quality` scores predictions joined with their feedback labels against the validation metric in `metrics.json`',
      properties: {
        metric: { enum: ['accuracy', 'auc', 'f1', 'rmse', 'mae'], 'x-default': '`retraining.gate.metric`', description: 'the metric scored' },
        max_drop: {
          ...nonNegative,
          default: DEFAULTS.qualityMaxDrop,
          description: 'alert (exit 3) when the live metric is worse than the validation one by more than this',
        },
        min_labels: {
          type: 'integer',
          minimum: 1,
          default: DEFAULTS.qualityMinLabels,
          description: 'fewer labelled predictions than this: no verdict',
        },
      },
    },
    rollout: {
      type: 'object',
      additionalProperties: false,
      description: 'how `deploy --strategy canary` decides to promote',
      properties: {
        canary: {
          type: 'object',
          additionalProperties: false,
          description: 'the evidence a canary needs before it is promoted',
          properties: {
            min_requests: {
              type: 'integer',
              minimum: 1,
              description:
                'requests the canary must answer during the bake before it is promoted (default 100); fewer: reverted as inconclusive (deploy --min-requests overrides)',
            },
          },
        },
      },
    },
  },
} as const;

/**
 * The schema of `mlship.yaml` for the registered targets: `target` chooses among them, and each has
 * its `targets.<name>` block (its descriptor's settings). Keys keep their places (docs/manifest.md order).
 */
export function manifestSchema() {
  const targets = registeredTargets();
  const { properties } = baseSchema;
  return {
    ...baseSchema,
    properties: {
      ...properties,
      target: { enum: targets.map((t) => t.name), default: DEFAULTS.target, ...properties.target },
      targets: {
        ...properties.targets,
        properties: Object.fromEntries(
          targets.map((t) => [t.name, { type: 'object', additionalProperties: false, description: t.settings.description, properties: t.settings.properties }]),
        ),
      },
    },
  };
}
