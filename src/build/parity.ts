/**
 * The feature-parity check. The generated app's `parity` mode runs the baseline rows through (a) the
 * training path — the features package's `transform` on the whole frame, as train.py applies it — and
 * (b) the serving path — the app's own per-request code, one JSON record at a time — and compares
 * every feature within `features.tolerance`. This module drives it and words the verdict.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { CheckFailedError, OperationError } from '../core/errors.js';
import type { Manifest } from '../manifest/types.js';

/**
 * Rows compared record by record. The training path always sees the whole baseline; the serving path
 * (about a millisecond a row) sees an even sample of larger ones, so a big baseline does not make a
 * build take hours.
 */
export const MAX_PARITY_ROWS = 20_000;

/** One feature that differs between training and serving. */
export interface ParityMismatch {
  feature: string;
  /** How many rows differ. */
  rows: number;
  /** The first differing row: its raw input, the training value and the serving value. */
  example: { row: number; input: Record<string, unknown>; expected: unknown; got: unknown };
}

/** The check's result, as stored in build.json. */
export interface ParityReport {
  ok: boolean;
  /** Baseline rows read, and rows compared (rows the schema rejects are not compared). */
  rows: number;
  compared: number;
  features: string[];
  tolerance: number;
  mismatches: ParityMismatch[];
  /** Baseline rows the serving schema rejects (first 20), and how many in all. */
  rejected: { row: number; field: string | null; message: string }[];
  rejectedRows: number;
  /** Rows on which the serving path raised. */
  errors: { row: number; message: string }[];
}

/** A parity run: the report, and the model's outputs on the baseline rows for its profile. */
export interface ParityRun {
  report: ParityReport;
  /** The model's output per baseline row (on the training path's features). */
  outputs: unknown[];
}

/** Run the app's parity mode in a prepared build folder. */
export async function runParity(options: { python: string; buildDir: string; manifest: Manifest; modelPath: string; tolerance: number; env: NodeJS.ProcessEnv }): Promise<ParityRun> {
  const { manifest } = options;
  const baseline = manifest.features.baseline;
  if (!baseline) throw new Error('runParity needs features.baseline');
  const tmp = mkdtempSync(path.join(tmpdir(), 'mlship-parity-'));
  const out = path.join(tmp, 'report.json');
  try {
    const args = [path.join(options.buildDir, 'serve.py'), 'parity', '--baseline', baseline, '--tolerance', String(options.tolerance), '--model', options.modelPath, '--out', out, '--max-rows', String(MAX_PARITY_ROWS)];
    if (manifest.features.label) args.push('--label', manifest.features.label);
    const r = await execa(options.python, args, { cwd: options.buildDir, reject: false, env: { ...options.env, PYTHONDONTWRITEBYTECODE: '1' }, extendEnv: false, all: true });
    if (r.exitCode !== 0) {
      const tail = (r.all ?? r.message).trim().split('\n').slice(-12).join('\n');
      throw new OperationError('parity_failed_to_run', `the feature-parity check could not run (exit ${r.exitCode ?? 'none'}):\n${tail}`, {
        hint: `Check that the features package "${manifest.features.package}" imports and that transform() accepts the baseline ${manifest.features.baselineRelative}.`,
      });
    }
    const parsed = JSON.parse(readFileSync(out, 'utf8')) as ParityReport & { outputs: unknown[] };
    const { outputs, ...report } = parsed;
    return { report, outputs };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Human words for a report (one line when it passed). */
export function describeParity(report: ParityReport): string {
  const lines: string[] = [];
  if (report.ok) {
    lines.push(`feature parity ok: ${report.features.length} features equal on ${report.compared} rows (tolerance ${report.tolerance})`);
  } else if (report.mismatches.length > 0) {
    lines.push(
      `feature parity check failed: ${report.mismatches.length} of ${report.features.length} features differ between training (whole frame) and serving (one record at a time) on ${report.compared} rows, tolerance ${report.tolerance}`,
    );
    for (const m of report.mismatches) {
      lines.push(`  ${m.feature}: ${m.rows} row${m.rows === 1 ? '' : 's'} differ; e.g. row ${m.example.row} ${JSON.stringify(m.example.input)}`);
      lines.push(`    training ${JSON.stringify(m.example.expected)}  serving ${JSON.stringify(m.example.got)}`);
    }
  }
  if (!report.ok && report.compared === 0 && report.rows > 0) {
    lines.push(`feature parity check failed: none of the ${report.rows} baseline rows passes the request schema, so nothing could be compared`);
  }
  for (const e of report.errors.slice(0, 5)) lines.push(`  serving path failed on row ${e.row}: ${e.message}`);
  if (report.rejectedRows > 0) {
    const first = report.rejected[0];
    lines.push(`  note: ${report.rejectedRows} baseline rows fail the request schema and were not compared${first ? ` (row ${first.row}: ${first.message})` : ''}`);
  }
  return lines.join('\n');
}

/** The failure `build` raises on a mismatch (exit 3), carrying the full report for --json. */
export function parityError(report: ParityReport): CheckFailedError {
  return new CheckFailedError('parity_mismatch', describeParity(report), {
    hint: 'The features package must compute the same features for one record as for the whole training frame: avoid statistics of the batch (means, ranks, min/max) in transform(), or fit them in training and load them as constants.',
    details: { result: report },
  });
}
