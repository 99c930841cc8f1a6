/**
 * `drift-check --report drift.html`: one self-contained HTML file (inline CSS and SVG, no scripts,
 * nothing fetched at view time). A summary on top, then per feature the baseline and current
 * distributions overlaid and the score against its threshold. Charts are Vega-Lite specs compiled
 * and rendered to SVG here in Node (vega-lite 5 / vega 5, loaded only when a report is asked for).
 */
import { writeFileSync } from 'node:fs';
import type { DriftResult, FeatureResult, OutputResult } from './check.js';
import { METHOD_INFO } from './methods.js';
import { escapeHtml as esc } from '../../util/html.js';

/** Most categories drawn per chart; the rest are summed into one bar. */
const MAX_CATEGORIES = 30;

function num(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—';
  if (n === 0) return '0';
  const a = Math.abs(n);
  return a >= 1e5 || a < 1e-3 ? n.toExponential(2) : String(Number(n.toPrecision(4)));
}

type Row = { bucket: string; order: number; series: 'baseline' | 'current'; share: number };

/** Shares per bin or category of the baseline and the current sample. */
export function distributionRows(f: FeatureResult): Row[] {
  const d = f.distribution;
  const total = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) || 1;
  const tb = total(d.baseline);
  const tc = total(d.current);
  let labels: string[];
  let baseline = d.baseline;
  let current = d.current;
  if (d.kind === 'bins') {
    const e = d.edges;
    labels =
      e.length === 0
        ? ['all values']
        : d.baseline.map((_, i) => (i === 0 ? `≤ ${num(e[0])}` : i === e.length ? `> ${num(e[i - 1])}` : `${num(e[i - 1])} – ${num(e[i])}`));
  } else {
    const order = d.categories.map((c, i) => ({ c, i, w: Math.max(d.baseline[i]! / tb, d.current[i]! / tc) })).sort((a, b) => b.w - a.w);
    const keep = order.slice(0, MAX_CATEGORIES);
    const rest = order.slice(MAX_CATEGORIES);
    labels = keep.map((k) => k.c);
    baseline = keep.map((k) => d.baseline[k.i]!);
    current = keep.map((k) => d.current[k.i]!);
    if (rest.length > 0) {
      labels.push(`(${rest.length} more)`);
      baseline.push(rest.reduce((a, k) => a + d.baseline[k.i]!, 0));
      current.push(rest.reduce((a, k) => a + d.current[k.i]!, 0));
    }
  }
  const rows: Row[] = [];
  labels.forEach((bucket, i) => {
    rows.push({ bucket, order: i, series: 'baseline', share: baseline[i]! / tb });
    rows.push({ bucket, order: i, series: 'current', share: current[i]! / tc });
  });
  return rows;
}

/** The Vega-Lite spec of one feature: distributions overlaid, and the score against its threshold. */
export function featureSpec(f: FeatureResult): Record<string, unknown> {
  const colors = { domain: ['baseline', 'current'], range: ['#8da0cb', f.drift ? '#e4572e' : '#2e8b57'] };
  const dist = {
    title: {
      text: f.distribution.kind === 'bins' ? 'share per baseline-quantile bin' : 'share per category',
      fontSize: 11,
      fontWeight: 'normal',
      anchor: 'start',
    },
    width: 520,
    height: 180,
    data: { values: distributionRows(f) },
    mark: { type: 'bar', tooltip: false },
    encoding: {
      x: { field: 'bucket', type: 'nominal', sort: { field: 'order' }, title: null, axis: { labelAngle: -30, labelLimit: 120 } },
      xOffset: { field: 'series' },
      y: { field: 'share', type: 'quantitative', title: 'share', axis: { format: '%' } },
      color: { field: 'series', type: 'nominal', scale: colors, legend: { orient: 'top', title: null } },
    },
  };
  const layers: Record<string, unknown>[] = [dist];
  if (f.method && f.score !== null && f.threshold !== null) {
    const pvalue = METHOD_INFO[f.method].score === 'p_value';
    const max = pvalue ? 1 : Math.max(f.score * 1.15, f.threshold * 1.5);
    layers.push({
      title: {
        text: `${METHOD_INFO[f.method].label}: ${num(f.score)} (drift ${pvalue ? 'below' : 'at or above'} ${num(f.threshold)})`,
        fontSize: 11,
        fontWeight: 'normal',
        anchor: 'start',
      },
      width: 520,
      height: 26,
      data: { values: [{ score: f.score, threshold: f.threshold }] },
      layer: [
        {
          mark: { type: 'bar', color: f.drift ? '#e4572e' : '#2e8b57', height: 16 },
          encoding: { x: { field: 'score', type: 'quantitative', scale: { domain: [0, max], clamp: true }, title: null } },
        },
        { mark: { type: 'rule', color: '#222', strokeWidth: 2 }, encoding: { x: { field: 'threshold', type: 'quantitative' } } },
      ],
    });
  }
  return { $schema: 'https://vega.github.io/schema/vega-lite/v5.json', vconcat: layers, config: { font: 'system-ui, sans-serif', view: { stroke: null } } };
}

/** Render a Vega-Lite spec to an SVG string (no DOM, no canvas). */
async function toSvg(spec: Record<string, unknown>): Promise<string> {
  const [vl, vega] = await Promise.all([import('vega-lite'), import('vega')]);
  const compiled = vl.compile(spec as never).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

function card(f: FeatureResult | OutputResult, name: string, svg: string, kind: 'feature' | 'output'): string {
  const verdict = !f.method ? 'skipped' : f.drift ? 'drift' : 'ok';
  const facts = [
    `${f.kind ?? ''}`,
    f.method ? `method ${f.method}` : 'not compared',
    `baseline n ${f.counts?.baseline ?? '—'}`,
    `current n ${f.counts?.current ?? '—'}`,
    `missing ${num((f.missing?.baseline ?? 0) * 100)}% → ${num((f.missing?.current ?? 0) * 100)}%`,
  ];
  const unseen = f.unseen
    ? `<p class="note">unseen categories: ${esc(
        Object.entries(f.unseen)
          .slice(0, 20)
          .map(([k, v]) => `${k} (${v})`)
          .join(', '),
      )}</p>`
    : '';
  const note = f.note ? `<p class="note">${esc(f.note)}</p>` : '';
  const attr = kind === 'feature' ? `data-feature="${esc(name)}"` : 'data-output="true"';
  return `<section class="card ${verdict}">
<h2>${esc(name)} <span class="badge ${verdict}">${verdict}${f.critical ? ' · critical' : ''}</span></h2>
<p class="facts">${facts.map(esc).join(' · ')}</p>${unseen}${note}
<figure class="chart" ${attr}>${svg}</figure>
</section>`;
}

/** The whole report as HTML text. */
export async function renderDriftReport(r: DriftResult, meta: { project: string; generatedAt: Date }): Promise<string> {
  const cards: string[] = [];
  for (const f of r.features) cards.push(card(f, f.name, await toSvg(featureSpec(f)), 'feature'));
  if (r.output.supported && r.output.distribution) cards.push(card(r.output, 'model output', await toSvg(featureSpec(r.output as FeatureResult)), 'output'));
  const evaluated = r.features.filter((f) => f.method !== null).length;
  const rows = r.features
    .map(
      (f) =>
        `<tr class="${f.drift ? 'drift' : ''}"><td>${esc(f.name)}</td><td>${f.kind}</td><td>${f.method ?? '—'}</td><td class="n">${num(f.score)}</td><td class="n">${num(f.threshold)}</td><td>${f.method ? (f.drift ? 'DRIFT' : 'ok') : 'skipped'}</td><td class="n">${f.counts.baseline}</td><td class="n">${f.counts.current}</td></tr>`,
    )
    .join('\n');
  const window = r.window.from || r.window.to ? `${r.window.from ?? 'start'} → ${r.window.to ?? 'now'}` : 'all logs';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Drift report — ${esc(meta.project)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2329}
main{max-width:1100px;margin:0 auto;padding:1.5rem}
h1{font-size:1.4rem;margin:0 0 .25rem}h2{font-size:1.05rem;margin:0 0 .25rem}
.summary{background:#fff;border-radius:8px;padding:1rem 1.25rem;margin-bottom:1rem;border-left:6px solid #2e8b57}
.summary.drift{border-left-color:#e4572e}
.verdict{font-size:1.2rem;font-weight:600}
table{border-collapse:collapse;width:100%;margin-top:.75rem}td,th{padding:.25rem .5rem;border-bottom:1px solid #e3e6ea;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}tr.drift td{color:#b3321a;font-weight:600}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:1rem}
.card{background:#fff;border-radius:8px;padding:1rem}
.badge{font-size:.75rem;padding:.1rem .45rem;border-radius:999px;background:#e3e6ea;vertical-align:middle}
.badge.drift{background:#e4572e;color:#fff}.badge.ok{background:#2e8b57;color:#fff}
.facts,.note{color:#5b6670;margin:.1rem 0 .5rem}.chart{margin:0}.chart svg{max-width:100%;height:auto}
</style>
</head>
<body>
<main>
<section class="summary ${r.drift ? 'drift' : ''}">
<h1>Drift report — ${esc(meta.project)}</h1>
<p class="verdict">${r.drift ? 'Drift found' : 'No drift'}: ${r.drifted.length} of ${evaluated} features drifted (share ${num(r.share)}; drift at ≥ ${num(r.threshold_share)})${r.critical_drifted.length ? ` · critical: ${esc(r.critical_drifted.join(', '))}` : ''}</p>
<p>${r.rows} predictions · ${r.malformed} malformed lines · window ${esc(window)} · baseline ${esc(r.baseline.source)} (${r.baseline.rows} rows) · output ${r.output.supported ? (r.output.drift ? 'drifted' : 'stable') : `not compared (${esc(r.output.reason ?? '')})`} · generated ${esc(meta.generatedAt.toISOString())}</p>
<table><thead><tr><th>feature</th><th>kind</th><th>method</th><th>score</th><th>threshold</th><th>verdict</th><th>baseline n</th><th>current n</th></tr></thead>
<tbody>
${rows}
</tbody></table>
</section>
<div class="grid">
${cards.join('\n')}
</div>
</main>
</body>
</html>
`;
}

/** Write the report file. */
export async function writeDriftReport(r: DriftResult, file: string, meta: { project: string; generatedAt: Date }): Promise<void> {
  writeFileSync(file, await renderDriftReport(r, meta));
}
