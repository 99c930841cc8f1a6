/**
 * What every target's tests need besides a project: a build folder laid out as `mlship build` leaves
 * it (`build.json` with the model file and digest, the model, the baseline profile from the real
 * training data) so push has something real to upload, and a target context with its output captured.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { BaselineProfile } from '../../src/baseline/profile.js';
import { Output } from '../../src/cli/output.js';
import type { TargetContext } from '../../src/deploy/types.js';
import { loadManifestFile } from '../../src/manifest/load.js';
import type { Manifest } from '../../src/manifest/types.js';
import { baselineProfile } from '../../src/packaging/baseline.js';
import type { BuildRef } from '../../src/packaging/index.js';

/** The baseline profile of the example's training data, as the build computes it (without outputs). */
export function exampleBaseline(manifest: Manifest): BaselineProfile {
  return baselineProfile(manifest, undefined, undefined);
}

/**
 * A build folder for the project. `variant` > 0 appends bytes to the model so it gets another digest
 * (a "retrained" model), which is all the registry cares about.
 */
export function makeBuild(manifest: Manifest, variant = 0): BuildRef {
  const modelBytes = Buffer.concat([readFileSync(manifest.model.path), Buffer.from(variant > 0 ? `\nvariant ${variant}` : '')]);
  const sha256 = createHash('sha256').update(modelBytes).digest('hex');
  const id = sha256.slice(0, 12);
  const dir = path.join(manifest.projectDir, '.mlship', 'build', id);
  mkdirSync(path.join(dir, 'model'), { recursive: true });
  writeFileSync(path.join(dir, 'model', path.basename(manifest.model.path)), modelBytes);
  writeFileSync(
    path.join(dir, 'build.json'),
    JSON.stringify({ id, model: { file: `model/${path.basename(manifest.model.path)}`, sha256 }, runtime: { python: 'python3' } }, null, 2),
  );
  // An LLM has no tabular baseline (no features block).
  if (manifest.features.baseline) writeFileSync(path.join(dir, 'baseline.json'), JSON.stringify(exampleBaseline(manifest)));
  copyFileSync(manifest.file, path.join(dir, 'mlship.yaml'));
  return { id, dir };
}

/** Collects what a target writes to stderr. */
export class Sink extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

/** A target context for the project, with output captured. */
export function targetContext(manifestFile: string, command = 'deploy'): { ctx: TargetContext; stderr: Sink } {
  const stderr = new Sink();
  const output = new Output({ json: false, verbose: false, color: false, interactive: false, stdout: new Sink(), stderr });
  const manifest = loadManifestFile(manifestFile);
  return { ctx: { manifest, output, env: process.env, command, now: () => new Date() }, stderr };
}
