/**
 * CSV rows typed the way a JSON client sends them, per the feature schema: numbers as numbers,
 * booleans as booleans, missing cells as null. One reading of baseline data for everything that
 * uses it — the feature-parity check (rows go to the app's per-record path), the baseline profile,
 * drift baselines from a CSV and the load test's request bodies — so none of them sees `"29.85"`
 * where a client would send `29.85`.
 *
 * What is data and what is an error (README, "Baseline data"):
 * - missing: an empty or blank cell, or one of pandas' default NA markers (`NA`, `N/A`, `NaN`,
 *   `null`, `None`, `#N/A`, …) — what `pd.read_csv` in train.py reads as missing too. Null when the
 *   field is `nullable`, else an error.
 * - spaces around a value are not part of it (`" 29.85 "` is 29.85), except in `string` fields.
 * - CSV quotes are syntax: `"29.85"` in the file is the number 29.85.
 * - numbers: decimal notation with an optional exponent (`1e3`); an integer field takes whole
 *   numbers (`3` or `3.0`). Thousands separators (`1,234.5`), currency signs, units, `inf` are
 *   errors naming the field and the row: the file must say the number plainly.
 * - booleans: true/false, 1/0, yes/no (any case).
 * Ranges and category values are not checked here: the app's own schema check does that, and says
 * which field and why.
 */
import type { CsvTable } from '../util/csv.js';
import type { FieldSpec } from './types.js';

/** pandas' default NA markers (`pd.read_csv(na_values=…)` defaults), compared after trimming. */
export const NA_MARKERS: ReadonlySet<string> = new Set([
  '',
  '#N/A',
  '#N/A N/A',
  '#NA',
  '-1.#IND',
  '-1.#QNAN',
  '-NaN',
  '-nan',
  '1.#IND',
  '1.#QNAN',
  '<NA>',
  'N/A',
  'NA',
  'NULL',
  'NaN',
  'None',
  'n/a',
  'nan',
  'null',
]);

/** A decimal number as JSON and Python's float() read it (with an optional sign). */
export const NUMBER_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const THOUSANDS = /^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$/;
const TRUE = /^(true|1|yes)$/i;
const FALSE = /^(false|0|no)$/i;

/** Is this cell missing (blank or an NA marker)? */
export function isMissingCell(cell: string): boolean {
  return NA_MARKERS.has(cell.trim());
}

/** A JSON value for one cell, or why the cell cannot be the field's type. */
export type CellResult = { value: string | number | boolean | null } | { error: string };

/** Type one cell for a field. */
export function typeCell(cell: string, spec: FieldSpec): CellResult {
  const text = cell.trim();
  if (isMissingCell(text)) {
    return spec.nullable
      ? { value: null }
      : {
          error: `is ${text === '' ? 'empty' : JSON.stringify(text)} (missing), and the field is not nullable: add "nullable: true" to its schema or fill the cell`,
        };
  }
  switch (spec.type) {
    case 'number':
    case 'integer': {
      if (!NUMBER_TEXT.test(text)) {
        const why = THOUSANDS.test(text) ? ' (thousands separators are not read: write it without them)' : '';
        return { error: `must be a number, got ${JSON.stringify(cell)}${why}` };
      }
      const n = Number(text);
      if (!Number.isFinite(n)) return { error: `must be a finite number, got ${JSON.stringify(cell)}` };
      if (spec.type === 'integer' && !Number.isInteger(n)) return { error: `must be an integer, got ${JSON.stringify(cell)}` };
      return { value: n };
    }
    case 'boolean':
      if (TRUE.test(text)) return { value: true };
      if (FALSE.test(text)) return { value: false };
      return { error: `must be true or false, got ${JSON.stringify(cell)}` };
    case 'category':
      return { value: text };
    default:
      return { value: cell };
  }
}

/** One row's problem: which row (0-based data row), which field, and why. */
export interface RowProblem {
  row: number;
  field: string;
  message: string;
}

/** Rows typed per schema: a record per row (undefined when a cell cannot be typed) and the problems. */
export interface TypedRows {
  records: (Record<string, string | number | boolean | null> | undefined)[];
  problems: RowProblem[];
  /** How many rows have at least one problem. */
  rejectedRows: number;
}

/**
 * Type every row of `table` for the schema's fields. A field whose column is absent is left out of
 * the records (the app then says it is missing, or takes null when it is nullable).
 */
export function typeRows(table: CsvTable, schema: Record<string, FieldSpec>): TypedRows {
  const columns = Object.entries(schema)
    .map(([name, spec]) => ({ name, spec, index: table.columns.indexOf(name) }))
    .filter((c) => c.index >= 0);
  const records: TypedRows['records'] = [];
  const problems: RowProblem[] = [];
  let rejectedRows = 0;
  table.rows.forEach((row, r) => {
    const record: Record<string, string | number | boolean | null> = {};
    let ok = true;
    for (const c of columns) {
      const result = typeCell(row[c.index] ?? '', c.spec);
      if ('error' in result) {
        ok = false;
        problems.push({ row: r, field: c.name, message: `field ${JSON.stringify(c.name)} ${result.error}` });
      } else record[c.name] = result.value;
    }
    if (!ok) rejectedRows++;
    records.push(ok ? record : undefined);
  });
  return { records, problems, rejectedRows };
}

/** One field's values over the typed rows (undefined for rows that could not be typed). */
export function fieldValues(rows: TypedRows, name: string): (string | number | boolean | null | undefined)[] {
  return rows.records.map((r) => r?.[name]);
}
