/**
 * An LLM request and its answer as the clouds' own logs keep them become the records the gateway's
 * log gives (prompt, completion text, LlmFacts): whole answers and streamed events, usage or only
 * llama-server's timings, in Vertex's request-response logging rows and Azure's data collector lines.
 * The answers are llama-server's own (recorded from the tiny model of test/fixtures/llm).
 */
import { describe, expect, it } from 'vitest';
import type { PredictionRecord } from '../../src/logs/format.js';
import { azureCollectorFormat } from '../../src/logs/formats/azure.js';
import { LOG_FORMATS } from '../../src/logs/formats/index.js';
import { vertexLoggingFormat } from '../../src/logs/formats/vertex.js';
import { llmExchange, llmRequestKind } from '../../src/logs/llm-exchange.js';

const chat = { messages: [{ role: 'user', content: 'hi' }], max_tokens: 5 };
const whole = {
  choices: [{ finish_reason: 'length', index: 0, message: { role: 'assistant', content: '0]"p' } }],
  created: 1796623571,
  model: 'tiny',
  object: 'chat.completion',
  usage: { completion_tokens: 5, prompt_tokens: 51, total_tokens: 56, prompt_tokens_details: { cached_tokens: 0 } },
  id: 'chatcmpl-rilac907',
  timings: {
    cache_n: 0,
    prompt_n: 51,
    prompt_ms: 1.851,
    prompt_per_token_ms: 0.0363,
    predicted_n: 5,
    predicted_ms: 1.01,
    predicted_per_token_ms: 0.2525,
  },
};
const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({
  choices: [{ finish_reason: finish, index: 0, delta }],
  id: 'chatcmpl-Phn9',
  model: 'tiny',
  object: 'chat.completion.chunk',
});
const streamed = [
  chunk({ role: 'assistant', content: null }),
  chunk({ content: '0' }),
  chunk({ content: ']' }),
  chunk({}, 'length'),
  {
    choices: [],
    id: 'chatcmpl-Phn9',
    object: 'chat.completion.chunk',
    usage: { completion_tokens: 3, prompt_tokens: 51, total_tokens: 54, prompt_tokens_details: { cached_tokens: 50 } },
    timings: { cache_n: 50, prompt_n: 1, prompt_ms: 0.418, predicted_n: 3, predicted_ms: 0.356, predicted_per_token_ms: 0.178 },
  },
];

describe('llmExchange', () => {
  it('reads a whole chat answer: text, tokens, finish reason, latencies from timings', () => {
    expect(llmExchange(chat, whole)).toEqual({
      input: { endpoint: 'chat', messages: chat.messages },
      output: '0]"p',
      llm: {
        stream: false,
        status: 200,
        prompt_tokens: 51,
        completion_tokens: 5,
        cached_tokens: 0,
        finish_reason: 'length',
        ttft_ms: 1.851,
        itl_ms: 0.2525,
        e2e_ms: 1.851 + 1.01,
        queue_ms: null,
      },
    });
  });

  it('reads a streamed answer from its events (usage and timings in the last one)', () => {
    const x = llmExchange({ ...chat, stream: true }, streamed)!;
    expect(x.output).toBe('0]');
    expect(x.llm).toMatchObject({
      stream: true,
      prompt_tokens: 51,
      completion_tokens: 3,
      cached_tokens: 50,
      finish_reason: 'length',
      ttft_ms: 0.418,
      itl_ms: 0.178,
    });
  });

  it('a completion answer, tokens from timings when there is no usage, nulls when the backend said nothing', () => {
    const { usage: _, ...noUsage } = whole;
    const answer = { ...noUsage, object: 'text_completion', choices: [{ index: 0, text: 'abc', finish_reason: 'stop' }] };
    const x = llmExchange({ prompt: 'Once' }, answer)!;
    expect(x.input).toEqual({ endpoint: 'completions', prompt: 'Once' });
    expect(x.output).toBe('abc');
    expect(x.llm).toMatchObject({ prompt_tokens: 51, completion_tokens: 5, cached_tokens: 0, finish_reason: 'stop' });
    const bare = llmExchange(chat, { choices: [{ index: 0, message: { content: 'x' }, finish_reason: 'stop' }] })!;
    expect(bare.llm).toMatchObject({ prompt_tokens: null, completion_tokens: null, ttft_ms: null, itl_ms: null, e2e_ms: null });
  });

  it("the gateway's own facts (its `mlship` block, in a whole answer or a collected stream) take precedence", () => {
    const facts = {
      stream: false,
      status: 200,
      prompt_tokens: 51,
      completion_tokens: 5,
      ttft_ms: 12.5,
      itl_ms: 3.1,
      e2e_ms: 25,
      queue_ms: 0.4,
      usage_source: 'backend',
    };
    expect(llmExchange(chat, { ...whole, mlship: { id: 'r1', version: 'v2', llm: facts } })!.llm).toEqual(facts);
    const streamFacts = { ...facts, stream: true };
    const x = llmExchange({ ...chat, stream: true }, [...streamed, { mlship: { id: 'r2', version: 'v2', llm: streamFacts } }])!;
    expect(x.llm).toEqual(streamFacts);
    expect(x.output).toBe('0]');
  });

  it('is undefined for what is not an OpenAI request and its answer (tabular rows stay tabular)', () => {
    expect(llmRequestKind({ tenure: 3 })).toBeUndefined();
    expect(llmExchange({ tenure: 3 }, { prediction: 0.2 })).toBeUndefined();
    expect(llmExchange(chat, 0.2)).toBeUndefined();
    expect(llmExchange(chat, [{ error: { message: 'boom' } }])).toBeUndefined();
  });
});

describe('cloud log formats read LLM requests with their facts', () => {
  it('Vertex request-response logging: an instance of chat is one LLM record per prediction', () => {
    const row = {
      logging_time: '2026-12-07T06:00:00Z',
      request_id: '17',
      deployed_model_id: '42',
      version: 'v1',
      request_payload: [JSON.stringify(chat), JSON.stringify({ prompt: 'Once' })],
      response_payload: [JSON.stringify(whole), JSON.stringify({ ...whole, choices: [{ index: 0, text: 'abc', finish_reason: 'stop' }] })],
    };
    const out: PredictionRecord[] = [];
    expect(vertexLoggingFormat.parser({ csvFields: [] })(JSON.stringify(row), (r) => out.push({ ...r }))).toBeUndefined();
    expect(out.map((r) => [r.id, r.version, r.input.endpoint, r.output, r.llm?.completion_tokens, r.llm?.finish_reason])).toEqual([
      ['17-0', 'v1', 'chat', '0]"p', 5, 'length'],
      ['17-1', 'v1', 'completions', 'abc', 5, 'stop'],
    ]);
  });

  it('Azure data collector: a chat row with its completion, and a streamed one with its events', () => {
    const line = (corr: string, input: unknown, outputs: unknown[]) =>
      JSON.stringify({
        specversion: '1.0',
        source: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws/onlineEndpoints/e/deployments/v3',
        type: 'azureml.inference.model_inputs',
        time: '2026-12-07T06:00:00Z',
        data: [input],
        correlationid: corr,
        model_outputs: outputs,
      });
    const parse = LOG_FORMATS.get(azureCollectorFormat.name)!.parser({ csvFields: [] });
    const out: PredictionRecord[] = [];
    parse(line('a', chat, [whole]), (r) => out.push({ ...r }));
    parse(line('b', { ...chat, stream: true }, [streamed]), (r) => out.push({ ...r }));
    parse(line('c', { x: 1 }, [0.5]), (r) => out.push({ ...r }));
    expect(out.map((r) => [r.id, r.version, r.output, r.llm?.stream, r.llm?.completion_tokens])).toEqual([
      ['a', 'v3', '0]"p', false, 5],
      ['b', 'v3', '0]', true, 3],
      ['c', 'v3', 0.5, undefined, undefined],
    ]);
    expect(out[2]!.input).toEqual({ x: 1 });
  });
});
