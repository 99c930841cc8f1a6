/**
 * An LLM's drift features (src/monitoring/drift/llm-values.ts) and the check over them
 * (src/monitoring/drift/llm.ts): script detection, refusals and empty answers, tokens/s, texts
 * logged redacted or hashed, finish-reason shares, and what is not compared.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dominantScript, isRefusal, llmRow, tokensPerSecond } from '../../../src/monitoring/drift/llm-values.js';
import { checkLlmDrift, loadLlmReference, MIN_LLM_VALUES } from '../../../src/monitoring/drift/llm.js';
import type { PredictionRecord } from '../../../src/logs/format.js';
import type { LogSource } from '../../../src/logs/types.js';
import type { Manifest } from '../../../src/manifest/types.js';
import { isMlshipError } from '../../../src/util/errors.js';

const dir = mkdtempSync(path.join(tmpdir(), 'mlship-llm-drift-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function chat(content: unknown, output: unknown, llm: PredictionRecord['llm'] = {}): PredictionRecord {
  return {
    input: {
      endpoint: 'chat',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content },
      ],
    },
    output,
    hasOutput: true,
    llm,
  };
}

describe('dominantScript', () => {
  it.each([
    ['Hello, how are you?', 'Latin'],
    ['Größe und Straße, ça va', 'Latin'],
    ['Привет, как дела?', 'Cyrillic'],
    ['Καλημέρα κόσμε', 'Greek'],
    ['你好，世界', 'Han'],
    ['こんにちは、せかい', 'Kana'],
    ['안녕하세요', 'Hangul'],
    ['مرحبا بالعالم', 'Arabic'],
    ['שלום עולם', 'Hebrew'],
    ['नमस्ते दुनिया', 'Devanagari'],
    ['สวัสดีชาวโลก', 'Thai'],
    ['ሰላም ዓለም', 'Other'],
    ['1234 + 5678 = ?! 🙂', 'none'],
    ['', 'none'],
  ])('%s → %s', (text, script) => {
    expect(dominantScript(text)).toBe(script);
  });

  it('counts letters, so a Russian question with an English brand name is Cyrillic', () => {
    expect(dominantScript('Как настроить Kubernetes на сервере?')).toBe('Cyrillic');
    expect(dominantScript('Translate «дом» into English please')).toBe('Latin');
  });
});

describe('isRefusal', () => {
  it.each([
    ["I'm sorry, but I can't help with that.", true],
    ['I’m sorry — that is not something I can do', true],
    ['  "I cannot assist with this request."', true],
    ['As an AI language model, I do not have opinions.', true],
    ['i am unable to browse the internet', true],
    ['**I can’t** share that.', true],
    ['Sure! Here is the answer.', false],
    ['The capital is Paris. I cannot stress this enough.', false],
    ['', false],
  ])('%j → %s', (text, refused) => {
    expect(isRefusal(text)).toBe(refused);
  });
});

describe('tokensPerSecond', () => {
  it('is 1000 / inter-token latency when it is logged', () => {
    expect(tokensPerSecond({ itl_ms: 20 })).toBe(50);
  });
  it('else the tokens after the first over the time after the first token', () => {
    expect(tokensPerSecond({ itl_ms: null, completion_tokens: 11, e2e_ms: 600, ttft_ms: 100 })).toBe(20);
    expect(tokensPerSecond({ itl_ms: 0, completion_tokens: 5, e2e_ms: 300, ttft_ms: 100 })).toBe(20);
  });
  it('is unknown for one token, no timings, or no facts', () => {
    expect(tokensPerSecond({ completion_tokens: 1, e2e_ms: 50, ttft_ms: 40 })).toBeUndefined();
    expect(tokensPerSecond({ completion_tokens: 8 })).toBeUndefined();
    expect(tokensPerSecond(undefined)).toBeUndefined();
  });
});

describe('llmRow', () => {
  it('reads the facts, the user prompt (string or content parts) and the completion', () => {
    const row = llmRow(
      chat(
        [
          { type: 'text', text: 'Привет' },
          { type: 'image_url', image_url: { url: 'x' } },
          { type: 'text', text: 'мир' },
        ],
        "I can't do that.",
        {
          status: 200,
          prompt_tokens: 12,
          completion_tokens: 5,
          finish_reason: 'stop',
          ttft_ms: 40,
          itl_ms: 10,
        },
      ),
    );
    expect(row).toEqual({
      prompt_tokens: 12,
      prompt_chars: 'Be brief.'.length + 'Привет'.length + 'мир'.length,
      completion_tokens: 5,
      ttft_ms: 40,
      tokens_per_s: 100,
      finish_reason: 'stop',
      prompt_script: 'Cyrillic',
      empty_completion: false,
      refusal: true,
      prompt_form: 'text',
      completion_form: 'text',
      facts: 'logged',
    });
  });

  it('a completion request: its prompt string; characters counted as code points (as the gateway counts them when it redacts)', () => {
    const row = llmRow({
      input: { endpoint: 'completions', prompt: 'emoji 🙂 ok' },
      output: '',
      hasOutput: true,
      llm: { status: 200, finish_reason: 'length' },
    });
    expect(row).toMatchObject({ prompt_chars: 10, prompt_script: 'Latin', empty_completion: true, refusal: false, finish_reason: 'length' });
  });

  it('redacted: lengths and empty answers known, script and refusals not', () => {
    const row = llmRow(chat('[redacted: 40 chars]', '[redacted: 0 chars]', { status: 200 }));
    // The system prompt is logged redacted too.
    const redacted = llmRow({
      input: {
        messages: [
          { role: 'system', content: '[redacted: 9 chars]' },
          { role: 'user', content: '[redacted: 40 chars]' },
        ],
      },
      output: '[redacted: 0 chars]',
      hasOutput: true,
      llm: { status: 200 },
    });
    expect(redacted).toMatchObject({
      prompt_form: 'redacted',
      prompt_chars: 49,
      prompt_script: undefined,
      completion_form: 'redacted',
      empty_completion: true,
      refusal: undefined,
    });
    // A prompt mixing logged text and a redacted-looking string is text (the gateway redacts all or nothing).
    expect(row.prompt_form).toBe('text');
  });

  it('hashed: an empty completion is still known (the sha256 of nothing); lengths are not', () => {
    const sha = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;
    const row = llmRow({ input: { messages: [{ role: 'user', content: sha('hi') }] }, output: sha(''), hasOutput: true, llm: { status: 200 } });
    expect(row).toMatchObject({ prompt_form: 'hashed', prompt_chars: undefined, prompt_script: undefined, completion_form: 'hashed', empty_completion: true });
    expect(llmRow({ input: { prompt: sha('hi') }, output: sha('an answer'), hasOutput: true, llm: {} }).empty_completion).toBe(false);
  });

  it('a failed or cancelled request has no completion to judge; a plain request line has no facts', () => {
    expect(llmRow(chat('hi', '', { status: 499, finish_reason: 'cancelled' }))).toMatchObject({
      empty_completion: undefined,
      refusal: undefined,
      finish_reason: 'cancelled',
    });
    expect(llmRow({ input: { prompt: 'hi' }, hasOutput: false })).toMatchObject({
      facts: 'none',
      completion_form: 'none',
      prompt_tokens: undefined,
      ttft_ms: undefined,
      empty_completion: undefined,
    });
  });
});

// ---- the check ----

const settings: Manifest['monitoring']['drift'] = { schedule: '0 2 * * *', share: 0.5, method: 'auto', features: {} };
const manifest = (drift: Partial<Manifest['monitoring']['drift']> = {}) =>
  ({ name: 'chat', model: { flavor: 'llm' }, monitoring: { drift: { ...settings, ...drift } } }) as unknown as Manifest;

/** A log line as the gateway writes it (python/mlship_serving/llm/gateway.py), the facts varied. */
function line(i: number, ts: string, finish: string, options: { content?: string; output?: string } = {}): string {
  return JSON.stringify({
    ts,
    id: `r${i}`,
    model: 'chat',
    version: 'v1',
    input: { endpoint: 'chat', messages: [{ role: 'user', content: options.content ?? `question number ${i} about the weather` }] },
    output: options.output ?? `answer ${i}`,
    latency_ms: 50 + (i % 7),
    llm: {
      stream: true,
      status: 200,
      prompt_tokens: 10 + (i % 5),
      completion_tokens: 20 + (i % 9),
      cached_tokens: 0,
      finish_reason: finish,
      ttft_ms: 30 + (i % 11),
      itl_ms: 5 + (i % 3),
      e2e_ms: 150 + (i % 13),
      usage_source: 'backend',
    },
  });
}

function source(lines: string[]): LogSource {
  return {
    description: 'memory',
    format: 'mlship',
    async *lines() {
      yield* lines;
    },
  };
}

const BASE_TS = (i: number) => new Date(Date.UTC(2026, 10, 1) + i * 3_600_000).toISOString();
const LATER_TS = (i: number) => new Date(Date.UTC(2026, 10, 20) + i * 3_600_000).toISOString();

async function check(base: string[], current: string[], drift: Partial<Manifest['monitoring']['drift']> = {}) {
  const all = [...base, ...current];
  return checkLlmDrift({
    manifest: manifest(drift),
    sources: async () => [source(all)],
    window: {},
    firstWeek: false,
    cwd: dir,
    now: new Date(Date.UTC(2026, 11, 1)),
    workers: 0,
    debug: () => {},
  });
}

describe('checkLlmDrift (first week of the logs as the baseline)', () => {
  const base = Array.from({ length: 100 }, (_, i) => line(i, BASE_TS(i), 'stop'));

  it('a rise in length truncations: finish_reason drifts (Jensen–Shannon, critical), and the data set with it', async () => {
    const current = Array.from({ length: 100 }, (_, i) => line(i, LATER_TS(i), i % 10 < 3 ? 'length' : 'stop'));
    const r = await check(base, current);
    const finish = r.features.find((f) => f.name === 'finish_reason')!;
    // Chi-square (what `auto` takes for 100 baseline values) could not see `length`, which the baseline never had.
    expect(finish).toMatchObject({ method: 'jensenshannon', drift: true, critical: true, unseen: { length: 30 } });
    expect(finish.distribution).toEqual({ kind: 'categories', categories: ['stop', 'length'], baseline: [100, 0], current: [70, 30] });
    expect(r.drift).toBe(true);
    expect(r.critical_drifted).toEqual(['finish_reason']);
    expect(r.baseline).toEqual({ source: expect.stringMatching(/^first week of logs/), rows: 100 });
    expect(r.rows).toBe(100);
  });

  it('the same shares: no drift; a feature set non-critical in the manifest does not decide alone', async () => {
    const same = Array.from({ length: 100 }, (_, i) => line(i, LATER_TS(i), 'stop'));
    const r = await check(base, same);
    expect(r.drift).toBe(false);
    expect(r.features.every((f) => f.method !== null)).toBe(true);
    const truncated = Array.from({ length: 100 }, (_, i) => line(i, LATER_TS(i), i % 10 < 3 ? 'length' : 'stop'));
    const relaxed = await check(base, truncated, { features: { finish_reason: { method: 'auto', critical: false } } });
    expect(relaxed.features.find((f) => f.name === 'finish_reason')).toMatchObject({ drift: true, critical: false });
    expect(relaxed.drift).toBe(false);
  });

  it('a manifest method and threshold apply to the LLM features', async () => {
    const current = Array.from({ length: 100 }, (_, i) => line(i, LATER_TS(i), i % 10 < 3 ? 'length' : 'stop'));
    const r = await check(base, current, { features: { finish_reason: { method: 'linf', threshold: 0.5 } } });
    expect(r.features.find((f) => f.name === 'finish_reason')).toMatchObject({ method: 'linf', threshold: 0.5, drift: false, critical: true });
    expect((await check(base, current, { threshold: 0.7 })).features.find((f) => f.name === 'finish_reason')).toMatchObject({ threshold: 0.7, drift: false });
  });

  it('refusals and empty answers: their rates compared', async () => {
    const current = Array.from({ length: 100 }, (_, i) =>
      line(i, LATER_TS(i), 'stop', { output: i % 4 === 0 ? "I'm sorry, I can't help with that." : i % 4 === 1 ? '' : `answer ${i}` }),
    );
    const r = await check(base, current);
    const byName = Object.fromEntries(r.features.map((f) => [f.name, f]));
    expect(byName.refusal).toMatchObject({ drift: true, critical: true, distribution: { categories: ['false', 'true'], current: [75, 25] } });
    expect(byName.empty_completion).toMatchObject({ drift: true, critical: true, distribution: { categories: ['false', 'true'], current: [75, 25] } });
  });

  it('too few values of a feature on one side: not compared, with how many there were', async () => {
    const current = Array.from({ length: 40 }, (_, i) => {
      const l = JSON.parse(line(i, LATER_TS(i), 'stop'));
      if (i >= 10) l.llm.ttft_ms = null;
      return JSON.stringify(l);
    });
    const r = await check(base, current);
    expect(r.features.find((f) => f.name === 'ttft_ms')).toMatchObject({
      method: null,
      drift: false,
      note: `not compared: the current window has 10 values in 40 requests (at least ${MIN_LLM_VALUES} are needed)`,
    });
  });

  it('fewer requests than the check needs: an operation error (exit 1) saying so', async () => {
    const error = await check(base.slice(0, 20), []).catch((e: unknown) => e);
    expect(isMlshipError(error) && error.exitCode).toBe(1);
    expect((error as Error).message).toMatch(/the baseline \(first week of logs .*\) has 20 requests; a drift check needs at least 30/);
  });
});

describe('loadLlmReference', () => {
  it('reads plain request lines: chat, completion, content parts, with or without completions; counts what it cannot read', async () => {
    const file = path.join(dir, 'prompts.jsonl');
    writeFileSync(
      file,
      [
        '{"messages": [{"role": "user", "content": "Hello there"}], "completion": "Hi!"}',
        '{"prompt": "Bonjour à tous"}',
        '{"messages": [{"role": "user", "content": [{"type": "text", "text": "Привет"}]}], "completion": ""}',
        '',
        'not json',
        '{"question": "no prompt"}',
      ].join('\n'),
    );
    const p = await loadLlmReference(file, 'prompts.jsonl');
    expect(p.rows).toBe(3);
    expect(p.features.prompt_script).toMatchObject({ kind: 'categorical', count: 3, frequencies: { Latin: 2, Cyrillic: 1 } });
    expect(p.features.empty_completion).toMatchObject({ count: 2, frequencies: { false: 1, true: 1 } });
    expect(p.features.prompt_tokens).toMatchObject({ kind: 'numeric', count: 0 });
    expect(p.features.facts).toMatchObject({ frequencies: { none: 3 } });
  });

  it('a file with no request in it: a usage error naming the file and the first problem', async () => {
    const file = path.join(dir, 'empty.jsonl');
    writeFileSync(file, '{"question": 1}\n');
    await expect(loadLlmReference(file, 'empty.jsonl')).rejects.toThrow(/the drift reference empty\.jsonl has no requests \(empty\.jsonl:1: not a request/);
  });
});
