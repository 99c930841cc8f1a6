/**
 * Prediction-log readers behind one interface. A `LogSource` (src/targets/types.ts) yields raw
 * lines; `readSource` turns each line into prediction records according to the source's format:
 *
 * - `mlship`: one JSON object per prediction, `{ts, id, model, version, input: {…}, output, latency_ms}`
 *   (DESIGN.md "Prediction log");
 * - `sagemaker-capture`: SageMaker Data Capture lines, `{captureData: {endpointInput,
 *   endpointOutput}, eventMetadata: {eventId, inferenceTime}, eventVersion}`, where each side is
 *   `{observedContentType, mode, data, encoding: JSON | CSV | BASE64}`; one line may hold a batch.
 *   CSV rows map onto the feature schema's field order.
 *
 * Lines that cannot be read are counted by reason (with the first few locations), never fatal.
 * `localLogSources` makes sources from a file, folder or glob on disk; S3/GCS/Blob readers plug in
 * by implementing `LogSource` the same way.
 */
import { createReadStream, existsSync, openSync, readSync, closeSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { createGunzip } from 'node:zlib';
import { OperationError } from '../core/errors.js';
import { parseCsv } from '../core/csv.js';
import type { LogSource, LogWindow } from '../targets/types.js';

/** One prediction as drift-check sees it. */
export interface LogRecord {
  /** The prediction's timestamp as logged (ISO-8601); parsed only when a window needs it. */
  ts?: unknown;
  /**
   * The input fields asked for (`ReadOptions.fields`), by position; undefined when absent. The
   * array is reused for the next record: copy what you keep.
   */
  values: unknown[];
  /** The model's output; undefined when the line has none. */
  output?: unknown;
  hasOutput: boolean;
}

/** Counts of what was read and what could not be. */
export class ReadStats {
  lines = 0;
  records = 0;
  outsideWindow = 0;
  malformed = 0;
  readonly reasons: Record<string, number> = {};
  /** The first few problems with their location, for the user to find them. */
  readonly examples: string[] = [];

  /** Count one malformed line (or record) and remember where, for the first few. */
  reject(reason: string, where: string, detail?: string): void {
    this.malformed++;
    this.reasons[reason] = (this.reasons[reason] ?? 0) + 1;
    if (this.examples.length < 5) this.examples.push(`${where}: ${reason.replace(/_/g, ' ')}${detail ? ` (${detail})` : ''}`);
  }
}

/** What to extract from each record, the window, and where to count problems. */
export interface ReadOptions {
  /** The input fields to extract, in the order of `LogRecord.values`. */
  fields: string[];
  /** Field order of CSV rows (the schema's declaration order); defaults to `fields`. */
  csvFields?: string[];
  window?: LogWindow;
  stats: ReadStats;
}

/** What to do with one record: undefined when used, else [reason, detail] to count it as malformed. */
export type RecordHandler = (r: LogRecord) => [string, string] | undefined;

/**
 * The per-line logic every reader shares: parse by format, apply the window, hand records to
 * `onRecord`, count what is malformed with its location. Returns `(line, lineNo) => void`.
 */
export function lineHandler(
  format: LogSource['format'],
  description: string,
  options: { fields: string[]; csvFields?: string[]; from?: number; to?: number },
  stats: ReadStats,
  onRecord: RecordHandler,
): (line: string, lineNo: number) => void {
  const parse = format === 'sagemaker-capture' ? captureParser(options.fields, options.csvFields ?? options.fields) : mlshipParser(options.fields);
  const { from, to } = options;
  const windowed = from !== undefined || to !== undefined;
  let current = 0;
  const emit = (r: LogRecord): void => {
    if (windowed) {
      const time = parseTime(r.ts);
      if (time === undefined) {
        stats.reject('missing_timestamp', `${description}:${current}`);
        return;
      }
      if ((from !== undefined && time < from) || (to !== undefined && time >= to)) {
        stats.outsideWindow++;
        return;
      }
    }
    const problem = onRecord(r);
    if (problem) stats.reject(problem[0], `${description}:${current}`, problem[1]);
    else stats.records++;
  };
  return (line, lineNo) => {
    if (line.length === 0 || (line.length < 3 && line.trim() === '')) return;
    current = lineNo;
    stats.lines++;
    const problem = parse(line, emit);
    if (problem !== undefined) stats.reject(problem, `${description}:${lineNo}`);
  };
}

/**
 * Read every line of a source, calling `onRecord` for each prediction inside the window; it returns
 * a reason (and detail) when the record is unusable, and the record then counts as malformed.
 */
export async function readSource(source: LogSource, onRecord: RecordHandler, options: ReadOptions): Promise<void> {
  const handle = lineHandler(source.format, source.description, { ...options, from: options.window?.from?.getTime(), to: options.window?.to?.getTime() }, options.stats, onRecord);
  let lineNo = 0;
  for await (const line of source.lines()) handle(line, ++lineNo);
}

type Parser = (line: string, emit: (r: LogRecord) => void) => string | undefined;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Epoch milliseconds of a logged timestamp, if it is one. */
export function parseTime(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : t;
}

/** Lines of mlship's own prediction log. */
function mlshipParser(fields: string[]): Parser {
  const values = new Array<unknown>(fields.length);
  const record: LogRecord = { values, hasOutput: false };
  return (line, emit) => {
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch {
      return 'invalid_json';
    }
    if (!isObject(obj)) return 'not_an_object';
    const input = obj.input;
    if (!isObject(input)) return 'missing_input';
    for (let i = 0; i < fields.length; i++) values[i] = input[fields[i]!];
    record.ts = obj.ts;
    record.output = obj.output;
    record.hasOutput = 'output' in obj;
    emit(record);
    return undefined;
  };
}

/** The body of one side of a capture, decoded to text, and whether it is CSV. */
function decodeCapture(side: unknown): { text: string; csv: boolean } | undefined {
  if (!isObject(side) || typeof side.data !== 'string') return undefined;
  const encoding = typeof side.encoding === 'string' ? side.encoding.toUpperCase() : 'JSON';
  const type = typeof side.observedContentType === 'string' ? side.observedContentType.toLowerCase() : '';
  const text = encoding === 'BASE64' ? Buffer.from(side.data, 'base64').toString('utf8') : side.data;
  const csv = encoding === 'CSV' || (encoding === 'BASE64' && type.includes('csv'));
  return { text, csv };
}

/** Records of a request body: one object, a list, `{instances: […]}`, or CSV rows in schema order. */
function inputRecords(body: { text: string; csv: boolean }, fields: string[]): Record<string, unknown>[] | undefined {
  const row = (cells: unknown[]): Record<string, unknown> => Object.fromEntries(fields.map((f, i) => [f, cells[i]]));
  if (body.csv) return parseCsv(body.text).filter((r) => !(r.length === 1 && r[0] === '')).map(row);
  let value: unknown;
  try {
    value = JSON.parse(body.text);
  } catch {
    return undefined;
  }
  if (isObject(value) && Array.isArray(value.instances)) value = value.instances;
  else if (isObject(value) && Array.isArray(value.inputs)) value = value.inputs;
  if (isObject(value)) return [value];
  if (!Array.isArray(value)) return undefined;
  if (value.length > 0 && value.every((v) => !isObject(v) && !Array.isArray(v))) return [row(value)];
  const out: Record<string, unknown>[] = [];
  for (const v of value) {
    if (isObject(v)) out.push(v);
    else if (Array.isArray(v)) out.push(row(v));
    else return undefined;
  }
  return out;
}

/** Predictions of a response body: `{predictions: […]}`, a list, a scalar, or CSV rows. */
function outputValues(body: { text: string; csv: boolean }): unknown[] | undefined {
  if (body.csv) {
    return parseCsv(body.text)
      .filter((r) => !(r.length === 1 && r[0] === ''))
      .map((r) => (r.length === 1 ? csvScalar(r[0]!) : r.map(csvScalar)));
  }
  let value: unknown;
  try {
    value = JSON.parse(body.text);
  } catch {
    return undefined;
  }
  if (isObject(value) && 'predictions' in value) value = value.predictions;
  return Array.isArray(value) ? value : [value];
}

function csvScalar(cell: string): unknown {
  const t = cell.trim();
  const n = Number(t);
  return t !== '' && Number.isFinite(n) ? n : t;
}

/** SageMaker Data Capture lines: each possibly a batch of records. */
function captureParser(fields: string[], csvFields: string[]): Parser {
  const values = new Array<unknown>(fields.length);
  return (line, emit) => {
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch {
      return 'invalid_json';
    }
    if (!isObject(obj) || !isObject(obj.captureData)) return 'missing_capture_data';
    const inputBody = decodeCapture(obj.captureData.endpointInput);
    if (!inputBody) return 'missing_input';
    const records = inputRecords(inputBody, csvFields);
    if (!records || records.length === 0) return 'unreadable_input';
    const outputBody = decodeCapture(obj.captureData.endpointOutput);
    const outputs = outputBody ? outputValues(outputBody) : undefined;
    const meta = isObject(obj.eventMetadata) ? obj.eventMetadata : {};
    const ts = meta.inferenceTime;
    records.forEach((input, i) => {
      let output: unknown;
      let hasOutput = false;
      if (outputs && outputs.length === records.length) {
        output = outputs[i];
        hasOutput = true;
      } else if (outputs && records.length === 1) {
        output = outputs.length === 1 ? outputs[0] : outputs;
        hasOutput = true;
      }
      for (let f = 0; f < fields.length; f++) values[f] = input[fields[f]!];
      emit({ ts, values, output, hasOutput });
    });
    return undefined;
  };
}

// ---- local files ----

const DAY_MS = 86_400_000;
const DAILY_FILE = /predictions-(\d{4}-\d{2}-\d{2})\.jsonl(?:\.gz)?$/;

/**
 * Lines of a local file (gzip when it ends in .gz), streamed in 64 KiB chunks: small enough that
 * the decoded text stays in V8's young generation (1 MiB strings land in large-object space and
 * pile up until a full GC, which made peak memory creep with the log size).
 */
async function* fileLines(file: string): AsyncGenerator<string> {
  const raw = createReadStream(file, { highWaterMark: 1 << 16 });
  const stream = file.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
  stream.setEncoding('utf8');
  let rest = '';
  for await (const chunk of stream as AsyncIterable<string>) {
    const text = rest + chunk;
    let start = 0;
    for (let nl = text.indexOf('\n', start); nl >= 0; nl = text.indexOf('\n', start)) {
      const end = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      yield text.slice(start, end);
      start = nl + 1;
    }
    rest = text.slice(start);
  }
  if (rest.length > 0) yield rest.endsWith('\r') ? rest.slice(0, -1) : rest;
}

/** Whether a file holds SageMaker capture lines (looks at its first line). */
function detectFormat(file: string): LogSource['format'] {
  if (file.endsWith('.gz')) return /capture/i.test(file) ? 'sagemaker-capture' : 'mlship';
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(65_536);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const head = buf.subarray(0, n).toString('utf8').trimStart();
    return head.startsWith('{"captureData"') || /^\{\s*"captureData"/.test(head) ? 'sagemaker-capture' : 'mlship';
  } finally {
    closeSync(fd);
  }
}

/** A `LogSource` over one local file. */
export function fileLogSource(file: string, format: LogSource['format'] = detectFormat(file)): LogSource {
  return { description: file, format, lines: () => fileLines(file) };
}

function isLogFile(name: string): boolean {
  // feedback-*.jsonl beside the predictions holds labels (POST /feedback), not predictions.
  return /\.(jsonl|json|log|ndjson)(\.gz)?$/.test(name) && !/^feedback-/.test(name);
}

function walk(dir: string, out: string[]): void {
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(full, out);
    else if (entry.isFile() && isLogFile(entry.name)) out.push(full);
  }
}

/** A glob (`*`, `**`, `?`) as a regular expression over '/'-separated paths. */
function globRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i]!;
    if (ch === '*' && glob[i + 1] === '*') {
      re += glob[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += glob[i + 2] === '/' ? 2 : 1;
    } else if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Files matching a glob (`*`, `**`, `?`), sorted. */
export function expandGlob(pattern: string): string[] {
  const parts = pattern.split('/');
  const firstGlob = parts.findIndex((p) => /[*?]/.test(p));
  const base = parts.slice(0, firstGlob).join('/') || (pattern.startsWith('/') ? '/' : '.');
  if (!existsSync(base)) return [];
  const files: string[] = [];
  const all: string[] = [];
  const visit = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) visit(full);
      else if (entry.isFile()) all.push(full);
    }
  };
  visit(base);
  const re = globRegExp(path.normalize(pattern).split(path.sep).join('/'));
  for (const f of all.sort()) if (re.test(path.normalize(f).split(path.sep).join('/'))) files.push(f);
  return files;
}

/** Whether a daily log file (`predictions-YYYY-MM-DD.jsonl`) can hold predictions in the window. */
function dayInWindow(file: string, window: LogWindow): boolean {
  const m = DAILY_FILE.exec(path.basename(file));
  if (!m) return true;
  const start = Date.parse(`${m[1]}T00:00:00Z`);
  if (window.from && start + DAY_MS <= window.from.getTime()) return false;
  if (window.to && start >= window.to.getTime()) return false;
  return true;
}

/**
 * Log sources for a local file, folder (searched recursively for .jsonl/.json/.log files) or glob.
 * Daily files outside the window are skipped by name; lines are filtered by time when read. The
 * local target reuses this for `.mlship/logs/`.
 */
export function localLogSources(pathOrGlob: string, window: LogWindow = {}, cwd = process.cwd()): LogSource[] {
  const target = path.resolve(cwd, pathOrGlob);
  let files: string[];
  if (/[*?]/.test(pathOrGlob)) files = expandGlob(target);
  else if (!existsSync(target)) {
    throw new OperationError('logs_not_found', `no prediction logs at ${pathOrGlob}`, {
      hint: 'Pass --logs with a log file, a folder of .jsonl files or a glob such as "logs/*.jsonl".',
    });
  } else if (statSync(target).isDirectory()) {
    files = [];
    walk(target, files);
  } else files = [target];
  return files.filter((f) => dayInWindow(f, window)).map((f) => fileLogSource(f));
}
