/**
 * An LLM project for the cloud targets' end-to-end tests (vertex/llm.test.ts, azure/llm.test.ts):
 * the tiny random-weight GGUF model (test/fixtures/llm/make_tiny_gguf.py, 572 KB, made once per run
 * into test/.tmp) and a manifest with `flavor: llm`, and `llmBuild`, a build folder laid out as an
 * LLM build is (python/tests/llm_support.py: serve.py with an LlmSpec over the runtime package,
 * build.json, the model), which `mlship push --build <id>` takes.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { python, tempDir } from '../helpers/cli.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The tiny model, made once per machine into test/.tmp/llm/ (deterministic: the same bytes every time). */
export function tinyModel(): string {
  const file = path.join(REPO, 'test', '.tmp', 'llm', 'tiny.gguf');
  if (!existsSync(file)) {
    mkdirSync(path.dirname(file), { recursive: true });
    const partial = `${file}.${process.pid}`;
    execFileSync(python, [path.join(REPO, 'test', 'fixtures', 'llm', 'make_tiny_gguf.py'), partial], { stdio: 'ignore' });
    renameSync(partial, file);
  }
  return file;
}

/** A project folder `chat` serving the tiny model; `targetBlock` is appended (`target: …` and `targets:`). */
export function llmCloudProject(targetBlock: string): { dir: string; cleanup: () => void } {
  const t = tempDir('mlship-llm-cloud-');
  mkdirSync(path.join(t.dir, 'model'));
  copyFileSync(tinyModel(), path.join(t.dir, 'model', 'tiny.gguf'));
  writeFileSync(
    path.join(t.dir, 'mlship.yaml'),
    ['name: chat', 'model:', '  path: model/tiny.gguf', '  flavor: llm', '  params: 300000', '  quantization: fp16', targetBlock].join('\n'),
  );
  return t;
}

const SERVE_PY = (spec: Record<string, unknown>) => `import os, sys
sys.path.insert(0, ${JSON.stringify(path.join(REPO, 'python'))})
from mlship_serving import LlmSpec, main

SPEC = LlmSpec(**${JSON.stringify(spec)})

if __name__ == "__main__":
    main(SPEC, os.path.dirname(os.path.abspath(__file__)), sys.argv[1:])
`;

/**
 * A build of the project's model under `.mlship/build/<id>/` (the id from the model's digest and the
 * spec: another `context` is another build of the same model). Returns the id.
 */
export function llmBuild(projectDir: string, context = 512): string {
  const model = readFileSync(path.join(projectDir, 'model', 'tiny.gguf'));
  const sha256 = createHash('sha256').update(model).digest('hex');
  const id = createHash('sha256').update(`${sha256}:${context}`).digest('hex').slice(0, 12);
  const dir = path.join(projectDir, '.mlship', 'build', id);
  mkdirSync(path.join(dir, 'model'), { recursive: true });
  writeFileSync(path.join(dir, 'model', 'tiny.gguf'), model);
  writeFileSync(
    path.join(dir, 'build.json'),
    JSON.stringify({ id, model: { file: 'model/tiny.gguf', sha256, bytes: model.length, flavor: 'llm' }, runtime: 'llama.cpp' }, null, 2),
  );
  // The server's text is random: ask for short answers. JSON booleans/None are not Python's: none used.
  writeFileSync(path.join(dir, 'serve.py'), SERVE_PY({ name: 'chat', model_file: 'tiny.gguf', context }));
  copyFileSync(path.join(projectDir, 'mlship.yaml'), path.join(dir, 'mlship.yaml'));
  return id;
}

/** A chat body the tiny model answers in a few milliseconds. */
export const CHAT = { messages: [{ role: 'user', content: 'Say hello' }], max_tokens: 8 };

/** The JSON of each `data:` event of an event stream, and whether it ended with `[DONE]`. */
export function sseEvents(text: string): { events: Record<string, unknown>[]; done: boolean } {
  const data = text
    .split('\n')
    .filter((l) => l.startsWith('data: '))
    .map((l) => l.slice(6));
  return { events: data.filter((d) => d !== '[DONE]').map((d) => JSON.parse(d) as Record<string, unknown>), done: data.at(-1) === '[DONE]' };
}
