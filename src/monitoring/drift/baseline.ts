/**
 * Where the baseline comes from: a stored profile (the live version's, or `--baseline x.json`), a
 * data file profiled on the spot (`--baseline train.csv` / `rows.jsonl`), or the first seven days
 * of production logs (`--reference first-week`).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ManifestError, OperationError, UsageError } from '../../util/errors.js';
import { readCsvFile } from '../../util/csv.js';
import { typeRows } from '../../manifest/typed-rows.js';
import type { FieldSpec } from '../../manifest/types.js';
import type { LogSource, LogWindow } from '../../logs/types.js';
import { PROFILE_FORMAT, profileCategorical, profileNumeric, type BaselineProfile, type FeatureProfile, type Value } from '../../baseline/profile.js';
import { detectFileFormat, fileLogSource, parseTime, readSource, ReadStats, type ExtractValues } from '../../logs/readers.js';

const WEEK_MS = 7 * 86_400_000;

function isNumericField(spec: FieldSpec | undefined, values: readonly Value[]): boolean {
  if (spec) return spec.type === 'number' || spec.type === 'integer';
  return values.every((v) => v === null || v === undefined || v === '' || typeof v === 'number' || (typeof v === 'string' && Number.isFinite(Number(v))));
}

function profileColumn(spec: FieldSpec | undefined, values: readonly Value[]): FeatureProfile {
  return isNumericField(spec, values) ? profileNumeric(values) : profileCategorical(values);
}

function toValue(v: unknown): Value {
  return v === null || v === undefined || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean' ? v : JSON.stringify(v);
}

/**
 * A profile of rows in memory: one column per schema field (kinds from the schema) and, when
 * given, the model's outputs on the same rows (numeric when every output is a number).
 */
export function profileRows(
  rows: readonly Record<string, unknown>[],
  schema: Record<string, FieldSpec>,
  source: string,
  outputs?: readonly unknown[],
): BaselineProfile {
  const features: Record<string, FeatureProfile> = {};
  for (const [name, spec] of Object.entries(schema))
    features[name] = profileColumn(
      spec,
      rows.map((r) => toValue(r[name])),
    );
  const profile: BaselineProfile = { format: PROFILE_FORMAT, source: { path: source }, rows: rows.length, features };
  const scalars = outputs?.filter((o) => o !== undefined && (typeof o !== 'object' || o === null)).map(toValue);
  if (scalars && scalars.length > 0)
    profile.output = scalars.every((o) => typeof o === 'number' || o === null) ? profileNumeric(scalars) : profileCategorical(scalars);
  return profile;
}

/** Load `--baseline PATH`: a profile (.json), or data rows (.csv, .jsonl — flat rows or prediction-log lines). */
export async function loadBaselineFile(file: string, schema: Record<string, FieldSpec>, cwd: string): Promise<BaselineProfile> {
  const full = path.resolve(cwd, file);
  let text: string;
  try {
    text = readFileSync(full, 'utf8');
  } catch {
    throw new UsageError(`cannot read the baseline ${file}`, {
      code: 'baseline_not_found',
      hint: 'Pass --baseline with a profile (.json) or a data file (.csv / .jsonl) that exists.',
    });
  }
  if (/\.csv$/i.test(full)) {
    // Cells read as a JSON client sends them, as the build's profile reads them (manifest/typed-rows.ts).
    const typed = typeRows(readCsvFile(full), schema);
    const first = typed.problems[0];
    if (first) {
      throw new UsageError(
        `the baseline ${file} has ${typed.rejectedRows} row${typed.rejectedRows === 1 ? '' : 's'} that do not fit features.schema; row ${first.row}: ${first.message}`,
        {
          code: 'baseline_invalid',
          hint: 'Fix those cells (README "Baseline data" says how cells are read) or the field\'s schema, or pass the baseline.json a build wrote.',
        },
      );
    }
    return profileRows(
      typed.records.filter((r) => r !== undefined),
      schema,
      file,
    );
  }
  if (/\.json$/i.test(full)) {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      throw new ManifestError(`the baseline ${file} is not valid JSON: ${(e as Error).message}`, {
        code: 'baseline_invalid',
        hint: 'A baseline profile is the baseline.json that `mlship build` writes.',
      });
    }
    const p = doc as Partial<BaselineProfile>;
    if (typeof p !== 'object' || p === null || p.format !== PROFILE_FORMAT || typeof p.features !== 'object') {
      throw new ManifestError(`${file} is not a baseline profile (format ${PROFILE_FORMAT})`, {
        code: 'baseline_invalid',
        hint: 'Pass the baseline.json that `mlship build` writes, or a data file (.csv / .jsonl).',
      });
    }
    return doc as BaselineProfile;
  }
  // JSON Lines: prediction-log lines (input + output) or flat rows.
  const rows: Record<string, unknown>[] = [];
  const outputs: unknown[] = [];
  const stats = new ReadStats();
  // Prediction-log lines of any target's format, or flat data rows: decided by parsing the lines.
  const format = detectFileFormat(full);
  const isLog = format !== undefined;
  const source = fileLogSource(full, format);
  if (isLog) {
    const fields = Object.keys(schema);
    await readSource(
      source,
      (r) => {
        rows.push(Object.fromEntries(fields.map((f, i) => [f, r.values[i]])));
        outputs.push(r.output);
        return undefined;
      },
      { fields, stats },
    );
  } else {
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      try {
        const v = JSON.parse(line) as unknown;
        if (typeof v === 'object' && v !== null && !Array.isArray(v)) rows.push(v as Record<string, unknown>);
      } catch {
        stats.reject('invalid_json', file);
      }
    }
  }
  if (rows.length === 0) throw new UsageError(`the baseline ${file} has no rows`, { code: 'baseline_empty', hint: 'Pass a data file with at least one row.' });
  return profileRows(rows, schema, file, isLog ? outputs : undefined);
}

/**
 * `--reference first-week`: the first seven days of the logs (from the earliest prediction) as the
 * baseline (until `end`), and the window to check narrowed to start after them. `extract` fills the
 * values another way than from the input fields (an LLM's: llm-values.ts).
 */
export async function firstWeekReference(
  sources: LogSource[],
  schema: Record<string, FieldSpec>,
  window: LogWindow,
  extract?: ExtractValues,
): Promise<{ profile: BaselineProfile; window: LogWindow; end: Date }> {
  const fields = Object.keys(schema);
  let earliest = Infinity;
  for (const s of sources) {
    await readSource(
      s,
      (r) => {
        const time = parseTime(r.ts);
        if (time !== undefined && time < earliest) earliest = time;
        return undefined;
      },
      { fields, stats: new ReadStats() },
    );
  }
  if (!Number.isFinite(earliest)) {
    throw new OperationError('no_predictions', 'no timestamped predictions in the logs to take a first-week reference from', {
      hint: 'Use the training baseline (the default) or --baseline.',
    });
  }
  const end = new Date(earliest + WEEK_MS);
  const rows: Record<string, unknown>[] = [];
  const outputs: unknown[] = [];
  for (const s of sources) {
    await readSource(
      s,
      (r) => {
        rows.push(Object.fromEntries(fields.map((f, i) => [f, r.values[i]])));
        outputs.push(r.output);
        return undefined;
      },
      { fields, extract, window: { from: new Date(earliest), to: end }, stats: new ReadStats() },
    );
  }
  const from = window.from && window.from > end ? window.from : end;
  return {
    profile: profileRows(rows, schema, `first week of logs (${new Date(earliest).toISOString()} – ${end.toISOString()})`, outputs),
    window: { from, to: window.to },
    end,
  };
}
