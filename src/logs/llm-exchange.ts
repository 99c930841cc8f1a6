/**
 * One LLM request and its answer, as a cloud's own log keeps them (Vertex request-response logging,
 * Azure's data collector), read into what mlship's gateway logs of a generation
 * (python/mlship_serving/llm/openai.py `log_line`): the input `{endpoint: "chat", messages}` or
 * `{endpoint: "completions", prompt}`, the completion text as output, and `LlmFacts`.
 *
 * The gateway adds its log line's facts to every answer on a platform's route (`gatewayFacts`): those
 * are taken when there. Else (another server in front, an older image) the facts come from the answer:
 * tokens from its `usage` (else llama-server's `timings`: prompt_n, predicted_n, cache_n), the finish
 * reason from its `choices`, and the latencies from llama-server's `timings` when present: time to
 * first token = its prompt time (`prompt_ms`), inter-token latency = `predicted_per_token_ms`,
 * end-to-end = prompt + generation time (the backend's own; network and queue are not in it). A
 * streamed answer is the list of its events' JSON objects (each a `chat.completion.chunk` or a
 * completion chunk); a whole one is the completion object.
 */
import { isObject, type LlmFacts } from './format.js';

/** What a record of an LLM exchange holds besides its id, time and version. */
export interface LlmExchange {
  input: Record<string, unknown>;
  output: string;
  llm: LlmFacts;
}

/** An OpenAI chat or completion request body: which one, or undefined. */
export function llmRequestKind(body: unknown): 'chat' | 'completions' | undefined {
  if (!isObject(body)) return undefined;
  if (Array.isArray(body.messages)) return 'chat';
  if (typeof body.prompt === 'string' || Array.isArray(body.prompt)) return 'completions';
  return undefined;
}

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** The events of an answer: a whole completion is one, a stream its list (errors and non-objects skipped). */
function events(answer: unknown): Record<string, unknown>[] | undefined {
  if (isObject(answer)) return Array.isArray(answer.choices) ? [answer] : undefined;
  if (!Array.isArray(answer)) return undefined;
  const out = answer.filter((e): e is Record<string, unknown> => isObject(e) && (Array.isArray(e.choices) || isObject(e.usage) || isObject(e.timings)));
  return out.length > 0 ? out : undefined;
}

/**
 * The facts mlship's gateway adds to an answer on a platform's route (python/mlship_serving/llm/gateway.py
 * `facts_block`): `"mlship": {id, version, llm}` in a whole answer, or an event `{"mlship": {…}}` of a
 * collected stream (its `: mlship {…}` comment, as a platform's capture keeps it). Undefined without one.
 */
export function gatewayFacts(answer: unknown): Record<string, unknown> | undefined {
  const holder = Array.isArray(answer) ? answer.find((e) => isObject(e) && isObject(e.mlship)) : answer;
  return isObject(holder) && isObject(holder.mlship) ? holder.mlship : undefined;
}

/**
 * The exchange of `request` and `answer`, or undefined when they are not an OpenAI request and its
 * answer. The gateway's own facts (`gatewayFacts`) take precedence over what the answer says: they are
 * the log line's, measured where the stream was served.
 */
export function llmExchange(request: unknown, answer: unknown): LlmExchange | undefined {
  const kind = llmRequestKind(request);
  const list = events(answer);
  if (!kind || !list) return undefined;
  const body = request as Record<string, unknown>;
  const streamed = Array.isArray(answer);
  const parts: string[] = [];
  let finish: string | null = null;
  let usage: Record<string, unknown> | undefined;
  let timings: Record<string, unknown> | undefined;
  for (const e of list) {
    for (const choice of Array.isArray(e.choices) ? e.choices : []) {
      if (!isObject(choice) || (choice.index !== undefined && choice.index !== 0)) continue;
      const holder = kind === 'chat' ? (streamed ? choice.delta : choice.message) : choice;
      const text = isObject(holder) ? (kind === 'chat' ? holder.content : holder.text) : undefined;
      if (typeof text === 'string') parts.push(text);
      if (typeof choice.finish_reason === 'string') finish = choice.finish_reason;
    }
    if (isObject(e.usage)) usage = e.usage;
    if (isObject(e.timings)) timings = e.timings;
  }
  const details = usage && isObject(usage.prompt_tokens_details) ? usage.prompt_tokens_details : undefined;
  const promptMs = num(timings?.prompt_ms);
  const predictedMs = num(timings?.predicted_ms);
  const llm: LlmFacts = {
    stream: streamed,
    status: 200,
    prompt_tokens: usage ? num(usage.prompt_tokens) : num(timings?.prompt_n),
    completion_tokens: usage ? num(usage.completion_tokens) : num(timings?.predicted_n),
    cached_tokens: details ? num(details.cached_tokens) : num(timings?.cache_n),
    finish_reason: finish,
    ttft_ms: promptMs,
    itl_ms: num(timings?.predicted_per_token_ms),
    e2e_ms: promptMs !== null && predictedMs !== null ? promptMs + predictedMs : null,
    queue_ms: null,
  };
  const input = kind === 'chat' ? { endpoint: 'chat', messages: body.messages } : { endpoint: 'completions', prompt: body.prompt };
  const block = gatewayFacts(answer);
  return { input, output: parts.join(''), llm: isObject(block?.llm) ? (block.llm as LlmFacts) : llm };
}
