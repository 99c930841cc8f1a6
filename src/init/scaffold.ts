/**
 * `mlship init`: gather the answers (flags first, then prompts on a terminal, then defaults), read
 * the baseline and the notebook, render the scaffold, check the manifest it is about to write, and
 * write the files — never over an existing one without `force`.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { readCsvFile } from '../util/csv.js';
import { UsageError } from '../util/errors.js';
import { mlshipVersion } from '../util/version.js';
import { checkManifest } from '../manifest/load.js';
import { NAME_PATTERN, RELATIVE_PATH_PATTERN } from '../manifest/schema.js';
import { FLAVORS, type Flavor, type TargetName } from '../manifest/types.js';
import { allDescriptors } from '../targets/descriptors.js';
import { discover, flavorOf, likelyBaseline } from './discover.js';
import { detectLabel, inferSchema } from './infer-schema.js';
import { liftNotebook, type LiftedCode } from './notebook.js';
import { INIT_FILES, renderInit, renderLlmManifest, type InitPlan } from './render.js';

/** The questions init may ask; `Prompter` (src/cli/prompts.ts) is one. Without a terminal each returns its default or fails naming its flag. */
export interface Ask {
  readonly interactive: boolean;
  input(q: { message: string; flag: string; default?: string; validate?: (value: string) => string | true }): Promise<string>;
  select<T extends string>(q: { message: string; flag: string; default?: T; choices: { value: T; name?: string; description?: string }[] }): Promise<T>;
  confirm(q: { message: string; flag: string; default?: boolean }): Promise<boolean>;
}

/** Answers given as flags (`--name`, `--model`, …); the rest are asked or defaulted. */
export interface InitRequest {
  /** Absolute path of the project folder (created when missing). */
  dir: string;
  name?: string;
  model?: string;
  flavor?: string;
  target?: string;
  baseline?: string;
  notebook?: string;
  label?: string;
  force: boolean;
}

export type FileAction = 'created' | 'overwritten' | 'appended' | 'unchanged';

export interface InitResult {
  dir: string;
  files: { path: string; action: FileAction }[];
  name: string;
  model: { path: string; flavor: Flavor; exists: boolean };
  target: TargetName;
  /** A tabular project's baseline, label, task and request fields (an LLM project has none). */
  baseline?: string;
  label?: string;
  task?: InitPlan['schema']['task'];
  fields?: number;
  notebook?: { file: string; features: number; train: number };
  warnings: string[];
}

const GITIGNORE_ENTRY = '.mlship/';
const OTHER = '\u0000other';

/** Scaffold a project in `req.dir`. */
export async function initProject(req: InitRequest, ask: Ask): Promise<InitResult> {
  const dir = req.dir;
  if (existsSync(dir) && !statSync(dir).isDirectory()) {
    throw new UsageError(`${dir} is a file, not a folder`, { code: 'init_dir_invalid', hint: 'Pass the project folder to `mlship init [dir]`.' });
  }
  // Refuse before asking anything: a user should not answer six questions to hear "file exists".
  const existing = Object.values(INIT_FILES).filter((f) => existsSync(path.join(dir, f)));
  if (existing.length > 0 && !req.force) {
    throw new UsageError(
      `${existing.length === 1 ? 'a file' : 'files'} init would write already exist${existing.length === 1 ? 's' : ''}: ${existing.join(', ')}`,
      {
        code: 'files_exist',
        hint: 'Pass --force to overwrite them, or run init in another folder.',
        details: { files: existing },
      },
    );
  }

  const warnings: string[] = [];
  const found = existsSync(dir) ? discover(dir) : { models: [], csvs: [], notebooks: [] };

  const name = await askName(req, ask, dir);
  const modelPath = await askPath(ask, req.model, '--model', {
    message: 'Model file',
    candidates: found.models,
    fallback: found.models.length === 0 ? 'model/model.joblib' : found.models.length === 1 ? found.models[0] : undefined,
    dir,
  });
  const flavor = await askChoice(ask, req.flavor, '--flavor', 'Model flavor', FLAVORS, flavorOf(modelPath));
  const targets = allDescriptors().map((d) => d.name);
  const target = await askChoice(ask, req.target, '--target', 'Where to deploy', targets, targets[0]!);
  if (flavor === 'llm') return initLlm(dir, { name, model: { path: modelPath, flavor }, target, version: mlshipVersion() }, warnings);
  const baseline = await askPath(ask, req.baseline, '--baseline', {
    message: 'Baseline data (CSV sample of the training data)',
    candidates: found.csvs,
    fallback: likelyBaseline(found.csvs),
    dir,
  });
  const table = readBaseline(dir, baseline);
  const label =
    req.label ??
    (await ask.select({
      message: 'Label column (what the model predicts)',
      flag: '--label',
      default: detectLabel(table.columns),
      choices: table.columns.map((c) => ({ value: c })),
    }));
  const schema = inferSchema(table, { label, source: baseline });

  const notebookPath = req.notebook !== undefined ? toProjectPath(dir, req.notebook, '--notebook', false) : await askNotebook(ask, dir, found.notebooks);
  let notebook: LiftedCode | undefined;
  if (notebookPath !== undefined) {
    notebook = liftNotebook(path.resolve(dir, notebookPath), path.basename(notebookPath));
    if (notebook.features === undefined && notebook.train === undefined) {
      warnings.push(`${notebookPath} has no cells marked mlship:features or mlship:train; wrote the generic features package and train.py`);
    }
  }

  const modelExists = existsSync(path.join(dir, modelPath));
  if (!modelExists) warnings.push(`${modelPath} does not exist yet: run \`python train.py\` to train it before \`mlship build\``);
  if (flavor !== 'sklearn' && notebook?.train === undefined) {
    warnings.push(`the generic train.py trains a scikit-learn pipeline; replace train() and the save step for a ${flavor} model`);
  }

  const plan: InitPlan = { name, model: { path: modelPath, flavor }, target, baseline, schema: { ...schema, label }, notebook, version: mlshipVersion() };
  const files = renderInit(plan);
  selfCheck(files.find((f) => f.path === INIT_FILES.manifest)!.content, dir, new Set(files.map((f) => f.path)));

  const written: InitResult['files'] = [];
  for (const f of files) {
    const target = path.join(dir, f.path);
    const before = existsSync(target);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, f.content);
    written.push({ path: f.path, action: before ? 'overwritten' : 'created' });
  }
  written.push({ path: '.gitignore', action: ignoreMlshipDir(dir) });

  return {
    dir,
    files: written,
    name,
    model: { path: modelPath, flavor, exists: modelExists },
    target,
    baseline,
    label,
    task: schema.task,
    fields: schema.fields.length,
    ...(notebook && notebookPath !== undefined && { notebook: { file: notebookPath, features: notebook.cells.features, train: notebook.cells.train } }),
    warnings,
  };
}

/**
 * An LLM project: the manifest only. The prompt is text the gateway takes (no features package, no
 * request schema, no baseline CSV) and the model is given, not trained here (no train.py).
 */
function initLlm(dir: string, plan: Pick<InitPlan, 'name' | 'model' | 'target' | 'version'>, warnings: string[]): InitResult {
  const manifest = renderLlmManifest(plan);
  selfCheck(manifest.content, dir, new Set([manifest.path]));
  const modelExists = existsSync(path.join(dir, plan.model.path));
  if (!modelExists) warnings.push(`${plan.model.path} does not exist yet: put the GGUF (or Hugging Face weights) there before \`mlship build\``);
  const target = path.join(dir, manifest.path);
  const before = existsSync(target);
  mkdirSync(dir, { recursive: true });
  writeFileSync(target, manifest.content);
  return {
    dir,
    files: [
      { path: manifest.path, action: before ? 'overwritten' : 'created' },
      { path: '.gitignore', action: ignoreMlshipDir(dir) },
    ],
    name: plan.name,
    model: { ...plan.model, exists: modelExists },
    target: plan.target,
    warnings,
  };
}

async function askName(req: InitRequest, ask: Ask, dir: string): Promise<string> {
  const pattern = new RegExp(NAME_PATTERN);
  const check = (v: string): string | true =>
    pattern.test(v) && v.length >= 2 && v.length <= 40 ? true : 'lowercase letters, digits and single hyphens, starting with a letter (2–40 characters)';
  if (req.name !== undefined) {
    const ok = check(req.name);
    if (ok !== true)
      throw new UsageError(`--name ${JSON.stringify(req.name)} is not a valid project name: ${ok}`, {
        code: 'invalid_option',
        hint: 'e.g. --name churn-model',
      });
    return req.name;
  }
  return ask.input({ message: 'Project name', flag: '--name', default: nameFrom(path.basename(dir)), validate: check });
}

/** A valid project name from a folder name, e.g. "Churn Model (v2)" → "churn-model-v2". */
export function nameFrom(folder: string): string {
  const n = folder
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^[^a-z]+/, '')
    .replace(/-+$/, '')
    .slice(0, 40)
    .replace(/-+$/, '');
  return n.length >= 2 ? n : 'model';
}

async function askChoice<T extends string>(ask: Ask, given: string | undefined, flag: string, message: string, choices: readonly T[], fallback: T): Promise<T> {
  if (given !== undefined) {
    if (!(choices as readonly string[]).includes(given)) {
      throw new UsageError(`${flag} ${JSON.stringify(given)} is not one of: ${choices.join(', ')}`, {
        code: 'invalid_option',
        hint: `e.g. ${flag} ${fallback}`,
      });
    }
    return given as T;
  }
  return ask.select<T>({ message, flag, default: fallback, choices: choices.map((value) => ({ value })) });
}

/** A path answer: offer the files found (plus "another path…"), or ask for one. */
async function askPath(
  ask: Ask,
  given: string | undefined,
  flag: string,
  q: { message: string; candidates: string[]; fallback?: string; dir: string },
): Promise<string> {
  if (given !== undefined) return toProjectPath(q.dir, given, flag, true);
  let answer: string | undefined;
  if (q.candidates.length > 0 && (ask.interactive || q.fallback === undefined)) {
    const choice = await ask.select({
      message: q.message,
      flag,
      default: q.fallback,
      choices: [...q.candidates.map((value) => ({ value })), { value: OTHER, name: 'another path…' }],
    });
    if (choice !== OTHER) answer = choice;
  }
  answer ??= await ask.input({ message: `${q.message}, relative to the project folder`, flag, default: q.fallback });
  return toProjectPath(q.dir, answer, flag, true);
}

async function askNotebook(ask: Ask, dir: string, notebooks: string[]): Promise<string | undefined> {
  if (!ask.interactive) return undefined;
  const marked = notebooks.slice(0, 20).filter((nb) => {
    try {
      const lifted = liftNotebook(path.join(dir, nb));
      return lifted.features !== undefined || lifted.train !== undefined;
    } catch {
      return false;
    }
  });
  if (marked.length === 0) return undefined;
  const none = '\u0000none';
  const choice = await ask.select({
    message: 'Lift the marked cells of a notebook into features/ and train.py?',
    flag: '--notebook',
    default: marked[0],
    choices: [...marked.map((value) => ({ value })), { value: none, name: 'no, write the generic ones' }],
  });
  return choice === none ? undefined : choice;
}

/**
 * A path the user gave, as the manifest will hold it: relative to the project folder, inside it,
 * and within the strict path pattern (so it can never inject text into a generated file).
 */
function toProjectPath(dir: string, given: string, flag: string, strict: boolean): string {
  const rel = path.relative(dir, path.resolve(dir, given)).split(path.sep).join('/');
  if (rel === '' || rel.startsWith('../') || rel === '..' || path.isAbsolute(rel)) {
    throw new UsageError(`${flag} ${JSON.stringify(given)} is outside the project folder ${dir}`, {
      code: 'invalid_option',
      hint: 'Move the file into the project (paths are relative to the folder holding mlship.yaml).',
    });
  }
  if (strict && !new RegExp(RELATIVE_PATH_PATTERN).test(rel)) {
    throw new UsageError(`${flag} ${JSON.stringify(given)} is not a path mlship can use`, {
      code: 'invalid_option',
      hint: 'Use letters, digits and . _ - / only (no spaces or quotes): rename the file.',
    });
  }
  return rel;
}

function readBaseline(dir: string, baseline: string) {
  const file = path.join(dir, baseline);
  if (!existsSync(file)) {
    throw new UsageError(`baseline data not found: ${baseline}`, {
      code: 'baseline_missing',
      hint: 'Pass --baseline with a CSV sample of the training data (relative to the project folder).',
    });
  }
  try {
    return readCsvFile(file);
  } catch (error) {
    throw new UsageError(`cannot read ${baseline}: ${(error as Error).message}`, {
      code: 'baseline_invalid',
      hint: 'The baseline must be a readable CSV file.',
    });
  }
}

/**
 * The manifest init writes must load: check it with the real loader before writing anything. A
 * failure here is a bug in init, except that the model may not be trained yet.
 */
function selfCheck(manifest: string, dir: string, rendered: Set<string>): void {
  const result = checkManifest(manifest, path.join(dir, INIT_FILES.manifest), {
    exists: (p) => {
      const rel = path.relative(dir, p).split(path.sep).join('/');
      if (rendered.has(rel)) return 'file';
      return existsSync(p) ? (statSync(p).isDirectory() ? 'dir' : 'file') : undefined;
    },
  });
  const errors = result.diagnostics.filter((d) => d.severity === 'error' && !(d.path === 'model.path' && d.message.startsWith('file not found')));
  if (errors.length > 0) {
    throw new Error(`init rendered an invalid manifest: ${errors.map((d) => `${d.line}:${d.col} ${d.path}: ${d.message}`).join('; ')}`);
  }
}

/** Add `.mlship/` to .gitignore unless a line already ignores it. */
function ignoreMlshipDir(dir: string): FileAction {
  const file = path.join(dir, '.gitignore');
  const text = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
  if (text !== undefined && text.split(/\r?\n/).some((l) => ['.mlship', '.mlship/', '/.mlship', '/.mlship/'].includes(l.trim()))) return 'unchanged';
  if (text === undefined) {
    writeFileSync(file, `${GITIGNORE_ENTRY}\n`);
    return 'created';
  }
  appendFileSync(file, `${text.length > 0 && !text.endsWith('\n') ? '\n' : ''}${GITIGNORE_ENTRY}\n`);
  return 'appended';
}
