/**
 * SageMaker Data Capture lines as neutral prediction records: `{captureData: {endpointInput,
 * endpointOutput}, eventMetadata: {eventId, inferenceTime, inferenceId?}, eventVersion}`, where each
 * side is `{observedContentType, mode, data, encoding: JSON | CSV | BASE64}`; one line may hold a
 * batch. CSV rows map onto the schema's field order. A line is in this format when it parses to an
 * object with a `captureData` object — in whatever order SageMaker wrote the keys.
 *
 * An LLM's capture (an OpenAI body in: `messages` or `prompt`; a completion out, whole or as the
 * `text/event-stream` of InvokeEndpointWithResponseStream) becomes the record the gateway logs: input
 * `{endpoint: chat | completions, messages | prompt}`, output the completion's text, and `llm` facts.
 * The facts are the gateway's own (python/mlship_serving/llm/gateway.py adds its log line's facts to
 * every answer on a platform route: `"mlship": {id, version, llm}` in a whole answer, the SSE comment
 * `: mlship {...}` in a stream), so TTFT and inter-token latency mean on SageMaker what they mean in
 * the local log; from another server (no such block), what the answer itself says, as for Vertex's and
 * Azure's logs (src/logs/llm-exchange.ts: `usage`, `choices`, llama-server's `timings`).
 */
import { parseCsv } from '../../util/csv.js';
import { isObject, jsonLines, type LlmFacts, type LogFormat, type PredictionRecord } from '../format.js';
import { llmExchange, llmRequestKind } from '../llm-exchange.js';

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
function inputRecords(body: { text: string; csv: boolean }, fields: readonly string[]): Record<string, unknown>[] | undefined {
  const row = (cells: unknown[]): Record<string, unknown> => Object.fromEntries(fields.map((f, i) => [f, cells[i]]));
  if (body.csv)
    return parseCsv(body.text)
      .filter((r) => !(r.length === 1 && r[0] === ''))
      .map(row);
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
  // The serving app answers `{prediction}` for one record and `{predictions: […]}` for a batch.
  if (isObject(value) && 'predictions' in value) value = value.predictions;
  else if (isObject(value) && 'prediction' in value) return [value.prediction];
  return Array.isArray(value) ? value : [value];
}

/**
 * An LLM answer as captured: a whole completion (one JSON object), or the `text/event-stream` of a
 * streamed one (its events' JSON objects, in order); with the gateway's facts block either way
 * (`"mlship"` in the object, the `: mlship {...}` comment in the stream). Undefined when neither.
 */
function llmAnswer(text: string): { answer: unknown; block?: Record<string, unknown> } | undefined {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{')) {
    let obj: unknown;
    try {
      obj = JSON.parse(trimmed);
    } catch {
      return undefined;
    }
    return isObject(obj) ? { answer: obj, ...(isObject(obj.mlship) && { block: obj.mlship }) } : undefined;
  }
  const events: unknown[] = [];
  let block: Record<string, unknown> | undefined;
  for (const line of text.split(/\r?\n/)) {
    const comment = line.startsWith(': mlship ') ? line.slice(': mlship '.length) : undefined;
    const data = line.startsWith('data:') ? line.slice(5).trim() : undefined;
    try {
      if (comment !== undefined) {
        const parsed: unknown = JSON.parse(comment);
        if (isObject(parsed)) block = parsed;
      } else if (data !== undefined && data !== '[DONE]' && data !== '') events.push(JSON.parse(data));
    } catch {
      // not JSON: not an OpenAI event, nor the gateway's comment (every SSE client skips it too)
    }
  }
  return events.length > 0 ? { answer: events, ...(block && { block }) } : undefined;
}

/**
 * An LLM capture line as one record (`llmExchange`: the prompt, the completion's text, the facts the
 * answer holds), the gateway's facts and version taking precedence when its block is there; a chat
 * request captured without a completion still reads as one. Undefined when the line is not an LLM request.
 */
function llmRecord(input: { text: string; csv: boolean }, output: { text: string; csv: boolean } | undefined): PredictionRecord | undefined {
  if (input.csv) return undefined;
  let request: unknown;
  try {
    request = JSON.parse(input.text);
  } catch {
    return undefined;
  }
  const kind = llmRequestKind(request);
  if (!kind) return undefined;
  const answered = output && !output.csv ? llmAnswer(output.text) : undefined;
  const exchange = answered && llmExchange(request, answered.answer);
  if (!exchange) {
    // No completion (only Input captured, or an error answered): a chat body is unmistakable; a bare
    // `prompt` may be a tabular feature.
    if (kind !== 'chat') return undefined;
    return { input: { endpoint: 'chat', messages: (request as { messages: unknown }).messages }, hasOutput: false };
  }
  const block = answered.block;
  const llm = isObject(block?.llm) ? (block.llm as LlmFacts) : exchange.llm;
  return { input: exchange.input, output: exchange.output, hasOutput: true, llm, ...(block?.version !== undefined && { version: block.version }) };
}

function csvScalar(cell: string): unknown {
  const t = cell.trim();
  const n = Number(t);
  return t !== '' && Number.isFinite(n) ? n : t;
}

export const sagemakerCaptureFormat: LogFormat = {
  name: 'sagemaker-capture',
  accepts: (parsed) => isObject(parsed) && isObject(parsed.captureData),
  parser: ({ csvFields }) =>
    jsonLines((obj, emit) => {
      if (!isObject(obj) || !isObject(obj.captureData)) return 'missing_capture_data';
      const inputBody = decodeCapture(obj.captureData.endpointInput);
      if (!inputBody) return 'missing_input';
      const outputBody = decodeCapture(obj.captureData.endpointOutput);
      const meta = isObject(obj.eventMetadata) ? obj.eventMetadata : {};
      const id = meta.inferenceId ?? meta.eventId;
      const llm = llmRecord(inputBody, outputBody);
      if (llm) {
        emit({ ts: meta.inferenceTime, id, ...llm });
        return undefined;
      }
      const records = inputRecords(inputBody, csvFields);
      if (!records || records.length === 0) return 'unreadable_input';
      const outputs = outputBody ? outputValues(outputBody) : undefined;
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
        emit({ ts: meta.inferenceTime, id: records.length === 1 ? id : `${String(id)}#${i}`, input, output, hasOutput });
      });
      return undefined;
    }),
};
