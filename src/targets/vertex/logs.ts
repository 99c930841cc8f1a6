/**
 * Prediction logs on Vertex AI: the rows request-response logging wrote to BigQuery in a window,
 * streamed page by page (memory does not grow with the table). Each row is parsed by the Vertex
 * logging format (src/logs/formats/vertex.ts: one record per instance, `request_payload`/`response_payload`) and
 * handed to drift-check and quality as mlship's neutral log lines `{ts, id, version, input, output}`
 * (and an LLM request's `llm` facts),
 * with the mlship version of the deployed model that answered.
 */
import type { PredictionRecord } from '../../logs/format.js';
import type { LogSource, LogWindow } from '../../logs/types.js';
import type { VertexApi } from './api.js';
import { vertexLoggingFormat } from '../../logs/formats/vertex.js';
import { isNotFound } from './errors.js';

/** Standard SQL over the logging table, the window as TIMESTAMP parameters. */
export function loggingQuery(table: string): string {
  return `SELECT logging_time, request_id, deployed_model_id, request_payload, response_payload FROM \`${table}\` WHERE logging_time >= TIMESTAMP(@from) AND logging_time < TIMESTAMP(@to) ORDER BY logging_time`;
}

function cell(v: unknown): unknown {
  if (v && typeof v === 'object' && 'value' in v) return (v as { value: unknown }).value;
  if (v instanceof Date) return v.toISOString();
  return v;
}

/** The window's rows of the logging table as one log source. */
export function bigQueryLogSource(
  api: VertexApi,
  table: string,
  window: LogWindow,
  versionOf: (deployedModelId: string) => string | undefined,
  csvFields: readonly string[],
): LogSource {
  const from = (window.from ?? new Date(0)).toISOString();
  const to = (window.to ?? new Date(Date.now() + 60_000)).toISOString();
  return {
    description: `bq://${table} (${from} … ${to})`,
    format: 'mlship',
    async *lines() {
      const parse = vertexLoggingFormat.parser({ csvFields });
      const out: string[] = [];
      const emit = (r: PredictionRecord) =>
        out.push(
          JSON.stringify({
            ts: r.ts,
            id: r.id,
            ...(r.version !== undefined && { version: r.version }),
            input: r.input,
            ...(r.hasOutput && { output: r.output }),
            ...(r.llm && { llm: r.llm }),
          }),
        );
      const rows = api.queryRows(loggingQuery(table), { from, to });
      // The logging table appears with the first logged prediction: before that there is nothing to read.
      for await (const row of ifTableExists(rows)) {
        const id = String(cell(row.deployed_model_id) ?? '');
        const version = versionOf(id);
        const line = JSON.stringify({
          logging_time: cell(row.logging_time),
          request_id: cell(row.request_id),
          deployed_model_id: id,
          ...(version && { version }),
          request_payload: row.request_payload ?? [],
          response_payload: row.response_payload ?? [],
        });
        // A row the format cannot read is passed on as it is: the drift reader counts it as malformed.
        if (parse(line, emit) !== undefined) yield line;
        yield* out.splice(0);
      }
    },
  };
}

/** The rows of a query; none when its table does not exist yet (NOT_FOUND before the first row). */
async function* ifTableExists<T>(rows: AsyncIterable<T>): AsyncGenerator<T> {
  let any = false;
  try {
    for await (const row of rows) {
      any = true;
      yield row;
    }
  } catch (error) {
    if (any || !isNotFound(error)) throw error;
  }
}
