/**
 * `mlship budget` on an LLM manifest as a user runs it: the tiny model (test/fixtures/llm/make_tiny_gguf.py)
 * built, pushed and deployed on the local target (mlship's gateway in front of a real llama-server),
 * then a streaming load test against the live deployment: a generous budget exits 0 with measured
 * numbers and keeps the throughput for selection, an impossible one exits 3 naming what is over, a
 * dead endpoint exits 1.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/targets/local/processes.js';
import { json, python, runCli } from '../helpers/cli.js';
import { tinyLlmProject } from '../helpers/llm.js';

let dir: string;
let cleanup: () => void;
let url: string;
let manifestText: string;
const env = { MLSHIP_PYTHON: python, MLSHIP_LLAMA_THREADS: '1' };
const cli = (...args: string[]) => runCli(args, { cwd: dir, env, timeoutMs: 180_000 });

/** The manifest `mlship init` wrote, with these `budget` lines. */
function budget(lines: string): void {
  writeFileSync(path.join(dir, 'mlship.yaml'), `${manifestText}budget:\n${lines}`);
}

beforeAll(async () => {
  ({ dir, cleanup } = await tinyLlmProject('mlship-llm-budget-'));
  // init's manifest with its budget block taken out: each test writes its own.
  manifestText = readFileSync(path.join(dir, 'mlship.yaml'), 'utf8').replace(/^budget:\n(?: {2}.*\n)+/m, '');
  url = `http://127.0.0.1:${await freePort()}`;
  for (const step of [['build'], ['push'], ['deploy', '--port', url.split(':')[2]!]]) {
    const r = await cli(...step);
    if (r.code !== 0) throw new Error(`mlship ${step[0]} failed:\n${r.stderr}`);
  }
}, 600_000);

afterAll(async () => {
  if (dir) await cli('stop');
  cleanup?.();
});

interface Doc {
  kind: string;
  url: string;
  verdict: string;
  reasons: string[];
  load: { concurrency: number; requests: number };
  tokens: {
    concurrency: number;
    requests: number;
    failed: number;
    ttftMs: { p50: number; p95: number };
    itlMs: { p50: number; p95: number };
    e2eMs: { p50: number; p95: number };
    tokensPerSecond: { p5: number; p50: number };
    completionTokens: { mean: number };
    aggregateTokensPerSecond: number;
    checks: { metric: string; percentile: string; allocated: number; measured: number; status: string }[];
  };
  throughput?: { target: string; instanceType: string; concurrency: number; tokensPerSecond: number; tokensPerRequest: number };
  compute: { instanceType: string; reasons: string[]; sizing: { tokensPerSecondPerReplica?: number } };
  cost: { selected: { instanceType: string } };
}

describe('mlship budget on an LLM deployed on the local target', () => {
  it('measures TTFT, inter-token latency, end to end and tokens/s at the budget concurrency; a generous budget exits 0', async () => {
    budget(
      '  ttft_ms: { p50: 20000, p95: 30000 }\n  itl_ms: { p95: 10000 }\n  tokens_per_s: 0.01\n  latency_ms: { p95: 60000 }\n  concurrency: 2\n  request: { max_tokens: 24 }\n',
    );
    const r = await cli('budget', '--duration', '2', '--json');
    expect(r.code, r.stderr).toBe(0);
    const doc = json<Doc>(r);
    expect(doc.kind).toBe('llm');
    expect(doc.url).toBe(`${url}/v1/chat/completions`);
    expect(doc.verdict).toBe('within');
    expect(doc.tokens.concurrency).toBe(2);
    expect(doc.tokens.failed).toBe(0);
    expect(doc.tokens.requests).toBeGreaterThanOrEqual(2);
    expect(doc.tokens.ttftMs.p50).toBeGreaterThan(0);
    expect(doc.tokens.itlMs.p50).toBeGreaterThanOrEqual(0);
    expect(doc.tokens.e2eMs.p95).toBeGreaterThanOrEqual(doc.tokens.ttftMs.p95);
    // The usage event counts the completion: at most max_tokens.
    expect(doc.tokens.completionTokens.mean).toBeGreaterThan(1);
    expect(doc.tokens.completionTokens.mean).toBeLessThanOrEqual(24);
    expect(doc.tokens.aggregateTokensPerSecond).toBeGreaterThan(0);
    expect(doc.tokens.checks.map((c) => `${c.metric} ${c.percentile} ${c.status}`)).toEqual([
      'ttft_ms p50 ok',
      'ttft_ms p95 ok',
      'itl_ms p95 ok',
      'e2e_ms p95 ok',
      'tokens_per_s p5 ok',
    ]);

    // The live deployment's throughput is kept for selection, which sizes the replicas by it.
    expect(doc.throughput).toMatchObject({ target: 'local', instanceType: doc.compute.instanceType, concurrency: 2 });
    expect(doc.throughput!.tokensPerSecond).toBeGreaterThan(0);
    expect(existsSync(path.join(dir, '.mlship', 'measured', 'llm-throughput.json'))).toBe(true);
    expect(doc.compute.sizing.tokensPerSecondPerReplica).toBe(doc.throughput!.tokensPerSecond);
    expect(doc.compute.reasons.join('\n')).toMatch(
      /measured [\d.]+ tokens\/s per replica at 2 streams \(mlship budget, \d{4}-\d\d-\d\d\): 5 rps × [\d.]+ tokens = /,
    );
    const plan = await cli('deploy', '--plan', '--json');
    expect(plan.code, plan.stderr).toBe(0);
    expect(JSON.stringify(json(plan))).toMatch(/measured [\d.]+ tokens\/s per replica at 2 streams/);

    // The gateway logged every request the test sent (and the warm-up's).
    const logs = path.join(dir, '.mlship', 'logs');
    const logged = readdirSync(logs)
      .filter((f) => f.startsWith('predictions-'))
      .flatMap((f) => readFileSync(path.join(logs, f), 'utf8').trim().split('\n'));
    expect(logged.length).toBeGreaterThanOrEqual(doc.tokens.requests);
  });

  it('exits 3 naming what is over an impossible budget, in a table', async () => {
    budget('  ttft_ms: { p95: 0.001 }\n  itl_ms: { p50: 100000 }\n  concurrency: 1\n  request: { prompt: "Say hello.", max_tokens: 8 }\n');
    const r = await cli('budget', '--duration', '1', '--report', 'budget.html');
    expect(r.code, r.stderr).toBe(3);
    const html = readFileSync(path.join(dir, 'budget.html'), 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('over budget');
    expect(html).toMatch(/<tr class="over"><td>time to first token \(ms\)<\/td><td>p95 ≤ 0\.001<\/td>/);
    expect(html).not.toMatch(/<script|<link|src="http/);
    expect(r.stdout).toMatch(/time to first token ms\s+p95 ≤ 0\.001 .*OVER at p95/);
    expect(r.stdout).toMatch(/inter-token ms\s+p50 ≤ 100000 .* ok/);
    expect(r.stdout).toMatch(/Over budget: ttft_ms p95 [\d.]+ ms > 0\.001 ms/);
    expect(r.stdout).toContain('tokens/s, all streams');
  });

  it('exits 1 when the endpoint is dead, 2 for a rate', async () => {
    budget('  ttft_ms: { p95: 1000 }\n');
    const closed = `http://127.0.0.1:${await freePort()}`;
    const dead = await cli('budget', '--url', closed, '--duration', '1');
    expect(dead.code).toBe(1);
    expect(dead.stderr).toContain(`cannot reach ${closed}/v1/chat/completions`);
    expect(dead.stderr).not.toMatch(/\n\s+at /);
    const rate = await cli('budget', '--rps', '5');
    expect(rate.code).toBe(2);
    expect(rate.stderr).toContain('--rps does not apply to an LLM');
  });
});
