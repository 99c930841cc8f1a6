/**
 * Pure text rendering of target results for the terminal (status, plans, live info). `--json`
 * prints the objects themselves.
 */
import type { DeployPlan, LiveInfo, TargetStatus } from '../deploy/types.js';
import type { Output } from './output.js';

type Styler = Pick<Output, 'style'>;

/** Two-column key/value lines, aligned. */
export function keyValues(rows: [string, string][]): string {
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n');
}

/** A plain table with a header row. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `  ${cells.map((c, i) => (c ?? '').padEnd(widths[i]!)).join('  ')}`.trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export function formatLive(live: LiveInfo): string {
  return keyValues([
    ['version', live.version],
    ['url', live.url],
    ['since', live.since],
    ['health', live.healthy ? 'healthy' : 'NOT HEALTHY'],
  ]);
}

/** One target fact as text: lists of records as `a b, c d`, other objects as JSON. */
function factText(value: unknown): string {
  if (Array.isArray(value))
    return value.map((item) => (item !== null && typeof item === 'object' ? Object.values(item).join(' ') : String(item))).join(', ') || 'none';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

export function formatStatus(status: TargetStatus, out: Styler): string {
  const lines: string[] = [];
  if (status.live) {
    lines.push(`${out.style('bold', status.live.version)} is live on ${status.target}`);
    const pid = status.live.details?.pid;
    lines.push(
      keyValues([
        ['url', status.live.url],
        ['since', status.live.since],
        ['health', status.live.healthy ? out.style('green', 'healthy') : out.style('red', 'NOT HEALTHY')],
        ...(pid !== undefined ? ([['pid', String(pid)]] as [string, string][]) : []),
      ]),
    );
  } else {
    lines.push(`nothing is live on ${status.target}`);
  }
  // Target-specific facts (a cloud endpoint's status, instance, capture destination, alarms…), shown as given.
  const facts = Object.entries(status.details ?? {}).filter(([, v]) => v !== undefined && v !== null && v !== '');
  if (facts.length > 0) lines.push('', status.target, keyValues(facts.map(([k, v]) => [k, factText(v)])));
  if (status.history.length > 0) {
    lines.push('', 'history');
    lines.push(
      table(
        ['when', 'action', 'version', 'from', 'by'],
        status.history.slice(-5).map((h) => [h.ts, h.action, h.version ?? '', h.previous ?? '', `${h.by.user}@${h.by.host}`]),
      ),
    );
  }
  lines.push('', 'versions');
  if (status.versions.length === 0) lines.push('  none yet: run `mlship build && mlship push`');
  else {
    lines.push(
      table(
        ['version', 'created', 'sha256', 'metrics', 'parent', 'gate', ''],
        status.versions.map((v) => [
          v.version,
          v.createdAt,
          v.digest.slice(0, 12),
          metricSummary(v.metrics),
          v.parent ?? '',
          gateSummary(v.gate, out),
          v.live ? out.style('green', 'live') : v.pending ? out.style('yellow', 'pending') : '',
        ]),
      ),
    );
    const lineage = status.versions.filter((v) => v.data?.length || v.gitCommit);
    if (lineage.some((v) => v.data?.length)) {
      lines.push('', 'lineage');
      for (const v of lineage) {
        const data = (v.data ?? []).map((d) => `${d.path} (sha256 ${d.sha256.slice(0, 12)})`).join(', ');
        lines.push(`  ${v.version.padEnd(5)} ${[v.gitCommit && `commit ${v.gitCommit.slice(0, 12)}`, data && `data ${data}`].filter(Boolean).join('  ')}`);
      }
    }
  }
  return lines.join('\n');
}

/** A retraining gate's verdict in a few words: promoted/held back and both scores. */
function gateSummary(gate: TargetStatus['versions'][number]['gate'], out: Styler): string {
  if (!gate) return '';
  const score = (v: number | null | undefined) => (typeof v !== 'number' || Number.isNaN(v) ? '-' : v.toFixed(3));
  const words = `${gate.metric} ${score(gate.candidate)} vs ${score(gate.live)}${gate.liveVersion ? ` (${gate.liveVersion})` : ''}`;
  return gate.promoted ? `${out.style('green', 'promoted')} ${words}` : `${out.style('yellow', 'held back')} ${words}`;
}

function metricSummary(metrics: Record<string, unknown> | undefined): string {
  if (!metrics) return '';
  return Object.entries(metrics)
    .filter(([, v]) => typeof v === 'number')
    .slice(0, 3)
    .map(([k, v]) => `${k}=${(v as number).toFixed(3)}`)
    .join(' ');
}

export function formatPlan(plan: DeployPlan, out: Styler): string {
  const head = plan.noop
    ? `${plan.to} is already live on ${plan.target}: nothing to do`
    : `deploy ${plan.from ? `${plan.from} → ` : ''}${out.style('bold', plan.to)} on ${plan.target}${plan.url ? ` (${plan.url})` : ''}`;
  const lines = [head];
  if (plan.compute) {
    lines.push(
      `  compute   ${plan.compute.instanceType} × ${plan.compute.replicas.min}${plan.compute.replicas.max > plan.compute.replicas.min ? `–${plan.compute.replicas.max}` : ''}${plan.compute.gpu ? ' (GPU)' : ''}`,
    );
    for (const r of plan.compute.reasons) lines.push(`            ${r}`);
  }
  lines.push(`  logging   ${plan.logging.enabled ? `on → ${plan.logging.destination}` : 'off'}`);
  if (plan.rollout && !plan.noop) {
    const r = plan.rollout;
    lines.push(
      `  rollout   canary ${r.percent}% for ${r.bakeMinutes} min; promoted only after at least ${r.minRequests} requests on ${plan.to}, ${r.promoteInconclusive ? 'else promoted anyway with a warning' : 'else reverted (canary_inconclusive)'}`,
    );
  }
  if (plan.steps.length > 0) {
    lines.push('  steps');
    plan.steps.forEach((s, i) => {
      const details = s.details
        ? ` ${Object.entries(s.details)
            .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
            .join(' ')}`
        : '';
      lines.push(`   ${String(i + 1).padStart(2)}. ${s.action} ${s.resource}${out.style('dim', details)}`);
    });
  }
  lines.push(out.style('dim', '(plan only: nothing was changed)'));
  return lines.join('\n');
}
