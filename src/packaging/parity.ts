/**
 * The feature-parity check. The generated app's `parity` mode (python/mlship_serving/tools/parity.py)
 * runs the baseline rows through (a) the training path — the features package's `transform` on the
 * whole frame, as train.py applies it — and
 * (b) the serving path — the app's own per-request code, one JSON record at a time — and compares
 * every feature within `features.tolerance`. This module drives it and words the verdict.
 *
 * The serving path's records are typed here, as a JSON client would send them (manifest/typed-rows.ts),
 * and handed to the app as JSON lines in MLSHIP_PARITY_RECORDS: a numeric column that pandas reads as
 * text (blank cells) still reaches the app as numbers and nulls. Rows whose cells cannot be typed are
 * reported as rejected, with the field and why.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { readCsvFile } from '../util/csv.js';
import { CheckFailedError, OperationError } from '../util/errors.js';
import { typeRows } from '../manifest/typed-rows.js';
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
export async function runParity(options: {
  python: string;
  buildDir: string;
  manifest: Manifest;
  modelPath: string;
  tolerance: number;
  env: NodeJS.ProcessEnv;
}): Promise<ParityRun> {
  const { manifest } = options;
  const baseline = manifest.features.baseline;
  if (!baseline) throw new Error('runParity needs features.baseline');
  const tmp = mkdtempSync(path.join(tmpdir(), 'mlship-parity-'));
  const out = path.join(tmp, 'report.json');
  const records = path.join(tmp, 'records.jsonl');
  const typed = typeRows(readCsvFile(baseline), manifest.features.schema);
  // One line per data row, aligned with pandas' rows; null where a cell cannot be typed.
  writeFileSync(records, typed.records.map((r) => `${JSON.stringify(r ?? null)}\n`).join(''));
  try {
    const args = [
      path.join(options.buildDir, 'serve.py'),
      'parity',
      '--baseline',
      baseline,
      '--tolerance',
      String(options.tolerance),
      '--model',
      options.modelPath,
      '--out',
      out,
      '--max-rows',
      String(MAX_PARITY_ROWS),
    ];
    if (manifest.features.label) args.push('--label', manifest.features.label);
    const env = { ...options.env, PYTHONDONTWRITEBYTECODE: '1', MLSHIP_PARITY_RECORDS: records };
    const r = await execa(options.python, args, { cwd: options.buildDir, reject: false, env, extendEnv: false, all: true });
    if (r.exitCode !== 0) {
      const tail = (r.all ?? r.message).trim().split('\n').slice(-12).join('\n');
      throw new OperationError('parity_failed_to_run', `the feature-parity check could not run (exit ${r.exitCode ?? 'none'}):\n${tail}`, {
        hint: `Check that the features package "${manifest.features.package}" imports and that transform() accepts the baseline ${manifest.features.baselineRelative}.`,
      });
    }
    const parsed = JSON.parse(readFileSync(out, 'utf8')) as ParityReport & { outputs: unknown[] };
    const { outputs, ...report } = parsed;
    // Rows typing rejected never reached the app: they join the rows its schema check rejected.
    if (typed.rejectedRows > 0) {
      report.rejected = [...typed.problems.map((p) => ({ ...p })), ...report.rejected].sort((a, b) => a.row - b.row).slice(0, 20);
      report.rejectedRows += typed.rejectedRows;
      if (report.compared === 0 && report.rows > 0) report.ok = false;
    }
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
  const noneCompared = !report.ok && report.compared === 0 && report.rows > 0;
  if (noneCompared) {
    lines.push(`feature parity check failed: none of the ${report.rows} baseline rows passes the request schema, so nothing could be compared`);
  }
  for (const e of report.errors.slice(0, 5)) lines.push(`  serving path failed on row ${e.row}: ${e.message}`);
  if (report.rejectedRows > 0) {
    // Which field, and why: one line per distinct reason (the first row it happens on).
    const seen = new Set<string>();
    const reasons = report.rejected.filter((r) => {
      const key = `${r.field ?? ''}\0${r.message.replace(/got .*/, '')}`;
      return seen.has(key) ? false : (seen.add(key), true);
    });
    lines.push(
      `  ${noneCompared ? '' : 'note: '}${report.rejectedRows} baseline row${report.rejectedRows === 1 ? '' : 's'} fail the request schema${noneCompared ? '' : ' and were not compared'}:`,
    );
    for (const r of reasons.slice(0, 5)) lines.push(`    row ${r.row}: ${r.message}`);
  }
  return lines.join('\n');
}

/** The failure `build` raises (exit 3), carrying the full report for --json; the hint fits the failure. */
export function parityError(report: ParityReport): CheckFailedError {
  const schemaOnly = report.mismatches.length === 0 && report.errors.length === 0 && report.rejectedRows > 0;
  return new CheckFailedError(schemaOnly ? 'parity_no_rows' : 'parity_mismatch', describeParity(report), {
    hint: schemaOnly
      ? `The baseline ${report.rows === 1 ? 'row does' : 'rows do'} not fit features.schema: fix the fields named above in the data, or their schema (type, nullable, min/max, values). README "Baseline data" says how cells are read.`
      : 'The features package must compute the same features for one record as for the whole training frame: avoid statistics of the batch (means, ranks, min/max) in transform(), or fit them in training and load them as constants.',
    details: { result: report },
  });
}
