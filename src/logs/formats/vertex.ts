/**
 * Vertex AI request-response logging rows as neutral prediction records. The BigQuery table
 * (`request_response_logging`) holds one row per request: `logging_time`, `request_id`,
 * `deployed_model_id`, `request_payload` and `response_payload` (each a list of JSON strings, one per
 * instance / prediction). The log source (logs.ts) streams rows as JSON lines with `version` added
 * from the deployed model; this format turns each into one record per instance. An instance that is
 * an OpenAI chat or completion body, answered by a completion (mlship's LLM gateway on Vertex's
 * predict route), becomes an LLM record (src/logs/llm-exchange.ts: the prompt, the completion text
 * and `llm` facts from the answer's usage, choices and timings). A line is in this format when it
 * parses to an object with a `request_payload` list.
 */
import { isObject, jsonLines, type LogFormat, type PredictionRecord } from '../format.js';
import { llmExchange } from '../llm-exchange.js';

/** A JSON string of an instance (or of `{"instances": [...]}`), parsed. */
function parsePayload(items: unknown[]): unknown[] | undefined {
  const out: unknown[] = [];
  for (const item of items) {
    let value: unknown = item;
    if (typeof item === 'string') {
      try {
        value = JSON.parse(item);
      } catch {
        return undefined;
      }
    }
    if (isObject(value) && Array.isArray(value.instances)) out.push(...value.instances);
    else if (isObject(value) && Array.isArray(value.predictions)) out.push(...value.predictions);
    else out.push(value);
  }
  return out;
}

export const vertexLoggingFormat: LogFormat = {
  name: 'vertex-request-response',
  accepts: (parsed) => isObject(parsed) && Array.isArray(parsed.request_payload),
  parser: ({ csvFields }) =>
    jsonLines((row, emit) => {
      if (!isObject(row) || !Array.isArray(row.request_payload)) return 'missing_input';
      const inputs = parsePayload(row.request_payload);
      if (!inputs) return 'invalid_json';
      const outputs = Array.isArray(row.response_payload) ? parsePayload(row.response_payload) : undefined;
      for (let i = 0; i < inputs.length; i++) {
        const raw = inputs[i];
        const id = inputs.length > 1 ? `${String(row.request_id)}-${i}` : row.request_id;
        const exchange = outputs !== undefined && i < outputs.length ? llmExchange(raw, outputs[i]) : undefined;
        if (exchange) {
          emit({ ts: row.logging_time, id, version: row.version, input: exchange.input, output: exchange.output, hasOutput: true, llm: exchange.llm });
          continue;
        }
        const input = isObject(raw) ? raw : Array.isArray(raw) ? Object.fromEntries(csvFields.map((f, j) => [f, raw[j]])) : undefined;
        if (!input) return 'missing_input';
        const record: PredictionRecord = {
          ts: row.logging_time,
          id,
          version: row.version,
          input,
          hasOutput: outputs !== undefined && i < outputs.length,
          ...(outputs !== undefined && i < outputs.length && { output: outputs[i] }),
        };
        emit(record);
      }
      return undefined;
    }),
};
