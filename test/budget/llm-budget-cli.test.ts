/**
 * `mlship budget` on an LLM manifest as a user runs it: a streaming load test against mlship's real
 * gateway in front of a real `llama-server` on the tiny model (test/fixtures/llm/make_tiny_gguf.py),
 * started from a build folder the way `mlship build` lays one out (python/tests/llm_support.py).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, python, repoRoot, runCli, tempDir } from '../helpers/cli.js';
import { startApp, type RunningApp } from '../serving/app-helpers.js';

let dir: { dir: string; cleanup: () => void };
let gateway: RunningApp;
let project: string;

/** The manifest, with `budget` lines. */
function manifest(budget: string): void {
  writeFileSync(path.join(project, 'mlship.yaml'), `name: tiny-chat\nmodel:\n  path: tiny.gguf\n  flavor: llm\nbudget:\n${budget}`);
}

beforeAll(async () => {
  dir = tempDir('mlship-llm-budget-');
  project = path.join(dir.dir, 'project');
  mkdirSync(project);
  const model = path.join(project, 'tiny.gguf');
  execFileSync(python, [path.join(repoRoot, 'test', 'fixtures', 'llm', 'make_tiny_gguf.py'), model]);
  const build = path.join(dir.dir, 'build');
  mkdirSync(path.join(build, 'model'), { recursive: true });
  copyFileSync(model, path.join(build, 'model', 'tiny.gguf'));
  const sha256 = createHash('sha256').update(readFileSync(model)).digest('hex');
  writeFileSync(path.join(build, 'build.json'), JSON.stringify({ id: 'llm-budget-test', model: { sha256 } }));
  writeFileSync(
    path.join(build, 'serve.py'),
    [
      'import os, sys',
      `sys.path.insert(0, ${JSON.stringify(path.join(repoRoot, 'python'))})`,
      'from mlship_serving import LlmSpec, main',
      'SPEC = LlmSpec(name="tiny", model_file="tiny.gguf", context=1024, parallel=4, threads=1)',
      'main(SPEC, os.path.dirname(os.path.abspath(__file__)), sys.argv[1:])',
      '',
    ].join('\n'),
  );
  gateway = await startApp(build, { MLSHIP_LOG_DIR: path.join(dir.dir, 'logs') }, { healthPath: '/health' });
});
afterAll(async () => {
  await gateway?.stop();
  dir?.cleanup();
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
  throughput?: unknown;
  compute: { instanceType: string; reasons: string[] };
  cost: { selected: { instanceType: string } };
}

describe('mlship budget on an LLM', () => {
  it('measures TTFT, inter-token latency, end to end and tokens/s at the budget concurrency; a generous budget exits 0', async () => {
    manifest(
      '  ttft_ms: { p50: 20000, p95: 30000 }\n  itl_ms: { p95: 10000 }\n  tokens_per_s: 0.01\n  latency_ms: { p95: 60000 }\n  concurrency: 2\n  request: { max_tokens: 24 }\n',
    );
    const r = await runCli(['budget', '--url', gateway.url, '--duration', '2', '--json'], { cwd: project });
    expect(r.code, r.stderr).toBe(0);
    const doc = json<Doc>(r);
    expect(doc.kind).toBe('llm');
    expect(doc.url).toBe(`${gateway.url}/v1/chat/completions`);
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
    // A --url may be any machine: its throughput is not kept for selection.
    expect(doc.throughput).toBeUndefined();
    expect(doc.cost.selected.instanceType).toMatch(/^local/);
    expect(doc.compute.reasons.join('\n')).toContain('replicas are not sized by load until `mlship budget` measures');

    // The gateway logged every request the test sent (and the warm-up's).
    const logs = path.join(dir.dir, 'logs');
    const logged = readdirSync(logs).flatMap((f) => readFileSync(path.join(logs, f), 'utf8').trim().split('\n'));
    expect(logged.length).toBeGreaterThanOrEqual(doc.tokens.requests);
  });

  it('exits 3 naming what is over an impossible budget, in a table', async () => {
    manifest('  ttft_ms: { p95: 0.001 }\n  itl_ms: { p50: 100000 }\n  concurrency: 1\n  request: { prompt: "Say hello.", max_tokens: 8 }\n');
    const r = await runCli(['budget', '--url', gateway.url, '--duration', '1'], { cwd: project });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stdout).toMatch(/time to first token ms\s+p95 ≤ 0\.001 .*OVER at p95/);
    expect(r.stdout).toMatch(/inter-token ms\s+p50 ≤ 100000 .* ok/);
    expect(r.stdout).toMatch(/Over budget: ttft_ms p95 [\d.]+ ms > 0\.001 ms/);
    expect(r.stdout).toContain('tokens/s, all streams');
  });

  it('exits 1 when the endpoint is dead, 2 for a rate', async () => {
    manifest('  ttft_ms: { p95: 1000 }\n');
    const dead = await runCli(['budget', '--url', 'http://127.0.0.1:1', '--duration', '1'], { cwd: project });
    expect(dead.code).toBe(1);
    expect(dead.stderr).toMatch(/cannot reach http:\/\/127\.0\.0\.1:1\/v1\/chat\/completions/);
    expect(dead.stderr).not.toMatch(/\n\s+at /);
    const rate = await runCli(['budget', '--url', gateway.url, '--rps', '5'], { cwd: project });
    expect(rate.code).toBe(2);
    expect(rate.stderr).toContain('--rps does not apply to an LLM');
  });
});
