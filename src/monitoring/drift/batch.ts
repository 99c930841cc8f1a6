/**
 * A batch of log lines turned into columns: the part of the check that parses, so it can run in a
 * worker thread while the main thread accumulates. Numeric columns are Float64Arrays (NaN marks a
 * missing value) and move between threads without copying; categorical columns are string arrays.
 * The same function runs inline for small logs, so both paths give the same numbers.
 */
import type { LogSource } from '../../logs/types.js';
import { categoryValue, numericValue, WRONG } from './coerce.js';
import { lineHandler, ReadStats } from '../../logs/readers.js';

/** What to extract: fields in slot order, their kinds, the output's kind, and the window. */
export interface BatchSpec {
  fields: string[];
  csvFields: string[];
  kinds: ('numeric' | 'categorical')[];
  output?: 'numeric' | 'categorical';
  from?: number;
  to?: number;
}

/** One batch's columns and counts. */
export interface ParsedBatch {
  records: number;
  /** Per slot: the numeric column (NaN = missing), or null for a categorical slot. */
  numeric: (Float64Array | null)[];
  /** Per slot: the categorical column (null = missing), or null for a numeric slot. */
  categorical: ((string | null)[] | null)[];
  /** Per slot: values of a wrong type (their rows were left out whole). */
  invalid: number[];
  /** Outputs fed to the output accumulator (NaN / null = missing), and those left out. */
  output: Float64Array | (string | null)[] | null;
  outputCount: number;
  outputAbsent: number;
  outputUnsupported: number;
  lines: number;
  outsideWindow: number;
  malformed: number;
  reasons: Record<string, number>;
  examples: string[];
}

/** Parse `lines` (numbered from `firstLine`) of one source into columns. */
export function parseBatch(spec: BatchSpec, format: LogSource['format'], description: string, firstLine: number, lines: string[]): ParsedBatch {
  const cap = lines.length;
  const k = spec.fields.length;
  const numeric = spec.kinds.map((kind) => (kind === 'numeric' ? new Float64Array(cap) : null));
  const categorical = spec.kinds.map((kind) => (kind === 'categorical' ? ([] as (string | null)[]) : null));
  const invalid = new Array<number>(k).fill(0);
  const output: Float64Array | (string | null)[] | null = spec.output === 'numeric' ? new Float64Array(cap) : spec.output === 'categorical' ? [] : null;
  let outputCount = 0;
  let outputAbsent = 0;
  let outputUnsupported = 0;
  let records = 0;
  const row = new Array<number | string | null>(k);
  const stats = new ReadStats();
  const handle = lineHandler(format, description, spec, stats, (r) => {
    // Coerce the whole row first so a malformed line contributes nothing.
    for (let i = 0; i < k; i++) {
      const raw = r.values[i];
      const v = spec.kinds[i] === 'numeric' ? numericValue(raw) : categoryValue(raw);
      if (v === WRONG) {
        invalid[i]!++;
        return ['wrong_type', `field "${spec.fields[i]}" is ${JSON.stringify(raw)?.slice(0, 40)}`];
      }
      row[i] = v;
    }
    for (let i = 0; i < k; i++) {
      const col = numeric[i];
      if (col) col[records] = row[i] === null ? Number.NaN : (row[i] as number);
      else categorical[i]!.push(row[i] as string | null);
    }
    records++;
    if (output) {
      if (!r.hasOutput || r.output === undefined) outputAbsent++;
      else if (typeof r.output === 'object' && r.output !== null) outputUnsupported++;
      else if (output instanceof Float64Array) {
        const v = numericValue(r.output);
        if (v === WRONG) outputUnsupported++;
        else output[outputCount++] = v === null ? Number.NaN : v;
      } else {
        const v = categoryValue(r.output);
        if (v === WRONG) outputUnsupported++;
        else {
          output.push(v);
          outputCount++;
        }
      }
    }
    return undefined;
  });
  for (let i = 0; i < lines.length; i++) handle(lines[i]!, firstLine + i);
  return {
    records,
    numeric: numeric.map((c) => (c ? c.slice(0, records) : null)),
    categorical,
    invalid,
    output: output instanceof Float64Array ? output.slice(0, outputCount) : output,
    outputCount,
    outputAbsent,
    outputUnsupported,
    lines: stats.lines,
    outsideWindow: stats.outsideWindow,
    malformed: stats.malformed,
    reasons: stats.reasons,
    examples: stats.examples,
  };
}

/** The buffers a batch can hand to another thread without copying. */
export function transferables(b: ParsedBatch): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  for (const c of b.numeric) if (c) out.push(c.buffer as ArrayBuffer);
  if (b.output instanceof Float64Array) out.push(b.output.buffer as ArrayBuffer);
  return out;
}
