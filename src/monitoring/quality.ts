/**
 * Live quality (`mlship quality`): the predictions of the live version joined with their feedback
 * labels, scored with `quality.metric`, next to the same metric the training code recorded on its
 * holdout (the live version's metrics.json in the registry). A drop larger than `quality.max_drop`
 * is an alert (exit 3); fewer labelled predictions than `quality.min_labels` give no verdict.
 */
import { fmt, qualityDropped } from '../retrain/gate.js';
import { asMetric, computeMetric, type MetricName, type Scored } from '../retrain/metrics.js';
import { joinFeedback, type JoinStats } from '../logs/join.js';
import { labelledLogs, type RetrainContext } from '../retrain/context.js';
import type { LogWindow } from '../logs/types.js';

export interface QualityFlags {
  window: LogWindow;
  /** Read predictions and feedback from this folder instead of the target. */
  logs?: string;
  /** Score this version's predictions (default: the live one; all versions when nothing is live). */
  version?: string;
}

export interface QualityResult {
  metric: MetricName;
  version?: string;
  /** The metric on labelled live predictions (null: not enough labels or undefined). */
  live: number | null;
  /** The same metric on the validation holdout, from the version's metrics.json (null: not recorded). */
  validation: number | null;
  /** How much worse live is than validation, in the metric's units (positive = worse). */
  drop: number | null;
  max_drop: number;
  min_labels: number;
  verdict: 'ok' | 'degraded' | 'insufficient_labels' | 'no_reference';
  alert: boolean;
  labels: JoinStats & { otherVersions: number };
  window: { from?: string; to?: string };
}

/** Run the check; the caller turns `alert` into exit code 3. */
export async function checkQuality(ctx: RetrainContext, flags: QualityFlags): Promise<{ result: QualityResult; text: string }> {
  const settings = ctx.manifest.quality;
  const metric = asMetric(settings.metric);
  let version = flags.version;
  let validation: number | null = null;
  if (!flags.logs || flags.version) {
    const versions = await (await ctx.target()).versions();
    const chosen = version ? versions.find((v) => v.version === version) : versions.find((v) => v.live);
    version = chosen?.version ?? version;
    const recorded = chosen?.metrics?.[metric];
    if (typeof recorded === 'number') validation = recorded;
  }
  const { predictions, feedback } = await labelledLogs(ctx, flags.window, flags.logs);
  const rows: Scored[] = [];
  let otherVersions = 0;
  const stats = await joinFeedback(
    predictions,
    feedback,
    flags.window,
    (row) => {
      if (version && row.version !== undefined && row.version !== version) otherVersions++;
      else rows.push({ output: row.output, label: row.label });
    },
    { csvFields: Object.keys(ctx.manifest.features.schema) },
  );
  const value = rows.length >= settings.min_labels ? computeMetric(metric, rows, ctx.manifest.model.output) : Number.NaN;
  const live = Number.isNaN(value) ? null : value;
  let verdict: QualityResult['verdict'];
  let drop: number | null = null;
  let alert = false;
  if (live === null) verdict = 'insufficient_labels';
  else if (validation === null) verdict = 'no_reference';
  else {
    const d = qualityDropped(metric, live, validation, settings.max_drop);
    drop = d.drop;
    alert = d.alert;
    verdict = alert ? 'degraded' : 'ok';
  }
  const result: QualityResult = {
    metric,
    ...(version && { version }),
    live,
    validation,
    drop,
    max_drop: settings.max_drop,
    min_labels: settings.min_labels,
    verdict,
    alert,
    labels: { ...stats, otherVersions },
    window: { ...(flags.window.from && { from: flags.window.from.toISOString() }), ...(flags.window.to && { to: flags.window.to.toISOString() }) },
  };
  return { result, text: formatQuality(result, rows.length) };
}

/** The human summary: verdict first, then the numbers behind it. */
export function formatQuality(r: QualityResult, used: number): string {
  const who = r.version ? `${r.version} ` : '';
  const head =
    r.verdict === 'degraded'
      ? `live quality DEGRADED: ${who}${r.metric} ${fmt(r.live ?? undefined)} live vs ${fmt(r.validation ?? undefined)} in validation (down ${fmt(r.drop ?? undefined)}, more than max_drop ${r.max_drop})`
      : r.verdict === 'ok'
        ? `live quality ok: ${who}${r.metric} ${fmt(r.live ?? undefined)} live vs ${fmt(r.validation ?? undefined)} in validation (max_drop ${r.max_drop})`
        : r.verdict === 'no_reference'
          ? `live ${r.metric} of ${who}is ${fmt(r.live ?? undefined)}; no validation ${r.metric} recorded (metrics.json) to compare with`
          : `not enough labels for a verdict: ${used} labelled predictions${r.version ? ` of ${r.version}` : ''}, quality.min_labels is ${r.min_labels}`;
  const l = r.labels;
  const lines = [
    head,
    `  predictions ${l.predictions} in the window, ${l.matched} with a label, ${l.unlabelled} without`,
    `  labels      ${l.labelLines} received for ${l.labelledIds} ids; ${l.duplicateLabels} superseded by a later one (last wins), ${l.unknownIds} for ids with no prediction in the window`,
  ];
  if (l.otherVersions > 0) lines.push(`  ${l.otherVersions} labelled predictions of other versions were not counted`);
  if (l.malformed > 0) lines.push(`  ${l.malformed} malformed lines skipped`);
  return lines.join('\n');
}
