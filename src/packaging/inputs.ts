/**
 * Build inputs and the content-addressed build id. The id is a digest of everything that shapes the
 * build: the manifest snapshot (paths relative; the target is left out because one context serves
 * every target), the sha256 of the model, of every features-package file and of the baseline, the
 * rendered files themselves (which carry the templates, the pins and the CPU/GPU choice) and the
 * mlship version. Same inputs, same id: a second `mlship build` finds the folder and reuses it. A
 * measured quantization (`model.quantization` as a mapping) adds the evaluation text to the inputs.
 */
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { artifactBytes, sha256Artifact, sha256File } from '../util/fs.js';
import type { Manifest } from '../manifest/types.js';
import { render, type ModelInfo, type RenderedFile } from './render.js';

/** Characters of the hex digest used as the build id. */
const ID_LENGTH = 16;

/** Everything that names a build and goes into it. */
export interface BuildInputs {
  id: string;
  /** The manifest as stored in build.json: resolved, with project-relative paths. */
  manifest: Record<string, unknown>;
  /** Project-relative path → sha256 of each input file (model, features package, baseline). */
  inputs: Record<string, string>;
  model: ModelInfo;
  /** Project-relative paths of the features package files, in `inputs` too. */
  featureFiles: string[];
  files: RenderedFile[];
  mlshipVersion: string;
}

/** mlship's own version (package.json). */
export function mlshipVersion(): string {
  const require = createRequire(import.meta.url);
  return (require('../../package.json') as { version: string }).version;
}

/** The resolved manifest without absolute paths: what build.json keeps. */
export function manifestSnapshot(m: Manifest): Record<string, unknown> {
  const { file: _file, projectDir: _dir, ...rest } = m;
  const { path: _p, relativePath, quantizationSweep, ...model } = m.model;
  const { packageDir: _pd, baseline: _b, baselineRelative, ...features } = m.features;
  const sweep = quantizationSweep && (({ eval_text: _e, evalTextRelative, ...rest }) => ({ ...rest, eval_text: evalTextRelative }))(quantizationSweep);
  return {
    ...rest,
    model: { path: relativePath, ...model, ...(sweep && { quantizationSweep: sweep }) },
    features: { ...features, ...(baselineRelative !== undefined && { baseline: baselineRelative }) },
  };
}

/** Files of the features package, relative to the project; caches and hidden files left out. */
export function featurePackageFiles(m: Manifest): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.name.startsWith('.') || entry.name === '__pycache__' || entry.name.endsWith('.pyc')) continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) out.push(path.relative(m.projectDir, full).split(path.sep).join('/'));
    }
  };
  // An LLM manifest may have no features package (nothing to copy).
  if (m.features.packageDir) walk(m.features.packageDir);
  return out;
}

/** Hash every input and render the files: everything needed to name (and then make) a build. */
export async function resolveInputs(manifest: Manifest): Promise<BuildInputs> {
  const version = mlshipVersion();
  const inputs: Record<string, string> = {};
  const modelSha = await sha256Artifact(manifest.model.path);
  inputs[manifest.model.relativePath] = modelSha;
  const featureFiles = featurePackageFiles(manifest);
  for (const rel of featureFiles) inputs[rel] = await sha256File(path.join(manifest.projectDir, rel));
  if (manifest.features.baseline && manifest.features.baselineRelative) {
    inputs[manifest.features.baselineRelative] = await sha256File(manifest.features.baseline);
  }
  // A measured quantization: the evaluation text shapes the build (the sweep reruns when it changes).
  const sweep = manifest.model.quantizationSweep;
  if (sweep) inputs[sweep.evalTextRelative] = await sha256File(sweep.eval_text);
  const model: ModelInfo = { file: path.basename(manifest.model.path), sha256: modelSha, bytes: artifactBytes(manifest.model.path) };
  // A measured quantization renders after its sweep, for the file it chose (src/packaging/quantize.ts):
  // its id is the inputs alone (the model, the evaluation text, the candidates in the manifest).
  const files = sweep ? [] : render(manifest, model, { mlshipVersion: version });
  const snapshot = manifestSnapshot(manifest);
  const { target: _t, targets: _ts, ...identity } = snapshot;
  const h = createHash('sha256');
  h.update(JSON.stringify({ mlship: version, manifest: identity, inputs: Object.entries(inputs).sort() }));
  for (const f of files) h.update(`\0${f.path}\0${f.content}`);
  return { id: h.digest('hex').slice(0, ID_LENGTH), manifest: snapshot, inputs, model, featureFiles, files, mlshipVersion: version };
}
