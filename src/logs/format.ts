/**
 * Prediction logs, cloud-neutral. Each target owns the format its platform writes (mlship's JSON
 * lines locally, SageMaker Data Capture, Vertex request-response logging, Azure's data collector)
 * as a `LogFormat`: a pure parser from one line to neutral `PredictionRecord`s. drift-check and
 * quality read only those records. Which format a line is in is decided by parsing it (`accepts` on
 * the parsed object), never by its first characters: JSON key order is not part of any format.
 */

/** One prediction, as every reader downstream sees it. */
export interface PredictionRecord {
  /** When it was made (ISO-8601 as logged; parsed only when a window needs it). */
  ts?: unknown;
  /** The request id, when the log has one. */
  id?: unknown;
  /** The version that answered, when the log says. */
  version?: unknown;
  /** The raw input fields of the record. */
  input: Record<string, unknown>;
  /** The model's output; `hasOutput` false when the line has none. */
  output?: unknown;
  hasOutput: boolean;
  /** An LLM request's generation facts (the gateway's `llm` block), when the line is one. */
  llm?: LlmFacts;
}

/**
 * What the LLM gateway logs of one generation besides the prompt (`input`) and the completion
 * (`output`): python/mlship_serving/llm/gateway.py writes it, drift and budgets read it. Every
 * number may be missing (null) when the backend did not say.
 */
export interface LlmFacts {
  stream?: boolean;
  status?: number;
  prompt_tokens?: number | null;
  completion_tokens?: number | null;
  cached_tokens?: number | null;
  /** stop | length | cancelled | error | …, as the backend said. */
  finish_reason?: string | null;
  /** Time to the first non-empty content, ms. */
  ttft_ms?: number | null;
  /** Mean time between content tokens after the first, ms. */
  itl_ms?: number | null;
  e2e_ms?: number | null;
  /** Time the request waited before the backend began on it, ms. */
  queue_ms?: number | null;
}

/** What a format needs to know to read records: the schema's field order (for CSV rows). */
export interface LogFormatOptions {
  /** Field names in the schema's declaration order (CSV bodies map onto it). */
  csvFields: readonly string[];
}

/**
 * A prediction-log format. `parse` emits each record of a line (a line may hold a batch) to `emit`
 * and returns a malformed-line reason (`invalid_json`, `missing_input`…) or undefined. The emitted
 * object may be reused for the next record: copy what you keep.
 */
export interface LogFormat {
  /** Stable id, carried by `LogSource.format` and across worker threads: `mlship`, `sagemaker-capture`. */
  readonly name: string;
  /** Whether a parsed JSON line is in this format (detection by structure, not by text). */
  accepts(parsed: unknown): boolean;
  /** A line parser for a schema (built once per reader; it may keep buffers). */
  parser(options: LogFormatOptions): (line: string, emit: (record: PredictionRecord) => void) => string | undefined;
}

/** A line parser for a JSON-lines format: each line is parsed once (`invalid_json` when it does not parse), then `read` turns the value into records. */
export function jsonLines(
  read: (parsed: unknown, emit: (record: PredictionRecord) => void) => string | undefined,
): (line: string, emit: (record: PredictionRecord) => void) => string | undefined {
  return (line, emit) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      return 'invalid_json';
    }
    return read(parsed, emit);
  };
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The format of a sample of lines: the first line that parses as JSON and that exactly one format
 * accepts decides; undefined when no line decides (an empty file, broken lines, flat data rows).
 */
export function detectLogFormat(lines: Iterable<string>, formats: readonly LogFormat[]): string | undefined {
  let tried = 0;
  for (const line of lines) {
    if (line.trim() === '') continue;
    if (++tried > 20) break;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      continue;
    }
    const matches = formats.filter((f) => f.accepts(parsed));
    if (matches.length === 1) return matches[0]!.name;
  }
  return undefined;
}
