/**
 * Score a build's model on a holdout CSV through the serving app's own code path: the build's
 * `serve.py parity` mode (src/packaging/parity.ts) runs every row through the schema check, the build's
 * features package and the model, exactly as a request would, and returns one output per row. The
 * candidate (its new build) and the live version (the build it was pushed from) are scored this way
 * on the same rows, so the gate compares like with like.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { OperationError } from '../util/errors.js';
import { readCsvFile } from '../util/csv.js';
import { buildsDir, localPython, readBuildInfo } from '../packaging/index.js';
import { runParity } from '../packaging/parity.js';
import type { Manifest } from '../manifest/types.js';
import { computeMetric, type MetricName, type OutputKind, type Scored } from './metrics.js';

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
    throw new OperationError(
      'live_build_missing',
      `cannot score ${version} on the holdout: its build ${buildId} is no longer in ${path.relative(manifest.projectDir, buildsDir(manifest))}`,
      {
        hint: `Rebuild it (check out the commit it was built from and run \`mlship build\`), or deploy the candidate by hand with \`mlship deploy --version\`.`,
      },
    );
  }
  return dir;
}

/** A build's serving-path output for every holdout row (null where its schema rejects the row). */
export async function holdoutOutputs(options: { manifest: Manifest; buildDir: string; holdout: string; env: NodeJS.ProcessEnv }): Promise<unknown[]> {
  const { manifest, buildDir, holdout } = options;
  const info = readBuildInfo(buildDir);
  if (!info) throw new OperationError('build_invalid', `no build.json in ${buildDir}`, { hint: 'Run `mlship build` again.' });
  // The parity mode reads its rows from features.baseline: point it at the holdout.
  const scoringManifest: Manifest = {
    ...manifest,
    features: { ...manifest.features, baseline: holdout, baselineRelative: path.relative(manifest.projectDir, holdout) },
  };
  const run = await runParity({
    python: localPython(info, 'score it on the holdout'),
    buildDir,
    manifest: scoringManifest,
    modelPath: path.join(buildDir, info.model.file),
    tolerance: manifest.features.tolerance,
    env: options.env,
  });
  return run.outputs;
}

/**
 * Score the candidate and the live model on the same rows: rows with a label that every build
 * answered (a row one build's schema rejects is left out of both scores, so they stay comparable).
 */
export function scoreTogether(metric: MetricName, kind: OutputKind, labels: string[], outputs: unknown[][]): HoldoutScore[] {
  const usable = labels.map((label, i) => label !== '' && outputs.every((o) => o[i] !== null && o[i] !== undefined));
  const rows = usable.filter(Boolean).length;
  return outputs.map((o) => {
    const scored: Scored[] = [];
    usable.forEach((ok, i) => {
      if (ok) scored.push({ output: o[i], label: labels[i] });
    });
    return { value: computeMetric(metric, scored, kind), rows, skipped: labels.length - rows };
  });
}
