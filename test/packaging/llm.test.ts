/**
 * `mlship build` of a vLLM project as a user runs it: the selection's server recorded in build.json,
 * the tabular steps skipped and said so, and the local target refusing to run vLLM (it needs a GPU).
 * The weights are a placeholder file (see llm-fixture.ts): the build only hashes and copies them.
 * A GGUF model served here end to end: test/targets/local/llm.test.ts.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, runCli, type RunResult } from '../helpers/cli.js';
import { llmProject } from './llm-fixture.js';

let project: { dir: string; cleanup: () => void };
let built: RunResult;

beforeAll(async () => {
  project = llmProject({ file: 'weights.tar.gz', quantization: 'fp16' });
  built = await runCli(['build', '--no-image', '--json'], { cwd: project.dir, timeoutMs: 60_000 });
});

afterAll(() => project?.cleanup());

describe('mlship build (flavor: llm)', () => {
  it('renders the gateway in front of vLLM, records the server and the selection, and skips the tabular steps', () => {
    expect(built.code, built.stderr).toBe(0);
    const out = json<{ dir: string; build: Record<string, any> }>(built);
    expect(out.build).toMatchObject({
      llm: { server: 'vllm' },
      runtime: { python: expect.any(String) },
      model: { flavor: 'llm', file: 'model/weights.tar.gz' },
      compute: { instanceType: 'local-gpu', gpu: true },
    });
    expect(out.build.compute.reasons.join(' ')).toMatch(/GB of GPU memory/);
    expect(out.build.parity.skipped).toMatch(/feature-parity/);
    expect(out.build.skipped).toEqual([
      expect.stringMatching(/^feature-parity check/),
      expect.stringMatching(/^baseline profile/),
      expect.stringMatching(/^CPU cost calibration/),
    ]);
    expect(out.build.baseline).toBeUndefined();
    for (const f of ['Dockerfile', 'entrypoint.sh', 'serve.py', 'requirements.txt', 'mlship_serving/llm/gateway.py', 'build.json', 'model/weights.tar.gz'])
      expect(existsSync(path.join(out.dir, f)), f).toBe(true);
    expect(existsSync(path.join(out.dir, 'baseline.json'))).toBe(false);
    expect(readFileSync(path.join(out.dir, 'Dockerfile'), 'utf8')).toMatch(/^FROM vllm\/vllm-openai:v[\d.]+$/m);
    expect(built.stderr).toContain('skipped for an LLM: feature-parity check');
    expect(built.stderr).toContain('LLM build: vLLM on local-gpu');
  });

  it('refuses to serve vLLM on the local target (exit 1, it needs a GPU), after a push that works', async () => {
    const push = await runCli(['push'], { cwd: project.dir });
    expect(push.code, push.stderr).toBe(0);
    const deploy = await runCli(['deploy', '--json'], { cwd: project.dir });
    expect(deploy.code, deploy.stderr).toBe(1);
    const error = json<{ error: { code: string; message: string; hint: string } }>(deploy).error;
    expect(error.code).toBe('llm_not_local');
    expect(error.message).toMatch(/serves the model with vLLM, which needs an NVIDIA GPU/);
    expect(error.hint).toMatch(/docker run --gpus all/);
    expect(error.hint).toMatch(/GGUF weights run here with llama.cpp/);
  });
});
