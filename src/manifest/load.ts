/**
 * Loading `mlship.yaml` is a staged pipeline: parse YAML keeping positions → validate against the one
 * schema → semantic checks (files exist, ranges agree) → apply defaults (`resolve.ts`) → `Manifest`.
 * Every problem of every stage is collected and reported at once with `file:line:col`.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { ErrorObject } from 'ajv';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { findInstance, instanceHint, loadCatalog } from '../instances/catalog.js';
import { ManifestError } from '../util/errors.js';
import { choiceHint, displayPath, formatDiagnostic } from './diagnostics.js';
import { alertEmails, DEFAULTS, resolveManifest, type RawManifest } from './resolve.js';
import { schemaErrors } from './validate.js';
import {
  CATEGORY_VALUE_PATTERN,
  COMPUTE_PATTERN,
  CRON_PATTERN,
  EMAIL_PATTERN,
  GLOB_PATTERN,
  FIELD_NAME_PATTERN,
  IDENTIFIER_PATTERN,
  NAME_PATTERN,
  RELATIVE_PATH_PATTERN,
} from './schema.js';
import { targetNames, targetSettingsSpec, type TargetSettingsSpec } from './targets.js';
import { FIELD_TYPES, LLM_DRIFT_FEATURES, type Diagnostic, type Manifest } from './types.js';

/** What each strict pattern means, in words, for messages. */
const PATTERN_WORDS: Record<string, { what: string; hint: string }> = {
  [NAME_PATTERN]: { what: 'must be lowercase letters, digits and single hyphens, starting with a letter', hint: 'e.g. "churn-model"' },
  [RELATIVE_PATH_PATTERN]: {
    what: 'must be a relative path inside the project (letters, digits, . _ - /; no "..", no leading "/")',
    hint: 'e.g. "model/model.joblib"',
  },
  [GLOB_PATTERN]: { what: 'must be a relative path or glob inside the project', hint: 'e.g. "data/new/*.csv"' },
  [IDENTIFIER_PATTERN]: { what: 'must be a Python identifier (letters, digits, _; not starting with a digit)', hint: 'e.g. "features"' },
  [FIELD_NAME_PATTERN]: {
    what: 'must not contain control characters (line breaks, tabs, …)',
    hint: 'name the column with printable characters, e.g. "Monthly Charges"',
  },
  [CRON_PATTERN]: { what: 'must be a five-field cron expression', hint: 'e.g. "0 2 * * *" for 02:00 every day' },
  [COMPUTE_PATTERN]: { what: 'must be auto, cpu, gpu or an instance type', hint: 'e.g. "auto" or "ml.m5.large"' },
  [EMAIL_PATTERN]: { what: 'is not an e-mail address', hint: 'e.g. "ml-team@example.com"; write several as a list: [a@example.com, b@example.com]' },
  [CATEGORY_VALUE_PATTERN]: { what: 'must not contain quotes, backslashes, $, ` or line breaks', hint: 'use plain words such as "basic"' },
};

export interface LoadOptions {
  /** `--target` from the command line. */
  targetOverride?: string;
}

export interface CheckResult {
  manifest?: Manifest;
  /** Errors and warnings, in file order. */
  diagnostics: Diagnostic[];
}

/** Read, check and resolve a manifest; throws `ManifestError` listing every problem. */
export function loadManifestFile(file: string, options: LoadOptions = {}): Manifest {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new ManifestError(missing ? `no manifest at ${displayPath(file)}` : `cannot read ${file}: ${(error as Error).message}`, {
      code: missing ? 'manifest_missing' : 'manifest_unreadable',
      hint: missing ? 'Run `mlship init` to create one, or pass -f <path>.' : 'Check the file permissions.',
    });
  }
  const result = checkManifest(text, file, options);
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  if (!result.manifest || errors.length > 0) {
    const lines = errors.map((d) => formatDiagnostic(d));
    throw new ManifestError(`${errors.length} problem${errors.length === 1 ? '' : 's'} in ${path.basename(file)}:\n${lines.join('\n')}`, {
      hint: 'Fix the fields above; `mlship validate` re-checks the file.',
      details: { diagnostics: result.diagnostics },
    });
  }
  const warnings = result.diagnostics.filter((d) => d.severity === 'warning');
  return warnings.length > 0 ? { ...result.manifest, warnings } : result.manifest;
}

/** Check a manifest's text; pure but for `exists` probes of the files it names. */
export function checkManifest(
  text: string,
  file: string,
  options: LoadOptions & { exists?: (absolutePath: string) => 'file' | 'dir' | undefined } = {},
): CheckResult {
  const exists = options.exists ?? probe;
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const diagnostics: Diagnostic[] = [];
  const at = (offset: number) => lineCounter.linePos(offset);

  for (const e of doc.errors) {
    const opening = unclosedAt(text, e.pos[0], e.message);
    if (opening) {
      diagnostics.push({ severity: 'error', file, ...at(opening.offset), path: pathAt(doc, opening.offset), message: opening.message, hint: opening.hint });
      continue;
    }
    const pos = at(e.pos[0]);
    const key = e.code === 'DUPLICATE_KEY' ? /^\s*(?:"([^"\n]*)"|'([^'\n]*)'|([^:\n#]+?))\s*:/.exec(text.slice(e.pos[0])) : null;
    const message = key ? `duplicate key "${key[1] ?? key[2] ?? key[3]}"` : yamlMessage(e.message);
    // A tab error points at the indentation; the field is whatever follows it on that line.
    const lineStart = text.slice(e.pos[0]).match(/^[\t ]*/)![0].length + e.pos[0];
    diagnostics.push({
      severity: 'error',
      file,
      ...pos,
      path: pathAt(doc, /tab/i.test(e.message) ? lineStart : e.pos[0]),
      message,
      hint: yamlHint(e.code, e.message),
    });
  }
  if (diagnostics.length > 0) return { diagnostics: sortDiagnostics(diagnostics) };

  const data: unknown = doc.toJS();
  if (data === null || data === undefined) {
    diagnostics.push({ severity: 'error', file, line: 1, col: 1, path: '', message: 'the manifest is empty', hint: 'run `mlship init` to write one' });
    return { diagnostics };
  }

  const locate = (segments: (string | number)[], key = false) => {
    const node = findNode(doc, segments, key);
    const offset = node?.range?.[0] ?? 0;
    return at(offset);
  };

  const errors = oneOfBranchErrors(schemaErrors(data));
  for (const e of errors) {
    if (e.keyword === 'required' && misspelled(e, errors)) continue; // "unknown key … did you mean" says it
    const d = schemaDiagnostic(e, file, locate);
    if (d) diagnostics.push(d);
  }
  // Semantic checks run even when the schema failed, on whatever parts have the right shape, so one
  // run reports every problem.
  diagnostics.push(...semanticDiagnostics(data as Partial<RawManifest>, file, path.dirname(file), locate, exists, options.targetOverride));
  const sorted = sortDiagnostics(dedupe(diagnostics));
  if (sorted.some((d) => d.severity === 'error')) return { diagnostics: sorted };
  return { manifest: resolveManifest(data as RawManifest, file, options.targetOverride), diagnostics: sorted };
}

type Locate = (segments: (string | number)[], key?: boolean) => { line: number; col: number };

function probe(p: string): 'file' | 'dir' | undefined {
  try {
    const s = statSync(p);
    return s.isDirectory() ? 'dir' : 'file';
  } catch {
    return undefined;
  }
}

function segmentsOf(instancePath: string): string[] {
  return instancePath === ''
    ? []
    : instancePath
        .slice(1)
        .split('/')
        .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function dotted(segments: (string | number)[]): string {
  return segments.map(String).join('.');
}

/**
 * The dotted path of the deepest field whose key or value spans `offset`, so a syntax error still
 * names its field when the parser got that far ('' when it did not).
 */
function pathAt(doc: Document, offset: number): string {
  const segments: string[] = [];
  let node: unknown = doc.contents;
  for (let depth = 0; depth < 50; depth++) {
    let next: unknown;
    if (isMap(node)) {
      for (const pair of node.items) {
        const start = (pair.key as Node | null)?.range?.[0];
        const end = (pair.value as Node | null)?.range?.[1] ?? (pair.key as Node | null)?.range?.[1];
        if (start !== undefined && end !== undefined && offset >= start && offset < end) {
          segments.push(String(isScalar(pair.key) ? pair.key.value : pair.key));
          next = pair.value;
          break;
        }
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => {
        const r = (item as Node | null)?.range;
        if (r && offset >= r[0] && offset < r[1]) {
          segments.push(String(i));
          next = item;
        }
      });
    }
    if (next === undefined) break;
    node = next;
  }
  return segments.join('.');
}

/** The node at a path; with `key`, the key node of the last segment (for unknown keys). */
function findNode(doc: Document, segments: (string | number)[], key: boolean): Node | undefined {
  let node: unknown = doc.contents;
  let keyNode: unknown;
  for (const seg of segments) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) return node as Node;
      keyNode = pair.key;
      node = pair.value ?? pair.key;
    } else if (isSeq(node)) {
      const item = node.items[Number(seg)];
      if (item === undefined) return node as Node;
      keyNode = item;
      node = item;
    } else {
      return node as Node;
    }
  }
  return (key ? (keyNode ?? node) : node) as Node | undefined;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `a string ("${value.length > 30 ? `${value.slice(0, 30)}…` : value}")`;
  return `${typeof value === 'number' ? 'a number' : `a ${typeof value}`} (${String(value)})`;
}

function typeWords(t: unknown): string {
  const words: Record<string, string> = {
    number: 'a number',
    integer: 'an integer',
    string: 'a string',
    boolean: 'true or false',
    object: 'a mapping',
    array: 'a list',
  };
  return (Array.isArray(t) ? t : [t]).map((x) => words[String(x)] ?? String(x)).join(' or ');
}

function schemaDiagnostic(e: ErrorObject, file: string, locate: Locate): Diagnostic | undefined {
  const segments = segmentsOf(e.instancePath);
  const base = { severity: 'error' as const, file };
  const propertyName = (e as ErrorObject & { propertyName?: string }).propertyName;
  switch (e.keyword) {
    case 'additionalProperties': {
      const extra = String(e.params.additionalProperty);
      const parentSchema = e.parentSchema as { properties?: Record<string, unknown> } | undefined;
      const allowed = Object.keys(parentSchema?.properties ?? {});
      return {
        ...base,
        ...locate([...segments, extra], true),
        path: dotted([...segments, extra]),
        message: `unknown key "${extra}"`,
        hint: choiceHint(extra, allowed),
      };
    }
    case 'required': {
      const missing = String(e.params.missingProperty);
      return {
        ...base,
        ...(segments.length > 0 ? locate(segments, true) : { line: 1, col: 1 }),
        path: dotted([...segments, missing]),
        message: `missing required field "${missing}"`,
        hint: requiredHint(dotted([...segments, missing])),
      };
    }
    case 'type':
      return { ...base, ...locate(segments), path: dotted(segments), message: `expected ${typeWords(e.params.type)}, got ${describe(e.data)}` };
    case 'enum': {
      const allowed = (e.params.allowedValues as unknown[]).map(String);
      return {
        ...base,
        ...locate(segments),
        path: dotted(segments),
        message: `${JSON.stringify(e.data)} is not allowed`,
        hint: choiceHint(String(e.data), allowed),
      };
    }
    case 'pattern': {
      const expected = (e.parentSchema as { 'x-expected'?: string } | undefined)?.['x-expected'];
      const words = PATTERN_WORDS[String(e.params.pattern)] ?? { what: expected ? `must be ${expected}` : `must match ${String(e.params.pattern)}`, hint: '' };
      if (propertyName !== undefined) {
        const where = [...segments, propertyName];
        return {
          ...base,
          ...locate(where, true),
          path: dotted(where),
          message: `key ${JSON.stringify(propertyName)} ${words.what}`,
          hint: words.hint || undefined,
        };
      }
      return { ...base, ...locate(segments), path: dotted(segments), message: `${JSON.stringify(e.data)} ${words.what}`, hint: words.hint || undefined };
    }
    case 'const':
      return { ...base, ...locate(segments), path: dotted(segments), message: `must be ${JSON.stringify(e.params.allowedValue)}, got ${describe(e.data)}` };
    case 'oneOf': {
      // Only when the value has none of the branches' types (oneOfBranchErrors): say what they are.
      const branches = (e.schema as { enum?: unknown[]; const?: unknown; type?: unknown }[]).map((b) =>
        b.enum ? `one of ${b.enum.map(String).join(', ')}` : b.const !== undefined ? JSON.stringify(b.const) : typeWords(b.type),
      );
      return { ...base, ...locate(segments), path: dotted(segments), message: `expected ${branches.join(', or ')}; got ${describe(e.data)}` };
    }
    case 'if':
      return undefined; // reported by the inner `else` keyword (the missing field) with its position
    case 'propertyNames':
      return undefined; // reported by the inner keyword (pattern/maxLength) with the key's position
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum': {
      const ops: Record<string, string> = { minimum: '>=', maximum: '<=', exclusiveMinimum: '>', exclusiveMaximum: '<' };
      return { ...base, ...locate(segments), path: dotted(segments), message: `must be ${ops[e.keyword]} ${String(e.params.limit)}, got ${String(e.data)}` };
    }
    case 'minLength':
    case 'maxLength': {
      const where = propertyName !== undefined ? [...segments, propertyName] : segments;
      const size = e.keyword === 'minLength' ? 'at least' : 'at most';
      return {
        ...base,
        ...locate(where, propertyName !== undefined),
        path: dotted(where),
        message: `must be ${size} ${String(e.params.limit)} characters long`,
      };
    }
    case 'minProperties':
    case 'minItems':
      return { ...base, ...locate(segments), path: dotted(segments), message: `must not be empty` };
    case 'maxProperties':
      return { ...base, ...locate(segments), path: dotted(segments), message: `must have exactly one entry`, hint: 'e.g. { p95: 150 }' };
    case 'uniqueItems':
      return { ...base, ...locate(segments), path: dotted(segments), message: `has duplicate values (items ${String(e.params.j)} and ${String(e.params.i)})` };
    default:
      return { ...base, ...locate(segments), path: dotted(segments), message: e.message ?? 'is invalid' };
  }
}

/**
 * A `oneOf` (a width or a mapping; `false` or a mapping) reports every branch's complaint and a
 * summary. Only the branch of the value's type is meant: keep its errors and drop the others; keep
 * the summary alone when the value has no branch's type (`quantization: 5`).
 */
function oneOfBranchErrors(errors: ErrorObject[]): ErrorObject[] {
  const drop = new Set<ErrorObject>();
  for (const e of errors) {
    if (e.keyword !== 'oneOf') continue;
    const branches = e.schema as { enum?: unknown[]; const?: unknown; type?: unknown }[];
    const matching = branches.map((b, i) => (branchAccepts(b, e.data) ? i : -1)).filter((i) => i >= 0);
    const inside = errors.filter((x) => x.schemaPath.startsWith(`${e.schemaPath}/`));
    for (const x of inside) if (!matching.some((i) => x.schemaPath.startsWith(`${e.schemaPath}/${i}/`))) drop.add(x);
    if (matching.length > 0) drop.add(e);
  }
  return errors.filter((e) => !drop.has(e));
}

/** Whether a value has the JSON type a `oneOf` branch takes (its values are then the branch's to judge). */
function branchAccepts(branch: { enum?: unknown[]; const?: unknown; type?: unknown }, value: unknown): boolean {
  const typeOf = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'object' ? 'object' : typeof v);
  const types = branch.enum
    ? branch.enum.map(typeOf)
    : branch.const !== undefined
      ? [typeOf(branch.const)]
      : (Array.isArray(branch.type) ? branch.type : [branch.type]).map((t) => (t === 'integer' ? 'number' : String(t)));
  return types.includes(typeOf(value));
}

/** A missing field whose misspelling sits beside it as an unknown key (`flavour:` for `flavor:`). */
function misspelled(required: ErrorObject, all: ErrorObject[]): boolean {
  const missing = String(required.params.missingProperty);
  return all.some((e) => {
    if (e.keyword !== 'additionalProperties' || e.instancePath !== required.instancePath) return false;
    const allowed = Object.keys((e.parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties ?? {});
    return choiceHint(String(e.params.additionalProperty), allowed) === `did you mean "${missing}"?`;
  });
}

function requiredHint(fieldPath: string): string | undefined {
  const examples: Record<string, string> = {
    name: 'e.g. name: churn',
    model: 'e.g. model: { path: model/model.joblib, flavor: sklearn }',
    'model.path': 'e.g. path: model/model.joblib',
    'model.flavor': 'one of sklearn, xgboost, lightgbm, onnx, pytorch, llm',
    features: 'e.g. features: { package: features, schema: { … } }',
    'features.package': 'the Python package shared by training and serving, e.g. features',
    'features.schema': 'the raw request fields, e.g. { tenure_months: { type: number } }',
  };
  return examples[fieldPath] ?? (fieldPath.endsWith('.type') ? 'one of number, integer, category, string, boolean' : undefined);
}

/** Checks the schema cannot express: files on disk, ranges that must agree, cross references. */
function semanticDiagnostics(
  raw: Partial<RawManifest>,
  file: string,
  projectDir: string,
  locate: Locate,
  exists: (p: string) => 'file' | 'dir' | undefined,
  targetOverride: string | undefined,
): Diagnostic[] {
  const out: Diagnostic[] = [];
  const error = (segments: (string | number)[], message: string, hint?: string, key = false) =>
    out.push({ severity: 'error', file, ...locate(segments, key), path: dotted(segments), message, hint });
  const warning = (segments: (string | number)[], message: string, hint?: string) =>
    out.push({ severity: 'warning', file, ...locate(segments), path: dotted(segments), message, hint });

  // Only values that passed their pattern are used as paths (a hostile path is never probed).
  const safePath = (v: unknown): v is string => typeof v === 'string' && new RegExp(RELATIVE_PATH_PATTERN).test(v);
  const modelPath = raw.model?.path;
  // A transformers model is the folder `save_pretrained` writes; every other flavor is one file.
  const folderModel = raw.model?.flavor === 'transformers';
  if (safePath(modelPath) && exists(path.join(projectDir, modelPath)) !== (folderModel ? 'dir' : 'file')) {
    error(
      ['model', 'path'],
      folderModel ? `not a folder: ${modelPath}` : `file not found: ${modelPath}`,
      folderModel
        ? 'a transformers model is the folder save_pretrained() writes (config.json, model.safetensors, tokenizer files)'
        : 'train the model first (e.g. `python train.py`) or fix the path',
    );
  }
  for (const key of ['task', 'max_tokens'] as const) {
    if (isObject(raw.model) && raw.model[key] !== undefined && !folderModel)
      error(['model', key], `"${key}" applies to the transformers flavor, not ${String(raw.model.flavor)}`);
  }
  diagnoseQuantization(raw, projectDir, exists, safePath, error);
  const features = isObject(raw.features) ? raw.features : undefined;
  if (safePath(features?.baseline) && exists(path.join(projectDir, features.baseline)) !== 'file') {
    error(['features', 'baseline'], `file not found: ${features.baseline}`, 'point it at a CSV sample of the training data');
  }
  const pkg = features?.package;
  if (typeof pkg === 'string' && new RegExp(IDENTIFIER_PATTERN).test(pkg) && exists(path.join(projectDir, pkg, '__init__.py')) !== 'file') {
    error(['features', 'package'], `no Python package "${pkg}" next to the manifest (${pkg}/__init__.py)`, '`mlship init` writes one');
  }
  const schema = isObject(features?.schema) ? features.schema : {};
  for (const [name, f] of Object.entries(schema)) {
    if (!isObject(f) || !(FIELD_TYPES as readonly unknown[]).includes(f.type)) continue;
    const numeric = f.type === 'number' || f.type === 'integer';
    if (f.type === 'category' && f.values === undefined)
      error(['features', 'schema', name, 'type'], 'a category field needs its "values"', 'e.g. values: [basic, pro]');
    if (f.values !== undefined && f.type !== 'category') error(['features', 'schema', name, 'values'], `"values" applies to category fields, not ${f.type}`);
    for (const bound of ['min', 'max'] as const) {
      if (f[bound] !== undefined && !numeric) error(['features', 'schema', name, bound], `"${bound}" applies to number and integer fields, not ${f.type}`);
    }
    if (f.min !== undefined && f.max !== undefined && f.min > f.max) error(['features', 'schema', name, 'max'], `max (${f.max}) is below min (${f.min})`);
  }
  if (typeof features?.label === 'string' && schema[features.label] !== undefined) {
    error(['features', 'label'], `the label "${features.label}" is also a request field`, 'remove it from features.schema: clients do not send the label');
  }
  const replicas = raw.serving?.replicas;
  if (typeof replicas?.min === 'number' && typeof replicas.max === 'number' && replicas.min > replicas.max) {
    error(['serving', 'replicas', 'max'], `max (${replicas.max}) is below min (${replicas.min})`);
  }
  const llm = raw.model?.flavor === 'llm';
  const driftFeatures = raw.monitoring?.drift?.features;
  for (const name of Object.keys(isObject(driftFeatures) ? driftFeatures : {})) {
    if (llm && !(LLM_DRIFT_FEATURES as readonly string[]).includes(name)) {
      error(['monitoring', 'drift', 'features', name], `"${name}" is not one of an LLM's drift features`, choiceHint(name, LLM_DRIFT_FEATURES), true);
    } else if (!llm && schema[name] === undefined && name !== 'output') {
      error(
        ['monitoring', 'drift', 'features', name],
        `"${name}" is not a field of features.schema`,
        choiceHint(name, [...Object.keys(schema), 'output']),
        true,
      );
    }
  }
  const reference = raw.monitoring?.drift?.reference;
  if (reference !== undefined && !llm) {
    error(
      ['monitoring', 'drift', 'reference'],
      'a drift reference applies to an LLM (model.flavor: llm)',
      "a tabular model's baseline is features.baseline (profiled by `mlship build`); remove monitoring.drift.reference",
    );
  } else if (safePath(reference) && exists(path.join(projectDir, reference)) !== 'file') {
    error(
      ['monitoring', 'drift', 'reference'],
      `file not found: ${reference}`,
      'point it at JSON lines of reference requests ({"messages": [...]} or {"prompt": "..."}) or an exported prediction log',
    );
  }
  const target = targetOverride ?? raw.target ?? DEFAULTS.target;
  // The selected target's own rules come from its descriptor (registered in targets.ts).
  const spec = typeof target === 'string' ? targetSettingsSpec(target) : undefined;
  if (!spec && targetOverride !== undefined) {
    out.push({
      severity: 'error',
      file,
      line: 1,
      col: 1,
      path: 'target',
      message: `there is no target named "${targetOverride}"`,
      hint: choiceHint(targetOverride, targetNames()),
    });
  }
  out.push(...alertDiagnostics(raw.monitoring?.alerts?.email, spec, file, locate));
  const block = spec && raw.targets?.[spec.name];
  if (spec?.requiresSettings && !isObject(block)) {
    const where: (string | number)[] = raw.target === target ? ['target'] : [];
    const example = spec.requiresSettings.example;
    out.push({
      severity: 'error',
      file,
      ...(where.length ? locate(where) : { line: 1, col: 1 }),
      path: `targets.${spec.name}`,
      message: `target "${spec.name}" is selected but targets.${spec.name} is not configured`,
      hint: example ? `add targets: { ${spec.name}: ${example} }` : `add a targets.${spec.name} block`,
    });
  }
  if (spec && isObject(block)) {
    // Fields the selected target needs though other commands may do without them (they may come from the environment).
    for (const key of spec.requiredWhenSelected ?? []) {
      if (block[key] === undefined) {
        out.push({
          severity: 'error',
          file,
          ...locate(['targets', spec.name], true),
          path: `targets.${spec.name}.${key}`,
          message: `targets.${spec.name}.${key} is required for the ${spec.name} target`,
          hint: `add ${key}: <${spec.settings.properties[key]?.description ?? key}> to targets.${spec.name}`,
        });
      }
    }
  }
  const compute = raw.serving?.compute;
  if (typeof compute === 'string' && !['auto', 'cpu', 'gpu'].includes(compute) && new RegExp(COMPUTE_PATTERN).test(compute) && spec) {
    // An explicit instance type must exist in the selected target's catalog (prices, GPU memory).
    const catalog = loadCatalog(spec.catalog);
    if (!findInstance(catalog, compute)) {
      error(['serving', 'compute'], `"${compute}" is not an instance type of the ${spec.name} catalog`, instanceHint(compute, catalog));
    }
  }
  checkLlmBudget(raw, projectDir, error, exists);
  const latency = raw.budget?.latency_ms;
  const stages = raw.budget?.stages_ms;
  if (isObject(latency) && isObject(stages) && raw.model?.flavor !== 'llm') {
    const total = Object.values(stages).reduce<number>((a, b) => a + (typeof b === 'number' ? b : 0), 0);
    const [pct, limit] = Object.entries(latency)[0] ?? [];
    if (typeof limit === 'number' && total > limit) {
      warning(
        ['budget', 'stages_ms'],
        `stage allocations add up to ${total} ms, more than the ${pct} target of ${limit} ms`,
        'the whole chain cannot meet the target if every stage uses its share',
      );
    }
  }
  return out;
}

/** The budget fields that exist only for `flavor: llm` (its budget is per token). */
const LLM_BUDGET_KEYS = ['ttft_ms', 'itl_ms', 'tokens_per_s', 'concurrency', 'request'] as const;

/**
 * The budget of an LLM is per token, that of every other flavor per stage: each field where it does
 * not apply is an error saying which one does; the load test's prompts file must exist.
 */
function checkLlmBudget(
  raw: Partial<RawManifest>,
  projectDir: string,
  error: (segments: (string | number)[], message: string, hint?: string, key?: boolean) => void,
  exists: (p: string) => 'file' | 'dir' | undefined,
): void {
  const budget = isObject(raw.budget) ? raw.budget : undefined;
  const flavor = isObject(raw.model) ? raw.model.flavor : undefined;
  if (!budget || typeof flavor !== 'string') return;
  if (flavor !== 'llm') {
    for (const key of LLM_BUDGET_KEYS) {
      if (budget[key] !== undefined)
        error(
          ['budget', key],
          `"${key}" is a token budget for model.flavor: llm; this model is ${flavor}`,
          'budget this model with latency_ms (end to end) and stages_ms (per stage of the serving app)',
          true,
        );
    }
    return;
  }
  if (budget.stages_ms !== undefined) {
    error(
      ['budget', 'stages_ms'],
      'stages_ms does not apply to an LLM: it is served by its own server, with no stages to allocate; its budget is per token',
      'use ttft_ms (time to first token), itl_ms (inter-token latency) or tokens_per_s, latency_ms for a whole completion, and concurrency',
      true,
    );
  }
  const request = isObject(budget.request) ? budget.request : undefined;
  const context = isObject(raw.model) && typeof raw.model.context === 'number' ? raw.model.context : DEFAULTS.llmContext;
  if (typeof request?.max_tokens === 'number' && request.max_tokens >= context) {
    error(
      ['budget', 'request', 'max_tokens'],
      `${request.max_tokens} tokens do not fit the model's context of ${context} (model.context), which also holds the prompt`,
      `ask for fewer (e.g. max_tokens: ${Math.min(DEFAULTS.llmMaxTokens, Math.floor(context / 2))}) or raise model.context`,
    );
  }
  if (request?.prompt !== undefined && request.prompts !== undefined) {
    error(
      ['budget', 'request', 'prompts'],
      'give either prompt or prompts, not both',
      'prompt is one message; prompts names a file of them, one per line',
      true,
    );
  } else if (typeof request?.prompts === 'string' && new RegExp(RELATIVE_PATH_PATTERN).test(request.prompts)) {
    if (exists(path.join(projectDir, request.prompts)) !== 'file')
      error(['budget', 'request', 'prompts'], `file not found: ${request.prompts}`, 'write the prompts one per line in a text file next to the manifest');
  }
}

/**
 * `monitoring.alerts.email` beyond its schema (each address is checked there): an address listed
 * twice is mailed once (a warning), and the joined list must fit the selected target's limit (Azure
 * ML's monitor takes 499 characters).
 */
function alertDiagnostics(email: unknown, target: TargetSettingsSpec | undefined, file: string, locate: Locate): Diagnostic[] {
  const maxChars = target?.alertEmailsMaxChars;
  const where = ['monitoring', 'alerts', 'email'];
  const list = typeof email === 'string' ? [email] : Array.isArray(email) && email.every((a) => typeof a === 'string') ? (email as string[]) : undefined;
  if (!list) return [];
  const out: Diagnostic[] = [];
  list.forEach((address, i) => {
    const first = list.findIndex((a) => a.toLowerCase() === address.toLowerCase());
    if (first < i)
      out.push({
        severity: 'warning',
        file,
        ...locate([...where, i]),
        path: dotted([...where, i]),
        message: `${address} is listed twice (item ${first} too); it is mailed once`,
        hint: 'remove one of them',
      });
  });
  const joined = alertEmails(list).join(',').length;
  if (maxChars !== undefined && joined > maxChars) {
    out.push({
      severity: 'error',
      file,
      ...locate(where, true),
      path: dotted(where),
      message: `the addresses joined with commas are ${joined} characters; ${target?.title} allows at most ${maxChars} for a monitor's e-mail recipients`,
      hint: 'list fewer addresses, e.g. one team mailing list',
    });
  }
  return out;
}

/** Example the quantization messages give: the mapping form, with its defaults written out. */
const MEASURED_QUANTIZATION_EXAMPLE = `quantization: { eval_text: data/eval.txt, candidates: [${DEFAULTS.quantizationCandidates.join(', ')}], max_loss: ${DEFAULTS.quantizationMaxLoss} }`;

/**
 * A measured quantization (`model.quantization` as a mapping, or `auto`): it needs an evaluation text
 * that exists, and a GGUF LLM to quantize.
 */
function diagnoseQuantization(
  raw: Partial<RawManifest>,
  projectDir: string,
  exists: (p: string) => 'file' | 'dir' | undefined,
  safePath: (v: unknown) => v is string,
  error: (segments: (string | number)[], message: string, hint?: string, key?: boolean) => void,
): void {
  const model = isObject(raw.model) ? raw.model : undefined;
  const q: unknown = model?.quantization;
  if (q === 'auto') {
    error(
      ['model', 'quantization'],
      '"auto" measures candidate quantizations, and needs an evaluation text to measure perplexity on',
      `write it as a mapping naming the text (candidates and max_loss shown at their defaults): ${MEASURED_QUANTIZATION_EXAMPLE}`,
    );
  }
  if (q !== 'auto' && !isObject(q)) return;
  const gguf = typeof model?.path === 'string' && model.path.toLowerCase().endsWith('.gguf');
  if (model?.flavor !== 'llm' || !gguf) {
    error(
      ['model', 'quantization'],
      `a measured quantization applies to a GGUF LLM (flavor: llm, path: *.gguf), not ${model?.flavor === 'llm' ? `the file ${String(model?.path)}` : `the ${String(model?.flavor)} flavor`}`,
      'name a width instead (fp32, fp16, bf16, int8, int4), or point model.path at the F16/F32 .gguf to quantize',
    );
  }
  if (isObject(q) && safePath(q.eval_text) && exists(path.join(projectDir, q.eval_text)) !== 'file') {
    error(
      ['model', 'quantization', 'eval_text'],
      `file not found: ${q.eval_text}`,
      'a plain text in the language the model will serve (a few thousand words; at least twice `context` tokens)',
    );
  }
}

function isObject(v: unknown): v is Record<string, any> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The YAML parser notices an unclosed `[`, `{` or quote where the file or block ends; point at the
 * opening character instead, which is where the mistake is.
 */
function unclosedAt(text: string, offset: number, message: string): { offset: number; message: string; hint: string } | undefined {
  const flow = /end with a ([\]}])/.exec(message);
  const quote = /Missing closing (["'])quote/.exec(message);
  const open = flow ? (flow[1] === ']' ? '[' : '{') : quote?.[1];
  if (!open) return undefined;
  const at = text.lastIndexOf(open, Math.max(0, offset - 1));
  if (at < 0) return undefined;
  const close = flow ? flow[1]! : open;
  return { offset: at, message: `this ${open} is never closed`, hint: `add the closing ${close} on the same line, or write the value without ${open}` };
}

function yamlMessage(message: string): string {
  const first = message.split('\n')[0] ?? message;
  return first.replace(/ at line \d+, column \d+:?$/, '').trim();
}

function yamlHint(code: string, message: string): string | undefined {
  if (/tab/i.test(message)) return 'indent with spaces, not tabs';
  if (code === 'DUPLICATE_KEY') return 'each key may appear once; remove or merge the duplicate';
  if (code === 'BAD_INDENT' || code === 'MISSING_CHAR') return 'check the indentation and the ":" after each key';
  return 'check the YAML syntax near this position';
}

function dedupe(list: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return list.filter((d) => {
    const key = `${d.line}:${d.col}:${d.path}:${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function sortDiagnostics(list: Diagnostic[]): Diagnostic[] {
  return [...list].sort((a, b) => a.line - b.line || a.col - b.col);
}
