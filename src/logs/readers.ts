/**
 * Prediction-log readers behind one interface. A `LogSource` (src/deploy/types.ts) yields raw
 * lines and names their format; the format itself belongs to the target that writes it (a
 * `LogFormat` in its descriptor: mlship's own log in src/logs/formats/local.ts, SageMaker Data
 * Capture in src/logs/formats/sagemaker.ts, …) and turns lines into neutral
 * `PredictionRecord`s. `readSource` applies the window and picks the fields drift-check needs.
 *
 * Lines that cannot be read are counted by reason (with the first few locations), never fatal.
 * `localLogSources` makes sources from a file, folder or glob on disk (its format detected by
 * parsing the first lines, never by their first characters); S3/GCS/Blob readers plug in by
 * implementing `LogSource` the same way.
 */
import { createReadStream, existsSync, openSync, readSync, closeSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { constants as zlibConstants, createGunzip, gunzipSync } from 'node:zlib';
import { OperationError } from '../util/errors.js';
import { ALL_LOG_FORMATS, logFormat } from './formats/index.js';
import { detectLogFormat, type PredictionRecord } from './format.js';
import type { LogSource, LogWindow } from '../logs/types.js';

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

  /** Count one malformed line (or record) of `source` and remember where, for the first few. */
  reject(reason: string, source: string, line?: number, detail?: string): void {
    this.malformed++;
    this.reasons[reason] = (this.reasons[reason] ?? 0) + 1;
    this.example(reason, source, line, detail);
  }

  /** Remember a problem and its location if it is among the first few. */
  example(reason: string, source: string, line: number | undefined, detail?: string): void {
    if (this.examples.length < 5)
      this.examples.push(`${source}${line === undefined ? '' : `:${line}`}: ${reason.replace(/_/g, ' ')}${detail ? ` (${detail})` : ''}`);
  }
}

/**
 * How a record's `values` are filled: by default the input fields of the same names; a kind of
 * check that compares what it derives from the whole record (an LLM's token counts, finish reason,
 * prompt script: src/monitoring/drift/llm.ts) passes its own.
 */
export type ExtractValues = (record: PredictionRecord, fields: readonly string[], values: unknown[]) => void;

/** What to extract from each record, the window, and where to count problems. */
export interface ReadOptions {
  /** The input fields to extract, in the order of `LogRecord.values`. */
  fields: string[];
  /** How to fill the values (default: `input[field]`). */
  extract?: ExtractValues;
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
  format: string,
  description: string,
  options: { fields: string[]; csvFields?: string[]; from?: number; to?: number; extract?: ExtractValues },
  stats: ReadStats,
  onRecord: RecordHandler,
): (line: string, lineNo: number) => void {
  const parse = logFormat(format).parser({ csvFields: options.csvFields ?? options.fields });
  const { from, to, fields, extract } = options;
  const windowed = from !== undefined || to !== undefined;
  let current = 0;
  const values = new Array<unknown>(fields.length);
  const r: LogRecord = { values, hasOutput: false };
  const emit = (p: PredictionRecord): void => {
    if (extract) extract(p, fields, values);
    else for (let i = 0; i < fields.length; i++) values[i] = p.input[fields[i]!];
    r.ts = p.ts;
    r.output = p.output;
    r.hasOutput = p.hasOutput;
    use();
  };
  /** The record in `r`: apply the window and hand it on. */
  const use = (): void => {
    if (windowed) {
      const time = parseTime(r.ts);
      if (time === undefined) {
        stats.reject('missing_timestamp', description, current);
        return;
      }
      if ((from !== undefined && time < from) || (to !== undefined && time >= to)) {
        stats.outsideWindow++;
        return;
      }
    }
    const problem = onRecord(r);
    if (problem) stats.reject(problem[0], description, current, problem[1]);
    else stats.records++;
  };
  return (line, lineNo) => {
    if (line.length === 0 || (line.length < 3 && line.trim() === '')) return;
    current = lineNo;
    stats.lines++;
    const problem = parse(line, emit);
    if (problem !== undefined) stats.reject(problem, description, lineNo);
  };
}

/**
 * Read every line of a source, calling `onRecord` for each prediction inside the window; it returns
 * a reason (and detail) when the record is unusable, and the record then counts as malformed.
 */
export async function readSource(source: LogSource, onRecord: RecordHandler, options: ReadOptions): Promise<void> {
  const handle = lineHandler(
    source.format,
    source.description,
    { ...options, from: options.window?.from?.getTime(), to: options.window?.to?.getTime() },
    options.stats,
    onRecord,
  );
  let lineNo = 0;
  for await (const line of source.lines()) handle(line, ++lineNo);
}

/** Epoch milliseconds of a logged timestamp, if it is one. */
export function parseTime(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : t;
}

// ---- local files ----

const DAY_MS = 86_400_000;
const DAILY_FILE = /predictions-(\d{4}-\d{2}-\d{2})\.jsonl(?:\.gz)?$/;

/**
 * The bytes of a local file (decompressed when it ends in .gz), in chunks of `chunkBytes`.
 */
function fileBytes(file: string, chunkBytes: number): NodeJS.ReadableStream {
  const raw = createReadStream(file, { highWaterMark: chunkBytes });
  return file.endsWith('.gz') ? raw.pipe(createGunzip({ chunkSize: chunkBytes })) : raw;
}

/**
 * Lines of a local file (gzip when it ends in .gz), streamed in 64 KiB chunks: small enough that
 * the decoded text stays in V8's young generation (1 MiB strings land in large-object space and
 * pile up until a full GC, which made peak memory creep with the log size).
 */
async function* fileLines(file: string): AsyncGenerator<string> {
  const stream = fileBytes(file, 1 << 16);
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

/** The first lines of a file (gzip decompressed as far as its first 64 KiB go). */
function headLines(file: string): string[] {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(65_536);
    const n = readSync(fd, buf, 0, buf.length, 0);
    let head: Buffer = buf.subarray(0, n);
    if (file.endsWith('.gz')) {
      try {
        head = gunzipSync(head, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
      } catch {
        return [];
      }
    }
    const lines = head.toString('utf8').split('\n');
    if (n === buf.length) lines.pop(); // the last line may be cut short
    return lines;
  } finally {
    closeSync(fd);
  }
}

/**
 * The log format of a file, by parsing its first lines and asking each target's formats which one
 * they are (JSON key order is not part of a format); undefined when no line is a known format.
 */
export function detectFileFormat(file: string): string | undefined {
  return detectLogFormat(headLines(file), ALL_LOG_FORMATS);
}

/** A `LogSource` over one local file (mlship's own format unless its lines say otherwise). */
export function fileLogSource(file: string, format: string = detectFileFormat(file) ?? 'mlship'): LogSource {
  // Bytes in 256 KiB chunks: outside V8's heap, copied once into a parser thread's batch.
  return { description: file, format, lines: () => fileLines(file), bytes: () => fileBytes(file, 1 << 18) as AsyncIterable<Buffer> };
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
