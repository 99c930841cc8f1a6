/**
 * A batch of log text turned into what the accumulators take: the part of the check that parses,
 * so it can run on parser threads while the main thread accumulates. A batch is a run of whole
 * lines, as UTF-8 bytes (a local file's chunk) or as text (a source that only yields lines).
 *
 * What comes back is small and moves between threads without copying: per numeric field the
 * present values in log order (a Float64Array, transferred), per categorical field the batch's
 * categories in order of first appearance with their counts (all a categorical accumulator needs:
 * where a category lands is decided at its first appearance), and counts of the rest. The same
 * function runs inline when there are no threads, so both paths feed the accumulators the same
 * values in the same order and give the same numbers.
 */
import type { LogSource } from '../../logs/types.js';
import { categoryValue, numericValue, WRONG } from './coerce.js';
import { lineHandler, ReadStats, type ExtractValues } from '../../logs/readers.js';
import { llmValues } from './llm-values.js';

/** What to extract: fields in slot order, their kinds, the output's kind, and the window. */
export interface BatchSpec {
  fields: string[];
  csvFields: string[];
  kinds: ('numeric' | 'categorical')[];
  output?: 'numeric' | 'categorical';
  from?: number;
  to?: number;
  /** What the fields are: input fields (default), or what an LLM check derives from each record (llm-values.ts). */
  view?: 'llm';
}

/** How each view fills a record's values (a name, not a function, so a spec crosses to parser threads). */
const VIEWS: Record<NonNullable<BatchSpec['view']>, ExtractValues> = { llm: llmValues };

/** A categorical column of one batch: categories in order of first appearance, and their counts. */
export interface CategoryCounts {
  values: string[];
  counts: number[];
}

/** A problem on a line of the batch (numbered from 1 within the batch). */
export interface BatchProblem {
  line: number;
  reason: string;
  detail?: string;
}

/** One batch's columns and counts. */
export interface ParsedBatch {
  /** Lines in the batch (blank ones too): where the next batch of the source starts. */
  lineCount: number;
  records: number;
  /** Per slot: the present values in log order, or null for a categorical slot. */
  numeric: (Float64Array | null)[];
  /** Per slot: the categories and their counts, or null for a numeric slot. */
  categorical: (CategoryCounts | null)[];
  /** Per slot: records without a value. */
  missing: number[];
  /** Per slot: values of a wrong type (their rows were left out whole). */
  invalid: number[];
  /** The outputs fed to the output accumulator (present values), and those missing or left out. */
  output: Float64Array | CategoryCounts | null;
  outputMissing: number;
  outputAbsent: number;
  outputUnsupported: number;
  lines: number;
  outsideWindow: number;
  malformed: number;
  reasons: Record<string, number>;
  /** The first few problems, by line within the batch. */
  problems: BatchProblem[];
}

/** Bytes decoded to text at a time: small enough that the text stays in V8's young generation. */
const PIECE_BYTES = 1 << 16;

/** Keeps a batch's problems by line number within the batch, for the caller to place in the source. */
class BatchStats extends ReadStats {
  readonly problems: BatchProblem[] = [];
  override example(reason: string, _source: string, line: number | undefined, detail?: string): void {
    if (this.problems.length < 5) this.problems.push({ line: line ?? 0, reason, ...(detail !== undefined && { detail }) });
  }
}

/** A Float64Array that grows as values come (a batch's line count is not known up front). */
class Column {
  values = new Float64Array(1024);
  length = 0;
  push(x: number): void {
    if (this.length === this.values.length) {
      const bigger = new Float64Array(this.values.length * 2);
      bigger.set(this.values);
      this.values = bigger;
    }
    this.values[this.length++] = x;
  }
  /** The values, in a buffer of their own size (it is transferred). */
  done(): Float64Array {
    return this.values.slice(0, this.length);
  }
}

/** Counts per category in order of first appearance. */
class Counter {
  private readonly index = new Map<string, number>();
  readonly values: string[] = [];
  readonly counts: number[] = [];
  add(v: string): void {
    const i = this.index.get(v);
    if (i !== undefined) this.counts[i]!++;
    else {
      this.index.set(v, this.values.length);
      this.values.push(v);
      this.counts.push(1);
    }
  }
  done(): CategoryCounts {
    return { values: this.values, counts: this.counts };
  }
}

/**
 * Call `visit` for every line of `payload` with its number within the batch (from 1), as the file
 * reader splits them: on '\n', a trailing '\r' removed, a last line without a newline kept.
 * Returns the number of lines.
 */
export function forEachLine(payload: string | Uint8Array, visit: (line: string, lineNo: number) => void): number {
  let lineNo = 0;
  const split = (text: string, last: boolean): void => {
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      visit(text.slice(start, nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl), ++lineNo);
      start = nl + 1;
    }
    if (last && start < text.length) visit(text.endsWith('\r') ? text.slice(start, -1) : text.slice(start), ++lineNo);
  };
  if (typeof payload === 'string') {
    split(payload, true);
    return lineNo;
  }
  const bytes = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  // Decode in pieces cut after a newline (a UTF-8 character never spans one).
  for (let start = 0; start < bytes.length; ) {
    let end = bytes.length;
    if (start + PIECE_BYTES < bytes.length) {
      end = bytes.lastIndexOf(10, start + PIECE_BYTES - 1) + 1;
      if (end <= start) {
        const nl = bytes.indexOf(10, start + PIECE_BYTES);
        end = nl < 0 ? bytes.length : nl + 1;
      }
    }
    split(bytes.toString('utf8', start, end), end === bytes.length);
    start = end;
  }
  return lineNo;
}

/** Parse one batch of a source's lines into columns. */
export function parseBatch(spec: BatchSpec, format: LogSource['format'], description: string, payload: string | Uint8Array): ParsedBatch {
  const k = spec.fields.length;
  const numeric = spec.kinds.map((kind) => (kind === 'numeric' ? new Column() : null));
  const categorical = spec.kinds.map((kind) => (kind === 'categorical' ? new Counter() : null));
  const missing = new Array<number>(k).fill(0);
  const invalid = new Array<number>(k).fill(0);
  const output = spec.output === 'numeric' ? new Column() : spec.output === 'categorical' ? new Counter() : null;
  let outputMissing = 0;
  let outputAbsent = 0;
  let outputUnsupported = 0;
  let records = 0;
  const row = new Array<number | string | null>(k);
  const stats = new BatchStats();
  const handle = lineHandler(format, description, { ...spec, extract: spec.view && VIEWS[spec.view] }, stats, (r) => {
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
      const v = row[i]!;
      if (v === null) missing[i]!++;
      else if (typeof v === 'number') numeric[i]!.push(v);
      else categorical[i]!.add(v);
    }
    records++;
    if (output) {
      if (!r.hasOutput || r.output === undefined) outputAbsent++;
      else if (typeof r.output === 'object' && r.output !== null) outputUnsupported++;
      else {
        const v = output instanceof Column ? numericValue(r.output) : categoryValue(r.output);
        if (v === WRONG) outputUnsupported++;
        else if (v === null) outputMissing++;
        else if (output instanceof Column) output.push(v as number);
        else output.add(v as string);
      }
    }
    return undefined;
  });
  const lineCount = forEachLine(payload, handle);
  return {
    lineCount,
    records,
    numeric: numeric.map((c) => c?.done() ?? null),
    categorical: categorical.map((c) => c?.done() ?? null),
    missing,
    invalid,
    output: output?.done() ?? null,
    outputMissing,
    outputAbsent,
    outputUnsupported,
    lines: stats.lines,
    outsideWindow: stats.outsideWindow,
    malformed: stats.malformed,
    reasons: stats.reasons,
    problems: stats.problems,
  };
}

/** The buffers a batch can hand to another thread without copying. */
export function transferables(b: ParsedBatch): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  for (const c of b.numeric) if (c) out.push(c.buffer as ArrayBuffer);
  if (b.output instanceof Float64Array) out.push(b.output.buffer as ArrayBuffer);
  return out;
}
