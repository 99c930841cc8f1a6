/**
 * `mlship budget --report budget.html`: one self-contained HTML file (inline CSS and SVG, no scripts,
 * nothing fetched) with the waterfall, the stage table, the cost lines and the instance reasons.
 * Every value from outside (names, URLs, reasons) is HTML-escaped.
 */
import type { BudgetResult, LlmBudgetResult } from './budget.js';
import type { TokenCheck } from './tokens.js';
import { money, type CostLine, type CostReport } from './cost.js';
import { escapeHtml as esc } from '../util/html.js';

/** Facts for the report's header. */
export interface ReportMeta {
  name: string;
  generatedAt: Date;
}

/** The report as an HTML document. */
export function renderReport(result: BudgetResult, meta: ReportMeta): string {
  const { latency, load } = result;
  const over = result.verdict === 'over';
  const stageRows = latency.stages
    .map(
      (s) =>
        `<tr class="${s.status}"><td>${esc(s.name)}${s.serverName ? ` <small>(${esc(s.serverName)})</small>` : ''}</td><td>${s.kind === 'server' ? 'measured' : 'declared'}</td><td>${n(s.allocatedMs)}</td><td>${n(s.measured?.p50)}</td><td>${n(s.measured?.p95)}</td><td>${n(s.measured?.p99)}</td><td>${esc(statusWords(s.status))}</td></tr>`,
    )
    .join('\n');
  const remainderRow = latency.remainder
    ? `<tr class="remainder"><td>remainder</td><td>measured</td><td>·</td><td>${n(latency.remainder.p50)}</td><td>${n(latency.remainder.p95)}</td><td>${n(latency.remainder.p99)}</td><td>undeclared: network, queuing</td></tr>`
    : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mlship budget — ${esc(meta.name)}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:1100px;color:#1d2430;padding:0 1rem}
h1{font-size:1.4rem;margin:0 0 .25rem}h2{font-size:1.1rem;margin:2rem 0 .5rem}
.verdict{display:inline-block;padding:.2rem .6rem;border-radius:4px;font-weight:600;color:#fff;background:${over ? '#c0392b' : '#1e8449'}}
.meta{color:#5d6778}table{border-collapse:collapse;width:100%;margin:.5rem 0}
th,td{text-align:right;padding:.3rem .6rem;border-bottom:1px solid #e3e6eb}th:first-child,td:first-child,td:nth-child(2),td:last-child,th:last-child,th:nth-child(2){text-align:left}
tr.over td{color:#c0392b;font-weight:600}tr.declared td{color:#5d6778}tr.remainder td{font-style:italic}
ul{margin:.25rem 0 0 1.2rem;padding:0}svg text{font:12px system-ui,sans-serif}
</style>
</head>
<body>
<h1>Budget of ${esc(meta.name)} <span class="verdict">${over ? 'over budget' : 'within budget'}</span></h1>
<p class="meta">${esc(load.url)} · ${load.targetRps === null ? 'unthrottled' : `${load.targetRps} rps`} for ${load.durationSeconds} s on ${load.connections} connection(s) · ${load.responses} responses (${load.achievedRps} rps) · load generator CPU ${load.generator.cpuPercent}% of a core · ${esc(meta.generatedAt.toISOString())}</p>
${over ? `<p><strong>Over budget:</strong> ${esc(result.reasons.join('; '))}</p>` : ''}
<h2>Latency: ${latency.percentile} target ${n(latency.targetMs)} ms, end to end ${n(latency.endToEndMs)} ms</h2>
${waterfallSvg(result)}
<table>
<thead><tr><th>stage</th><th>source</th><th>allocated ms</th><th>p50</th><th>p95</th><th>p99</th><th>status</th></tr></thead>
<tbody>
${stageRows}
${remainderRow}
<tr><td><strong>client total</strong></td><td>measured</td><td>·</td><td>${n(latency.client.p50)}</td><td>${n(latency.client.p95)}</td><td>${n(latency.client.p99)}</td><td>load generator</td></tr>
<tr><td><strong>end to end</strong></td><td>client + declared</td><td>${n(latency.targetMs)}</td><td></td><td>${latency.percentile === 'p95' ? n(latency.endToEndMs) : ''}</td><td>${latency.percentile === 'p99' ? n(latency.endToEndMs) : ''}</td><td>${latency.endToEndMs > latency.targetMs ? 'over' : 'ok'}</td></tr>
</tbody>
</table>
<ul>${latency.findings.map((f) => `<li>${esc(f)}</li>`).join('')}</ul>
${costSection(result.cost, 'Cost')}
${result.cloudReference ? costSection(result.cloudReference, `For comparison on ${result.cloudReference.target}`) : ''}
<h2>Instance: ${esc(result.compute.instanceType)}${result.compute.gpu ? ' (GPU)' : ''}, replicas ${result.compute.replicas.min}–${result.compute.replicas.max}</h2>
<ul>${result.compute.reasons.map((r) => `<li>${esc(r)}</li>`).join('')}${(result.compute.warnings ?? []).map((w) => `<li><strong>warning:</strong> ${esc(w)}</li>`).join('')}</ul>
</body>
</html>
`;
}

/** An LLM's report: each token metric allocated vs measured, the findings, cost and instance. */
export function renderLlmReport(result: LlmBudgetResult, meta: ReportMeta): string {
  const { tokens, load } = result;
  const over = result.verdict === 'over';
  const row = (label: string, metric: TokenCheck['metric'], measured: { p50: number; p95: number; p99: number } | null) => {
    const checks = tokens.checks.filter((c) => c.metric === metric);
    const status = checks.length === 0 ? 'no budget' : checks.some((c) => c.status === 'over') ? 'over' : 'ok';
    const budget = checks.map((c) => `${c.percentile} ${c.metric === 'tokens_per_s' ? '≥' : '≤'} ${c.allocated}`).join(', ') || '·';
    return `<tr class="${status === 'over' ? 'over' : ''}"><td>${esc(label)}</td><td>${esc(budget)}</td><td>${n(measured?.p50)}</td><td>${n(measured?.p95)}</td><td>${n(measured?.p99)}</td><td>${status}</td></tr>`;
  };
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mlship budget — ${esc(meta.name)}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:1100px;color:#1d2430;padding:0 1rem}
h1{font-size:1.4rem;margin:0 0 .25rem}h2{font-size:1.1rem;margin:2rem 0 .5rem}
.verdict{display:inline-block;padding:.2rem .6rem;border-radius:4px;font-weight:600;color:#fff;background:${over ? '#c0392b' : '#1e8449'}}
.meta{color:#5d6778}table{border-collapse:collapse;width:100%;margin:.5rem 0}
th,td{text-align:right;padding:.3rem .6rem;border-bottom:1px solid #e3e6eb}th:first-child,td:first-child,td:nth-child(2),td:last-child,th:last-child,th:nth-child(2){text-align:left}
tr.over td{color:#c0392b;font-weight:600}ul{margin:.25rem 0 0 1.2rem;padding:0}
</style>
</head>
<body>
<h1>Token budget of ${esc(meta.name)} <span class="verdict">${over ? 'over budget' : 'within budget'}</span></h1>
<p class="meta">${esc(load.url)} · ${tokens.concurrency} stream(s) at once for ${load.durationSeconds} s · ${tokens.requests} requests, ${tokens.failed} failed · ${n(tokens.requestsPerSecond)} requests/s · load generator CPU ${load.generator.cpuPercent}% of a core · ${esc(meta.generatedAt.toISOString())}</p>
${over ? `<p><strong>Over budget:</strong> ${esc(result.reasons.join('; '))}</p>` : ''}
<table>
<thead><tr><th>metric</th><th>budget</th><th>p50</th><th>p95</th><th>p99</th><th>status</th></tr></thead>
<tbody>
${row('time to first token (ms)', 'ttft_ms', tokens.ttftMs)}
${row('inter-token latency (ms)', 'itl_ms', tokens.itlMs)}
${row('end to end (ms)', 'e2e_ms', tokens.e2eMs)}
${row(`tokens/s per stream${tokens.tokensPerSecond ? ` (p5 ${n(tokens.tokensPerSecond.p5)})` : ''}`, 'tokens_per_s', tokens.tokensPerSecond)}
<tr><td><strong>tokens/s, all streams</strong></td><td>·</td><td>${n(tokens.aggregateTokensPerSecond)}</td><td></td><td></td><td>${n(tokens.completionTokens?.mean)} tokens per completion</td></tr>
</tbody>
</table>
<ul>${tokens.findings.map((f) => `<li>${esc(f)}</li>`).join('')}</ul>
${costSection(result.cost, 'Cost')}
${result.cloudReference ? costSection(result.cloudReference, `For comparison on ${result.cloudReference.target}`) : ''}
<h2>Instance: ${esc(result.compute.instanceType)}${result.compute.gpu ? ' (GPU)' : ''}, replicas ${result.compute.replicas.min}–${result.compute.replicas.max}</h2>
<ul>${result.compute.reasons.map((r) => `<li>${esc(r)}</li>`).join('')}${(result.compute.warnings ?? []).map((w) => `<li><strong>warning:</strong> ${esc(w)}</li>`).join('')}</ul>
</body>
</html>
`;
}

function waterfallSvg(result: BudgetResult): string {
  const { latency } = result;
  const pct = latency.percentile;
  const rows: { label: string; start: number; length: number; alloc: number | null; fill: string }[] = [];
  let cursor = 0;
  for (const s of latency.stages) {
    rows.push({
      label: s.name,
      start: cursor,
      length: s.valueMs,
      alloc: s.allocatedMs,
      fill: s.status === 'over' ? '#c0392b' : s.kind === 'declared' ? '#b8c2d1' : '#2e86c1',
    });
    cursor += s.valueMs;
  }
  if (latency.remainder) rows.push({ label: 'remainder', start: cursor, length: latency.remainder[pct], alloc: null, fill: '#85929e' });
  const end = Math.max(latency.targetMs, latency.endToEndMs, cursor + (latency.remainder?.[pct] ?? 0), 1);
  const left = 110;
  const width = 760;
  const rowH = 24;
  const x = (ms: number) => left + (ms / end) * width;
  const height = rows.length * rowH + 30;
  const bars = rows
    .map((r, i) => {
      const y = 10 + i * rowH;
      const alloc =
        r.alloc === null
          ? ''
          : `<line x1="${x(r.start + r.alloc).toFixed(1)}" x2="${x(r.start + r.alloc).toFixed(1)}" y1="${y}" y2="${y + rowH - 6}" stroke="#1d2430" stroke-dasharray="3,2"/>`;
      return `<text x="0" y="${y + 13}">${esc(r.label)}</text><rect x="${x(r.start).toFixed(1)}" y="${y}" width="${Math.max(1, x(r.start + r.length) - x(r.start)).toFixed(1)}" height="${rowH - 6}" fill="${r.fill}"><title>${esc(r.label)}: ${n(r.length)} ms${r.alloc === null ? '' : ` of ${n(r.alloc)} ms`}</title></rect>${alloc}<text x="${(x(r.start + r.length) + 4).toFixed(1)}" y="${y + 13}">${n(r.length)} ms</text>`;
    })
    .join('\n');
  const tx = x(latency.targetMs).toFixed(1);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${left + width + 80}" height="${height}" role="img" aria-label="latency waterfall at ${pct}">
${bars}
<line x1="${tx}" x2="${tx}" y1="4" y2="${height - 16}" stroke="#c0392b"/><text x="${tx}" y="${height - 2}" text-anchor="middle">${pct} target ${n(latency.targetMs)} ms</text>
</svg>
<p class="meta">Bars at ${pct}, each stage starting where the previous one ended; dashed lines mark each stage's allocation; grey stages are declared (outside the model server) and counted at their allocation.</p>`;
}

function costSection(cost: CostReport, title: string): string {
  const row = (label: string, l: CostLine) =>
    `<tr><td>${label}</td><td>${esc(l.instanceType)}${l.gpu ? ' (GPU)' : ''}</td><td>$${l.usdPerHour}</td><td>${l.instancesAtExpectedRps} (${l.replicas.min}–${l.replicas.max})</td><td>$${money(l.monthlyUsd.expected)}</td><td>$${money(l.monthlyUsd.min)}–${money(l.monthlyUsd.max)}</td><td>$${money(l.usdPerMillion.atExpectedRps)}</td><td>${l.usdPerMillion.atCapacity === null ? '·' : `$${money(l.usdPerMillion.atCapacity)}`}</td></tr>`;
  return `<h2>${esc(title)}</h2>
<p class="meta">${esc(cost.target)} prices as of ${esc(cost.pricesAsOf)}: ${esc(cost.pricing)} (source: ${esc(cost.priceSource)}). ${esc(cost.msPerRequestSource)} ${n(cost.msPerRequest)} ms per request, ${n(cost.rpsPerWorker)} rps per worker, expected ${cost.expectedRps} rps.</p>
<table>
<thead><tr><th></th><th>instance</th><th>$/hour</th><th>instances at expected rps</th><th>$/month expected</th><th>$/month min–max</th><th>$/M predictions</th><th>$/M at capacity</th></tr></thead>
<tbody>
${row('selected', cost.selected)}
${cost.alternatives.cpu ? row('CPU alternative', cost.alternatives.cpu) : ''}
${cost.alternatives.gpu ? row('GPU alternative', cost.alternatives.gpu) : ''}
</tbody>
</table>
<p>GPU break-even: ${cost.gpuBreakEvenRps === null ? 'none (a GPU never costs less per prediction here)' : `~${cost.gpuBreakEvenRps} rps`}${cost.monthlyBudgetUsd === undefined ? '' : ` · monthly budget $${money(cost.monthlyBudgetUsd)}: <strong>${cost.withinBudget ? 'within' : 'over'}</strong>`}</p>`;
}

function statusWords(status: string): string {
  return status === 'declared' ? 'declared, not measured' : status === 'unallocated' ? 'no allocation' : status;
}

function n(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '·';
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

/** Escape text for HTML content and attribute values. */
