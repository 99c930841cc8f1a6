/**
 * `mlship budget` on a cloud's live deployment, as the cloud tests run it: two connections (or
 * streams) for two seconds through the platform's own route and credentials (the target's
 * LiveClient), every request answered, and the verdict's exit code (0 within, 3 over).
 */
import { expect } from 'vitest';

type Cli = (...args: string[]) => Promise<{ code: number; stdout: string; stderr: string }>;

/** Run the budget; its `--json` document, its exit code checked against its verdict. */
async function runBudget<T extends { verdict: 'within' | 'over'; url: string }>(cli: Cli, route: string | RegExp): Promise<T> {
  const r = await cli('budget', '--connections', '2', '--duration', '2', '--json');
  expect([0, 3], r.stderr).toContain(r.code);
  const doc = JSON.parse(r.stdout) as T;
  expect(r.code).toBe(doc.verdict === 'over' ? 3 : 0);
  expect(doc.url).toMatch(route);
  return doc;
}

/** A tabular deployment: every prediction answered 200, each one a client-side latency. */
export async function expectTabularBudget(cli: Cli, route: string) {
  const doc = await runBudget<{
    url: string;
    verdict: 'within' | 'over';
    load: { responses: number; errors: number; timeouts: number; statusCounts: Record<string, number> };
    latency: { client: { count: number; p50: number } };
  }>(cli, route);
  expect(doc.url).toBe(route);
  expect(doc.load.responses).toBeGreaterThanOrEqual(4);
  expect(doc.load.statusCounts['200']).toBe(doc.load.responses);
  expect(doc.load.errors + doc.load.timeouts).toBe(0);
  expect(doc.latency.client.count).toBe(doc.load.responses);
  expect(doc.latency.client.p50).toBeGreaterThan(0);
  return doc;
}

/** An LLM: every streamed chat answered with tokens, and the throughput kept for that cloud's selected GPU instance. */
export async function expectLlmBudget(cli: Cli, target: string, route: string | RegExp) {
  const doc = await runBudget<{
    kind: string;
    url: string;
    verdict: 'within' | 'over';
    tokens: { requests: number; failed: number; ttftMs: { p50: number }; completionTokens: { mean: number }; aggregateTokensPerSecond: number };
    throughput?: { target: string; instanceType: string; concurrency: number; tokensPerSecond: number };
    compute: { instanceType: string; gpu: boolean };
  }>(cli, route);
  expect(doc.kind).toBe('llm');
  expect(doc.tokens.failed).toBe(0);
  expect(doc.tokens.requests).toBeGreaterThanOrEqual(2);
  expect(doc.tokens.ttftMs.p50).toBeGreaterThan(0);
  expect(doc.tokens.completionTokens.mean).toBeGreaterThan(0);
  expect(doc.tokens.aggregateTokensPerSecond).toBeGreaterThan(0);
  expect(doc.compute.gpu).toBe(true);
  expect(doc.throughput).toMatchObject({ target, instanceType: doc.compute.instanceType, concurrency: 2 });
  return doc;
}
