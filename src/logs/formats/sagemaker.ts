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
 * the local log; from another server (no such block) tokens and finish reason come from the answer's
 * `usage` and `choices`, and the latencies are null.
 */
import { parseCsv } from '../../util/csv.js';
import { isObject, jsonLines, type LlmFacts, type LogFormat, type PredictionRecord } from '../format.js';

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

/** The input of an LLM request as the gateway logs it, when the body is one (chat: a `messages` list; completions: a `prompt`). */
function llmInput(value: unknown, answered: boolean): { endpoint: 'chat' | 'completions'; messages?: unknown; prompt?: unknown } | undefined {
  if (!isObject(value) || 'instances' in value) return undefined;
  if (Array.isArray(value.messages)) return { endpoint: 'chat', messages: value.messages };
  // A bare `prompt` is an LLM request only when a completion answered it (a tabular feature may be called prompt).
  if (answered && (typeof value.prompt === 'string' || Array.isArray(value.prompt))) return { endpoint: 'completions', prompt: value.prompt };
  return undefined;
}

/** What an LLM answer says: its text, finish reason, usage and the gateway's facts block. */
interface LlmAnswer {
  text: string;
  finish?: string;
  usage?: Record<string, unknown>;
  block?: Record<string, unknown>;
  stream: boolean;
}

/** An OpenAI answer, whole (`choices`) or streamed (`data:` events, the gateway's `: mlship` comment); undefined when the body is neither. */
function llmAnswer(text: string): LlmAnswer | undefined {
  const answer: LlmAnswer = { text: '', stream: false };
  const read = (obj: unknown, streamed: boolean) => {
    if (!isObject(obj)) return;
    if (Array.isArray(obj.choices)) {
      for (const c of obj.choices) {
        if (!isObject(c)) continue;
        const holder = streamed ? c.delta : c.message;
        const part = isObject(holder) ? holder.content : c.text;
        if (typeof part === 'string') answer.text += part;
        if (typeof c.finish_reason === 'string') answer.finish = c.finish_reason;
      }
    }
    if (isObject(obj.usage)) answer.usage = obj.usage;
    if (isObject(obj.mlship)) answer.block = obj.mlship;
  };
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{')) {
    let obj: unknown;
    try {
      obj = JSON.parse(trimmed);
    } catch {
      return undefined;
    }
    if (!isObject(obj) || !(Array.isArray(obj.choices) || isObject(obj.mlship))) return undefined;
    read(obj, false);
    return answer;
  }
  let events = 0;
  for (const line of text.split(/\r?\n/)) {
    if (line.startsWith(': mlship ')) {
      try {
        const block: unknown = JSON.parse(line.slice(': mlship '.length));
        if (isObject(block)) answer.block = block;
      } catch {
        // a comment that is not the gateway's: skipped, as every SSE client does
      }
    } else if (line.startsWith('data:')) {
      const data = line.slice(5).trim();
      if (data === '[DONE]' || data === '') continue;
      try {
        read(JSON.parse(data), true);
        events++;
      } catch {
        // not JSON: not an OpenAI event
      }
    }
  }
  if (events === 0 && !answer.block) return undefined;
  answer.stream = true;
  return answer;
}

/** The record's facts: the gateway's block when the answer has one, else what `usage` and `choices` say. */
function llmFacts(answer: LlmAnswer | undefined): LlmFacts | undefined {
  if (!answer) return undefined;
  if (isObject(answer.block?.llm)) return answer.block.llm as LlmFacts;
  const u = answer.usage;
  const num = (v: unknown) => (typeof v === 'number' ? v : null);
  const details = u && isObject(u.prompt_tokens_details) ? u.prompt_tokens_details : undefined;
  return {
    stream: answer.stream,
    prompt_tokens: num(u?.prompt_tokens),
    completion_tokens: num(u?.completion_tokens),
    cached_tokens: num(details?.cached_tokens),
    finish_reason: answer.finish ?? null,
    ttft_ms: null,
    itl_ms: null,
    e2e_ms: null,
  };
}

/** An LLM capture line as one record, or undefined when the line is not an LLM request. */
function llmRecord(input: { text: string; csv: boolean }, output: { text: string; csv: boolean } | undefined): PredictionRecord | undefined {
  if (input.csv) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(input.text);
  } catch {
    return undefined;
  }
  const answer = output && !output.csv ? llmAnswer(output.text) : undefined;
  const request = llmInput(value, answer !== undefined);
  if (!request) return undefined;
  const llm = llmFacts(answer);
  const version = answer?.block?.version;
  return {
    input: request,
    hasOutput: answer !== undefined,
    ...(answer && { output: answer.text }),
    ...(llm && { llm }),
    ...(version !== undefined && { version }),
  };
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
