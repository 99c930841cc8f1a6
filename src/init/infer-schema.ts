/**
 * The request-field schema inferred from a baseline CSV, and the label column.
 *
 * A column is `integer` when every non-empty cell is a whole number, `number` when every one is a
 * finite number (both get the observed min and max), `boolean` when every one is true/false, a
 * `category` when it has at most MAX_CATEGORIES distinct values that are safe to write into
 * generated files (listed sorted), else `string`. A column with missing cells (blank, or an NA
 * marker such as `NA`: manifest/typed-rows.ts) is `nullable`.
 */
import type { CsvTable } from '../util/csv.js';
import { isMissingCell, NUMBER_TEXT } from '../manifest/typed-rows.js';
import { UsageError } from '../util/errors.js';
import { CATEGORY_VALUE_PATTERN, FIELD_NAME_PATTERN } from '../manifest/schema.js';
import type { FieldType } from '../manifest/types.js';

/** More distinct values than this make a text column a free `string`, not a `category`. */
export const MAX_CATEGORIES = 50;

/**
 * Column names taken as the label when `--label` is not given, in this order of preference
 * (case-insensitive); after them, any name ending in `_label` or `_target`.
 */
export const LABEL_NAMES = ['label', 'target', 'y', 'class', 'outcome', 'churned', 'churn', 'converted', 'fraud', 'is_fraud'];

/** One inferred request field. */
export interface InferredField {
  name: string;
  type: FieldType;
  min?: number;
  max?: number;
  values?: string[];
  nullable: boolean;
}

/** What kind of model the label asks for: decides the generic train.py, its metrics and the gate. */
export type Task = 'binary' | 'multiclass' | 'regression';

export interface InferredSchema {
  fields: InferredField[];
  /** The label column, excluded from `fields`; undefined when none was given or recognised. */
  label?: string;
  task: Task;
  rows: number;
}

const INTEGER = /^[+-]?\d+$/;
const NUMBER = NUMBER_TEXT;
const BOOLEAN = /^(true|false)$/i;

/** The label column: the one named, or the first column whose name reads like a label. */
export function detectLabel(columns: readonly string[]): string | undefined {
  const lower = columns.map((c) => c.toLowerCase());
  for (const name of LABEL_NAMES) {
    const i = lower.indexOf(name);
    if (i >= 0) return columns[i];
  }
  return columns.find((c) => /_(label|target)$/i.test(c));
}

/** Infer the schema of every column but the label. */
export function inferSchema(table: CsvTable, options: { label?: string; source: string }): InferredSchema {
  const { label, source } = options;
  if (table.columns.length === 0) {
    throw new UsageError(`${source} has no header row`, {
      code: 'baseline_invalid',
      hint: 'The baseline must be a CSV file whose first line names the columns.',
    });
  }
  if (label !== undefined && !table.columns.includes(label)) {
    throw new UsageError(`the label column "${label}" is not in ${source}`, {
      code: 'label_unknown',
      hint: `Pass --label with one of: ${table.columns.join(', ')}.`,
    });
  }
  // Any printable name is a field name (`Monthly Charges`, `customer-id`): generated files carry it as
  // a quoted literal. Control characters (a line break inside a quoted header) and empty names are not.
  const fieldName = new RegExp(FIELD_NAME_PATTERN);
  const bad = table.columns.filter((c) => !fieldName.test(c) || c.length > 200);
  if (bad.length > 0) {
    throw new UsageError(`column name${bad.length > 1 ? 's' : ''} ${bad.map((c) => JSON.stringify(c)).join(', ')} in ${source} cannot be a request field`, {
      code: 'baseline_invalid',
      hint: 'Field names must be non-empty, at most 200 characters, without control characters (line breaks, tabs): rename those columns in the CSV.',
    });
  }
  const duplicate = table.columns.find((c, i) => table.columns.indexOf(c) !== i);
  if (duplicate !== undefined) {
    throw new UsageError(`column "${duplicate}" appears twice in ${source}`, { code: 'baseline_invalid', hint: 'Give every column its own name.' });
  }
  const fields: InferredField[] = [];
  let task: Task = 'binary';
  table.columns.forEach((name, i) => {
    const cells = table.rows.map((r) => r[i] ?? '');
    if (name === label) {
      task = labelTask(cells);
      return;
    }
    fields.push(inferField(name, cells));
  });
  if (fields.length === 0) {
    throw new UsageError(`${source} has no columns besides the label`, { code: 'baseline_invalid', hint: 'The baseline needs at least one feature column.' });
  }
  return { fields, ...(label !== undefined && { label }), task, rows: table.rows.length };
}

function inferField(name: string, cells: string[]): InferredField {
  // Blank cells and pandas' NA markers are missing, as train.py's pd.read_csv reads them.
  const present = cells.filter((c) => !isMissingCell(c)).map((c) => c.trim());
  const nullable = present.length < cells.length;
  if (present.length === 0) return { name, type: 'string', nullable: true };
  if (present.every((c) => INTEGER.test(c)) || present.every((c) => NUMBER.test(c))) {
    const type: FieldType = present.every((c) => INTEGER.test(c)) ? 'integer' : 'number';
    let min = Infinity;
    let max = -Infinity;
    for (const c of present) {
      const v = Number(c);
      if (v < min) min = v;
      if (v > max) max = v;
    }
    return { name, type, min, max, nullable };
  }
  if (present.every((c) => BOOLEAN.test(c))) return { name, type: 'boolean', nullable };
  const distinct = [...new Set(present)];
  const safe = new RegExp(CATEGORY_VALUE_PATTERN);
  if (distinct.length <= MAX_CATEGORIES && distinct.every((v) => safe.test(v) && v.length <= 100)) {
    return { name, type: 'category', values: distinct.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)), nullable };
  }
  return { name, type: 'string', nullable };
}

/**
 * Text labels, and whole numbers with at most 20 distinct values, are classes (two of them: binary);
 * any other numeric label is a value to regress.
 */
function labelTask(cells: string[]): Task {
  const present = cells.map((c) => c.trim()).filter((c) => c !== '');
  const distinct = new Set(present);
  const numeric = present.every((c) => NUMBER.test(c));
  const integers = present.every((c) => INTEGER.test(c));
  if (numeric && !(integers && distinct.size <= 20)) return 'regression';
  return distinct.size <= 2 ? 'binary' : 'multiclass';
}
