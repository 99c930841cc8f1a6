/**
 * Golden tests: the whole rendered files of the example (app, requirements, Dockerfile CPU and GPU,
 * .dockerignore) compared with test/build/golden/. After an intended change of a template or of the
 * rendering, regenerate them with `UPDATE_GOLDEN=1 npx vitest run test/build/render.test.ts` and
 * review the diff.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { pyLiteral, render, type RenderedFile } from '../../src/build/render.js';
import { loadManifestFile } from '../../src/manifest/load.js';
import type { Manifest } from '../../src/manifest/types.js';
import { exampleDir } from '../helpers/cli.js';

const goldenDir = path.join(path.dirname(new URL(import.meta.url).pathname), 'golden');
const model = { file: 'model.joblib', sha256: '0'.repeat(64), bytes: 4096 };

function golden(name: string, content: string): void {
  const file = path.join(goldenDir, name);
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(goldenDir, { recursive: true });
    writeFileSync(file, content);
  }
  if (!existsSync(file)) throw new Error(`no golden file ${name}: run with UPDATE_GOLDEN=1 to write it`);
  expect(content).toBe(readFileSync(file, 'utf8'));
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
    expect(files.map((f) => f.path).sort()).toEqual(['.dockerignore', 'Dockerfile', 'requirements.txt', 'serve.py']);
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
    expect(byPath(onnx, 'serve.py')).toContain('onnxruntime.InferenceSession');
    expect(byPath(onnx, 'requirements.txt')).toContain('onnxruntime==');
    const torch = render({ ...m, model: { ...m.model, flavor: 'pytorch', output: 'value' } }, { ...model, file: 'model.pt' }, { mlshipVersion: '0' });
    expect(byPath(torch, 'serve.py')).toContain('torch.jit.load');
    expect(byPath(torch, 'requirements.txt')).toMatch(/^torch==/m);
    expect(() => render({ ...m, model: { ...m.model, flavor: 'llm' } }, model, { mlshipVersion: '0' })).toThrow(/llm/);
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
