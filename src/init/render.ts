/**
 * Rendering the scaffold is pure: an `InitPlan` (every answer decided) → the files' text. The
 * templates in `templates/init/` only lay the text out; quoting, per-target and per-task choices are
 * made here.
 */
import path from 'node:path';
import { pyLiteral } from '../packaging/render.js';
import { renderTemplate } from '../util/templates.js';
import { descriptorOf } from '../targets/descriptors.js';
import type { Flavor, TargetName } from '../manifest/types.js';
import type { InferredField, InferredSchema } from './infer-schema.js';
import type { LiftedCode } from './notebook.js';

/** Everything `init` decided, from flags, prompts, the baseline and the notebook. */
export interface InitPlan {
  name: string;
  model: { path: string; flavor: Flavor };
  target: TargetName;
  /** Project-relative path of the baseline CSV. */
  baseline: string;
  schema: InferredSchema & { label: string };
  notebook?: LiftedCode;
  /** mlship's version: pins the schema URL and the CI workflow's `npx mlship@…`. */
  version: string;
}

/** A file to write, relative to the project folder. */
export interface RenderedFile {
  path: string;
  content: string;
}

/** Project-relative paths of the files `init` writes (besides appending to `.gitignore`). */
export const INIT_FILES = {
  manifest: 'mlship.yaml',
  features: 'features/__init__.py',
  train: 'train.py',
  workflow: '.github/workflows/mlship.yml',
} as const;

export const FEATURES_PACKAGE = 'features';
export const DRIFT_SCHEDULE: string = '0 2 * * *';
export const RETRAIN_SCHEDULE: string = '0 3 * * 0';
export const RETRAIN_COMMAND = 'python train.py';

/** Render every file of the scaffold. */
export function renderInit(plan: InitPlan): RenderedFile[] {
  const notebook = plan.notebook;
  // The label reaches train.py as a Python string literal: a column name is data, never code.
  const common = {
    name: plan.name,
    featuresPackage: FEATURES_PACKAGE,
    label: pyLiteral(plan.schema.label),
    baseline: plan.baseline,
    modelPath: plan.model.path,
  };
  return [
    { path: INIT_FILES.manifest, content: renderTemplate('init/mlship.yaml.hbs', manifestData(plan)) },
    {
      path: INIT_FILES.features,
      content: renderTemplate('init/features.py.hbs', {
        ...common,
        notebook: notebook?.features !== undefined ? notebook.source : false,
        features: notebook?.features ?? '',
        pythonFields: plan.schema.fields.map(pythonField),
      }),
    },
    {
      path: INIT_FILES.train,
      content: renderTemplate('init/train.py.hbs', {
        ...common,
        notebook: notebook?.train !== undefined ? notebook.source : false,
        train: notebook?.train ?? '',
        binary: plan.schema.task === 'binary',
        regression: plan.schema.task === 'regression',
        summary: summaryOf(plan.schema.task),
      }),
    },
    { path: INIT_FILES.workflow, content: renderTemplate('init/workflow.yml.hbs', workflowData(plan)) },
  ];
}

function manifestData(plan: InitPlan) {
  const dir = path.posix.dirname(plan.baseline);
  const output = plan.schema.task === 'regression' ? 'value' : plan.schema.task === 'multiclass' ? 'label' : undefined;
  return {
    schemaUrl: schemaUrl(plan.version),
    name: yamlScalar(plan.name),
    model: { path: yamlScalar(plan.model.path), flavor: plan.model.flavor, extra: output ? [`output: ${output}`] : [] },
    featuresPackage: FEATURES_PACKAGE,
    yamlFields: plan.schema.fields.map(yamlField),
    baseline: yamlScalar(plan.baseline),
    label: yamlScalar(plan.schema.label),
    target: plan.target,
    targetBlock: descriptorOf(plan.target).initSnippet.length > 0 ? [...descriptorOf(plan.target).initSnippet] : false,
    driftSchedule: DRIFT_SCHEDULE,
    retrainCommand: RETRAIN_COMMAND,
    retrainData: dir === '.' ? '"*.csv"' : `${dir}/*.csv`,
    retrainSchedule: RETRAIN_SCHEDULE,
    gateMetric: plan.schema.task === 'binary' ? 'auc' : plan.schema.task === 'multiclass' ? 'accuracy' : 'rmse',
  };
}

/** The manifest of an LLM project: no features package, no baseline CSV, no train.py (the model is given). */
export function renderLlmManifest(plan: Pick<InitPlan, 'name' | 'model' | 'target' | 'version'>): RenderedFile {
  const block = descriptorOf(plan.target).initSnippet;
  return {
    path: INIT_FILES.manifest,
    content: renderTemplate('init/mlship-llm.yaml.hbs', {
      schemaUrl: schemaUrl(plan.version),
      name: yamlScalar(plan.name),
      model: { path: yamlScalar(plan.model.path) },
      target: plan.target,
      targetBlock: block.length > 0 ? [...block] : false,
      driftSchedule: DRIFT_SCHEDULE,
    }),
  };
}

/** Where editors find the manifest schema: the copy published inside this version of the package. */
export function schemaUrl(version: string): string {
  return `https://unpkg.com/mlship@${version}/dist/mlship.schema.json`;
}

/** Python packages the CI runner needs to train and check the model, by flavor. */
const PIP_PACKAGES: Record<Flavor, string> = {
  sklearn: 'pandas scikit-learn joblib',
  xgboost: 'pandas scikit-learn joblib xgboost',
  lightgbm: 'pandas scikit-learn joblib lightgbm',
  onnx: 'pandas scikit-learn joblib onnxruntime',
  pytorch: 'pandas scikit-learn joblib torch',
  transformers: 'pandas torch transformers',
  llm: 'pandas scikit-learn joblib transformers',
};

function workflowData(plan: InitPlan) {
  const schedules = [
    { cron: DRIFT_SCHEDULE, what: 'drift check (monitoring.drift.schedule)' },
    { cron: RETRAIN_SCHEDULE, what: 'retraining (retraining.schedule)' },
  ];
  // A cloud target logs the jobs in (its descriptor's CI login); one without runs on the runner itself.
  const credentials = [...descriptorOf(plan.target).ciLogin];
  const cloud = credentials.length > 0;
  const setup = renderTemplate('init/workflow-setup.yml.hbs', { pipPackages: PIP_PACKAGES[plan.model.flavor], credentials });
  return {
    name: plan.name,
    notes: cloud
      ? [`Target ${plan.target}: the jobs log in with OpenID Connect; add the secrets named below to the repository.`]
      : [
          'Target local: the runner itself serves the model while the job runs (a smoke test of the whole flow).',
          "Its drift check sees only that run's predictions; set `target:` to a cloud to deploy for real.",
        ],
    schedules,
    permissions: cloud ? ['contents: read', 'id-token: write'] : ['contents: read'],
    version: plan.version,
    setup: setup.replace(/\n$/, ''),
    modelPath: plan.model.path,
    retrainCommand: RETRAIN_COMMAND,
    driftSchedule: DRIFT_SCHEDULE,
    retrainSchedule: RETRAIN_SCHEDULE,
  };
}

function summaryOf(task: InitPlan['schema']['task']): string {
  if (task === 'binary') return "auc={metrics['auc']:.4f} accuracy={metrics['accuracy']:.4f}";
  if (task === 'multiclass') return "accuracy={metrics['accuracy']:.4f} f1={metrics['f1']:.4f}";
  return "rmse={metrics['rmse']:.4f} r2={metrics['r2']:.4f}";
}

/** `tenure_months: { type: integer, min: 0, max: 72 }` */
function yamlField(f: InferredField): string {
  const parts = [`type: ${f.type}`];
  if (f.min !== undefined) parts.push(`min: ${numberText(f.min)}`);
  if (f.max !== undefined) parts.push(`max: ${numberText(f.max)}`);
  if (f.values) parts.push(`values: [${f.values.map(yamlScalar).join(', ')}]`);
  if (f.nullable) parts.push('nullable: true');
  return `${yamlScalar(f.name)}: { ${parts.join(', ')} }`;
}

/** `"tenure_months": {"type": "integer", "min": 0, "max": 72},` */
function pythonField(f: InferredField): string {
  const parts = [`"type": "${f.type}"`];
  if (f.min !== undefined) parts.push(`"min": ${numberText(f.min)}`);
  if (f.max !== undefined) parts.push(`"max": ${numberText(f.max)}`);
  if (f.values) parts.push(`"values": [${f.values.map((v) => JSON.stringify(v)).join(', ')}]`);
  if (f.nullable) parts.push('"nullable": True');
  return `${pyLiteral(f.name)}: {${parts.join(', ')}},`;
}

/** A number as both YAML and Python read it back (shortest round-trip form). */
function numberText(n: number): string {
  return String(n);
}

const YAML_PLAIN = /^[A-Za-z_][A-Za-z0-9_./-]*( [A-Za-z0-9_./-]+)*$/;
const YAML_RESERVED = /^(true|false|null|yes|no|on|off|y|n|~)$/i;

/**
 * A string value in the manifest (category values, paths, the name): plain when it cannot be read as anything but that
 * string, else double-quoted (values are already free of quotes, backslashes and line breaks).
 */
function yamlScalar(v: string): string {
  return YAML_PLAIN.test(v) && !YAML_RESERVED.test(v) ? v : JSON.stringify(v);
}
