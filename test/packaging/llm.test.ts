/**
 * `mlship build` of an LLM project as a user runs it: the selection's server recorded in build.json,
 * the generated-app steps skipped and said so, and the local target refusing to run the build. The
 * weights are a placeholder file (see llm-fixture.ts): the build only hashes and copies them.
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
  it('renders the vLLM context, records the runtime and the selection, and skips the generated-app steps', () => {
    expect(built.code, built.stderr).toBe(0);
    const out = json<{ dir: string; build: Record<string, any> }>(built);
    expect(out.build).toMatchObject({
      runtime: 'vllm',
      model: { flavor: 'llm', file: 'model/weights.tar.gz' },
      compute: { instanceType: 'local-gpu', gpu: true },
    });
    expect(out.build.compute.reasons.join(' ')).toMatch(/GB of GPU memory/);
    expect(out.build.parity.skipped).toMatch(/feature-parity/);
    expect(out.build.skipped).toEqual([
      expect.stringMatching(/^feature-parity check/),
      expect.stringMatching(/^local Python runtime/),
      expect.stringMatching(/^baseline profile/),
    ]);
    expect(out.build.baseline).toBeUndefined();
    for (const f of ['Dockerfile', 'entrypoint.sh', '.dockerignore', 'build.json', 'model/weights.tar.gz'])
      expect(existsSync(path.join(out.dir, f)), f).toBe(true);
    for (const f of ['serve.py', 'requirements.txt', 'baseline.json']) expect(existsSync(path.join(out.dir, f)), f).toBe(false);
    expect(readFileSync(path.join(out.dir, 'Dockerfile'), 'utf8')).toMatch(/^FROM vllm\/vllm-openai:v[\d.]+$/m);
    expect(built.stderr).toContain('skipped for an LLM: feature-parity check');
    expect(built.stderr).toContain("not mlship's serving contract");
  });

  it('refuses to deploy the build on the local target (exit 1), after a push that works', async () => {
    const push = await runCli(['push'], { cwd: project.dir });
    expect(push.code, push.stderr).toBe(0);
    const deploy = await runCli(['deploy', '--json'], { cwd: project.dir });
    expect(deploy.code, deploy.stderr).toBe(1);
    const error = json<{ error: { code: string; message: string; hint: string } }>(deploy).error;
    expect(error.code).toBe('llm_not_local');
    expect(error.message).toMatch(/LLM build served by vLLM/);
    expect(error.hint).toMatch(/docker run --gpus all/);
  });
});
