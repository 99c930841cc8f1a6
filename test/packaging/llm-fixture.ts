/**
 * Tiny LLM projects for the build tests. The weights are a small placeholder file: an LLM build only
 * hashes the artifact and copies it into the context (the server loads it in the image), so its
 * content does not matter; `model.params` carries the size instance selection sizes by.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from '../helpers/cli.js';

/** What the fixture varies: the weights file and the manifest's model and compute lines. */
export interface LlmFixture {
  /** Artifact file name; `.gguf` makes it a llama.cpp build. */
  file: string;
  quantization: 'fp16' | 'int4';
  compute?: string;
}

/** A 7 B-parameter LLM project in a temporary folder (removed by `cleanup`). */
export function llmProject(fixture: LlmFixture): { dir: string; cleanup: () => void } {
  const t = tempDir('mlship-llm-');
  mkdirSync(path.join(t.dir, 'model'));
  // No features block: an LLM takes text through its server's own routes (issue 17, item 5).
  writeFileSync(path.join(t.dir, 'model', fixture.file), 'placeholder weights: the build only hashes and copies this file\n');
  writeFileSync(
    path.join(t.dir, 'mlship.yaml'),
    [
      'name: chat',
      'model:',
      `  path: model/${fixture.file}`,
      '  flavor: llm',
      '  params: 7000000000',
      `  quantization: ${fixture.quantization}`,
      'target: local',
      'serving:',
      `  compute: ${fixture.compute ?? 'auto'}`,
      '  expected_rps: 2',
      '',
    ].join('\n'),
  );
  return t;
}
