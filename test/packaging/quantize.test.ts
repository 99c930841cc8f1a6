/**
 * `mlship build` of a measured quantization as a user runs it, with llama.cpp's real tools: the tiny
 * k-quant-compatible F16 model fitted to the evaluation text (quantize-fixture.ts: a bigram model,
 * 3 MB, so fewer bits cost it perplexity), two candidates, a 500-word text and 128-token perplexity
 * windows (a few seconds a file). build.json holds every measured figure, the build serves the chosen
 * file, and the choice is the one the pure rule makes from those figures: Q2_K loses more than the 5 %
 * allowed, Q8_0 next to nothing. An already-quantized source and missing tools are refused.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseQuantization } from '../../src/compute/quantization.js';
import { selectionInput } from '../../src/compute/select.js';
import { loadManifestFile } from '../../src/manifest/load.js';
import type { BuildInfo } from '../../src/packaging/index.js';
import { freePort } from '../../src/targets/local/processes.js';
import { json, runCli, type RunResult } from '../helpers/cli.js';
import { chat } from '../helpers/llm.js';
import { makeSource, quantizeProject } from './quantize-fixture.js';

const project = (modelFile: string, model: (dest: string, evalTextFile: string) => void) => quantizeProject(modelFile, model, { candidates: ['Q8_0', 'Q2_K'] });

let source: { dir: string; cleanup: () => void };
let built: RunResult;

beforeAll(async () => {
  source = project('tiny-f16.gguf', makeSource);
  built = await runCli(['build', '--no-image', '--json'], { cwd: source.dir, timeoutMs: 300_000 });
}, 320_000);

afterAll(() => source?.cleanup());

describe('mlship build with model.quantization (measured)', () => {
  it('measures the source and every candidate, records them in build.json, and serves the chosen file', () => {
    expect(built.code, `${built.stderr}\n${built.stdout}`).toBe(0);
    const { dir, build } = json<{ dir: string; build: BuildInfo }>(built);
    const q = build.quantization!;
    expect(q.source).toMatchObject({ type: 'F16', file: 'tiny-f16.gguf', bytes: statSync(path.join(source.dir, 'model', 'tiny-f16.gguf')).size });
    expect(q.candidates.map((c) => c.type)).toEqual(['Q8_0', 'Q2_K']);
    for (const m of [q.source, ...q.candidates]) {
      expect(Number.isFinite(m.perplexity) && m.perplexity > 1, `perplexity ${m.perplexity}`).toBe(true);
      expect(m.tokens_per_s).toBeGreaterThan(0);
    }
    for (const c of q.candidates) {
      expect(c.loss).toBeCloseTo(c.perplexity / q.source.perplexity - 1, 5);
      expect(c.bytes).toBeLessThan(q.source.bytes);
    }
    // Q2_K is a real k-quant (the model's rows are 256 wide): far smaller, and it costs the fitted model
    // clearly more perplexity than the 5 % allowed; Q8_0 next to nothing. So Q8_0 is served.
    const [q8, q2] = q.candidates as [(typeof q.candidates)[0], (typeof q.candidates)[0]];
    expect(q2.bytes).toBeLessThan(q8.bytes * 0.5);
    expect(q2.loss).toBeGreaterThan(0.05);
    expect(Math.abs(q8.loss)).toBeLessThan(0.01);
    expect(q.chosen).toBe('Q8_0');
    expect(q.reason).toMatch(
      /^Q8_0: [+-]0\.\d+% perplexity ≤ 5%, 1\.9× smaller than F16, runs on local-gpu \(F16 \(source\) larger; Q2_K \+\d+(\.\d+)?% > 5%\)$/,
    );
    expect(q.method.perplexity).toBe(
      'llama-perplexity -c 128 on data/eval.txt (' + q.method.perplexity.match(/\((\d+) windows/)![1] + ' windows of 128 tokens)',
    );
    expect(q.method.tokens_per_s).toMatch(/^llama-server, one slot, 1 thread: timings\.predicted_per_second of 128 greedy tokens/);

    // The choice is the pure rule's on the recorded figures.
    const manifest = loadManifestFile(path.join(source.dir, 'mlship.yaml'));
    const expected = chooseQuantization(selectionInput(manifest, { modelBytes: q.source.bytes, useBuildCost: false }), q, q.max_loss);
    expect(q.chosen).toBe(expected.chosen);
    expect(q.reason).toBe(expected.reason);

    // The build's model is the chosen file: its name, size and digest are what build.json records.
    const served = q.chosen === 'F16' ? 'tiny-f16.gguf' : `tiny-f16-${q.chosen}.gguf`;
    expect(build.model.file).toBe(`model/${served}`);
    expect(readdirSync(path.join(dir, 'model'))).toEqual([served]);
    const bytes = readFileSync(path.join(dir, build.model.file));
    expect(build.model.bytes).toBe(bytes.length);
    expect(build.model.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(readdirSync(dir)).not.toContain('.quantize');
    expect(build.compute!.reasons).toContain(`quantization ${q.reason}`);

    // The output says what was measured and why this one.
    expect(built.stderr).toMatch(/quantization measured \(llama-perplexity -c 128/);
    expect(built.stderr).toMatch(/F16 \(source\)\s+3\.\d+ MB\s+perplexity\s+\d+\.\d{4}/);
    expect(built.stderr).toContain(`quantization ${q.reason}`);
  });

  it('deploys the chosen file on the local target and answers chats with it', async () => {
    const { build } = json<{ build: BuildInfo }>(built);
    const env = { MLSHIP_LLAMA_THREADS: '1' };
    const push = await runCli(['push', '--json'], { cwd: source.dir, env });
    expect(push.code, push.stderr).toBe(0);
    const url = `http://127.0.0.1:${await freePort()}`;
    try {
      const deploy = await runCli(['deploy', '--port', url.split(':')[2]!, '--json'], { cwd: source.dir, env, timeoutMs: 120_000 });
      expect(deploy.code, `${deploy.stderr}\n${deploy.stdout}`).toBe(0);
      expect(json(deploy)).toMatchObject({ live: { version: 'v1', healthy: true } });
      const answer = await chat(url, 'the river', { maxTokens: 8 });
      expect(answer.status, answer.body).toBe(200);
      expect(JSON.parse(answer.body)).toMatchObject({ object: 'chat.completion', usage: { completion_tokens: 8 } });
      // The version serves the build's model: the quantized file, by its digest.
      const status = await runCli(['status', '--json'], { cwd: source.dir, env });
      expect(status.stdout).toContain(build.id);
    } finally {
      await runCli(['stop'], { cwd: source.dir, env });
    }
  }, 180_000);

  it('reuses the build without measuring again while the model, eval text and candidates stay the same', async () => {
    const again = await runCli(['build', '--no-image', '--json'], { cwd: source.dir, timeoutMs: 60_000 });
    expect(again.code, again.stderr).toBe(0);
    const first = json<{ build: BuildInfo }>(built).build;
    const second = json<{ build: BuildInfo; reused: boolean }>(again);
    expect(second.build.id).toBe(first.id);
    expect(second.build.quantization).toEqual(first.quantization);
    expect(again.stderr).not.toContain('quantization measured');
  });

  it('measures the same perplexity when llama.cpp loses the end of its log (its leaked logger: llama.cpp issue 22142)', async () => {
    // The real llama-perplexity behind a wrapper that drops what a loaded machine loses at exit on the
    // plain text: the last window and the final estimate. The build reads the text's own estimate from
    // a run on the padded text instead, and gets the figure the intact run gave.
    const lossy = quantizeProject('tiny-f16.gguf', makeSource, { candidates: ['Q8_0'] });
    try {
      const real = path.join(path.dirname(process.env.MLSHIP_LLAMA_SERVER!), 'llama-perplexity');
      const wrapper = path.join(lossy.dir, 'lossy-perplexity');
      writeFileSync(
        wrapper,
        `#!/bin/sh\ncase "$*" in *padded-eval*) exec "${real}" "$@" ;; esac\n"${real}" "$@" 2>&1 | sed -e 's/\\[15\\][^,]*,//' | grep -v 'Final estimate'\n`,
        { mode: 0o755 },
      );
      const run = await runCli(['build', '--no-image', '--json'], { cwd: lossy.dir, env: { MLSHIP_LLAMA_PERPLEXITY: wrapper }, timeoutMs: 300_000 });
      expect(run.code, run.stderr).toBe(0);
      const q = json<{ build: BuildInfo }>(run).build.quantization!;
      const first = json<{ build: BuildInfo }>(built).build.quantization!;
      expect(q.source.perplexity).toBe(first.source.perplexity);
      expect(q.candidates[0]!.perplexity).toBe(first.candidates.find((c) => c.type === 'Q8_0')!.perplexity);
    } finally {
      lossy.cleanup();
    }
  }, 320_000);

  it('refuses a source that is already quantized (exit 2), saying so and what to do', async () => {
    const { dir, build } = json<{ dir: string; build: BuildInfo }>(built);
    const quantized = project('tiny-q.gguf', (dest) => copyFileSync(path.join(dir, build.model.file), dest));
    try {
      const run = await runCli(['build', '--no-image', '--json'], { cwd: quantized.dir, timeoutMs: 60_000 });
      expect(run.code, run.stderr).toBe(2);
      const error = json<{ error: { code: string; message: string; hint: string } }>(run).error;
      expect(error.code).toBe('source_quantized');
      expect(error.message).toMatch(/^model\.path model\/tiny-q\.gguf is already quantized \(Q8_0\)/);
      expect(error.message).toContain('a measured quantization starts from F32, F16 or BF16 weights');
      expect(error.hint).toMatch(/convert_hf_to_gguf\.py --outtype f16/);
      expect(run.stderr).not.toMatch(/\bat .*\.js:\d+/);
    } finally {
      quantized.cleanup();
    }
  });

  it('exits 1 with how to get llama.cpp when its tools are not found (a finished build needs none)', async () => {
    const noTools = { MLSHIP_LLAMA_SERVER: '', MLSHIP_LLAMA_QUANTIZE: '', MLSHIP_LLAMA_PERPLEXITY: '', PATH: '/nonexistent' };
    // The build above is reused (its inputs did not change): nothing is measured, so no tool is needed.
    const reused = await runCli(['build', '--no-image', '--json'], { cwd: source.dir, timeoutMs: 60_000, env: noTools });
    expect(reused.code, reused.stderr).toBe(0);
    const other = project('tiny-f16.gguf', (dest) => copyFileSync(path.join(source.dir, 'model', 'tiny-f16.gguf'), dest));
    try {
      const missing = await runCli(['build', '--no-image', '--json'], { cwd: other.dir, timeoutMs: 60_000, env: noTools });
      expect(missing.code, missing.stderr).toBe(1);
      const error = json<{ error: { code: string; message: string; hint: string } }>(missing).error;
      expect(error.code).toBe('llama_tools_missing');
      expect(error.message).toContain('llama-quantize, llama-perplexity, llama-server are not found');
      expect(error.hint).toMatch(/cmake --build build --target llama-quantize llama-perplexity llama-server/);
    } finally {
      other.cleanup();
    }
  });
});
