/**
 * Rendering is pure: `render(manifest, model info) → files`. Every decision (base image, requirement
 * pins, field literals, loader, batching) is taken here in TypeScript; the Handlebars templates in
 * `templates/serving` and `templates/docker` only lay out text. Templates compile with `strict`
 * (a missing value is an error) and `noEscape` (nothing is HTML-escaped in code).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../util/errors.js';
import { folderFiles } from '../util/fs.js';
import { registerTemplateHelper, template, templatesDir } from '../util/templates.js';
import type { FieldSpec, Manifest } from '../manifest/types.js';
import type { QuantizedWeights } from '../compute/types.js';
import { needsGpu } from './gpu.js';
import { renderLlm, selectLlm } from './llm.js';
import { flavorRuntime, requirementLines } from './requirements.js';

/** The templates folder shipped with the package. */
export const TEMPLATES_DIR = templatesDir;

/** The model artifact as rendering needs it. */
export interface ModelInfo {
  /** File name of the artifact (stored as `model/<file>` in the build). */
  file: string;
  sha256: string;
  bytes: number;
}

/** One rendered file, relative to the build folder. */
export interface RenderedFile {
  path: string;
  content: string;
  /** Unix mode when not 0o644. */
  mode?: number;
}

/** Facts rendering takes from outside the manifest. */
export interface RenderOptions {
  /** Written into headers of generated files. */
  mlshipVersion: string;
  /** A measured quantization: the GGUF the build serves (`model` is that file), for the selection. */
  quantized?: QuantizedWeights;
}

/** The serving runtime's Python package name (a folder of the build and of the image). */
export const SERVING_PACKAGE = 'mlship_serving';

const CPU_BASE = 'python:3.11-slim';
const GPU_BASE = 'nvidia/cuda:12.6.3-cudnn-runtime-ubuntu24.04';

const OUTPUT_WORDS: Record<Manifest['model']['output'], string> = {
  probability: 'the probability of the positive class (a list of class probabilities with more than two classes)',
  label: 'the predicted label',
  value: "the model's output value",
};

/** Render the build context's generated files (the features package and the model are copied, not rendered). */
export function render(manifest: Manifest, model: ModelInfo, options: RenderOptions): RenderedFile[] {
  if (manifest.model.flavor === 'llm') {
    // The selection decides the server (vLLM or llama.cpp); the build renders that server's context.
    return renderLlm(manifest, model, selectLlm(manifest, model.bytes, options.quantized), options);
  }
  const runtime = flavorRuntime(manifest.model.flavor);
  if (!runtime) {
    throw new UsageError(`mlship build cannot serve the "${manifest.model.flavor}" flavor with its generated app`, {
      code: 'flavor_unsupported',
      hint: 'Use sklearn, xgboost, lightgbm, onnx, pytorch, transformers or llm (a vLLM or llama.cpp server).',
    });
  }
  const gpu = needsGpu(manifest, model.bytes);
  const fields = Object.entries(manifest.features.schema).map(([name, f]) => ({
    name,
    type: f.type,
    min: f.min ?? null,
    max: f.max ?? null,
    values: f.values ?? null,
    nullable: f.nullable,
  }));
  const common = { name: manifest.name, flavor: manifest.model.flavor, mlshipVersion: options.mlshipVersion };
  const { batching } = manifest.serving;
  const app = template('serving/serve.py.hbs')({
    ...common,
    package: manifest.features.package,
    modelFile: model.file,
    loader: runtime.loader,
    output: manifest.model.output,
    outputWords: OUTPUT_WORDS[manifest.model.output],
    maxBody: manifest.serving.max_body_bytes,
    maxRequestRecords: manifest.serving.max_batch,
    batchMax: batching === false ? null : batching.max_batch,
    batchWaitMs: batching === false ? 0 : batching.max_wait_ms,
    workers: manifest.serving.workers ?? null,
    modelOptions: manifest.model.flavor === 'transformers' ? { task: manifest.model.task, max_tokens: manifest.model.max_tokens } : null,
    fields,
    warmRecord: Object.fromEntries(Object.entries(manifest.features.schema).map(([name, f]) => [name, sampleValue(f)])),
  });
  const docker = gpu
    ? {
        baseImage: GPU_BASE,
        computeNote: `GPU image: serving.compute is "${manifest.serving.compute}".`,
        // Ubuntu's Python is externally managed (PEP 668): the app gets its own virtualenv.
        systemSetup: [
          'RUN apt-get update \\\n    && apt-get install -y --no-install-recommends python3 python3-venv \\\n    && rm -rf /var/lib/apt/lists/* \\\n    && python3 -m venv /opt/venv',
        ],
        pip: '/opt/venv/bin/pip',
        python: '/opt/venv/bin/python',
      }
    : {
        baseImage: CPU_BASE,
        computeNote: `CPU image: serving.compute is "${manifest.serving.compute}".`,
        systemSetup: [],
        pip: 'pip',
        python: '/usr/local/bin/python',
      };
  return [
    { path: 'serve.py', content: app, mode: 0o755 },
    ...servingRuntimeFiles(),
    { path: 'requirements.txt', content: template('serving/requirements.txt.hbs')({ ...common, packages: requirementLines(manifest.model.flavor, gpu) }) },
    { path: 'Dockerfile', content: template('docker/Dockerfile.hbs')({ ...common, ...docker, package: manifest.features.package }) },
    { path: '.dockerignore', content: template('docker/dockerignore.hbs')({}) },
  ];
}

/** The folder of the static serving runtime, shipped in the npm package as real Python files. */
export const SERVING_RUNTIME_DIR = fileURLToPath(new URL(`../../python/${SERVING_PACKAGE}/`, import.meta.url));

let runtimeFiles: RenderedFile[] | undefined;

/**
 * The `mlship_serving` package's Python files (its `tools/` subpackage too: the build runs them),
 * copied verbatim into every build beside the generated serve.py (their content goes into the build
 * id like every rendered file, so a new runtime makes a new build). The image leaves `tools/` out
 * (templates/docker/dockerignore.hbs).
 */
export function servingRuntimeFiles(): RenderedFile[] {
  runtimeFiles ??= folderFiles(SERVING_RUNTIME_DIR)
    .filter((f) => f.endsWith('.py') && !f.includes('__pycache__/'))
    .map((f) => ({ path: `${SERVING_PACKAGE}/${f}`, content: readFileSync(path.join(SERVING_RUNTIME_DIR, f), 'utf8') }));
  return runtimeFiles;
}

/** A value of the field that passes validation: the model is warmed up with it before serving. */
function sampleValue(f: FieldSpec): unknown {
  switch (f.type) {
    case 'number':
      return f.min ?? f.max ?? 0;
    case 'integer':
      return Math.ceil(f.min ?? f.max ?? 0);
    case 'category':
      return f.values?.[0] ?? '';
    case 'string':
      return '';
    case 'boolean':
      return false;
  }
}

/**
 * A value as a Python literal. Strings go through JSON, whose escapes Python reads the same way; the
 * manifest's patterns already keep quotes and line breaks out, this keeps it safe regardless.
 */
export function pyLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`cannot render ${value} as a Python literal`);
    return Number.isInteger(value) ? String(value) : JSON.stringify(value);
  }
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `(${value.map(pyLiteral).join(', ')}${value.length === 1 ? ',' : ''})`;
  if (typeof value === 'object') {
    return `{${Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${JSON.stringify(k)}: ${pyLiteral(v)}`)
      .join(', ')}}`;
  }
  throw new Error(`cannot render a ${typeof value} as a Python literal`);
}

registerTemplateHelper('py', (value: unknown) => pyLiteral(value));

/** A template of `templates/`, from the one loader (src/util/templates.ts), with the `py` helper. */
export { template } from '../util/templates.js';
