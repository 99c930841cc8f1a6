/**
 * Golden tests: the whole rendered files of the example (app, requirements, Dockerfile CPU and GPU,
 * .dockerignore) compared with test/packaging/golden/. After an intended change of a template or of the
 * rendering, regenerate them with `UPDATE_GOLDEN=1 npx vitest run test/packaging/render.test.ts` and
 * review the diff.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { pyLiteral, render, type RenderedFile } from '../../src/packaging/render.js';
import { loadManifestFile } from '../../src/manifest/load.js';
import type { Manifest } from '../../src/manifest/types.js';
import { exampleDir, python } from '../helpers/cli.js';
import { expectGolden } from '../helpers/golden.js';
import { llmProject, type LlmFixture } from './llm-fixture.js';

const goldenDir = path.join(path.dirname(new URL(import.meta.url).pathname), 'golden');
const model = { file: 'model.joblib', sha256: '0'.repeat(64), bytes: 4096 };

function golden(name: string, content: string): void {
  expectGolden(goldenDir, name, content);
}

function byPath(files: RenderedFile[], p: string): string {
  const f = files.find((x) => x.path === p);
  if (!f) throw new Error(`no rendered ${p}`);
  return f.content;
}

const example = (): Manifest => loadManifestFile(path.join(exampleDir, 'mlship.yaml'));

describe('render', () => {
  it('renders the example (CPU) exactly as the golden files', () => {
    const files = render(example(), model, { mlshipVersion: '0.0.0-golden' });
    expect(
      files
        .map((f) => f.path)
        .filter((p) => !p.startsWith('mlship_serving/'))
        .sort(),
    ).toEqual(['.dockerignore', 'Dockerfile', 'requirements.txt', 'serve.py']);
    // The runtime package, its build-time tools too (the build runs them; the image leaves them out: dockerignore).
    expect(files.map((f) => f.path)).toEqual(
      expect.arrayContaining(['mlship_serving/__init__.py', 'mlship_serving/app.py', 'mlship_serving/handlers.py', 'mlship_serving/tools/parity.py']),
    );
    expect(files.filter((f) => f.path.startsWith('mlship_serving/') && !f.path.endsWith('.py'))).toEqual([]);
    golden('serve.py', byPath(files, 'serve.py'));
    golden('requirements.txt', byPath(files, 'requirements.txt'));
    golden('Dockerfile.cpu', byPath(files, 'Dockerfile'));
    golden('dockerignore', byPath(files, '.dockerignore'));
  });

  it('renders a CUDA Dockerfile when serving.compute is gpu', () => {
    const m = example();
    const files = render({ ...m, serving: { ...m.serving, compute: 'gpu' } }, model, { mlshipVersion: '0.0.0-golden' });
    golden('Dockerfile.gpu', byPath(files, 'Dockerfile'));
    expect(byPath(files, 'Dockerfile')).toMatch(/^FROM nvidia\/cuda:/m);
  });

  it('renders the loader and requirements of each flavor', () => {
    const m = example();
    const onnx = render({ ...m, model: { ...m.model, flavor: 'onnx' } }, { ...model, file: 'model.onnx' }, { mlshipVersion: '0' });
    expect(byPath(onnx, 'serve.py')).toContain('loader="onnx"');
    expect(byPath(onnx, 'requirements.txt')).toContain('onnxruntime==');
    const torch = render({ ...m, model: { ...m.model, flavor: 'pytorch', output: 'value' } }, { ...model, file: 'model.pt' }, { mlshipVersion: '0' });
    expect(byPath(torch, 'serve.py')).toContain('loader="pytorch"');
    expect(byPath(torch, 'requirements.txt')).toMatch(/^torch==/m);
    // CPU images get PyTorch's CPU wheel, GPU images the CUDA one.
    expect(byPath(torch, 'requirements.txt')).toContain('--extra-index-url https://download.pytorch.org/whl/cpu');
    const torchGpu = render(
      { ...m, model: { ...m.model, flavor: 'pytorch' }, serving: { ...m.serving, compute: 'gpu' } },
      { ...model, file: 'model.pt' },
      { mlshipVersion: '0' },
    );
    expect(byPath(torchGpu, 'requirements.txt')).toContain('--extra-index-url https://download.pytorch.org/whl/cu126');
    expect(byPath(torchGpu, 'requirements.txt')).not.toContain('whl/cpu');
    const lgbm = render({ ...m, model: { ...m.model, flavor: 'lightgbm' } }, { ...model, file: 'model.txt' }, { mlshipVersion: '0' });
    expect(byPath(lgbm, 'serve.py')).toContain('loader="lightgbm"');
    expect(byPath(lgbm, 'requirements.txt')).toMatch(/^lightgbm==/m);
    const hf = render(
      { ...m, model: { ...m.model, flavor: 'transformers', task: 'embedding', max_tokens: 64, output: 'value' } },
      { ...model, file: 'model' },
      { mlshipVersion: '0' },
    );
    expect(byPath(hf, 'serve.py')).toContain('loader="transformers"');
    expect(byPath(hf, 'serve.py')).toContain('model_options={"task": "embedding", "max_tokens": 64}');
    expect(byPath(hf, 'requirements.txt')).toMatch(/^transformers==/m);
    expect(byPath(hf, 'requirements.txt')).toMatch(/^tokenizers==/m);
  });

  it('is pure: the same inputs give the same files', () => {
    expect(render(example(), model, { mlshipVersion: '1' })).toEqual(render(example(), model, { mlshipVersion: '1' }));
  });

  it('writes values as Python literals, never as code', () => {
    expect(pyLiteral(null)).toBe('None');
    expect(pyLiteral(true)).toBe('True');
    expect(pyLiteral(72)).toBe('72');
    expect(pyLiteral(134.82)).toBe('134.82');
    expect(pyLiteral(['a'])).toBe('("a",)');
    expect(pyLiteral('x"); import os; ("')).toBe('"x\\"); import os; (\\""');
    expect(pyLiteral({ k: [1, 'b'] })).toBe('{"k": (1, "b")}');
  });
});

describe('render for an LLM (the server the instance selection chose)', () => {
  const renderLlm = (fixture: LlmFixture) => {
    const project = llmProject(fixture);
    try {
      return render(
        loadManifestFile(path.join(project.dir, 'mlship.yaml')),
        { file: fixture.file, sha256: '0'.repeat(64), bytes: 64 },
        { mlshipVersion: '0.0.0-golden' },
      );
    } finally {
      project.cleanup();
    }
  };

  const runtimePaths = (files: { path: string }[]) => files.map((f) => f.path).filter((p) => !p.startsWith('mlship_serving/'));

  it('renders a 7 B fp16 model as the gateway in front of vLLM on a GPU, exactly as the golden files', () => {
    const files = renderLlm({ file: 'weights.tar.gz', quantization: 'fp16' });
    expect(runtimePaths(files).sort()).toEqual(['.dockerignore', 'Dockerfile', 'entrypoint.sh', 'requirements.txt', 'serve.py']);
    // The runtime package rides along as for every build (the gateway is its llm/ subpackage).
    expect(files.map((f) => f.path)).toContain('mlship_serving/llm/gateway.py');
    expect(files.find((f) => f.path === 'entrypoint.sh')?.mode).toBe(0o755);
    golden('Dockerfile.vllm', byPath(files, 'Dockerfile'));
    golden('entrypoint.vllm.sh', byPath(files, 'entrypoint.sh'));
    golden('serve-llm.vllm.py', byPath(files, 'serve.py'));
    // The gateway needs its HTTP stack only: no numpy, pandas or model library.
    expect(byPath(files, 'requirements.txt')).not.toMatch(/numpy|pandas|torch/);
    expect(byPath(files, 'requirements.txt')).toMatch(/^uvicorn==/m);
  });

  it("renders a 4-bit gguf model as the gateway beside llama.cpp's own server, exactly as the golden files", () => {
    const files = renderLlm({ file: 'model.Q4_K_M.gguf', quantization: 'int4', compute: 'cpu' });
    expect(runtimePaths(files).sort()).toEqual(['.dockerignore', 'Dockerfile', 'requirements.txt', 'serve.py']);
    golden('Dockerfile.llama-cpp', byPath(files, 'Dockerfile'));
    golden('serve-llm.llama-cpp.py', byPath(files, 'serve.py'));
    // On a GPU the same weights get llama.cpp's CUDA build, every layer offloaded and four slots.
    const gpu = renderLlm({ file: 'model.Q4_K_M.gguf', quantization: 'int4' });
    expect(byPath(gpu, 'Dockerfile')).toMatch(/^FROM ghcr\.io\/ggml-org\/llama\.cpp:server-cuda12-b\d+ AS server$/m);
    expect(byPath(gpu, 'serve.py')).toContain('server_args=("--n-gpu-layers", "999")');
    expect(byPath(gpu, 'serve.py')).toMatch(/^ {4}parallel=4,$/m);
  });

  it("generates a serve.py Python compiles, with the manifest's context and log content", () => {
    const files = renderLlm({ file: 'model.gguf', quantization: 'int4', compute: 'cpu' });
    const app = byPath(files, 'serve.py');
    expect(app).toMatch(/^ {4}context=4096,$/m);
    expect(app).toMatch(/^ {4}log_content="full",$/m);
    const check = spawnSync(python, ['-c', 'import ast, sys; ast.parse(sys.stdin.read())'], { input: app, encoding: 'utf8' });
    expect(check.status, check.stderr).toBe(0);
  });

  it('maps model.quantization to vLLM flags, and renders an entrypoint sh can parse', () => {
    const int4 = renderLlm({ file: 'weights.tar.gz', quantization: 'int4' });
    expect(byPath(int4, 'entrypoint.sh')).toContain('--quantization bitsandbytes');
    const check = spawnSync('sh', ['-n'], { input: byPath(int4, 'entrypoint.sh'), encoding: 'utf8' });
    expect(check.status, check.stderr).toBe(0);
  });
});
