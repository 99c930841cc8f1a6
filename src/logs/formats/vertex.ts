/**
 * Vertex AI request-response logging rows as neutral prediction records. The BigQuery table
 * (`request_response_logging`) holds one row per request: `logging_time`, `request_id`,
 * `deployed_model_id`, `request_payload` and `response_payload` (each a list of JSON strings, one per
 * instance / prediction). The log source (logs.ts) streams rows as JSON lines with `version` added
 * from the deployed model; this format turns each into one record per instance. A line is in this
 * format when it parses to an object with a `request_payload` list.
 */
import { isObject, jsonLines, type LogFormat, type PredictionRecord } from '../format.js';

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
        const input = isObject(raw) ? raw : Array.isArray(raw) ? Object.fromEntries(csvFields.map((f, j) => [f, raw[j]])) : undefined;
        if (!input) return 'missing_input';
        const record: PredictionRecord = {
          ts: row.logging_time,
          id: inputs.length > 1 ? `${String(row.request_id)}-${i}` : row.request_id,
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
