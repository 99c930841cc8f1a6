/** An LLM's `budget` block: token budgets, concurrency and the load-test request; where they do not apply, said so with file:line:col. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkManifest } from '../../src/manifest/load.js';
import { DEFAULTS } from '../../src/manifest/resolve.js';
import { runCli, tempDir } from '../helpers/cli.js';

const FILE = '/project/mlship.yaml';
const files: Record<string, 'file' | 'dir'> = { '/project/tiny.gguf': 'file', '/project/prompts.txt': 'file', '/project/model.joblib': 'file' };
const check = (text: string) => checkManifest(text, FILE, { exists: (p) => files[p] });
const errors = (text: string) => check(text).diagnostics.filter((d) => d.severity === 'error');

const llm = (budget: string) => `name: chat
model:
  path: tiny.gguf
  flavor: llm
budget:
${budget}`;

describe('budget of an LLM', () => {
  it('resolves the token budgets, latency_ms as the end to end, and the load-test defaults', () => {
    const m = check(llm('  ttft_ms: { p50: 200, p95: 500 }\n  itl_ms: { p95: 50 }\n  tokens_per_s: 12\n  latency_ms: { p99: 9000 }\n')).manifest!;
    expect(m.budget.llm).toEqual({
      ttft_ms: { p50: 200, p95: 500 },
      itl_ms: { p95: 50 },
      tokens_per_s: 12,
      e2e_ms: { p99: 9000 },
      concurrency: DEFAULTS.llmConcurrency,
      request: { prompt: DEFAULTS.llmPrompt, max_tokens: DEFAULTS.llmMaxTokens },
    });
    const other = check(llm('  concurrency: 8\n  request: { prompts: prompts.txt, max_tokens: 32 }\n')).manifest!;
    expect(other.budget.llm).toEqual({
      concurrency: 8,
      request: { promptsFile: '/project/prompts.txt', promptsRelative: 'prompts.txt', max_tokens: 32 },
    });
    // No end-to-end budget unless written: an LLM's time depends on how much it writes.
    expect(check('name: chat\nmodel: { path: tiny.gguf, flavor: llm }\n').manifest!.budget.llm?.e2e_ms).toBeUndefined();
  });

  it('says stages_ms makes no sense for an LLM, where it is written', () => {
    const e = errors(llm('  ttft_ms: { p95: 500 }\n  stages_ms: { model: 100 }\n'));
    expect(e).toHaveLength(1);
    expect(e[0]).toMatchObject({ line: 7, col: 3, path: 'budget.stages_ms' });
    expect(e[0]!.message).toContain('stages_ms does not apply to an LLM');
    expect(e[0]!.hint).toContain('ttft_ms');
  });

  it('checks the percentiles, the concurrency and the request', () => {
    const e = errors(llm('  ttft_ms: { p90: 100 }\n  itl_ms: {}\n  concurrency: 0\n  request: { prompt: hi, prompts: missing.txt, max_tokens: 0 }\n'));
    const paths = e.map((d) => d.path);
    expect(paths).toContain('budget.ttft_ms.p90');
    expect(paths).toContain('budget.itl_ms');
    expect(paths).toContain('budget.concurrency');
    expect(paths).toContain('budget.request.max_tokens');
    expect(e.find((d) => d.path === 'budget.request.prompts')!.message).toBe('give either prompt or prompts, not both');
    const big = errors(`name: chat\nmodel: { path: tiny.gguf, flavor: llm, context: 512 }\nbudget:\n  request: { max_tokens: 600 }\n`);
    expect(big).toMatchObject([{ line: 4, path: 'budget.request.max_tokens' }]);
    expect(big[0]!.message).toBe("600 tokens do not fit the model's context of 512 (model.context), which also holds the prompt");
    const missing = errors(llm('  request: { prompts: missing.txt }\n'));
    expect(missing).toMatchObject([{ line: 6, path: 'budget.request.prompts', message: 'file not found: missing.txt' }]);
  });
});

describe('token budgets on a tabular manifest', () => {
  it('are errors naming the flavor, each where it is written', () => {
    const text = `name: churn
model: { path: model.joblib, flavor: sklearn }
features: { package: features, schema: { a: { type: number } } }
budget:
  latency_ms: { p95: 100 }
  ttft_ms: { p95: 500 }
  concurrency: 4
`;
    const e = errors(text).filter((d) => d.path.startsWith('budget'));
    expect(e.map((d) => [d.path, d.line, d.col])).toEqual([
      ['budget.ttft_ms', 6, 3],
      ['budget.concurrency', 7, 3],
    ]);
    expect(e[0]!.message).toBe('"ttft_ms" is a token budget for model.flavor: llm; this model is sklearn');
    expect(e[0]!.hint).toContain('stages_ms');
  });
});

describe('mlship validate', () => {
  const project = tempDir('mlship-llm-budget-');
  afterAll(() => project.cleanup());

  it('prints each problem as file:line:col with its fix, exit 2', async () => {
    writeFileSync(path.join(project.dir, 'tiny.gguf'), 'GGUF');
    writeFileSync(path.join(project.dir, 'mlship.yaml'), llm('  ttft_ms: { p95: 500 }\n  stages_ms: { model: 100 }\n'));
    const r = await runCli(['validate'], { cwd: project.dir });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/mlship\.yaml:7:3.*budget\.stages_ms: stages_ms does not apply to an LLM/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
