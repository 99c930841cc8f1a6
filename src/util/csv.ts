/**
 * CSV (RFC 4180): quoted fields, doubled quotes, separators and line breaks inside quotes. One parser
 * for every CSV mlship reads: baselines, schema inference, drift reference files.
 */
import { readFileSync } from 'node:fs';

export interface CsvTable {
  columns: string[];
  /** Rows as strings, one entry per column ('' for an empty cell). */
  rows: string[][];
}

/** Parse CSV text into records (arrays of cells). A trailing newline adds no record. */
export function parseCsv(text: string, separator = ','): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let cell = '';
  let quoted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const n = text.length;
  for (; i < n; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i++;
        } else quoted = false;
      } else cell += ch;
    } else if (ch === '"' && cell === '') {
      quoted = true;
    } else if (ch === separator) {
      record.push(cell);
      cell = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      record.push(cell);
      records.push(record);
      record = [];
      cell = '';
    } else cell += ch;
  }
  if (cell !== '' || record.length > 0) {
    record.push(cell);
    records.push(record);
  }
  return records;
}

/** Read a CSV file with a header row. Rows shorter than the header are padded with ''. */
export function readCsvFile(file: string): CsvTable {
  const [header, ...rest] = parseCsv(readFileSync(file, 'utf8'));
  const columns = header ?? [];
  const rows = rest
    .filter((r) => !(r.length === 1 && r[0] === ''))
    .map((r) => (r.length >= columns.length ? r.slice(0, columns.length) : [...r, ...new Array<string>(columns.length - r.length).fill('')]));
  return { columns, rows };
}

/** One column's cells. */
export function column(table: CsvTable, name: string): string[] {
  const i = table.columns.indexOf(name);
  return i < 0 ? [] : table.rows.map((r) => r[i]!);
}
