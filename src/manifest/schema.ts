/**
 * The one schema of `mlship.yaml`, as JSON Schema (draft-07). The loader validates with it and the
 * build publishes it as `dist/mlship.schema.json` for editors (`# yaml-language-server: $schema=…`).
 *
 * `x-expected` (ignored by validators and editors) words a pattern for error messages.
 *
 * Values that end up inside generated files (names, paths, package names, field names) are held to
 * strict patterns here, so nothing a manifest says can inject text into a Dockerfile or Python file.
 */
import { FIELD_TYPES, FLAVORS, QUANTIZATIONS, TARGET_NAMES, TRANSFORMER_TASKS } from './types.js';

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
const relativePath = { type: 'string', pattern: RELATIVE_PATH_PATTERN, maxLength: 255 } as const;
const cron = { type: 'string', pattern: CRON_PATTERN } as const;
const email = { type: 'string', pattern: EMAIL_PATTERN, maxLength: 254 } as const;
const driftMethods = ['auto', 'psi', 'ks', 'wasserstein', 'chi2', 'jensenshannon', 'linf'];

const field = {
  type: 'object',
  additionalProperties: false,
  required: ['type'],
  properties: {
    type: { enum: [...FIELD_TYPES], description: 'number | integer | category | string | boolean' },
    min: { type: 'number' },
    max: { type: 'number' },
    values: {
      type: 'array',
      minItems: 1,
      uniqueItems: true,
      items: { type: ['string', 'number', 'boolean'], pattern: CATEGORY_VALUE_PATTERN },
    },
    nullable: { type: 'boolean', description: 'the field may be missing or null (default false)' },
    description: { type: 'string', maxLength: 500, pattern: '^[^\\n\\r]*$', 'x-expected': 'one line of text' },
  },
} as const;

export const manifestSchema = {
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
    name: { type: 'string', pattern: NAME_PATTERN, minLength: 2, maxLength: 40, description: 'becomes resource names' },
    model: {
      type: 'object',
      additionalProperties: false,
      required: ['path', 'flavor'],
      properties: {
        path: { ...relativePath, description: 'model artifact, relative to this file' },
        flavor: { enum: [...FLAVORS] },
        params: { ...positive, description: 'parameter count (LLMs and deep models); estimated from the artifact otherwise' },
        quantization: { enum: [...QUANTIZATIONS] },
        output: { enum: ['probability', 'label', 'value'], description: 'what predictions return (default: probability for classifiers)' },
        task: { enum: [...TRANSFORMER_TASKS], description: 'transformers: classification (default) or embedding (a mean-pooled vector; set output: value)' },
        max_tokens: {
          type: 'integer',
          minimum: 1,
          maximum: 8192,
          description: 'transformers: longest input in tokens; longer texts are truncated (default 128)',
        },
      },
    },
    features: {
      type: 'object',
      additionalProperties: false,
      required: ['package', 'schema'],
      properties: {
        package: { type: 'string', pattern: IDENTIFIER_PATTERN, maxLength: 64 },
        schema: {
          type: 'object',
          minProperties: 1,
          propertyNames: { pattern: FIELD_NAME_PATTERN, maxLength: 200 },
          additionalProperties: field,
        },
        baseline: { ...relativePath, description: 'training sample (CSV): drift baseline and parity-check rows' },
        label: { type: 'string', pattern: FIELD_NAME_PATTERN, maxLength: 200 },
        tolerance: { ...nonNegative, description: 'absolute float tolerance of the parity check (default 1e-9)' },
      },
    },
    target: { enum: [...TARGET_NAMES] },
    targets: {
      type: 'object',
      additionalProperties: false,
      properties: {
        local: {
          type: 'object',
          additionalProperties: false,
          properties: {
            port: { type: 'integer', minimum: 1, maximum: 65535 },
            python: {
              type: 'string',
              pattern: '^[A-Za-z0-9_./-]+$',
              'x-expected': 'a path or command name of a Python interpreter (letters, digits, . _ - /)',
              description: 'Python interpreter for the local runtime',
            },
          },
        },
        sagemaker: {
          type: 'object',
          additionalProperties: false,
          properties: {
            region: { type: 'string', pattern: '^[a-z]{2}(-[a-z]+)+-[0-9]$', 'x-expected': 'an AWS region such as us-east-1' },
            role: {
              type: 'string',
              pattern: '^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$',
              'x-expected': 'an IAM role ARN such as arn:aws:iam::123456789012:role/mlship',
            },
            bucket: {
              type: 'string',
              pattern: '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$',
              'x-expected': 'an S3 bucket name (3-63 lowercase letters, digits, . and -)',
            },
            prefix: { type: 'string', pattern: '^[A-Za-z0-9!_.*()/-]*$', 'x-expected': 'an S3 key prefix (letters, digits and ! _ . * ( ) / -)' },
          },
        },
        vertex: {
          type: 'object',
          additionalProperties: false,
          properties: {
            project: {
              type: 'string',
              pattern: '^[a-z][a-z0-9-]{4,28}[a-z0-9]$',
              'x-expected': 'a Google Cloud project id (6-30 lowercase letters, digits and -)',
            },
            region: { type: 'string', pattern: '^[a-z]+-[a-z]+[0-9]$', 'x-expected': 'a Google Cloud region such as us-central1' },
            bucket: {
              type: 'string',
              pattern: '^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$',
              'x-expected': 'a Cloud Storage bucket name (3-63 lowercase letters, digits, . _ and -)',
            },
            prefix: {
              type: 'string',
              pattern: '^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$',
              'x-expected': 'a Cloud Storage object prefix (letters, digits, _ . - separated by /)',
            },
            service_account: {
              type: 'string',
              pattern: '^[a-z][a-z0-9-]{4,28}[a-z0-9]@[a-z0-9.-]+\\.iam\\.gserviceaccount\\.com$|^[0-9]+-compute@developer\\.gserviceaccount\\.com$',
              'x-expected': 'a service account email such as mlship-serving@my-project.iam.gserviceaccount.com',
              description: 'identity the endpoint, monitoring job and pipeline run as',
            },
            api_endpoint: {
              type: 'string',
              pattern: '^(https?://)?[a-z0-9.-]+(:[0-9]{1,5})?/?$',
              'x-expected': 'a host[:port] such as us-central1-aiplatform.googleapis.com (http://host:port for an emulator)',
              description: 'Vertex AI API host: regional, Private Service Connect, or an emulator',
            },
            network: {
              type: 'string',
              pattern: '^projects/[0-9]+/global/networks/[a-z][a-z0-9-]{0,61}[a-z0-9]$',
              'x-expected': 'a VPC network such as projects/123456789/global/networks/default',
              description: 'VPC peered with Vertex AI for a private endpoint',
            },
          },
        },
        azure: {
          type: 'object',
          additionalProperties: false,
          properties: {
            subscription: { type: 'string', pattern: '^[0-9a-fA-F-]{36}$', 'x-expected': 'an Azure subscription id (a GUID)' },
            resource_group: {
              type: 'string',
              pattern: '^[A-Za-z0-9._()-]{1,90}$',
              'x-expected': 'an Azure resource group name (letters, digits and . _ ( ) -)',
            },
            workspace: {
              type: 'string',
              pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{2,32}$',
              'x-expected': 'an Azure ML workspace name (3-33 letters, digits, _ and -)',
            },
            region: { type: 'string', pattern: '^[a-z0-9]+$', 'x-expected': 'an Azure region such as westeurope' },
            datastore: {
              type: 'string',
              pattern: '^[A-Za-z0-9_]{1,255}$',
              'x-expected': 'an Azure ML datastore name (letters, digits and _)',
              description: 'blob datastore for artifacts, history and data collection (default: the workspace default)',
            },
            arm_endpoint: {
              type: 'string',
              pattern: '^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?/?$',
              'x-expected': 'an https Azure Resource Manager endpoint such as https://management.usgovcloudapi.net',
              description: 'Resource Manager endpoint (sovereign clouds); default https://management.azure.com',
            },
            auth_mode: { enum: ['key', 'aad_token'], description: 'how clients authenticate to the online endpoint (default key)' },
          },
        },
      },
    },
    serving: {
      type: 'object',
      additionalProperties: false,
      properties: {
        compute: { type: 'string', pattern: COMPUTE_PATTERN, description: 'auto | cpu | gpu | an instance type' },
        expected_rps: positive,
        replicas: {
          type: 'object',
          additionalProperties: false,
          properties: { min: { type: 'integer', minimum: 1 }, max: { type: 'integer', minimum: 1 } },
        },
        max_body_kb: { type: 'integer', minimum: 1, maximum: 1048576 },
        max_batch: { type: 'integer', minimum: 1, maximum: 100000 },
        batching: {
          description: 'adaptive micro-batching of concurrent requests (one transform + one predict per batch); false turns it off',
          oneOf: [
            { type: 'boolean', const: false },
            {
              type: 'object',
              additionalProperties: false,
              properties: {
                max_batch: { type: 'integer', minimum: 1, maximum: 4096, description: 'records per transform + predict call (default 64)' },
                max_wait_ms: { type: 'number', minimum: 0, maximum: 1000, description: 'extra wait for a fuller batch; 0 never waits when idle (default 0)' },
              },
            },
          ],
        },
        workers: { type: 'integer', minimum: 1, maximum: 256, description: 'worker processes per replica (default: the CPUs the container may use)' },
      },
    },
    budget: {
      type: 'object',
      additionalProperties: false,
      properties: {
        latency_ms: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          maxProperties: 1,
          properties: { p50: positive, p95: positive, p99: positive },
        },
        stages_ms: {
          type: 'object',
          propertyNames: { pattern: '^[a-z][a-z0-9_-]*$', maxLength: 40, 'x-expected': 'a stage name (lowercase letters, digits, _ and -)' },
          additionalProperties: nonNegative,
        },
        monthly_usd: nonNegative,
      },
    },
    monitoring: {
      type: 'object',
      additionalProperties: false,
      properties: {
        drift: {
          type: 'object',
          additionalProperties: false,
          properties: {
            threshold: positive,
            schedule: cron,
            share: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
            method: { enum: driftMethods },
            features: {
              type: 'object',
              propertyNames: { pattern: FIELD_NAME_PATTERN, maxLength: 200 },
              additionalProperties: {
                type: 'object',
                additionalProperties: false,
                properties: { method: { enum: driftMethods }, threshold: positive, critical: { type: 'boolean' } },
              },
            },
          },
        },
        alerts: {
          type: 'object',
          additionalProperties: false,
          description: "who the cloud's drift monitor tells when it finds drift",
          properties: {
            email: {
              type: ['string', 'array'],
              description:
                'an e-mail address or a list of them, mailed by the cloud target when its monitor finds drift (Azure ML and Vertex AI directly, SageMaker through an SNS topic; the local target mails nobody)',
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
      properties: {
        command: {
          type: 'string',
          minLength: 1,
          pattern: '^[^\\n\\r`]+$',
          'x-expected': 'one command line without backquotes',
          description: 'run from the project folder to (re)train; writes the model and metrics.json',
        },
        schedule: cron,
        on_drift: { type: 'boolean' },
        data: {
          type: ['string', 'array'],
          description: 'new training data: a file, a glob, or a list of them',
          pattern: GLOB_PATTERN,
          items: { type: 'string', pattern: GLOB_PATTERN },
        },
        gate: {
          type: 'object',
          additionalProperties: false,
          properties: { metric: { enum: ['accuracy', 'auc', 'f1', 'rmse', 'mae'] }, min_delta: { type: 'number' } },
        },
        auto_deploy: { type: 'boolean' },
      },
    },
    quality: {
      type: 'object',
      additionalProperties: false,
      description: 'live quality: the metric on predictions joined with their feedback labels, against the validation metric in metrics.json',
      properties: {
        metric: { enum: ['accuracy', 'auc', 'f1', 'rmse', 'mae'], description: 'default: retraining.gate.metric' },
        max_drop: { ...nonNegative, description: 'alert (exit 3) when the live metric is worse than the validation one by more than this' },
        min_labels: { type: 'integer', minimum: 1, description: 'fewer labelled predictions than this: no verdict' },
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
