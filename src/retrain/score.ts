/**
 * Score a build's model on a holdout CSV through the serving app's own code path: the build's
 * `serve.py parity` mode (src/build/parity.ts) runs every row through the schema check, the build's
 * features package and the model, exactly as a request would, and returns one output per row. The
 * candidate (its new build) and the live version (the build it was pushed from) are scored this way
 * on the same rows, so the gate compares like with like.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { OperationError } from '../core/errors.js';
import { readCsvFile } from '../core/csv.js';
import { buildsDir, readBuildInfo } from '../build/index.js';
import { runParity } from '../build/parity.js';
import type { Manifest } from '../manifest/types.js';
import { computeMetric, type MetricName, type Scored } from './metrics.js';

export interface HoldoutScore {
  value: number;
  /** Rows scored (rows the build's schema rejects or without a label are left out). */
  rows: number;
  skipped: number;
}

/** The label column of a holdout file, as the manifest names it. */
export function holdoutLabels(manifest: Manifest, holdout: string): string[] {
  const label = manifest.features.label;
  const table = readCsvFile(holdout);
  const i = label ? table.columns.indexOf(label) : -1;
  if (!label || i < 0) {
    throw new OperationError('holdout_without_label', `the holdout ${holdout} has no label column${label ? ` "${label}"` : ''}`, {
      hint: 'Set features.label in mlship.yaml and write the holdout rows with their label column (train.py --holdout).',
    });
  }
  return table.rows.map((r) => r[i]!);
}

/** The folder of a finished build in the project's build area. */
export function buildDirOf(manifest: Manifest, buildId: string, version: string): string {
  const dir = path.join(buildsDir(manifest), buildId);
  if (!existsSync(path.join(dir, 'build.json'))) {
    throw new OperationError('live_build_missing', `cannot score ${version} on the holdout: its build ${buildId} is no longer in ${path.relative(manifest.projectDir, buildsDir(manifest))}`, {
      hint: `Rebuild it (check out the commit it was built from and run \`mlship build\`), or deploy the candidate by hand with \`mlship deploy --version\`.`,
    });
  }
  return dir;
}

/** One build's metric on the holdout. */
export async function scoreBuild(options: { manifest: Manifest; buildDir: string; holdout: string; labels: string[]; metric: MetricName; env: NodeJS.ProcessEnv }): Promise<HoldoutScore> {
  const { manifest, buildDir, holdout } = options;
  const info = readBuildInfo(buildDir);
  if (!info) throw new OperationError('build_invalid', `no build.json in ${buildDir}`, { hint: 'Run `mlship build` again.' });
  const scoringManifest: Manifest = { ...manifest, features: { ...manifest.features, baseline: holdout, baselineRelative: path.relative(manifest.projectDir, holdout) } };
  const run = await runParity({ python: info.runtime.python, buildDir, manifest: scoringManifest, modelPath: path.join(buildDir, info.model.file), tolerance: manifest.features.tolerance, env: options.env });
  const rows: Scored[] = [];
  run.outputs.forEach((output, i) => {
    const label = options.labels[i];
    if (output !== null && output !== undefined && label !== undefined && label !== '') rows.push({ output, label });
  });
  return { value: computeMetric(options.metric, rows, manifest.model.output), rows: rows.length, skipped: run.outputs.length - rows.length };
}
