/**
 * Projects of a measured quantization for the build test and the bench: a deterministic evaluation
 * text in the tiny model's vocabulary, the tiny k-quant-compatible F16 model fitted to it
 * (test/fixtures/llm/make_tiny_gguf.py --kquant --f16 --fit: a bigram model of the text, 3 MB, so
 * quantization costs it perplexity as it costs a trained model), and a manifest naming the candidates.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { python, repoRoot, tempDir } from '../helpers/cli.js';

export const MAKER = path.join(repoRoot, 'test', 'fixtures', 'llm', 'make_tiny_gguf.py');
/** Words of the tiny model's vocabulary (it tokenizes them nearly by the character: ~4 tokens per 5 characters). */
const WORDS = 'the river of stone and light is north of the green cloud which was small but fast in the blue south'.split(' ');

/** A deterministic text of `n` words in sentences: 500 words are 15 perplexity windows of 128 tokens. */
export function evalText(n: number): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(WORDS[(i * 7 + Math.floor(i / 11)) % WORDS.length]! + (i % 12 === 11 ? '.\n' : ' '));
  return out.join('');
}

/** The tiny F16 source fitted to the evaluation text, made by the maker. */
export function makeSource(dest: string, evalTextFile: string): void {
  execFileSync(python, [MAKER, '--kquant', '--f16', '--fit', evalTextFile, dest]);
}

/** A project quantizing `model/<modelFile>` (written by `model`) in a temporary folder (removed by `cleanup`). */
export function quantizeProject(
  modelFile: string,
  model: (dest: string, evalTextFile: string) => void,
  options: { candidates: string[]; words?: number; maxLoss?: number },
): { dir: string; cleanup: () => void } {
  const t = tempDir('mlship-quant-');
  mkdirSync(path.join(t.dir, 'model'));
  mkdirSync(path.join(t.dir, 'data'));
  writeFileSync(path.join(t.dir, 'data', 'eval.txt'), evalText(options.words ?? 500));
  model(path.join(t.dir, 'model', modelFile), path.join(t.dir, 'data', 'eval.txt'));
  writeFileSync(
    path.join(t.dir, 'mlship.yaml'),
    [
      'name: chat',
      'model:',
      `  path: model/${modelFile}`,
      '  flavor: llm',
      '  quantization:',
      '    eval_text: data/eval.txt',
      `    candidates: [${options.candidates.join(', ')}]`,
      `    max_loss: ${options.maxLoss ?? 0.05}`,
      '    context: 128',
      'target: local',
      '',
    ].join('\n'),
  );
  return t;
}
