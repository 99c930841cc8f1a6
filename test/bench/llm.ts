/**
 * The LLM gateway's overhead (issue #23): streamed chat completions through mlship's gateway against
 * the same llama-server (one thread, 8 slots) asked directly, at 1 and 8 concurrent streams,
 * alternating the two in rounds so load on the shared machine falls on both alike, on two models
 * (test/fixtures/llm/make_tiny_gguf.py): the tiny one the issue names (a fraction of a millisecond per
 * token, where the gateway's fixed cost per event shows most) and one of a real model's speed
 * (`--realistic`, tens of milliseconds per token):
 * - time to first token (to the first non-empty content event), p50: gateway ≤ 1.05× direct + 1 ms;
 * - tokens/s: content events delivered per second over a round (all its streams, request to last
 *   byte), median of the rounds: ≥ 0.97×;
 * - the prediction log holds one line per request sent through the gateway.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { python, repoRoot } from '../helpers/cli.js';
import { ensureLlamaServer } from '../helpers/llama-server.js';
import { logLines, startApp } from '../serving/app-helpers.js';
import type { BenchRow } from './run.js';

const MAX_TOKENS = 48;

/** The models, and rounds per concurrency: about 30 streams each way on the tiny one, fewer on the slow one. */
const MODELS = [
  { label: '', flags: [] as string[], rounds: { 1: 30, 8: 4 } as Record<number, number> },
  { label: ', 110M-parameter model', flags: ['--realistic', '--f16'], rounds: { 1: 10, 8: 3 } as Record<number, number> },
];

interface Stream {
  ttft: number;
  tokens: number;
}

/** One streamed chat completion: time to the first content event and the rate of the rest. */
function stream(url: string, i: number): Promise<Stream> {
  const body = JSON.stringify({
    messages: [{ role: 'user', content: `Tell me about the river number ${i}.` }],
    max_tokens: MAX_TOKENS,
    temperature: 0,
    stream: true,
  });
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const times: number[] = [];
    let buffer = '';
    const req = http.request(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, agent: false }, (res) => {
      if (res.statusCode !== 200) reject(new Error(`${url} answered ${res.statusCode}`));
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        const now = performance.now();
        buffer += chunk;
        let at = buffer.indexOf('\n\n');
        while (at >= 0) {
          const event = buffer.slice(0, at);
          buffer = buffer.slice(at + 2);
          at = buffer.indexOf('\n\n');
          if (!event.startsWith('data: ') || event === 'data: [DONE]') continue;
          const content = JSON.parse(event.slice(6)).choices?.[0]?.delta?.content;
          if (content) times.push(now);
        }
      });
      res.on('end', () => {
        if (times.length < 2) return reject(new Error(`${url}: ${times.length} content events`));
        resolve({ ttft: times[0]! - t0, tokens: times.length });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
}

export async function bench(): Promise<BenchRow[]> {
  const binary = ensureLlamaServer({ log: (l) => process.stderr.write(`${l}\n`), isRoot: false, install: () => false });
  const rows: BenchRow[] = [];
  for (const model of MODELS) rows.push(...(await measure(binary, model)));
  return rows;
}

/** The rows of one model: TTFT and tokens/s at 1 and 8 streams, and the requests logged. */
async function measure(binary: string, model: (typeof MODELS)[number]): Promise<BenchRow[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'mlship-bench-llm-'));
  const rows: BenchRow[] = [];
  const ms = (n: number) => `${n.toFixed(1)} ms`;
  try {
    const file = path.join(dir, 'tiny.gguf');
    execFileSync(python, [path.join(repoRoot, 'test', 'fixtures', 'llm', 'make_tiny_gguf.py'), ...model.flags, file]);
    const build = path.join(dir, 'build');
    mkdirSync(path.join(build, 'model'), { recursive: true });
    const bytes = readFileSync(file);
    writeFileSync(path.join(build, 'model', 'tiny.gguf'), bytes);
    writeFileSync(path.join(build, 'build.json'), JSON.stringify({ id: 'bench', model: { sha256: createHash('sha256').update(bytes).digest('hex') } }));
    writeFileSync(
      path.join(build, 'serve.py'),
      [
        'import os, sys',
        `sys.path.insert(0, ${JSON.stringify(path.join(repoRoot, 'python'))})`,
        'from mlship_serving import LlmSpec, main',
        'SPEC = LlmSpec(name="tiny", model_file="tiny.gguf", context=256, parallel=8)',
        'main(SPEC, os.path.dirname(os.path.abspath(__file__)), sys.argv[1:])',
        '',
      ].join('\n'),
    );
    const logDir = path.join(dir, 'logs');
    const app = await startApp(build, { MLSHIP_LLAMA_SERVER: binary, MLSHIP_LLAMA_THREADS: '1', MLSHIP_LOG_DIR: logDir }, { healthPath: '/health' });
    try {
      const direct = /llama-server on (http:\/\/127\.0\.0\.1:\d+)/.exec(app.stderr())?.[1];
      if (!direct) throw new Error(`no backend URL in the gateway's output:\n${app.stderr()}`);
      let sent = 0;
      const perToken: number[] = [];
      for (const concurrency of [1, 8]) {
        const results: Record<'gateway' | 'direct', Stream[]> = { gateway: [], direct: [] };
        const rates: Record<'gateway' | 'direct', number[]> = { gateway: [], direct: [] };
        const run = async (which: 'gateway' | 'direct') => {
          const url = which === 'gateway' ? app.url : direct;
          const t0 = performance.now();
          const batch = await Promise.all(Array.from({ length: concurrency }, (_, i) => stream(url, i)));
          // Tokens delivered per second over the round, all streams together.
          rates[which].push((batch.reduce((n, s) => n + s.tokens, 0) * 1000) / (performance.now() - t0));
          results[which].push(...batch);
          if (which === 'gateway') sent += concurrency;
        };
        await run('direct'); // warm-up (not kept)
        results.direct = [];
        rates.direct = [];
        for (let r = 0; r < model.rounds[concurrency]!; r++) {
          for (const which of r % 2 === 0 ? (['gateway', 'direct'] as const) : (['direct', 'gateway'] as const)) await run(which);
        }
        const ttft = { gateway: median(results.gateway.map((s) => s.ttft)), direct: median(results.direct.map((s) => s.ttft)) };
        const rate = { gateway: median(rates.gateway), direct: median(rates.direct) };
        if (concurrency === 1) perToken.push(1000 / rate.direct);
        rows.push({
          name: `LLM gateway time to first token, ${concurrency} stream${concurrency > 1 ? 's' : ''} (p50${model.label})`,
          value: ttft.gateway,
          unit: 'ms',
          baseline: { name: 'llama-server directly', value: ttft.direct },
          ratio: ttft.gateway / ttft.direct,
          aim: '<= 1.05 (+1 ms)',
          ok: ttft.gateway <= ttft.direct * 1.05 + 1,
        });
        rows.push({
          name: `LLM gateway tokens/s, ${concurrency} stream${concurrency > 1 ? 's' : ''} together (median of rounds${model.label})`,
          value: rate.gateway,
          unit: 'tokens/s',
          baseline: { name: 'llama-server directly', value: rate.direct },
          ratio: rate.gateway / rate.direct,
          aim: '>= 0.97',
          ok: rate.gateway >= rate.direct * 0.97,
        });
      }
      const logged = logLines(logDir).length;
      rows.push({
        name: `LLM gateway requests logged${model.label ? ` (${model.label.slice(2)}, ${ms(perToken[0]!)} per token)` : ''}`,
        value: logged,
        unit: 'lines',
        baseline: { name: 'requests sent', value: sent },
        aim: '= requests',
        ok: logged === sent,
      });
    } finally {
      await app.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
