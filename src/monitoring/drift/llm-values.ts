/**
 * What drift-check compares of an LLM's traffic, derived from each neutral `PredictionRecord`
 * without a model: the gateway's generation facts (`record.llm`: token counts, finish reason, time
 * to first token, inter-token latency), the prompt's text (`input.messages` or `input.prompt`) and
 * the completion (`output`). Whichever log format a line came in, the record is the same, so these
 * values are too. Pure functions, run on drift-check's parser threads (batch.ts, view `llm`).
 *
 * With `log_content: redacted` the gateway logs each text as `[redacted: N chars]`, with `hashed`
 * as `sha256:<hex>` (python/mlship_serving/llm/openai.py `redact`): the prompt's script and
 * refusals are then unknown, a prompt's length is still known when redacted, and an empty
 * completion is recognisable in both forms.
 */
import type { LlmFacts, PredictionRecord } from '../../logs/format.js';
import type { ExtractValues } from '../../logs/readers.js';
import type { FieldSpec, LlmDriftFeature } from '../../manifest/types.js';

/** How a text was logged: as it is, redacted to its length, hashed, or not at all. */
export type TextForm = 'text' | 'redacted' | 'hashed' | 'none';

/** One record's values: the compared features, and how its texts were logged (why a value may be missing). */
export type LlmRow = { [K in LlmDriftFeature]: number | string | boolean | undefined } & {
  prompt_form: TextForm;
  completion_form: TextForm;
  /** Whether the record has the gateway's generation facts (an exported log does; plain request lines do not). */
  facts: 'logged' | 'none';
};

/** The columns a reader asks for: the features, then the three that say how the record was logged. */
export const LLM_FORM_COLUMNS = ['prompt_form', 'completion_form', 'facts'] as const;

/** Each feature's kind: numbers are compared as distributions, the rest as category shares. */
export const LLM_FEATURE_KINDS: Record<LlmDriftFeature, 'numeric' | 'categorical'> = {
  prompt_tokens: 'numeric',
  prompt_chars: 'numeric',
  completion_tokens: 'numeric',
  ttft_ms: 'numeric',
  tokens_per_s: 'numeric',
  finish_reason: 'categorical',
  prompt_script: 'categorical',
  empty_completion: 'categorical',
  refusal: 'categorical',
};

/** The features as a field schema (what profiling and the check read the kinds from). */
export function llmSchema(names: readonly string[]): Record<string, FieldSpec> {
  return Object.fromEntries(
    names.map((n) => [n, { type: LLM_FEATURE_KINDS[n as LlmDriftFeature] === 'numeric' ? 'number' : 'string', nullable: true } satisfies FieldSpec]),
  );
}

// ---- scripts ----

/**
 * The scripts told apart, in the order that breaks a tie. Japanese kana (Hiragana, Katakana) count
 * together as `Kana`; letters of any other script are `Other`.
 */
export const SCRIPTS = ['Latin', 'Cyrillic', 'Greek', 'Han', 'Kana', 'Hangul', 'Arabic', 'Hebrew', 'Devanagari', 'Thai', 'Other'] as const;

const SCRIPT_RE =
  /(\p{Script=Latin})|(\p{Script=Cyrillic})|(\p{Script=Greek})|(\p{Script=Han})|(\p{Script=Hiragana}|\p{Script=Katakana})|(\p{Script=Hangul})|(\p{Script=Arabic})|(\p{Script=Hebrew})|(\p{Script=Devanagari})|(\p{Script=Thai})|(\p{L})/gu;
/** Letters looked at per prompt: the script of a long prompt is settled well before. */
const MAX_LETTERS = 4000;

/**
 * The script most of a text's letters are written in (`Latin`, `Cyrillic`, …, `Other`), or `none`
 * when it has no letters (digits, punctuation, emoji). Marks, digits and spaces do not count.
 */
export function dominantScript(text: string): string {
  const counts = new Array<number>(SCRIPTS.length).fill(0);
  let letters = 0;
  SCRIPT_RE.lastIndex = 0;
  for (let m = SCRIPT_RE.exec(text); m !== null && letters < MAX_LETTERS; m = SCRIPT_RE.exec(text)) {
    for (let g = 1; g <= SCRIPTS.length; g++) {
      if (m[g] !== undefined) {
        counts[g - 1]!++;
        break;
      }
    }
    letters++;
  }
  if (letters === 0) return 'none';
  let best = 0;
  for (let i = 1; i < counts.length; i++) if (counts[i]! > counts[best]!) best = i;
  return SCRIPTS[best]!;
}

// ---- refusals ----

/**
 * Openings that mark a completion as a refusal: matched at the start of the completion (after
 * spaces and opening quotes or asterisks), case-insensitive, with ’ read as '. A list of openings,
 * not a judgement of meaning: "I can't wait to help" counts too, so watch the rate's change, not its level.
 */
export const REFUSAL_OPENINGS = [
  "i'm sorry",
  'i am sorry',
  'sorry, i',
  'sorry, but',
  'i apologize',
  'i apologise',
  "i can't",
  'i cannot',
  'i can not',
  "i'm unable",
  'i am unable',
  "i'm not able",
  'i am not able',
  "i won't",
  'i will not',
  'as an ai',
] as const;

/** Whether a completion opens as a refusal (REFUSAL_OPENINGS). */
export function isRefusal(completion: string): boolean {
  const start = completion
    .slice(0, 80)
    .replace(/^[\s"'“”‘’*_>`-]+/u, '')
    .replace(/[’‘]/g, "'")
    .toLowerCase();
  return REFUSAL_OPENINGS.some((o) => start.startsWith(o));
}

// ---- texts as logged ----

const REDACTED = /^\[redacted: (\d+) chars\]$/;
const HASHED = /^sha256:[0-9a-f]{64}$/;
/** sha256 of the empty string: a hashed empty completion. */
const EMPTY_SHA256 = 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** Characters as Python counts them (code points): what `[redacted: N chars]` counts. */
function codePoints(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xdc00 && c <= 0xdfff) n--;
  }
  return n;
}

/** The texts of a message's content: a string, or a list of parts whose `text` is kept. */
function contentTexts(content: unknown, out: string[]): void {
  if (typeof content === 'string') out.push(content);
  else if (Array.isArray(content)) {
    for (const part of content) {
      if (typeof part === 'string') out.push(part);
      else if (typeof part === 'object' && part !== null && typeof (part as { text?: unknown }).text === 'string') out.push((part as { text: string }).text);
    }
  }
}

/** A prompt as logged: every text of it, and the texts the user wrote (for its script). */
function promptTexts(input: Record<string, unknown>): { all: string[]; user: string[] } {
  const all: string[] = [];
  const user: string[] = [];
  const messages = input.messages;
  if (Array.isArray(messages)) {
    for (const m of messages) {
      if (typeof m !== 'object' || m === null) continue;
      const texts: string[] = [];
      contentTexts((m as { content?: unknown }).content, texts);
      all.push(...texts);
      if ((m as { role?: unknown }).role === 'user') user.push(...texts);
    }
  } else contentTexts(input.prompt, all);
  return { all, user: user.length > 0 ? user : all };
}

/** How a list of logged texts was kept: redacted or hashed when every one of them is. */
function formOf(texts: readonly string[]): TextForm {
  if (texts.length === 0) return 'none';
  if (texts.every((t) => REDACTED.test(t))) return 'redacted';
  if (texts.every((t) => HASHED.test(t))) return 'hashed';
  return 'text';
}

/**
 * Tokens per second of one generation: 1000 / inter-token latency, else the tokens after the first
 * over the time after the first (end to end minus time to first token); undefined when neither is known.
 */
export function tokensPerSecond(llm: LlmFacts | undefined): number | undefined {
  if (!llm) return undefined;
  const itl = llm.itl_ms;
  if (typeof itl === 'number' && itl > 0) return 1000 / itl;
  const n = llm.completion_tokens;
  const { e2e_ms: e2e, ttft_ms: ttft } = llm;
  if (typeof n === 'number' && n > 1 && typeof e2e === 'number' && typeof ttft === 'number' && e2e > ttft) return ((n - 1) * 1000) / (e2e - ttft);
  return undefined;
}

function count(v: number | null | undefined): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined;
}

/** One record's values. A failed request (status 400 and up, cancelled 499) has no completion to judge. */
export function llmRow(record: PredictionRecord): LlmRow {
  const llm = record.llm;
  const prompt = promptTexts(record.input);
  const promptForm = formOf(prompt.all);
  let promptChars: number | undefined;
  if (promptForm === 'text') promptChars = prompt.all.reduce((n, t) => n + codePoints(t), 0);
  else if (promptForm === 'redacted') promptChars = prompt.all.reduce((n, t) => n + Number(REDACTED.exec(t)![1]), 0);
  const out = record.hasOutput ? record.output : undefined;
  const completion = typeof out === 'string' ? out : undefined;
  const completionForm = completion === undefined ? 'none' : formOf([completion]);
  const failed = typeof llm?.status === 'number' && llm.status >= 400;
  let empty: boolean | undefined;
  let refusal: boolean | undefined;
  if (!failed && completion !== undefined) {
    if (completionForm === 'text') {
      empty = completion.trim() === '';
      refusal = isRefusal(completion);
    } else if (completionForm === 'redacted') empty = completion === '[redacted: 0 chars]';
    else if (completionForm === 'hashed') empty = completion === EMPTY_SHA256;
  }
  const finish = llm?.finish_reason;
  return {
    prompt_tokens: count(llm?.prompt_tokens),
    prompt_chars: promptChars,
    completion_tokens: count(llm?.completion_tokens),
    ttft_ms: count(llm?.ttft_ms),
    tokens_per_s: tokensPerSecond(llm),
    finish_reason: typeof finish === 'string' && finish !== '' ? finish : undefined,
    prompt_script: promptForm === 'text' ? dominantScript(prompt.user.join('\n')) : undefined,
    empty_completion: empty,
    refusal,
    prompt_form: promptForm,
    completion_form: completionForm,
    facts: llm ? 'logged' : 'none',
  };
}

/** The `llm` view for readers: each asked field from the record's `LlmRow`. */
export const llmValues: ExtractValues = (record, fields, values) => {
  const row = llmRow(record) as Record<string, unknown>;
  for (let i = 0; i < fields.length; i++) values[i] = row[fields[i]!];
};
