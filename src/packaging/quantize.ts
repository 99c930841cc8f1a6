/**
 * Quantization measured, not assumed (`model.quantization: { eval_text, candidates, max_loss }` on a
 * GGUF LLM): the build's sweep. From the F32/F16/BF16 source it makes every candidate with llama.cpp's
 * `llama-quantize`, measures the perplexity of the source and of each candidate on the evaluation text
 * with `llama-perplexity`, and the generation speed of each with `llama-server`; the pure choice
 * (src/compute/quantization.ts) picks the one to serve; the build serves that file and records it all
 * in build.json (`quantization`).
 *
 * Tokens/s is measured where it is served: `llama-server` (one slot, one thread) generates a fixed
 * number of tokens greedily with the end-of-stream token ignored, and its own timer of the decoding
 * phase (`timings.predicted_per_second`) is taken: the generation rate alone, without the prompt,
 * the HTTP round trip or the model load; the median of a few runs after a warm-up. (The perplexity
 * tool's timing is prompt evaluation, a batched matrix product: not the rate a stream is written at.)
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { chooseQuantization, relativeLoss, signed, type MeasuredCandidate, type QuantizationMeasurements } from '../compute/quantization.js';
import type { GgufSourceType } from '../compute/estimate.js';
import type { QuantizedWeights } from '../compute/types.js';
import { selectionInput } from '../compute/select.js';
import type { Manifest, QuantizationSweepSettings } from '../manifest/types.js';
import { ManifestError, OperationError } from '../util/errors.js';
import type { Reporter } from '../util/reporter.js';
import { sha256File } from '../util/fs.js';
import { readGgufHeader, sourceType } from './gguf.js';
import { findLlamaServer, onPath } from './local-python.js';
import { render, type ModelInfo, type RenderedFile } from './render.js';

/** Greedy tokens one speed run generates, runs per file (the median is kept) after one warm-up. */
export const SPEED_TOKENS = 128;
export const SPEED_RUNS = 5;
/** Threads the speed runs use: one, so the figure is per core and the candidates compare alike. */
export const SPEED_THREADS = 1;
/** Characters of the evaluation text the speed runs use as their prompt. */
const SPEED_PROMPT_CHARS = 200;
/** llama-perplexity's result line, and how often a run that lost it (see `perplexity`) is repeated. */
const FINAL = /Final estimate: PPL = ([0-9.eE+-]+|nan|inf)/;
const PERPLEXITY_RETRIES = 4;
/** How long a file may take to load in llama-server. */
const LOAD_TIMEOUT_MS = 300_000;

/** build.json `quantization`: what was measured and what was chosen. */
export interface QuantizationRecord extends QuantizationMeasurements {
  source: QuantizationMeasurements['source'] & { file: string };
  /** The type served (a candidate's, or the source's when none stayed within max_loss). */
  chosen: string;
  reason: string;
  max_loss: number;
  /** How each figure was measured, in words, with the tools' build. */
  method: { perplexity: string; tokens_per_s: string; llama_cpp?: string };
  measuredAt: string;
}

/** The llama.cpp tools the sweep runs. */
export interface LlamaTools {
  quantize: string;
  perplexity: string;
  server: string;
}

/** What the build serves after the sweep. */
export interface QuantizedModel {
  /** The chosen file (in the work folder, or the source itself when it is served unquantized). */
  path: string;
  /** Its file name in the build (`model/<file>`). */
  file: string;
  record: QuantizationRecord;
  /** The chosen file as selection sizes it. */
  weights: QuantizedWeights;
}

/**
 * Find the tools: llama-server as the local target finds it (MLSHIP_LLAMA_SERVER, else
 * `targets.local.llama_server`, else the PATH); `MLSHIP_LLAMA_QUANTIZE` / `MLSHIP_LLAMA_PERPLEXITY`,
 * else beside that llama-server, else on the PATH. Missing → exit 1 with how to get them.
 */
export function findLlamaTools(manifest: Manifest, env: NodeJS.ProcessEnv): LlamaTools {
  const server = findLlamaServer({ configured: manifest.targets.local?.llama_server, env });
  const beside = (name: string) => {
    if (!server) return undefined;
    const candidate = path.join(path.dirname(server), name);
    return existsSync(candidate) ? candidate : undefined;
  };
  const find = (name: string, variable: string) => env[variable] || beside(name) || onPath(name, env);
  const tools = {
    quantize: find('llama-quantize', 'MLSHIP_LLAMA_QUANTIZE'),
    perplexity: find('llama-perplexity', 'MLSHIP_LLAMA_PERPLEXITY'),
    server,
  };
  const missing = Object.entries(tools)
    .filter(([, v]) => !v || !existsSync(v))
    .map(([k, v]) => (v ? `${v} (does not exist)` : `llama-${k}`));
  if (missing.length > 0) {
    throw new OperationError(
      'llama_tools_missing',
      `model.quantization measures candidates with llama.cpp's tools, and ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not found`,
      {
        hint: 'Build them from llama.cpp (cmake -B build && cmake --build build --target llama-quantize llama-perplexity llama-server) and put them on the PATH or beside llama-server (MLSHIP_LLAMA_SERVER or targets.local.llama_server), or name each with MLSHIP_LLAMA_QUANTIZE / MLSHIP_LLAMA_PERPLEXITY; or write a width (model.quantization: fp16) to skip the measurement.',
      },
    );
  }
  return tools as LlamaTools;
}

/** The source's width, or a clear error when it is not an unquantized GGUF. */
export function checkSource(manifest: Manifest): GgufSourceType {
  let header;
  try {
    header = readGgufHeader(manifest.model.path);
  } catch (error) {
    throw new ManifestError(`model.path ${manifest.model.relativePath}: ${(error as Error).message}`, {
      code: 'gguf_unreadable',
      hint: 'model.quantization measures quantizations of a GGUF file: convert the model with llama.cpp (convert_hf_to_gguf.py --outtype f16)',
    });
  }
  const found = sourceType(header);
  if ('type' in found) return found.type;
  throw new ManifestError(
    `model.path ${manifest.model.relativePath} is already quantized (${found.quantized.join(', ') || 'no weight matrices'}): a measured quantization starts from F32, F16 or BF16 weights`,
    {
      code: 'source_quantized',
      hint: 'point model.path at the F16/F32 GGUF it was made from (convert_hf_to_gguf.py --outtype f16 writes one), or serve this file as it is: drop the mapping and write its width (e.g. model.quantization: int4)',
    },
  );
}

/** Run the sweep in `workDir` and choose: the file to serve, and the record for build.json. */
export async function quantizeModel(manifest: Manifest, workDir: string, env: NodeJS.ProcessEnv, output: Reporter): Promise<QuantizedModel> {
  const sweep = manifest.model.quantizationSweep!;
  const sourceTypeName = checkSource(manifest);
  const tools = findLlamaTools(manifest, env);
  mkdirSync(workDir, { recursive: true });
  const source = manifest.model.path;
  const stem = path.basename(source).replace(/\.gguf$/i, '');
  const prompt = readFileSync(sweep.eval_text, 'utf8').slice(0, SPEED_PROMPT_CHARS);

  const measure = async (file: string, label: string) => {
    const progress = await output.progress(`${label}: perplexity on ${sweep.evalTextRelative} (-c ${sweep.context}) and tokens/s`);
    try {
      const ppl = await perplexity(tools.perplexity, file, sweep, env);
      const speed = await tokensPerSecond(tools.server, file, prompt, env);
      progress.succeed(`${label}: perplexity ${ppl.perplexity.toFixed(4)}, ${speed.toFixed(0)} tokens/s`);
      return { ...ppl, tokens_per_s: round(speed, 1) };
    } catch (error) {
      progress.fail();
      throw error;
    }
  };

  const reference = await measure(source, `${sourceTypeName} (source)`);
  const candidates: (MeasuredCandidate & { path: string })[] = [];
  for (const type of sweep.candidates) {
    const file = path.join(workDir, `${stem}-${type}.gguf`);
    await quantize(tools.quantize, source, file, type, env);
    const m = await measure(file, type);
    candidates.push({
      type,
      bytes: statSync(file).size,
      perplexity: m.perplexity,
      loss: round(relativeLoss(m.perplexity, reference.perplexity), 6),
      tokens_per_s: m.tokens_per_s,
      path: file,
    });
  }
  const measured: QuantizationMeasurements = {
    source: { type: sourceTypeName, bytes: statSync(source).size, perplexity: reference.perplexity, tokens_per_s: reference.tokens_per_s },
    candidates: candidates.map(({ path: _p, ...c }) => c),
  };
  const base = selectionInput(manifest, { modelBytes: measured.source.bytes, useBuildCost: false });
  const choice = chooseQuantization(base, measured, sweep.max_loss);
  const chosenFile = candidates.find((c) => c.type === choice.chosen)?.path ?? source;
  const record: QuantizationRecord = {
    ...measured,
    source: { ...measured.source, file: path.basename(source) },
    chosen: choice.chosen,
    reason: choice.reason,
    max_loss: sweep.max_loss,
    method: {
      perplexity: `llama-perplexity -c ${sweep.context} on ${sweep.evalTextRelative} (${reference.chunks} windows of ${sweep.context} tokens)`,
      tokens_per_s: `llama-server, one slot, ${SPEED_THREADS} thread: timings.predicted_per_second of ${SPEED_TOKENS} greedy tokens (end of stream ignored), median of ${SPEED_RUNS} runs after a warm-up`,
      ...(reference.build && { llama_cpp: reference.build }),
    },
    measuredAt: new Date().toISOString(),
  };
  return {
    path: chosenFile,
    file: path.basename(chosenFile),
    record,
    weights: { source: { type: sourceTypeName, bytes: measured.source.bytes }, type: choice.chosen, bytes: choice.bytes, reason: choice.reason },
  };
}

/** What a build of a measured quantization serves: the chosen file, its files rendered for it, the record. */
export interface QuantizedBuild extends QuantizedModel {
  model: ModelInfo;
  files: RenderedFile[];
}

/**
 * The build's step: run the sweep in `workDir`, say what it measured and chose, and render the build's
 * files for the chosen file (what `makeBuild` writes instead of the inputs' files).
 */
export async function quantizeForBuild(
  manifest: Manifest,
  workDir: string,
  mlshipVersion: string,
  env: NodeJS.ProcessEnv,
  output: Reporter,
): Promise<QuantizedBuild> {
  const q = await quantizeModel(manifest, workDir, env, output);
  output.info(`quantization measured (${q.record.method.perplexity}; tokens/s: ${q.record.method.tokens_per_s}):\n${describeSweep(q.record).join('\n')}`);
  output.info(`quantization ${q.record.reason}`);
  const model: ModelInfo = { file: q.file, sha256: await sha256File(q.path), bytes: statSync(q.path).size };
  return { ...q, model, files: render(manifest, model, { mlshipVersion, quantized: q.weights }) };
}

/** The sweep as a table for the build output and the bench: one line per file. */
export function describeSweep(record: QuantizationRecord): string[] {
  const rows = [
    { type: `${record.source.type} (source)`, bytes: record.source.bytes, perplexity: record.source.perplexity, loss: '', tps: record.source.tokens_per_s },
    ...record.candidates.map((c) => ({ type: c.type, bytes: c.bytes, perplexity: c.perplexity, loss: signed(c.loss), tps: c.tokens_per_s })),
  ];
  return rows.map(
    (r) =>
      `${r.type === record.chosen || r.type === `${record.chosen} (source)` ? '→' : ' '} ${r.type.padEnd(13)} ${formatBytes(r.bytes).padStart(9)}  perplexity ${r.perplexity.toFixed(4).padStart(10)} ${r.loss.padStart(8)}  ${r.tps.toFixed(0).padStart(6)} tokens/s`,
  );
}

function formatBytes(n: number): string {
  return n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : n >= 1e6 ? `${(n / 1e6).toFixed(2)} MB` : `${(n / 1e3).toFixed(0)} kB`;
}

async function quantize(tool: string, source: string, out: string, type: string, env: NodeJS.ProcessEnv): Promise<void> {
  const r = await execa(tool, [source, out, type, String(availableParallelism())], { env, reject: false, all: true });
  if (r.exitCode !== 0 || !existsSync(out)) {
    throw new OperationError(
      'quantize_failed',
      `llama-quantize could not make ${type} from ${path.basename(source)} (exit ${r.exitCode}):\n${lastLines(r.all ?? '')}`,
      {
        hint: `Run it yourself to see why: ${tool} ${source} ${out} ${type}`,
      },
    );
  }
}

/** llama-perplexity's final estimate on the evaluation text, the windows it took and the tools' build line. */
async function perplexity(
  tool: string,
  file: string,
  sweep: QuantizationSweepSettings,
  env: NodeJS.ProcessEnv,
): Promise<{ perplexity: number; chunks: number; build?: string }> {
  const run = (text: string) =>
    execa(tool, ['-m', file, '-f', text, '-c', String(sweep.context), '-b', String(sweep.context), '-t', String(availableParallelism())], {
      env,
      reject: false,
      all: true,
    });
  const args = ['-m', file, '-f', sweep.eval_text, '-c', String(sweep.context), '-b', String(sweep.context), '-t', String(availableParallelism())];
  // llama.cpp logs from a thread of a logger it leaks at exit (llama.cpp issue 22142): on a loaded
  // machine the last lines (the last windows and the final estimate) can be lost from a run that
  // succeeded. The figure is deterministic, so such a run is repeated on the text followed by copies
  // of itself: the windows of the text come first and give the same running estimate at its last
  // window, and the copies' windows (at least a second of work) give the logger time to write it.
  let r = await run(sweep.eval_text);
  for (let retry = 0; retry < PERPLEXITY_RETRIES && r.exitCode === 0 && !FINAL.test(r.all ?? '') && !lastWindow(r.all ?? ''); retry++) {
    const padded = paddedText(sweep.eval_text, r.all ?? '', file);
    if (!padded) break;
    const again = await run(padded.file);
    const value = new RegExp(`\\[${padded.windows}\\]([0-9.eE+-]+|nan|inf),`).exec(again.all ?? '');
    // The lost run's own lines (its window count, its build), completed with the text's estimate.
    if (again.exitCode === 0 && value) r = { ...r, all: `${r.all}\n[${padded.windows}]${value[1]},\nFinal estimate: PPL = ${value[1]}\n` };
  }
  const text = r.all ?? '';
  const tooShort = /need at least (\d+) tokens/.exec(text);
  if (tooShort) {
    throw new ManifestError(
      `model.quantization.eval_text ${sweep.evalTextRelative} is too short: perplexity with a ${sweep.context}-token window needs at least ${tooShort[1]} tokens of it`,
      { code: 'eval_text_short', hint: `give a longer text (a few thousand words), or a smaller model.quantization.context (now ${sweep.context})` },
    );
  }
  const final = FINAL.exec(text) ?? lastWindow(text);
  if (r.exitCode !== 0 || !final) {
    throw new OperationError('perplexity_failed', `llama-perplexity failed on ${path.basename(file)} (exit ${r.exitCode}):\n${lastLines(text)}`, {
      hint: `Run it yourself to see why: ${tool} ${args.join(' ')}`,
    });
  }
  const value = Number(final[1]);
  if (!Number.isFinite(value)) {
    throw new OperationError(
      'perplexity_failed',
      `llama-perplexity measured a perplexity of ${final[1]} on ${path.basename(file)}: the model's output is not usable`,
      {
        hint: 'check the model file; a source that is not finite cannot be a reference',
      },
    );
  }
  const chunks = Number(/over (\d+) chunks/.exec(text)?.[1] ?? 0);
  const build = /^build: (.+)$/m.exec(text)?.[1]?.trim();
  return { perplexity: value, chunks, ...(build && { build }) };
}

/** Generation tokens/s of a file: llama-server's own timer of the decoding phase (see the module comment). */
async function tokensPerSecond(server: string, file: string, prompt: string, env: NodeJS.ProcessEnv): Promise<number> {
  // Port 0: the kernel picks a free port as the server binds it, and the server says which.
  const args = ['-m', file, '--host', '127.0.0.1', '--port', '0', '-t', String(SPEED_THREADS), '-np', '1', '-c', String(SPEED_TOKENS * 4), '--no-webui'];
  const child = spawn(server, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  let url: string | undefined;
  const collect = (d: Buffer) => {
    log = (log + d.toString('utf8')).slice(-8000);
    url ??= /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(log)?.[1];
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    const deadline = Date.now() + LOAD_TIMEOUT_MS;
    for (;;) {
      if (child.exitCode !== null)
        throw new OperationError('llama_server_failed', `llama-server exited while loading ${path.basename(file)}:\n${lastLines(log)}`);
      const status = url
        ? await fetch(`${url}/health`).then(
            (r) => r.status,
            () => undefined,
          )
        : undefined;
      if (status === 200) break;
      if (Date.now() > deadline)
        throw new OperationError(
          'llama_server_failed',
          `llama-server did not load ${path.basename(file)} within ${LOAD_TIMEOUT_MS / 1000} s:\n${lastLines(log)}`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
    const run = async (n: number) => {
      const res = await fetch(`${url}/completion`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ prompt, n_predict: n, temperature: 0, ignore_eos: true, cache_prompt: false, seed: 0 }),
      });
      const body = (await res.json()) as { timings?: { predicted_per_second?: number; predicted_n?: number } };
      const tps = body.timings?.predicted_per_second;
      if (!res.ok || typeof tps !== 'number')
        throw new OperationError('llama_server_failed', `llama-server answered ${res.status} without timings: ${JSON.stringify(body).slice(0, 300)}`);
      return tps;
    };
    await run(8);
    const rates: number[] = [];
    for (let i = 0; i < SPEED_RUNS; i++) rates.push(await run(SPEED_TOKENS));
    rates.sort((a, b) => a - b);
    return rates[Math.floor(rates.length / 2)]!;
  } finally {
    if (child.exitCode === null) child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

/**
 * The running estimate after the last window (`[15]3.2767,` of "over 15 chunks"), which is the final
 * estimate: what a run that lost only its last line still says.
 */
/**
 * The evaluation text followed by copies of itself, written beside `model` (undefined when the lost
 * run did not say how many windows the text has): `windows` is the text's own count, the running
 * estimate at that window is the text's perplexity. The copies add about a second of windows (from
 * the run's own seconds per pass), at least 8.
 */
function paddedText(evalText: string, lostRun: string, model: string): { file: string; windows: number } | undefined {
  const windows = Number(/over (\d+) chunks/.exec(lostRun)?.[1] ?? 0);
  if (windows <= 0) return undefined;
  const perPass = Number(/([0-9.]+) seconds per pass/.exec(lostRun)?.[1] ?? 0);
  const extra = Math.min(4096, Math.max(8, perPass > 0 ? Math.ceil(1 / perPass) : 64));
  const text = readFileSync(evalText, 'utf8');
  const file = path.join(path.dirname(model), `${path.basename(model)}.padded-eval.txt`);
  writeFileSync(file, [text, ...Array.from({ length: 1 + Math.ceil(extra / windows) }, () => text)].join('\n\n'));
  return { file, windows };
}

function lastWindow(text: string): RegExpExecArray | null {
  const chunks = /over (\d+) chunks/.exec(text)?.[1];
  return chunks ? new RegExp(`\\[${chunks}\\]([0-9.eE+-]+|nan|inf),`).exec(text) : null;
}

function lastLines(text: string, n = 12): string {
  return text
    .trimEnd()
    .split('\n')
    .slice(-n)
    .map((l) => `  ${l}`)
    .join('\n');
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
