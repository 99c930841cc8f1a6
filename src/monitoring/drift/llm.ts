/**
 * drift-check on an LLM: the traffic compared without a model. Each record's features (prompt and
 * completion tokens, prompt characters, time to first token, tokens/s, finish reason, the prompt's
 * script, empty and refused completions: llm-values.ts) go through the same check as a tabular
 * model's fields (check.ts: the same statistics, thresholds, verdicts, parser threads, table and
 * report), against a baseline that is either reference traffic named in the manifest
 * (`monitoring.drift.reference`, or `--baseline`) or the first seven days of the logs.
 *
 * A feature one side cannot have (prompts logged redacted or hashed, a reference file without
 * timings or completions, too few values) is listed as not compared, with why, instead of failing
 * the check or counting as drift.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { OperationError, UsageError } from '../../util/errors.js';
import { LLM_DRIFT_FEATURES, type LlmDriftFeature, type Manifest } from '../../manifest/types.js';
import type { LogSource, LogWindow } from '../../logs/types.js';
import { isObject, type PredictionRecord } from '../../logs/format.js';
import { detectFileFormat, fileLogSource, readSource, ReadStats } from '../../logs/readers.js';
import type { BaselineProfile, CategoricalProfile, FeatureProfile } from '../../baseline/profile.js';
import { firstWeekReference, profileRows } from './baseline.js';
import { runDriftCheck, type DriftResult, type FeatureResult } from './check.js';
import type { MethodDefaults } from './methods.js';
import { LLM_FEATURE_KINDS, LLM_FORM_COLUMNS, llmSchema, llmValues } from './llm-values.js';

/** Fewest values a feature needs on each side (and records each side needs) to be compared. */
export const MIN_LLM_VALUES = 30;

/**
 * What an LLM check does differently from a tabular one. Categories are judged by Jensen–Shannon
 * distance whatever the baseline's size: chi-square (what `auto` takes for a small baseline)
 * compares only the categories the baseline has, and for LLM traffic the new category is the news
 * (`length` truncations where the baseline only stopped, Cyrillic prompts where it had Latin). The
 * behaviour features are critical: a rise in truncated, empty or refused completions is drift on
 * its own, whatever the other features do.
 */
export const LLM_DEFAULTS: MethodDefaults = { auto: { categorical: 'jensenshannon' }, critical: ['finish_reason', 'empty_completion', 'refusal'] };

const COLUMNS: string[] = [...LLM_DRIFT_FEATURES, ...LLM_FORM_COLUMNS];

/** What the check needs from the command. */
export interface LlmDriftInput {
  manifest: Manifest;
  /** The prediction logs in a window (the target's, or `--logs`). */
  sources: (window: LogWindow) => Promise<LogSource[]>;
  window: LogWindow;
  /** `--baseline FILE` (reference traffic, relative to cwd) or `--reference first-week`, as given. */
  baselineFile?: string;
  firstWeek: boolean;
  cwd: string;
  now: Date;
  workers: number;
  debug: (message: string) => void;
}

/** One side's records as the check sees them: per feature its values, and how the texts were logged. */
export class LlmSurvey {
  records = 0;
  readonly present: Record<string, number> = {};
  readonly forms: Record<string, Record<string, number>> = {};

  add(values: readonly unknown[]): void {
    this.records++;
    COLUMNS.forEach((c, i) => {
      const v = values[i];
      if (v === undefined || v === null) return;
      if ((LLM_FORM_COLUMNS as readonly string[]).includes(c)) {
        const f = (this.forms[c] ??= {});
        f[String(v)] = (f[String(v)] ?? 0) + 1;
      } else this.present[c] = (this.present[c] ?? 0) + 1;
    });
  }

  /** From a baseline profile built over all the columns. */
  static ofProfile(profile: BaselineProfile): LlmSurvey {
    const s = new LlmSurvey();
    s.records = profile.rows;
    for (const c of COLUMNS) {
      const p = profile.features[c];
      if (!p) continue;
      if ((LLM_FORM_COLUMNS as readonly string[]).includes(c)) s.forms[c] = { ...(p as CategoricalProfile).frequencies };
      else s.present[c] = p.count;
    }
    return s;
  }

  /** The most common way a column was logged. */
  mostly(column: (typeof LLM_FORM_COLUMNS)[number]): string | undefined {
    const f = Object.entries(this.forms[column] ?? {}).sort((a, b) => b[1] - a[1]);
    return f[0]?.[0];
  }
}

/**
 * Why a feature cannot be compared on one side (`side` names it: "the baseline", "the current
 * window"), or undefined when it can.
 */
export function whyNotCompared(feature: LlmDriftFeature, s: LlmSurvey, side: string): string | undefined {
  const n = s.present[feature] ?? 0;
  if (n >= MIN_LLM_VALUES) return undefined;
  const prompt = s.mostly('prompt_form');
  const completion = s.mostly('completion_form');
  const facts = s.mostly('facts');
  const logged = (form: string | undefined, what: string): string | undefined =>
    form === 'redacted' || form === 'hashed' ? `${what} are logged redacted/hashed in ${side}` : undefined;
  let why: string | undefined;
  switch (feature) {
    case 'prompt_script':
      why = logged(prompt, 'prompts') ?? (prompt === 'none' ? `${side} has no prompt text` : undefined);
      break;
    case 'prompt_chars':
      why = prompt === 'hashed' ? `prompts are logged hashed in ${side}` : prompt === 'none' ? `${side} has no prompt text` : undefined;
      break;
    case 'refusal':
      why = logged(completion, 'completions') ?? (completion === 'none' ? `${side} has no completions` : undefined);
      break;
    case 'empty_completion':
      why = completion === 'none' ? `${side} has no completions` : undefined;
      break;
    case 'ttft_ms':
    case 'tokens_per_s':
      why = facts === 'none' ? `${side} has no logged timings (plain requests; an exported prediction log has them)` : undefined;
      break;
    default:
      why = facts === 'none' ? `${side} has no token counts or finish reasons (plain requests; an exported prediction log has them)` : undefined;
  }
  return why ?? `${side} has ${n} value${n === 1 ? '' : 's'} in ${s.records} requests (at least ${MIN_LLM_VALUES} are needed)`;
}

/** Reference traffic from a file: an exported prediction log (any format) or plain request lines. */
export async function loadLlmReference(file: string, shown: string): Promise<BaselineProfile> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new UsageError(`cannot read the drift reference ${shown}`, {
      code: 'baseline_not_found',
      hint: 'Point monitoring.drift.reference (or --baseline) at JSON lines of requests or an exported prediction log that exists.',
    });
  }
  const rows: Record<string, unknown>[] = [];
  const stats = new ReadStats();
  const keep = (values: readonly unknown[]): void => {
    rows.push(Object.fromEntries(COLUMNS.map((c, i) => [c, values[i]])));
  };
  const format = detectFileFormat(file);
  if (format !== undefined) {
    await readSource(
      fileLogSource(file, format),
      (r) => {
        keep(r.values);
        return undefined;
      },
      { fields: COLUMNS, extract: llmValues, stats },
    );
  } else {
    // Plain requests: {"messages": [...]} or {"prompt": ...}, with an optional "completion".
    const values = new Array<unknown>(COLUMNS.length);
    text.split('\n').forEach((line, i) => {
      if (line.trim() === '') return;
      stats.lines++;
      let obj: unknown;
      try {
        obj = JSON.parse(line);
      } catch {
        stats.reject('invalid_json', shown, i + 1);
        return;
      }
      if (!isObject(obj) || (obj.messages === undefined && obj.prompt === undefined)) {
        stats.reject('not_a_request', shown, i + 1, 'expected {"messages": [...]} or {"prompt": "..."}');
        return;
      }
      const record: PredictionRecord = {
        input: obj.messages !== undefined ? { messages: obj.messages } : { prompt: obj.prompt },
        output: obj.completion,
        hasOutput: 'completion' in obj,
      };
      llmValues(record, COLUMNS, values);
      keep(values);
    });
  }
  if (rows.length === 0) {
    throw new UsageError(`the drift reference ${shown} has no requests${stats.malformed > 0 ? ` (${stats.examples[0]})` : ''}`, {
      code: 'baseline_empty',
      hint: 'Each line is a request, {"messages": [...]} or {"prompt": "..."} with an optional "completion", or a line of an exported prediction log.',
    });
  }
  return profileRows(rows, llmSchema(COLUMNS), shown);
}

/** A not-compared feature's result: its baseline values when it has them, and why. */
function notCompared(name: LlmDriftFeature, profile: FeatureProfile | undefined, current: number, why: string): FeatureResult {
  const distribution: FeatureResult['distribution'] =
    profile?.kind === 'numeric' && profile.count > 0
      ? { kind: 'bins', edges: profile.edges, baseline: profile.counts, current: profile.counts.map(() => 0) }
      : profile?.kind === 'categorical'
        ? {
            kind: 'categories',
            categories: Object.keys(profile.frequencies),
            baseline: Object.values(profile.frequencies),
            current: Object.values(profile.frequencies).map(() => 0),
          }
        : { kind: 'categories', categories: [], baseline: [], current: [] };
  return {
    name,
    kind: LLM_FEATURE_KINDS[name],
    method: null,
    score: null,
    threshold: null,
    drift: false,
    score_kind: null,
    critical: false,
    counts: { baseline: profile?.count ?? 0, current },
    missing: { baseline: 0, current: 0 },
    invalid: 0,
    statistics: {},
    distribution,
    note: `not compared: ${why}`,
  };
}

/** The check on an LLM's logs; a result shaped as the tabular check's. */
export async function checkLlmDrift(input: LlmDriftInput): Promise<DriftResult> {
  const reference = input.firstWeek ? undefined : (input.baselineFile ?? input.manifest.monitoring.drift.reference);
  let profile: BaselineProfile;
  let source: string;
  let window = input.window;
  let firstWeekEnd: Date | undefined;
  if (reference !== undefined) {
    const file = path.resolve(input.cwd, reference);
    source = path.relative(input.cwd, file) || file;
    profile = await loadLlmReference(file, source);
  } else {
    const first = await firstWeekReference(await input.sources({}), llmSchema(COLUMNS), input.window, llmValues);
    profile = first.profile;
    source = profile.source.path;
    window = first.window;
    firstWeekEnd = first.end;
  }
  delete profile.output;
  const base = LlmSurvey.ofProfile(profile);
  if (base.records < MIN_LLM_VALUES) {
    throw new OperationError(
      'not_enough_predictions',
      `the baseline (${source}) has ${base.records} requests; a drift check needs at least ${MIN_LLM_VALUES}`,
      {
        hint:
          reference !== undefined
            ? 'Add requests to the reference file.'
            : 'The first week of the logs is the baseline: let more traffic through, or name reference traffic in monitoring.drift.reference.',
      },
    );
  }

  // The current side, surveyed first: what it has of each feature (and so what can be compared).
  const sources = await input.sources(window);
  const current = new LlmSurvey();
  const stats = new ReadStats();
  for (const s of sources) {
    await readSource(
      s,
      (r) => {
        current.add(r.values);
        return undefined;
      },
      { fields: COLUMNS, extract: llmValues, window, stats },
    );
  }
  if (current.records < MIN_LLM_VALUES) {
    const where = `${window.from ? ` since ${window.from.toISOString()}` : ''}${window.to ? ` before ${window.to.toISOString()}` : ''}`;
    const details = { requests: current.records, malformed: stats.malformed, outside_window: stats.outsideWindow };
    if (firstWeekEnd && firstWeekEnd > input.now) {
      throw new OperationError(
        'not_enough_predictions',
        `the logs are younger than a week: their first week (${source.replace(/^first week of logs \((.*)\)$/, '$1')}) is the baseline, and nothing came after it yet`,
        {
          hint: `Check again after ${firstWeekEnd.toISOString()}, or name reference traffic in monitoring.drift.reference (or --baseline FILE).`,
          details,
        },
      );
    }
    throw new OperationError(
      'not_enough_predictions',
      `the logs have ${current.records} requests${where} to check; a drift check needs at least ${MIN_LLM_VALUES}`,
      {
        hint:
          reference === undefined
            ? 'The first week of the logs is the baseline and the check compares what came after it: check again once more traffic came, widen the window (--since / --from / --to), or name reference traffic in monitoring.drift.reference.'
            : 'Send more requests first, or widen the window with --since / --from / --to.',
        details,
      },
    );
  }

  const skipped = new Map<LlmDriftFeature, string>();
  for (const f of LLM_DRIFT_FEATURES) {
    const why = whyNotCompared(f, base, 'the baseline') ?? whyNotCompared(f, current, 'the current window');
    if (why) skipped.set(f, why);
  }
  const compared = LLM_DRIFT_FEATURES.filter((f) => !skipped.has(f));
  input.debug(`drift-check (LLM): comparing ${compared.join(', ') || 'nothing'}; baseline ${source}`);
  if (compared.length === 0) {
    throw new OperationError('nothing_to_compare', `nothing of the LLM traffic can be compared: ${[...skipped.values()].join('; ')}`, {
      hint: 'Log prompts in full (monitoring.log_content: full), or use the first week of the logs as the baseline (leave monitoring.drift.reference unset).',
    });
  }
  const baseline: BaselineProfile = { ...profile, features: Object.fromEntries(compared.map((f) => [f, profile.features[f]!])) };
  const result = await runDriftCheck({
    baseline,
    baselineSource: source,
    sources,
    window,
    schema: llmSchema(compared),
    settings: input.manifest.monitoring.drift,
    workers: input.workers,
    view: 'llm',
    defaults: LLM_DEFAULTS,
  });
  const byName = new Map(result.features.map((f) => [f.name, f]));
  result.features = LLM_DRIFT_FEATURES.map(
    (f) => byName.get(f) ?? notCompared(f, profile.features[f], current.present[f] ?? 0, skipped.get(f) ?? 'not in the check'),
  );
  result.output = {
    supported: false,
    drift: false,
    reason: "an LLM's completions are compared as features (completion_tokens, finish_reason, empty_completion, refusal)",
  };
  return result;
}
