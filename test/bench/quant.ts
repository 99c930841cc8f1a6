/**
 * The quantization sweep (issue #23 item 6), as `mlship build` runs it: the tiny k-quant-compatible
 * F16 model fitted to a 1,000-word evaluation text (quantize-fixture.ts: a bigram model of the text,
 * so fewer bits cost it perplexity as they cost a trained model), six candidates, 128-token
 * perplexity windows, generation tokens/s from llama-server (one thread), read from build.json. No
 * aim: the rows are the measurements, with each candidate's ratio to the source.
 */
import { ensureLlamaServer } from '../helpers/llama-server.js';
import { json, runCli } from '../helpers/cli.js';
import type { BuildInfo } from '../../src/packaging/index.js';
import { makeSource, quantizeProject } from '../packaging/quantize-fixture.js';
import type { BenchRow } from './run.js';

const CANDIDATES = ['Q8_0', 'Q6_K', 'Q5_K_M', 'Q4_K_M', 'Q3_K_M', 'Q2_K'];

export async function bench(): Promise<BenchRow[]> {
  const server = ensureLlamaServer({ log: (l) => process.stderr.write(`${l}\n`), isRoot: false, install: () => false });
  const project = quantizeProject('tiny-f16.gguf', makeSource, { candidates: CANDIDATES, words: 1000 });
  try {
    const run = await runCli(['build', '--no-image', '--json'], { cwd: project.dir, timeoutMs: 900_000, env: { MLSHIP_LLAMA_SERVER: server } });
    if (run.code !== 0) throw new Error(`mlship build failed (${run.code}):\n${run.stderr}`);
    process.stderr.write(
      `${run.stderr
        .split('\n')
        .filter((l) => /perplexity +\d|^quantization /.test(l))
        .join('\n')}\n`,
    );
    const q = json<{ build: BuildInfo }>(run).build.quantization!;
    const source = q.source;
    const rows: BenchRow[] = [
      { name: `quant ${source.type} (source, ${mb(source.bytes)}) perplexity`, value: source.perplexity, unit: 'ppl' },
      { name: `quant ${source.type} (source) generation`, value: source.tokens_per_s, unit: 'tokens/s' },
    ];
    for (const c of q.candidates) {
      const chosen = c.type === q.chosen ? ', chosen' : '';
      rows.push({
        name: `quant ${c.type} (${mb(c.bytes)}${chosen}) perplexity`,
        value: c.perplexity,
        unit: 'ppl',
        baseline: { name: source.type, value: source.perplexity },
        ratio: c.perplexity / source.perplexity,
      });
      rows.push({
        name: `quant ${c.type} generation`,
        value: c.tokens_per_s,
        unit: 'tokens/s',
        baseline: { name: source.type, value: source.tokens_per_s },
        ratio: c.tokens_per_s / source.tokens_per_s,
      });
    }
    return rows;
  } finally {
    project.cleanup();
  }
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(2)} MB`;
}
