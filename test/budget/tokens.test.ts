/** An LLM's token budget: the arithmetic on recorded event timings, the SSE client on a scripted stream. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventParser, streamOnce, type StreamSample } from '../../src/budget/stream.js';
import { urlClient } from '../../src/budget/budget.js';
import { analyzeTokens, rateSummary, requestTimings } from '../../src/budget/tokens.js';
import type { LlmBudget } from '../../src/manifest/types.js';

const request = { prompt: 'hi', max_tokens: 8 };

function sample(contentMs: number[], endMs: number, over: Partial<StreamSample> = {}): StreamSample {
  return { sentAtMs: 0, status: 200, contentMs, endMs, ...over };
}

describe('requestTimings', () => {
  it('takes TTFT at the first content, ITL between content events, tokens/s after the first token', () => {
    const t = requestTimings(sample([12, 15, 19, 30], 35, { completionTokens: 4 }));
    expect(t.ttftMs).toBe(12);
    expect(t.itlMs).toEqual([3, 4, 11]);
    expect(t.e2eMs).toBe(35);
    expect(t.tokens).toBe(4);
    // 3 tokens after the first over the 18 ms from first to last.
    expect(t.tokensPerSecond).toBeCloseTo(3 / 0.018, 6);
  });

  it('counts content events when the stream had no usage, and has no rate for one token or none', () => {
    expect(requestTimings(sample([5, 9], 10)).tokens).toBe(2);
    expect(requestTimings(sample([5], 10, { completionTokens: 1 })).tokensPerSecond).toBeNull();
    const empty = requestTimings(sample([], 10, { completionTokens: 0 }));
    expect(empty.ttftMs).toBeNull();
    expect(empty.itlMs).toEqual([]);
  });
});

describe('analyzeTokens', () => {
  // 100 requests: TTFT i ms (1..100), then 4 more content events 2 ms apart, except request 100's
  // last gap of 50 ms; 5 tokens each.
  const samples = Array.from({ length: 100 }, (_, k) => {
    const i = k + 1;
    const last = i === 100 ? 50 : 2;
    return sample([i, i + 2, i + 4, i + 6, i + 6 + last], i + 6 + last + 1, { completionTokens: 5 });
  });

  it('pools inter-token gaps over streams, takes percentiles per request, and passes a budget that holds', () => {
    const budget: LlmBudget = { ttft_ms: { p50: 60, p95: 96 }, itl_ms: { p99: 2 }, e2e_ms: { p95: 200 }, concurrency: 4, request };
    const r = analyzeTokens(samples, budget, 2000);
    expect(r.ttftMs).toMatchObject({ p50: 50, p95: 95, p99: 99, count: 100 });
    // 400 gaps: 399 of 2 ms and one of 50 ms; nearest-rank p99 is still 2.
    expect(r.itlMs).toMatchObject({ p50: 2, p99: 2, max: 50, count: 400 });
    expect(r.e2eMs?.p50).toBe(59);
    expect(r.completionTokens?.mean).toBe(5);
    // 500 tokens in 2 s.
    expect(r.aggregateTokensPerSecond).toBe(250);
    expect(r.requestsPerSecond).toBe(50);
    expect(r.checks.map((c) => [c.metric, c.percentile, c.status])).toEqual([
      ['ttft_ms', 'p50', 'ok'],
      ['ttft_ms', 'p95', 'ok'],
      ['itl_ms', 'p99', 'ok'],
      ['e2e_ms', 'p95', 'ok'],
    ]);
    expect(r.verdict).toBe('within');
    expect(r.over).toEqual([]);
  });

  it('names every percentile over its allocation and a tokens/s floor that more than 5% of streams miss', () => {
    const budget: LlmBudget = { ttft_ms: { p95: 0.001 }, itl_ms: { p50: 1 }, tokens_per_s: 400, concurrency: 4, request };
    const r = analyzeTokens(samples, budget, 2000);
    expect(r.verdict).toBe('over');
    expect(r.over).toEqual(['ttft_ms p95 95.0 ms > 0.001 ms', 'itl_ms p50 2.00 ms > 1.00 ms']);
    // 4 tokens after the first in 8 ms (500 tokens/s), but the last stream's in 56 ms (71.4 tokens/s).
    expect(r.tokensPerSecond?.p5).toBe(500);
    expect(r.tokensPerSecond?.min).toBeCloseTo(71.429, 2);
    expect(r.checks.find((c) => c.metric === 'tokens_per_s')).toMatchObject({ percentile: 'p5', measured: 500, status: 'ok' });
    const slow = analyzeTokens(samples, { ...budget, tokens_per_s: 600 }, 2000);
    expect(slow.over).toContain('tokens_per_s p5 500 < floor 600 (more than 5% of streams slower)');
  });

  it('keeps failed requests out of the timings, and more than 1% failed is over budget', () => {
    const failed = [...samples.slice(0, 97), ...[1, 2, 3].map(() => sample([], 3, { status: 0, error: 'ECONNRESET' }))];
    const r = analyzeTokens(failed, { concurrency: 1, request }, 1000);
    expect(r.failed).toBe(3);
    expect(r.ttftMs?.count).toBe(97);
    expect(r.verdict).toBe('over');
    expect(r.over).toEqual(['3 of 100 requests failed']);
    expect(r.findings.join('\n')).toContain('first: ECONNRESET');
    expect(r.findings.join('\n')).toContain('no token budget is written');
  });

  it('says so when nothing could be measured for a budget', () => {
    const r = analyzeTokens([sample([], 4, { completionTokens: 0 })], { ttft_ms: { p50: 10 }, concurrency: 1, request }, 100);
    expect(r.empty).toBe(1);
    expect(r.verdict).toBe('over');
    expect(r.over[0]).toContain('ttft_ms could not be measured');
  });
});

describe('rateSummary', () => {
  it('adds the 5th percentile and the slowest to the percentiles', () => {
    const r = rateSummary(Array.from({ length: 100 }, (_, i) => 100 - i));
    expect([r.p5, r.min, r.p50, r.max]).toEqual([5, 1, 50, 100]);
  });
});

describe('EventParser', () => {
  it('splits events across chunks, with CRLF, several data lines and comments', () => {
    const p = new EventParser();
    expect(p.push('data: {"a"')).toEqual([]);
    expect(p.push(':1}\n\n: keep-alive\n\ndata: x\r\ndata: y\r\n\r\ndata: [DO')).toEqual(['{"a":1}', 'x\ny']);
    expect(p.push('NE]\n\n')).toEqual(['[DONE]']);
  });
});

describe('streamOnce', () => {
  let server: Server;
  let url: string;
  // Scripted answers by path: role-only first chunk, then content after a pause, usage, [DONE].
  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      const chunk = (delta: object, extra: object = {}) => `data: ${JSON.stringify({ choices: [{ index: 0, delta, finish_reason: null }], ...extra })}\n\n`;
      if (req.url === '/rejected') {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end('{"error":{"message":"max_tokens too large"}}');
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(chunk({ role: 'assistant', content: '' }));
      setTimeout(() => {
        if (req.url === '/error-event') {
          res.end(`data: ${JSON.stringify({ error: { message: 'backend died' } })}\n\ndata: [DONE]\n\n`);
          return;
        }
        res.write(chunk({ content: 'Hel' }));
        setTimeout(() => {
          res.write(chunk({ content: 'lo' }));
          res.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: 'length' }] })}\n\n`);
          res.write(`data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 7, completion_tokens: 2, total_tokens: 9 } })}\n\n`);
          res.end(req.url === '/no-done' ? '' : 'data: [DONE]\n\n');
        }, 20);
      }, 40);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('times the first non-empty content, not the role-only first chunk, and reads the usage', async () => {
    const s = await streamOnce(urlClient(`${url}/v1/chat/completions`), '{}', 10_000);
    expect(s.error).toBeUndefined();
    expect(s.status).toBe(200);
    expect(s.contentMs).toHaveLength(2);
    // The server waited 40 ms after the role chunk before the first content, then 20 ms.
    expect(s.contentMs[0]).toBeGreaterThanOrEqual(39);
    expect(s.contentMs[1]! - s.contentMs[0]!).toBeGreaterThanOrEqual(19);
    expect(s).toMatchObject({ completionTokens: 2, promptTokens: 7, finishReason: 'length' });
    expect(s.endMs).toBeGreaterThanOrEqual(s.contentMs[1]!);
  });

  it('turns an error status, an error event, a stream without [DONE] and no server into failed samples', async () => {
    expect((await streamOnce(urlClient(`${url}/rejected`), '{}', 10_000)).error).toBe('HTTP 400: {"error":{"message":"max_tokens too large"}}');
    expect((await streamOnce(urlClient(`${url}/error-event`), '{}', 10_000)).error).toBe('an error event: backend died');
    expect((await streamOnce(urlClient(`${url}/no-done`), '{}', 10_000)).error).toBe('the stream ended without data: [DONE]');
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const dead = await streamOnce(urlClient(`http://127.0.0.1:${port}/v1/chat/completions`), '{}', 10_000);
    expect(dead).toMatchObject({ status: 0, error: 'ECONNREFUSED' });
  });
});
