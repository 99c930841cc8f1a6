/**
 * The terminal view of a budget result: a waterfall of the request chain (each stage starts where the
 * previous one ended, its allocation marked), then the cost lines. Plain text; colour only through
 * the `style` callback the CLI passes (off with --no-color, NO_COLOR, CI).
 */
import type { BudgetResult, LlmBudgetResult } from './budget.js';
import type { TokenCheck } from './tokens.js';
import { money, type CostLine, type CostReport } from './cost.js';
import type { StageReport } from './latency.js';

/** Colours text (the CLI passes its Output's `style`; tests pass none). */
export type Styler = (style: 'red' | 'green' | 'yellow' | 'dim' | 'bold', text: string) => string;

const plain: Styler = (_s, t) => t;
const BAR_WIDTH = 40;

/** One row of the waterfall: a stage, the remainder, or the total. */
interface Row {
  label: string;
  alloc: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  /** Where the bar starts and how long it is (at the budget's percentile), in ms. */
  start: number;
  length: number;
  allocEnd: number | null;
  fill: '█' | '░' | '▒';
  note: string;
  over: boolean;
}

/** The whole text report. */
export function renderBudget(result: BudgetResult, style: Styler = plain): string {
  const { latency, load } = result;
  const lines: string[] = [];
  const verdict = result.verdict === 'within' ? style('green', '✔ within budget') : style('red', '✖ over budget');
  lines.push(
    `${style('bold', 'Latency budget')}  ${latency.percentile} target ${fmt(latency.targetMs)} ms · end to end ${fmt(latency.endToEndMs)} ms · ${verdict}`,
  );
  const rate = load.targetRps === null ? 'unthrottled' : `${load.targetRps} rps`;
  lines.push(
    style(
      'dim',
      `load: ${load.url} · ${rate} for ${load.durationSeconds} s on ${load.connections} connection${load.connections === 1 ? '' : 's'} · ${load.responses} responses (${load.achievedRps} rps) · load generator CPU ${load.generator.cpuPercent}% of a core${load.generator.saturated ? ' — SATURATED, results are a lower bound' : ''}`,
    ),
  );
  lines.push('');
  lines.push(...waterfall(result, style));
  lines.push('');
  for (const f of latency.findings) lines.push(`  ${f}`);
  lines.push('');
  lines.push(...renderCost(result.cost, style));
  if (result.cloudReference) {
    lines.push('');
    lines.push(...renderCost(result.cloudReference, style, `For comparison on ${result.cloudReference.target}`));
  }
  lines.push('');
  lines.push(
    `${style('bold', 'Instance')}  ${result.compute.instanceType}${result.compute.gpu ? ' (GPU)' : ''}, replicas ${result.compute.replicas.min}–${result.compute.replicas.max}`,
  );
  for (const r of result.compute.reasons) lines.push(`  ${r}`);
  for (const w of result.compute.warnings ?? []) lines.push(`  ${style('yellow', `warning: ${w}`)}`);
  if (result.verdict === 'over') {
    lines.push('');
    lines.push(style('red', `Over budget: ${result.reasons.join('; ')}`));
  }
  return `${lines.join('\n')}\n`;
}

function waterfall(result: BudgetResult, style: Styler): string[] {
  const { latency } = result;
  const pct = latency.percentile;
  const rows: Row[] = [];
  let cursor = 0;
  let allocCursor = 0;
  const push = (s: StageReport) => {
    const length = s.valueMs;
    rows.push({
      label: s.name,
      alloc: s.allocatedMs,
      p50: s.measured?.p50 ?? null,
      p95: s.measured?.p95 ?? null,
      p99: s.measured?.p99 ?? null,
      start: cursor,
      length,
      allocEnd: s.allocatedMs === null ? null : cursor + s.allocatedMs,
      fill: s.kind === 'declared' ? '░' : '█',
      note:
        s.status === 'declared'
          ? 'declared, not measured'
          : s.status === 'unallocated'
            ? 'no allocation'
            : s.status === 'over'
              ? `OVER by ${fmt(s.valueMs - s.allocatedMs!)} ms`
              : 'ok',
      over: s.status === 'over',
    });
    cursor += length;
    allocCursor += s.allocatedMs ?? 0;
  };
  for (const s of latency.stages) push(s);
  if (latency.remainder) {
    rows.push({
      label: 'remainder',
      alloc: null,
      p50: latency.remainder.p50,
      p95: latency.remainder.p95,
      p99: latency.remainder.p99,
      start: cursor,
      length: latency.remainder[pct],
      allocEnd: null,
      fill: '▒',
      note: 'undeclared: network, queuing',
      over: false,
    });
  }
  const scale = BAR_WIDTH / Math.max(latency.targetMs, latency.endToEndMs, cursor + (latency.remainder?.[pct] ?? 0), allocCursor, 1);
  const header = `${pad('stage', 12)}${lpad('alloc', 8)}${lpad('p50', 8)}${lpad('p95', 8)}${lpad('p99', 8)}  ${pad(`waterfall (${pct}; ┆ allocation end, │ target)`, BAR_WIDTH + 2)}`;
  const out = [style('dim', header)];
  const targetCol = Math.round(latency.targetMs * scale);
  for (const r of rows) {
    const bar = drawBar(r, scale, targetCol);
    const note = r.over ? style('red', r.note) : r.note === 'ok' ? style('green', r.note) : style('dim', r.note);
    out.push(
      `${pad(r.label, 12)}${lpad(num(r.alloc), 8)}${lpad(num(r.p50), 8)}${lpad(num(r.p95), 8)}${lpad(num(r.p99), 8)}  ${r.over ? style('red', bar) : bar}  ${note}`,
    );
  }
  const totalAlloc = Object.values(latency.stages).reduce((a, s) => a + (s.allocatedMs ?? 0), 0);
  out.push(
    `${pad('client total', 12)}${lpad('', 8)}${lpad(num(latency.client.p50), 8)}${lpad(num(latency.client.p95), 8)}${lpad(num(latency.client.p99), 8)}  ${style('dim', 'measured by the load generator')}`,
  );
  out.push(
    `${pad('end to end', 12)}${lpad(num(latency.targetMs), 8)}${lpad('', 8)}${lpad(pct === 'p95' ? num(latency.endToEndMs) : '', 8)}${lpad(pct === 'p99' ? num(latency.endToEndMs) : '', 8)}  ${style('dim', `client ${pct} + declared stages (allocations add up to ${fmt(totalAlloc)} ms)`)}`,
  );
  return out;
}

function drawBar(r: Row, scale: number, targetCol: number): string {
  const cells = Array.from({ length: BAR_WIDTH + 1 }, () => ' ');
  const from = Math.min(BAR_WIDTH, Math.round(r.start * scale));
  const len = Math.max(r.length > 0 ? 1 : 0, Math.round(r.length * scale));
  for (let i = from; i < Math.min(BAR_WIDTH + 1, from + len); i++) cells[i] = r.fill;
  if (targetCol <= BAR_WIDTH && cells[targetCol] === ' ') cells[targetCol] = '│';
  if (r.allocEnd !== null) {
    const col = Math.min(BAR_WIDTH, Math.round(r.allocEnd * scale));
    if (cells[col] === ' ' || cells[col] === '│') cells[col] = '┆';
  }
  return cells.join('');
}

/** An LLM's budget: each token metric allocated vs measured, the load, then instance and cost. */
export function renderLlmBudget(result: LlmBudgetResult, style: Styler = plain): string {
  const { tokens, load } = result;
  const verdict = result.verdict === 'within' ? style('green', '✔ within budget') : style('red', '✖ over budget');
  const lines = [
    `${style('bold', 'Token budget')}  ${tokens.concurrency} stream${tokens.concurrency === 1 ? '' : 's'} at once · ${verdict}`,
    style(
      'dim',
      `load: ${load.url} · ${load.durationSeconds} s (${fmt(load.wallMs / 1000)} s with the last completions) · ${tokens.requests} requests, ${tokens.failed} failed · ${fmt(tokens.requestsPerSecond)} requests/s · load generator CPU ${load.generator.cpuPercent}% of a core`,
    ),
    '',
    style('dim', `${pad('metric', 24)}${pad('budget', 18)}${lpad('p50', 9)}${lpad('p95', 9)}${lpad('p99', 9)}  status`),
  ];
  const row = (label: string, metric: TokenCheck['metric'], measured: { p50: number; p95: number; p99: number } | null, note = '') => {
    const checks = tokens.checks.filter((c) => c.metric === metric);
    // Allocations as written (0.001 stays 0.001).
    const budget = checks.map((c) => `${c.percentile} ${c.metric === 'tokens_per_s' ? '≥' : '≤'} ${c.allocated}`).join(', ') || '·';
    const over = checks.filter((c) => c.status === 'over');
    const status =
      checks.length === 0
        ? style('dim', `no budget${note}`)
        : over.length > 0
          ? style('red', `OVER at ${over.map((c) => `${c.percentile} (${c.measured === null ? 'not measured' : fmt(c.measured)})`).join(', ')}${note}`)
          : style('green', `ok${note}`);
    lines.push(
      `${pad(label, 24)}${pad(budget, 18)}${lpad(num(measured?.p50 ?? null), 9)}${lpad(num(measured?.p95 ?? null), 9)}${lpad(num(measured?.p99 ?? null), 9)}  ${status}`,
    );
  };
  row('time to first token ms', 'ttft_ms', tokens.ttftMs);
  row('inter-token ms', 'itl_ms', tokens.itlMs);
  row('end to end ms', 'e2e_ms', tokens.e2eMs);
  const rate = tokens.tokensPerSecond;
  row('tokens/s per stream', 'tokens_per_s', rate, rate ? ` · p5 ${fmt(rate.p5)}, slowest ${fmt(rate.min)}` : '');
  lines.push(
    `${pad('tokens/s, all streams', 24)}${pad('', 18)}${lpad(fmt(tokens.aggregateTokensPerSecond), 9)}  ${style('dim', `${fmt(tokens.completionTokens?.mean ?? 0)} tokens per completion`)}`,
  );
  lines.push('');
  for (const f of tokens.findings) lines.push(`  ${f}`);
  if (result.throughput)
    lines.push(
      `  kept for instance selection: ${fmt(result.throughput.tokensPerSecond)} tokens/s per replica on ${result.throughput.instanceType} at ${result.throughput.concurrency} streams`,
    );
  lines.push('');
  lines.push(...renderCost(result.cost, style, 'Cost', false));
  if (result.cloudReference) {
    lines.push('');
    lines.push(...renderCost(result.cloudReference, style, `For comparison on ${result.cloudReference.target}`, false));
  }
  lines.push('');
  lines.push(
    `${style('bold', 'Instance')}  ${result.compute.instanceType}${result.compute.gpu ? ' (GPU)' : ''}, replicas ${result.compute.replicas.min}–${result.compute.replicas.max}`,
  );
  for (const r of result.compute.reasons) lines.push(`  ${r}`);
  for (const w of result.compute.warnings ?? []) lines.push(`  ${style('yellow', `warning: ${w}`)}`);
  if (result.verdict === 'over') {
    lines.push('');
    lines.push(style('red', `Over budget: ${result.reasons.join('; ')}`));
  }
  return `${lines.join('\n')}\n`;
}

/** The cost block. */
export function renderCost(cost: CostReport, style: Styler = plain, title = 'Cost', perRequest = true): string[] {
  const lines = [`${style('bold', title)}  ${cost.target} prices as of ${cost.pricesAsOf} (${cost.pricing})`];
  // An LLM is not sized by time per request (its replicas follow the measured tokens/s): no such line.
  if (perRequest)
    lines.push(
      style(
        'dim',
        `  ${cost.msPerRequestSource} ${fmt(cost.msPerRequest)} ms per request → ${fmt(cost.rpsPerWorker)} rps per worker; expected ${cost.expectedRps} rps`,
      ),
    );
  const row = (label: string, l: CostLine) => [
    `  ${pad(label, 10)}${pad(`${l.instanceType}${l.gpu ? ' (GPU)' : ''}`, 32)}${lpad(`$${hourly(l.usdPerHour)}/h`, 10)}   ×${l.instancesAtExpectedRps} at ${cost.expectedRps} rps → $${money(l.monthlyUsd.expected)}/month   replicas ${l.replicas.min}–${l.replicas.max}: $${money(l.monthlyUsd.min)}–${money(l.monthlyUsd.max)}/month`,
    style(
      'dim',
      `  ${pad('', 10)}$${money(l.usdPerMillion.atExpectedRps)} per million predictions at ${cost.expectedRps} rps${l.usdPerMillion.atCapacity === null ? '' : `; $${money(l.usdPerMillion.atCapacity)} at capacity (${Math.round(l.perInstanceRps!)} rps per instance)`}`,
    ),
  ];
  lines.push(...row('selected', cost.selected));
  if (cost.alternatives.cpu) lines.push(...row('CPU alt', cost.alternatives.cpu));
  if (cost.alternatives.gpu) lines.push(...row('GPU alt', cost.alternatives.gpu));
  lines.push(`  GPU break-even: ${cost.gpuBreakEvenRps === null ? 'none (a GPU never costs less per prediction here)' : `~${cost.gpuBreakEvenRps} rps`}`);
  if (cost.monthlyBudgetUsd !== undefined) {
    const ok = cost.withinBudget ? style('green', 'within') : style('red', 'over');
    lines.push(`  monthly budget $${money(cost.monthlyBudgetUsd)}: ${ok} ($${money(cost.selected.monthlyUsd.expected)} expected)`);
  }
  return lines;
}

/** Hourly prices keep their catalog precision ($0.102, $37.688). */
function hourly(n: number): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 4 });
}

function num(v: number | null): string {
  return v === null || !Number.isFinite(v) ? '·' : fmt(v);
}

function fmt(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2);
}

function pad(s: string, n: number): string {
  return s.length >= n ? `${s} ` : s + ' '.repeat(n - s.length);
}

function lpad(s: string, n: number): string {
  return s.length >= n ? ` ${s}` : ' '.repeat(n - s.length) + s;
}
