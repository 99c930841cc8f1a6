import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';

/**
 * The LLM traffic drift-check's tests send through the real gateway: the usual requests and the
 * shifted ones, and a way to date the gateway's own log lines back (it stamps now).
 */

/** A prediction-log line as the LLM gateway writes it (python/mlship_serving/llm/gateway.py). */
export type Line = { ts: string; id: string; input: Record<string, unknown>; output: unknown; llm: Record<string, unknown> };
/** An OpenAI chat or completion request body. */
export type Body = Record<string, unknown>;

const EN = 'the quick brown fox jumps over a lazy dog while seven happy cats watch from a sunny window and count birds'.split(' ');
const RU = 'быстрая коричневая лиса прыгает через ленивую собаку пока семь весёлых котов смотрят из окна и считают птиц'.split(' ');

function words(list: string[], n: number, from: number): string {
  return Array.from({ length: n }, (_, k) => list[(from + k * 7) % list.length]).join(' ');
}

/** A request of the usual traffic: short English questions, answers cut at the first "e" (stop) or 24 tokens. */
export function usual(i: number): Body {
  const text = `${words(EN, 4 + (i % 9), i)}?`;
  const common = { max_tokens: 24, temperature: 0, cache_prompt: false, stop: ['e'], stream: i % 2 === 0 };
  return i % 5 === 0
    ? { prompt: text, ...common }
    : {
        messages: [
          { role: 'system', content: 'You are terse.' },
          { role: 'user', content: text },
        ],
        ...common,
      };
}

/** The shifted traffic: long prompts, half of them Russian, and max_tokens 4 with no stop (every answer truncated: `length`). */
export function shifted(i: number): Body {
  const text = `${words(i % 2 === 0 ? RU : EN, 25 + (i % 15), i)}?`;
  const common = { max_tokens: 4, temperature: 0, cache_prompt: false, stream: i % 2 === 0 };
  return i % 5 === 0
    ? { prompt: text, ...common }
    : {
        messages: [
          { role: 'system', content: 'You are terse.' },
          { role: 'user', content: text },
        ],
        ...common,
      };
}

/** The lines with `ts` moved to `start` plus a minute per line (the rest of each line as the gateway wrote it). */
export function at(list: Line[], start: number): Line[] {
  return list.map((l, i) => ({ ...l, ts: new Date(start + i * 60_000).toISOString() }));
}

/** Write `lines` into `logs` one file per day of their `ts`, named as the gateway names them (predictions-YYYY-MM-DD.jsonl). */
export function writeDaily(logs: string, lines: Line[]): void {
  mkdirSync(logs, { recursive: true });
  for (const l of lines) appendFileSync(path.join(logs, `predictions-${l.ts.slice(0, 10)}.jsonl`), `${JSON.stringify(l)}\n`);
}
