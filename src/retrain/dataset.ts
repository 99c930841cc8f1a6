/**
 * The data a retraining run trains on: `retraining.data` (files or globs, relative to the project),
 * or with `--from-logs` a CSV assembled from logged inputs joined with their feedback labels (the
 * schema's fields in order, then the label column). Either way the files and their sha256 become
 * the new version's lineage.
 */
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { OperationError, UsageError } from '../util/errors.js';
import { sha256File } from '../util/fs.js';
import { expandGlob } from '../logs/readers.js';
import type { Manifest } from '../manifest/types.js';
import type { LogSource, LogWindow } from '../logs/types.js';
import { joinFeedback, type JoinStats } from '../logs/join.js';

/** A data file of the lineage: project-relative path and digest. */
export interface DataFile {
  path: string;
  sha256: string;
}

/** Whether a run that names no data (a schedule, a drift trigger) trains from the logs: when `retraining.data` is not set. */
export function defaultFromLogs(manifest: Manifest): boolean {
  return manifest.retraining.data.length === 0;
}

/** The files `retraining.data` names, sorted, without duplicates. */
export function resolveDataFiles(manifest: Manifest): string[] {
  if (manifest.retraining.data.length === 0) {
    throw new UsageError('retraining.data is not set: no data to retrain on', {
      code: 'no_training_data',
      hint: 'Set retraining.data in mlship.yaml (a file, a glob or a list), or pass --from-logs to train on logged inputs with their feedback labels.',
    });
  }
  const files = new Set<string>();
  for (const pattern of manifest.retraining.data) {
    const abs = path.resolve(manifest.projectDir, pattern);
    const found = /[*?]/.test(pattern) ? expandGlob(abs) : existsSync(abs) ? [abs] : [];
    if (found.length === 0) {
      throw new UsageError(`retraining.data "${pattern}" matches no file`, {
        code: 'no_training_data',
        hint: 'Check the path or glob, relative to the folder of mlship.yaml.',
      });
    }
    for (const f of found) files.add(f);
  }
  return [...files].sort();
}

/** Lineage entries (project-relative path, sha256) for data files. */
export async function lineage(manifest: Manifest, files: string[]): Promise<DataFile[]> {
  return Promise.all(files.map(async (f) => ({ path: path.relative(manifest.projectDir, f).split(path.sep).join('/'), sha256: await sha256File(f) })));
}

/** One CSV cell: quoted when it holds a separator, a quote or a line break. */
function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const text = typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The label column the assembled CSV needs. */
export function labelColumn(manifest: Manifest): string {
  const label = manifest.features.label;
  if (!label) {
    throw new UsageError('--from-logs needs features.label: the name of the label column the training code reads', {
      code: 'no_label_column',
      hint: 'Set features.label in mlship.yaml (e.g. label: churned).',
    });
  }
  return label;
}

/**
 * Write the labelled predictions in the window as a training CSV (no file: count only). Returns the
 * rows written and the join's counts; no labelled prediction is an error.
 */
export async function assembleFromLogs(
  manifest: Manifest,
  sources: { predictions: LogSource[]; feedback: LogSource[] },
  window: LogWindow,
  file: string | undefined,
): Promise<{ rows: number; stats: JoinStats }> {
  const label = labelColumn(manifest);
  const fields = Object.keys(manifest.features.schema);
  let out: ReturnType<typeof createWriteStream> | undefined;
  if (file) {
    mkdirSync(path.dirname(file), { recursive: true });
    out = createWriteStream(file);
    out.write(`${[...fields, label].map(cell).join(',')}\n`);
  }
  let rows = 0;
  // Rows are bounded by the labels (already held in memory by the join), so buffering the writes is fine.
  const stats = await joinFeedback(
    sources.predictions,
    sources.feedback,
    window,
    (row) => {
      rows++;
      out?.write(`${[...fields.map((f) => row.input[f]), row.label].map(cell).join(',')}\n`);
    },
    { csvFields: fields },
  );
  if (out) {
    out.end();
    await once(out, 'finish');
  }
  if (rows === 0) {
    throw new OperationError(
      'no_training_data',
      `no logged prediction has a feedback label${window.from ? ' in the window' : ''} (${stats.predictions} predictions, ${stats.labelLines} labels)`,
      {
        hint: 'Send labels to POST /feedback with the prediction ids, or widen the window (--since).',
        details: { stats },
      },
    );
  }
  return { rows, stats };
}
