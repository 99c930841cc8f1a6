/**
 * The streaming load test behind `mlship budget` for an LLM: `concurrency` streams at once, each
 * sending one chat completion (`stream: true`, `stream_options.include_usage`) after another for the
 * test's duration through the deployment's `LiveClient` (the platform's own route and credentials:
 * plain HTTP locally, SageMaker's runtime stream, Vertex's streamRawPredict, Azure's scoring URI),
 * reading the `text/event-stream` answer and stamping every event as it arrives. What each request
 * saw becomes one `StreamSample`; the arithmetic on them is pure (tokens.ts).
 */
import type { LiveClient } from '../deploy/types.js';
import { generatorUsage, preflight, type GeneratorUsage } from './load-test.js';

/** What to send, at how many streams at once, for how long. */
export interface StreamLoadOptions {
  /** The deployment as its callers reach it (`httpLiveClient` for a bare URL). */
  client: LiveClient;
  /** Request bodies (JSON text), sent in turn. */
  bodies: string[];
  /** Streams at once: each sends its next request when its last one ended. */
  concurrency: number;
  /** No request starts after this; requests in flight finish. */
  durationSeconds: number;
  /** Requests sent one by one before the test (not measured): checks the endpoint and warms it up. */
  warmupRequests?: number;
  /** Longest one request may take. */
  timeoutSeconds?: number;
}

/** One streamed request as the client saw it; every time in ms from the moment it was sent. */
export interface StreamSample {
  /** When it was sent, in ms from the test's start. */
  sentAtMs: number;
  /** HTTP status (0: no response). */
  status: number;
  /** Arrival of each event carrying non-empty content (a role-only or empty delta is not content). */
  contentMs: number[];
  /** Arrival of the last byte (or of the failure). */
  endMs: number;
  /** From the usage event, when the stream had one. */
  promptTokens?: number;
  completionTokens?: number;
  finishReason?: string;
  /** Why the request failed: no response, an error status, an error event, a stream cut short. */
  error?: string;
}

/** What came back. */
export interface StreamLoadResult {
  url: string;
  concurrency: number;
  durationSeconds: number;
  /** From the first request sent to the last one ended (in-flight requests finish after the duration). */
  wallMs: number;
  requests: number;
  /** Responses by status code (0: no response). */
  statusCounts: Record<string, number>;
  samples: StreamSample[];
  generator: GeneratorUsage;
}

/** Run the test. Throws `OperationError` (via the preflight) when the endpoint is unreachable or rejects the request. */
export async function runStreamLoadTest(options: StreamLoadOptions): Promise<StreamLoadResult> {
  const timeoutMs = (options.timeoutSeconds ?? 120) * 1000;
  const { client } = options;
  await preflight(
    {
      url: client.chatRoute,
      bodies: options.bodies,
      warmupRequests: options.warmupRequests ?? 2,
      timeoutSeconds: timeoutMs / 1000,
      send: (body, signal) => client.streamChat(body, { signal }),
    },
    'check that the URL is the OpenAI-compatible chat route (/v1/chat/completions) and that budget.request.max_tokens fits the model’s context',
  );
  const samples: StreamSample[] = [];
  const cpuBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  const t0 = performance.now();
  const deadline = t0 + options.durationSeconds * 1000;
  let next = 0;
  const stream = async () => {
    while (performance.now() < deadline) {
      const body = options.bodies[next++ % options.bodies.length]!;
      samples.push(await streamOnce(client, body, timeoutMs, t0));
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, stream));
  const wallMs = performance.now() - t0;
  const statusCounts: Record<string, number> = {};
  for (const s of samples) statusCounts[s.status] = (statusCounts[s.status] ?? 0) + 1;
  return {
    url: client.chatRoute,
    concurrency: options.concurrency,
    durationSeconds: options.durationSeconds,
    wallMs: Math.round(wallMs * 1000) / 1000,
    requests: samples.length,
    statusCounts,
    samples,
    generator: generatorUsage(cpuBefore, started),
  };
}

/** Send one request and read its stream to the end, stamping each event. Never throws. */
export async function streamOnce(client: LiveClient, body: string, timeoutMs: number, origin = performance.now()): Promise<StreamSample> {
  const sent = performance.now();
  const sample: StreamSample = { sentAtMs: sent - origin, status: 0, contentMs: [], endMs: 0 };
  const since = () => performance.now() - sent;
  let response: Response;
  try {
    response = await client.streamChat(body, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    return { ...sample, endMs: since(), error: transportError(error) };
  }
  sample.status = response.status;
  if (!response.ok || !response.body) {
    const text = await response.text().catch(() => '');
    return { ...sample, endMs: since(), error: `HTTP ${response.status}: ${text.slice(0, 200)}` };
  }
  const parser = new EventParser();
  const decoder = new TextDecoder();
  let done = false;
  try {
    const reader = response.body.getReader();
    for (;;) {
      const chunk = await reader.read();
      const at = since();
      if (chunk.done) break;
      for (const data of parser.push(decoder.decode(chunk.value, { stream: true }))) {
        if (data === '[DONE]') {
          done = true;
          continue;
        }
        readEvent(data, at, sample);
      }
    }
  } catch (error) {
    sample.error ??= `the stream broke: ${transportError(error)}`;
  }
  sample.endMs = since();
  if (!done && sample.error === undefined) sample.error = 'the stream ended without data: [DONE]';
  return sample;
}

/** One event's data into the sample: content (chat delta or completion text), usage, finish reason, error. */
function readEvent(data: string, at: number, sample: StreamSample): void {
  let event: StreamEvent;
  try {
    event = JSON.parse(data) as StreamEvent;
  } catch {
    sample.error ??= `an event that is not JSON: ${data.slice(0, 100)}`;
    return;
  }
  if (event.error !== undefined) {
    sample.error ??= `an error event: ${typeof event.error === 'object' && event.error !== null ? (event.error.message ?? JSON.stringify(event.error)) : String(event.error)}`;
    return;
  }
  const choice = event.choices?.[0];
  const content = choice?.delta?.content ?? choice?.text;
  if (typeof content === 'string' && content.length > 0) sample.contentMs.push(at);
  if (typeof choice?.finish_reason === 'string') sample.finishReason = choice.finish_reason;
  if (event.usage) {
    if (typeof event.usage.completion_tokens === 'number') sample.completionTokens = event.usage.completion_tokens;
    if (typeof event.usage.prompt_tokens === 'number') sample.promptTokens = event.usage.prompt_tokens;
  }
}

interface StreamEvent {
  choices?: { delta?: { content?: string | null }; text?: string; finish_reason?: string | null }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
  error?: { message?: string } | string;
}

/**
 * Server-sent events from text chunks: an event ends at a blank line; its `data:` lines joined with
 * newlines are its data (comments and other fields are skipped).
 */
export class EventParser {
  private buffer = '';

  /** The data of every event completed by this chunk. */
  push(text: string): string[] {
    this.buffer += text;
    const out: string[] = [];
    for (;;) {
      const end = /\r?\n\r?\n/.exec(this.buffer);
      if (!end) break;
      const block = this.buffer.slice(0, end.index);
      this.buffer = this.buffer.slice(end.index + end[0].length);
      const data = block
        .split(/\r?\n/)
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).replace(/^ /, ''));
      if (data.length > 0) out.push(data.join('\n'));
    }
    return out;
  }
}

function transportError(error: unknown): string {
  const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError') return 'timed out';
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(error);
}
