/** The terminal table of a drift result (stdout). */
import type { DriftResult, FeatureResult, OutputResult } from './check.js';

function fmt(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—';
  if (n === 0) return '0';
  const a = Math.abs(n);
  return a >= 1e4 || a < 1e-3 ? n.toExponential(2) : n.toPrecision(4).replace(/\.?0+$/, '');
}

function row(f: FeatureResult | OutputResult, name: string): string[] {
  const verdict = f.method === null || f.method === undefined ? 'skipped' : f.drift ? (f.critical ? 'DRIFT (critical)' : 'DRIFT') : 'ok';
  const cmp = f.score_kind === 'p_value' ? '<' : '>=';
  return [
    name,
    f.kind ?? '',
    f.method ?? '—',
    fmt(f.score),
    f.threshold === null || f.threshold === undefined ? '—' : `${cmp} ${fmt(f.threshold)}`,
    verdict,
    String(f.counts?.baseline ?? '—'),
    String(f.counts?.current ?? '—'),
  ];
}

/** Column-aligned table plus the dataset verdict and malformed-line summary. */
export function formatDriftTable(r: DriftResult): string {
  const header = ['feature', 'kind', 'method', 'score', 'drift if', 'verdict', 'baseline n', 'current n'];
  const rows = r.features.map((f) => row(f, f.name));
  if (r.output.supported) rows.push(row(r.output, 'output (model)'));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((x) => x[i]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i >= 3 && i !== 5 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const out = [line(header), ...rows.map(line)];
  out.push('');
  const evaluated = r.features.filter((f) => f.method !== null).length;
  const verdict = r.drift ? 'DRIFT' : 'no drift';
  const why = r.critical_drifted.length > 0 ? `; critical: ${r.critical_drifted.join(', ')}` : '';
  out.push(`${verdict}: ${r.drifted.length} of ${evaluated} features drifted (share ${fmt(r.share)}, drift at >= ${fmt(r.threshold_share)})${why}`);
  if (!r.output.supported) out.push(`output: not compared — ${r.output.reason}`);
  out.push(
    `rows ${r.rows} · malformed ${r.malformed}${r.outside_window > 0 ? ` · outside window ${r.outside_window}` : ''} · baseline ${r.baseline.source} (${r.baseline.rows} rows)`,
  );
  for (const f of [...r.features, r.output]) if (f.note) out.push(`note: ${f.name ?? 'output'}: ${f.note}`);
  for (const f of r.features)
    if (f.unseen)
      out.push(
        `unseen categories in ${f.name}: ${Object.entries(f.unseen)
          .slice(0, 10)
          .map(([k, v]) => `${k} (${v})`)
          .join(', ')}`,
      );
  if (r.malformed > 0)
    out.push(
      `malformed lines: ${Object.entries(r.malformed_reasons)
        .map(([k, v]) => `${k.replace(/_/g, ' ')} ${v}`)
        .join(', ')}; first: ${r.malformed_examples[0]}`,
    );
  return out.join('\n');
}
