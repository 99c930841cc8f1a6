/**
 * `mlship build`: resolve the inputs (their digests name the build), render the context into a
 * staging folder, copy the features package and the model, prepare the local Python runtime, run the
 * feature-parity check, profile the baseline, write build.json last and move the folder into place
 * under `.mlship/build/<id>/`; then the image, when it will be used (a target that deploys images, or
 * `--image`) and a builder works here (src/packaging/image/). Same inputs → the folder exists →
 * reused without any of that. An LLM build renders its server's context instead (src/packaging/llm.ts)
 * and skips the Python runtime, the parity check and the baseline. `currentBuild` is how `push` finds the build of the current inputs.
 */
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { OperationError } from '../util/errors.js';
import type { Reporter } from '../util/reporter.js';
import { readJson, writeJsonAtomic } from '../util/fs.js';
import type { BaselineProfile } from '../baseline/profile.js';
import type { Manifest } from '../manifest/types.js';
import { baselineProfile } from './baseline.js';
import type { ImageInfo } from './image/builder.js';
import { selectBuilder } from './image/select.js';
import { resolveInputs } from './inputs.js';
import { selectLlm, weightsWarning, type LlmRuntime } from './llm.js';
import { calibrate, type MeasuredCost } from './calibrate.js';
import { quantizeForBuild, type QuantizationRecord } from './quantize.js';
import { describeParity, parityError, runParity, type ParityReport } from './parity.js';
import { preparePython, probePython, type PythonEnv } from './python-env.js';
import { HTTP_STACK_MODULES, servingModules } from './requirements.js';

export { render, type ModelInfo, type RenderedFile } from './render.js';
export { serverCommand, type ServerCommand, type ServerSettings } from './launch.js';
export type { ParityReport } from './parity.js';
export type { ImageInfo } from './image/builder.js';
export type { LlmRuntime } from './llm.js';
export type { MeasuredCost } from './calibrate.js';
export type { QuantizationRecord } from './quantize.js';
export { localLlamaServer, localPython } from './local-python.js';

/** A build on disk, as `mlship build` left it (`.mlship/build/<id>/`). */
export interface BuildRef {
  id: string;
  /** Absolute path of the build context. */
  dir: string;
}

/** The local Python runtime a build prepared for the generated app. */
export interface PythonRuntime {
  python: string;
  source: PythonEnv['source'];
}

/** `build.json`: what a build is made of (other commands and the app read it). */
export interface BuildInfo {
  id: string;
  name: string;
  createdAt: string;
  mlshipVersion: string;
  gitCommit?: string;
  /** The resolved manifest, paths relative to the project. */
  manifest: Record<string, unknown>;
  /** Project-relative path → sha256 of every input file. */
  inputs: Record<string, string>;
  model: { file: string; sha256: string; bytes: number; flavor: string };
  /**
   * The local Python runtime of the generated app (an LLM's: its gateway). A string: an LLM build made
   * before mlship served LLMs through its gateway, which has no local runtime.
   */
  runtime: PythonRuntime | LlmRuntime;
  /** LLM builds: the model server behind the gateway. */
  llm?: { server: LlmRuntime };
  /** LLM builds: the instance selection that chose the server, and why. */
  compute?: { instanceType: string; gpu: boolean; reasons: string[] };
  /** A measured quantization: every candidate's size, perplexity, loss and tokens/s, the one served (`model`) and why. */
  quantization?: QuantizationRecord;
  /** LLM builds: the steps of a generated-app build left out, and why. */
  skipped?: string[];
  /** The parity report, or why it did not run. */
  parity: ParityReport | { skipped: string };
  /** `baseline.json` when features.baseline is set. */
  baseline?: string;
  /** CPU cost measured on the build machine (one thread), or why it was not: selection sizes from it. */
  cost?: MeasuredCost | { skipped: string };
  image?: ImageInfo;
}

/** How `buildProject` runs. */
export interface BuildOptions {
  /** Whether to build the image (`imageWanted` decides): `required` fails when no builder works. */
  image: 'required' | 'if-available' | { skip: string };
  /** `--builder`: the tool to build with; default the first of docker, podman, buildah that works. */
  builder?: string;
  platform: string;
  env: NodeJS.ProcessEnv;
}

/**
 * Whether a build makes an image: `--image` / `--no-image` decide when given; otherwise only when the
 * target deploys images (the clouds). The local target runs the app in a Python runtime and never
 * needs one, so a broken container tool cannot fail its build.
 */
export function imageWanted(flag: boolean | undefined, target: { name: string; deploysImages: boolean }): BuildOptions['image'] {
  if (flag === false) return { skip: 'skipped (--no-image)' };
  if (flag === true) return 'required';
  if (target.deploysImages) return 'if-available';
  return { skip: `not needed: the ${target.name} target runs the app without an image (--image builds one)` };
}

/** What `buildProject` made or found. */
export interface BuildResult {
  id: string;
  /** Absolute path of `.mlship/build/<id>`. */
  dir: string;
  reused: boolean;
  info: BuildInfo;
  /** Why no image was built, when none was. */
  imageSkipped?: string;
}

/** `.mlship/build` of a project. */
export function buildsDir(manifest: Manifest): string {
  return path.join(manifest.projectDir, '.mlship', 'build');
}

/** Read a build folder's build.json (undefined when it is not a finished build). */
export function readBuildInfo(dir: string): BuildInfo | undefined {
  return readJson<BuildInfo>(path.join(dir, 'build.json'));
}

/** The finished build whose id matches the current inputs, if there is one. */
export async function currentBuild(manifest: Manifest): Promise<BuildRef | undefined> {
  const { id } = await resolveInputs(manifest);
  const dir = path.join(buildsDir(manifest), id);
  return existsSync(path.join(dir, 'build.json')) ? { id, dir } : undefined;
}

/** Whether a recorded interpreter still runs and has the image's HTTP stack (a quick import, not the whole app). */
async function servesLikeTheImage(python: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  return existsSync(python) && (await probePython(python, HTTP_STACK_MODULES, env)).executable !== undefined;
}

/** Make (or reuse) the build of the manifest's current inputs. */
export async function buildProject(manifest: Manifest, options: BuildOptions, output: Reporter): Promise<BuildResult> {
  const inputs = await resolveInputs(manifest);
  const dir = path.join(buildsDir(manifest), inputs.id);
  let info = readBuildInfo(dir);
  let reused = info !== undefined;
  if (info && typeof info.runtime === 'object' && !(await servesLikeTheImage(info.runtime.python, options.env))) {
    // The interpreter went away (a removed venv), or lacks the image's HTTP stack (a build made before
    // mlship required httptools and uvloop): prepare it again, the rest of the build stands.
    if (existsSync(info.runtime.python))
      output.info(`${info.runtime.python} lacks ${HTTP_STACK_MODULES.join('/')} (the image's HTTP stack): preparing the interpreter again`);
    const runtime = await preparePython({
      manifest,
      requirementsFile: path.join(dir, 'requirements.txt'),
      modules: servingModules(manifest.model.flavor),
      env: options.env,
      output,
    });
    info = { ...info, runtime: { python: runtime.python, source: runtime.source } };
    writeJsonAtomic(path.join(dir, 'build.json'), info);
  }
  if (!info) {
    const made = await makeBuild(manifest, inputs, dir, options, output);
    info = made.info;
    reused = made.reused;
  }
  let imageSkipped: string | undefined;
  if (typeof options.image === 'object') imageSkipped = options.image.skip;
  else {
    const image = await imageStep(info, dir, options, output);
    if ('skipped' in image) imageSkipped = image.skipped;
    else if (image.info !== info.image) {
      info = { ...info, image: image.info };
      writeJsonAtomic(path.join(dir, 'build.json'), info);
    }
  }
  return { id: inputs.id, dir, reused, info, ...(imageSkipped !== undefined && { imageSkipped }) };
}

async function makeBuild(
  manifest: Manifest,
  inputs: Awaited<ReturnType<typeof resolveInputs>>,
  dir: string,
  options: BuildOptions,
  output: Reporter,
): Promise<{ info: BuildInfo; reused: boolean }> {
  const root = buildsDir(manifest);
  mkdirSync(root, { recursive: true });
  const staging = path.join(root, `.staging-${inputs.id}-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  try {
    // A measured quantization: the sweep chooses the file served, and the files are rendered for it.
    const workDir = path.join(staging, '.quantize');
    const quantized = manifest.model.quantizationSweep ? await quantizeForBuild(manifest, workDir, inputs.mlshipVersion, options.env, output) : undefined;
    const served = quantized?.model ?? inputs.model;
    for (const f of quantized?.files ?? inputs.files) {
      mkdirSync(path.dirname(path.join(staging, f.path)), { recursive: true });
      writeFileSync(path.join(staging, f.path), f.content);
      if (f.mode) chmodSync(path.join(staging, f.path), f.mode);
    }
    for (const rel of inputs.featureFiles) {
      const target = path.join(staging, rel);
      mkdirSync(path.dirname(target), { recursive: true });
      cpSync(path.join(manifest.projectDir, rel), target);
    }
    const modelFile = `model/${served.file}`;
    mkdirSync(path.join(staging, 'model'), { recursive: true });
    cpSync(quantized?.path ?? manifest.model.path, path.join(staging, modelFile), { recursive: true }); // a file, or a transformers folder
    rmSync(workDir, { recursive: true, force: true }); // the candidates not chosen
    // The image copies these as they are and runs as a non-root user: a model saved 0600 would not load.
    readableByAll(staging);

    let llm: BuildInfo['llm'];
    let compute: BuildInfo['compute'];
    let parity: BuildInfo['parity'];
    let profile: BaselineProfile | undefined;
    let cost: BuildInfo['cost'];
    // The local runtime: the generated app's, or the LLM gateway's (it runs here on the local target).
    const python = await preparePython({
      manifest,
      requirementsFile: path.join(staging, 'requirements.txt'),
      modules: servingModules(manifest.model.flavor),
      env: options.env,
      output,
    });
    const runtime: BuildInfo['runtime'] = { python: python.python, source: python.source };
    if (manifest.model.flavor === 'llm') {
      const choice = selectLlm(manifest, served.bytes, quantized?.weights);
      llm = { server: choice.runtime };
      compute = { instanceType: choice.instanceType, gpu: choice.gpu, reasons: choice.reasons };
      output.info(`LLM build: ${choice.runtime === 'vllm' ? 'vLLM' : 'llama.cpp'} on ${choice.instanceType} (${choice.reasons.join('; ')})`);
      output.info(`skipped for an LLM: ${LLM_SKIPPED.join('; ')}`);
      const warning = weightsWarning(choice.runtime, served.file);
      if (warning) output.warn(warning);
      parity = { skipped: LLM_SKIPPED[0]! };
    } else {
      ({ parity, profile } = await parityStep(manifest, inputs, staging, modelFile, python.python, options, output));
      cost = await costStep(manifest, staging, modelFile, python.python, options, output);
    }

    const gitCommit = await gitHead(manifest.projectDir);
    const info: BuildInfo = {
      id: inputs.id,
      name: manifest.name,
      createdAt: new Date().toISOString(),
      mlshipVersion: inputs.mlshipVersion,
      ...(gitCommit && { gitCommit }),
      manifest: inputs.manifest,
      inputs: inputs.inputs,
      model: { file: modelFile, sha256: served.sha256, bytes: served.bytes, flavor: manifest.model.flavor },
      ...(quantized && { quantization: quantized.record }),
      runtime,
      ...(llm && { llm }),
      ...(compute && { compute, skipped: LLM_SKIPPED }),
      parity,
      ...(profile && { baseline: 'baseline.json' }),
      ...(cost && { cost }),
    };
    // build.json last: a folder with it is a finished build.
    writeJsonAtomic(path.join(staging, 'build.json'), info);
    try {
      renameSync(staging, dir);
    } catch (error) {
      // Another build of the same inputs finished first: same content, use it.
      const existing = readBuildInfo(dir);
      if (!existing) throw error;
      rmSync(staging, { recursive: true, force: true });
      return { info: existing, reused: true };
    }
    return { info, reused: false };
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }
}

/** Make every file readable and every folder searchable by everyone (modes only ever widened by a+rX). */
function readableByAll(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isSymbolicLink()) continue;
    const mode = statSync(file).mode & 0o7777;
    if (entry.isDirectory()) {
      chmodSync(file, mode | 0o555);
      readableByAll(file);
    } else chmodSync(file, mode | 0o444);
  }
}

/** What an LLM build leaves out, and why: each needs a features package or tabular rows. */
const LLM_SKIPPED = [
  'feature-parity check (an LLM takes text, not the features package)',
  'baseline profile (LLM drift compares with a reference prompt file or the first week of production)',
  'CPU cost calibration (an LLM is sized by memory and measured tokens/s)',
];

/** The feature-parity check and the baseline profile of a generated-app build. */
async function parityStep(
  manifest: Manifest,
  inputs: Awaited<ReturnType<typeof resolveInputs>>,
  staging: string,
  modelFile: string,
  python: string,
  options: BuildOptions,
  output: Reporter,
): Promise<{ parity: BuildInfo['parity']; profile?: BaselineProfile }> {
  if (manifest.features.baseline && manifest.features.baselineRelative) {
    const progress = await output.progress(`feature-parity check on ${manifest.features.baselineRelative}`);
    let run;
    try {
      run = await runParity({
        python,
        buildDir: staging,
        manifest,
        modelPath: path.join(staging, modelFile),
        tolerance: manifest.features.tolerance,
        env: options.env,
      });
    } catch (error) {
      progress.fail();
      throw error;
    }
    if (!run.report.ok) {
      progress.fail('feature-parity check failed');
      throw parityError(run.report);
    }
    progress.succeed(`feature parity ok: ${run.report.features.length} features, ${run.report.compared} rows`);
    // Rows left out are said, with their field and why: the user decides whether the data is wrong.
    if (run.report.rejectedRows > 0) output.warn(describeParity(run.report).split('\n').slice(1).join('\n').trim());
    const profile = baselineProfile(manifest, inputs.inputs[manifest.features.baselineRelative], run.outputs);
    writeJsonAtomic(path.join(staging, 'baseline.json'), profile);
    return { parity: run.report, profile };
  }
  output.warn('features.baseline is not set: no feature-parity check and no baseline profile (drift-check needs one)');
  return { parity: { skipped: 'features.baseline is not set' } };
}

/** The CPU cost calibration: measured per request and per batch, or the reason it is not. */
async function costStep(
  manifest: Manifest,
  staging: string,
  modelFile: string,
  python: string,
  options: BuildOptions,
  output: Reporter,
): Promise<BuildInfo['cost']> {
  const progress = await output.progress('measuring the CPU cost per request (one thread)');
  const run = await calibrate({ python, buildDir: staging, manifest, modelPath: path.join(staging, modelFile), env: options.env });
  if ('failed' in run) {
    progress.fail('CPU cost not measured: instance selection uses the estimate');
    output.warn(`the CPU cost calibration failed: ${run.failed}`);
    return { skipped: `calibration failed: ${run.failed}` };
  }
  const { perRequest, perBatch } = run.cost;
  progress.succeed(
    `CPU cost measured: ${perRequest.cpuMs} ms per request, ${perBatch.cpuMs} ms per batch of ${perBatch.size} (one thread, ${run.cost.machine.cpu})`,
  );
  return run.cost;
}

async function imageStep(info: BuildInfo, dir: string, options: BuildOptions, output: Reporter): Promise<{ info: ImageInfo } | { skipped: string }> {
  const found = await selectBuilder(options.env, options.builder);
  if ('skipped' in found) {
    if (options.image === 'required') {
      throw new OperationError('builder_unavailable', `--image asks for an image, but no builder works here: ${found.skipped}`, {
        hint: 'Install docker, podman or buildah (buildah needs no daemon), or leave out --image.',
      });
    }
    const rel = path.relative(process.cwd(), dir) || dir;
    const why = typeof info.runtime === 'object' ? 'The local runtime does not need it' : 'An LLM build runs only as an image';
    output.info(
      `image skipped: ${found.skipped}. ${why}; to build one later: docker build --platform ${options.platform} -t mlship/${info.name}:${info.id} ${rel} (or buildah bud, podman build)`,
    );
    return { skipped: found.skipped };
  }
  const { builder } = found;
  if (info.image && info.image.platform === options.platform && info.image.builder === builder.name && (await builder.inspect(info.image.id))) {
    output.info(`image ${info.image.tag} reused (${builder.name}, ${info.image.id.slice(0, 19)})`);
    return { info: info.image };
  }
  const started = Date.now();
  const image = await builder.build({ dir, tag: `mlship/${info.name}:${info.id}`, platform: options.platform, output });
  const size = image.bytes === undefined ? '' : `, ${formatMb(image.bytes)}`;
  output.info(`image built with ${builder.name} in ${((Date.now() - started) / 1000).toFixed(0)} s: ${image.tag} ${image.id}${size}`);
  return { info: image };
}

/** Bytes as megabytes (10^6), the unit registries and `docker images` show. */
export function formatMb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(0)} MB`;
}

async function gitHead(dir: string): Promise<string | undefined> {
  const r = await execa('git', ['rev-parse', '--verify', 'HEAD'], { cwd: dir, reject: false, timeout: 10_000 });
  return r.exitCode === 0 ? r.stdout.trim() || undefined : undefined;
}
