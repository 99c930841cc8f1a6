/**
 * Token-budget arithmetic, pure: the event timings of streamed requests (stream.ts) + an LLM's
 * `budget` → time to first token, inter-token latency, end to end and tokens/s, each against its
 * allocation, and the verdict.
 *
 * - time to first token (TTFT): request sent → the first event with non-empty content (a role-only
 *   first chunk is not a token), per request;
 * - inter-token latency (ITL): the gaps between consecutive content events, every stream's pooled;
 * - end to end: request sent → last byte, per request;
 * - tokens/s per stream: completion tokens after the first ÷ first to last content event (the
 *   generation speed a reader of that stream sees); its budget is a floor, held by 95 % of streams;
 * - aggregate tokens/s: every completion token of the test ÷ its wall time (what one endpoint
 *   carries at that concurrency).
 */
import type { LlmBudget, PercentileLimits } from '../manifest/types.js';
import type { StreamSample } from './stream.js';
import { percentileOfSorted, round, summarize, type Percentiles } from './stats.js';

/** Share of failed requests above which the budget cannot be said to hold (as for tabular budgets). */
const MAX_ERROR_RATE = 0.01;

/** The timings of one successful request. */
export interface RequestTimings {
  /** Null when the completion had no content at all. */
  ttftMs: number | null;
  itlMs: number[];
  e2eMs: number;
  /** Completion tokens: from the usage event, else one per content event. */
  tokens: number;
  /** Null with fewer than two tokens or no time between the first and last content. */
  tokensPerSecond: number | null;
}

/** What one request's events say. */
export function requestTimings(sample: StreamSample): RequestTimings {
  const content = sample.contentMs;
  const tokens = sample.completionTokens ?? content.length;
  const itlMs: number[] = [];
  for (let i = 1; i < content.length; i++) itlMs.push(content[i]! - content[i - 1]!);
  const span = content.length > 1 ? content[content.length - 1]! - content[0]! : 0;
  return {
    ttftMs: content.length > 0 ? content[0]! : null,
    itlMs,
    e2eMs: sample.endMs,
    tokens,
    tokensPerSecond: tokens > 1 && span > 0 ? (tokens - 1) / (span / 1000) : null,
  };
}

/** Percentiles with the low tail a floor is judged at. */
export type RatePercentiles = Percentiles & { p5: number; min: number };

/** One budgeted (or only measured) figure. */
export interface TokenCheck {
  metric: 'ttft_ms' | 'itl_ms' | 'e2e_ms' | 'tokens_per_s';
  percentile: 'p5' | 'p50' | 'p95' | 'p99';
  /** A ceiling in ms, or for tokens_per_s a floor. */
  allocated: number;
  measured: number | null;
  status: 'ok' | 'over';
}

/** An LLM's budget, measured. */
export interface TokenReport {
  concurrency: number;
  requests: number;
  failed: number;
  errorRate: number;
  /** Successful requests whose completion had no content. */
  empty: number;
  ttftMs: Percentiles | null;
  itlMs: Percentiles | null;
  e2eMs: Percentiles | null;
  /** Per stream. */
  tokensPerSecond: RatePercentiles | null;
  /** Completion tokens per request. */
  completionTokens: Percentiles | null;
  /** Every completion token of the test ÷ its wall time. */
  aggregateTokensPerSecond: number;
  /** Successful requests per second. */
  requestsPerSecond: number;
  checks: TokenCheck[];
  verdict: 'within' | 'over';
  /** The checks over their allocation, in words (`ttft_ms p95 812 ms > 500 ms`). */
  over: string[];
  findings: string[];
}

/** Judge the samples of a test that ran `wallMs` at `budget.concurrency` streams. */
export function analyzeTokens(samples: readonly StreamSample[], budget: LlmBudget, wallMs: number, concurrency = budget.concurrency): TokenReport {
  const ok = samples.filter((s) => s.error === undefined);
  const failed = samples.length - ok.length;
  const errorRate = samples.length === 0 ? 0 : failed / samples.length;
  const timings = ok.map(requestTimings);
  const withContent = timings.filter((t) => t.ttftMs !== null);
  const some = (values: number[]) => (values.length > 0 ? summarize(values) : null);
  const ttftMs = some(withContent.map((t) => t.ttftMs!));
  const itlMs = some(timings.flatMap((t) => t.itlMs));
  const e2eMs = some(timings.map((t) => t.e2eMs));
  const rates = timings.flatMap((t) => (t.tokensPerSecond === null ? [] : [t.tokensPerSecond]));
  const tokensPerSecond = rates.length > 0 ? rateSummary(rates) : null;
  const completionTokens = some(timings.map((t) => t.tokens));
  const totalTokens = timings.reduce((a, t) => a + t.tokens, 0);
  const seconds = wallMs / 1000;
  const aggregateTokensPerSecond = seconds > 0 ? round(totalTokens / seconds) : 0;
  const requestsPerSecond = seconds > 0 ? round(ok.length / seconds) : 0;

  const checks: TokenCheck[] = [
    ...ceilings('ttft_ms', budget.ttft_ms, ttftMs),
    ...ceilings('itl_ms', budget.itl_ms, itlMs),
    ...ceilings('e2e_ms', budget.e2e_ms, e2eMs),
  ];
  if (budget.tokens_per_s !== undefined) {
    const measured = tokensPerSecond?.p5 ?? null;
    checks.push({
      metric: 'tokens_per_s',
      percentile: 'p5',
      allocated: budget.tokens_per_s,
      measured,
      status: measured === null || measured < budget.tokens_per_s ? 'over' : 'ok',
    });
  }
  const over = checks
    .filter((c) => c.status === 'over')
    .map((c) =>
      c.measured === null
        ? `${c.metric} could not be measured (no ${c.metric === 'tokens_per_s' ? 'stream of two tokens or more' : 'content'})`
        : c.metric === 'tokens_per_s'
          ? `tokens_per_s p5 ${fmt(c.measured)} < floor ${fmt(c.allocated)} (more than 5% of streams slower)`
          : `${c.metric} ${c.percentile} ${fmt(c.measured)} ms > ${fmt(c.allocated)} ms`,
    );

  const findings: string[] = [];
  if (checks.length === 0) findings.push('no token budget is written (budget.ttft_ms, itl_ms, tokens_per_s, latency_ms): measured only');
  const errorsOver = errorRate > MAX_ERROR_RATE;
  if (failed > 0) {
    const first = samples.find((s) => s.error !== undefined)!.error!;
    findings.push(
      `${failed} of ${samples.length} requests failed (${(errorRate * 100).toFixed(1)}%)${errorsOver ? ', more than the 1% a budget can hold with' : ''}; first: ${first}`,
    );
    if (errorsOver) over.push(`${failed} of ${samples.length} requests failed`);
  }
  const empty = timings.length - withContent.length;
  if (empty > 0) findings.push(`${empty} of ${ok.length} completions had no content: no time to first token for them`);
  if (ok.length > 0 && itlMs === null) findings.push('no stream had two content events: no inter-token latency');
  if (completionTokens)
    findings.push(
      `${fmt(completionTokens.mean)} completion tokens per request on average; ${fmt(aggregateTokensPerSecond)} tokens/s over all ${concurrency} stream${concurrency === 1 ? '' : 's'}`,
    );

  return {
    concurrency,
    requests: samples.length,
    failed,
    errorRate: round(errorRate),
    empty,
    ttftMs,
    itlMs,
    e2eMs,
    tokensPerSecond,
    completionTokens,
    aggregateTokensPerSecond,
    requestsPerSecond,
    checks,
    verdict: over.length > 0 ? 'over' : 'within',
    over,
    findings,
  };
}

/** One check per written percentile of a ceiling budget. */
function ceilings(metric: TokenCheck['metric'], limits: PercentileLimits | undefined, measured: Percentiles | null): TokenCheck[] {
  return (['p50', 'p95', 'p99'] as const).flatMap((percentile) => {
    const allocated = limits?.[percentile];
    if (allocated === undefined) return [];
    const value = measured?.[percentile] ?? null;
    return [{ metric, percentile, allocated, measured: value, status: value === null || value > allocated ? ('over' as const) : ('ok' as const) }];
  });
}

/** Percentiles of a rate, with the 5th percentile (the speed 95 % of streams reach) and the slowest. */
export function rateSummary(values: readonly number[]): RatePercentiles {
  const sorted = [...values].sort((a, b) => a - b);
  return { ...summarize(values), p5: round(percentileOfSorted(sorted, 5)), min: round(sorted[0]!) };
}

function fmt(n: number): string {
  return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n >= 0.01 || n === 0 ? n.toFixed(2) : String(n);
}
