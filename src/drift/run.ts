/**
 * `mlship drift-check` end to end: pick the logs (`--logs`, else the target's prediction logs in
 * the window) and the baseline (`--baseline`, `--reference first-week`, else the live version's
 * profile from the target), run the check, write the HTML report, fire the drift command.
 */
import path from 'node:path';
import type { Output } from '../cli/output.js';
import { UsageError } from '../core/errors.js';
import type { Manifest } from '../manifest/types.js';
import type { LogSource, LogWindow, Target } from '../targets/types.js';
import { firstWeekReference, loadBaselineFile } from './baseline.js';
import { runDriftCheck, type DriftResult } from './check.js';
import { formatDriftTable } from './format.js';
import type { BaselineProfile } from './profile.js';
import { localLogSources } from './readers.js';
import { driftCommand, runDriftTrigger, type TriggerResult } from './trigger.js';
import { windowFromFlags } from './window.js';

export interface DriftFlags {
  since?: string;
  from?: string;
  to?: string;
  logs?: string;
  baseline?: string;
  reference?: string;
  report?: string;
  onDrift?: string;
}

export interface DriftRunContext {
  manifest: Manifest;
  output: Output;
  env: NodeJS.ProcessEnv;
  cwd: string;
  now: Date;
}

export interface DriftOutcome {
  result: DriftResult & { report?: string; trigger?: TriggerResult };
  text: string;
}

/** Run the whole command; the caller turns `result.drift` into exit code 3. */
export async function checkDrift(ctx: DriftRunContext, flags: DriftFlags): Promise<DriftOutcome> {
  if (flags.reference !== undefined && flags.reference !== 'first-week') {
    throw new UsageError(`--reference ${flags.reference} is not known`, { code: 'bad_reference', hint: 'The one reference besides the training baseline is --reference first-week.' });
  }
  if (flags.reference && flags.baseline) throw new UsageError('--reference and --baseline both choose the baseline', { code: 'bad_reference', hint: 'Pass one of them.' });
  let window: LogWindow = windowFromFlags(flags, ctx.now);
  let target: Target | undefined;
  const getTarget = async (): Promise<Target> => {
    if (!target) {
      const { createTarget } = await import('../targets/index.js');
      target = await createTarget({ manifest: ctx.manifest, output: ctx.output, env: ctx.env, command: 'drift-check', now: () => ctx.now });
    }
    return target;
  };
  const schema = ctx.manifest.features.schema;
  const allSources = async (w: LogWindow): Promise<LogSource[]> => (flags.logs ? localLogSources(flags.logs, w, ctx.cwd) : (await getTarget()).predictionLogs(w));

  let baseline: BaselineProfile;
  let baselineSource: string;
  if (flags.reference === 'first-week') {
    const ref = await firstWeekReference(await allSources({}), schema, window);
    baseline = ref.profile;
    baselineSource = ref.profile.source.path;
    window = ref.window;
  } else if (flags.baseline) {
    baseline = await loadBaselineFile(flags.baseline, schema, ctx.cwd);
    baselineSource = flags.baseline;
  } else {
    baseline = await (await getTarget()).baseline();
    baselineSource = `the live version's baseline (${baseline.source.path})`;
  }
  const sources = await allSources(window);
  ctx.output.debug(`drift-check: ${sources.length} log source(s), baseline ${baselineSource}`);
  const result: DriftOutcome['result'] = await runDriftCheck({ baseline, baselineSource, sources, window, schema, settings: ctx.manifest.monitoring.drift });

  if (flags.report) {
    const file = path.resolve(ctx.cwd, flags.report);
    const { writeDriftReport } = await import('./report.js');
    await writeDriftReport(result, file, { project: ctx.manifest.name, generatedAt: ctx.now });
    result.report = file;
    ctx.output.info(`report written to ${path.relative(ctx.cwd, file) || file}`);
  }
  if (result.drift) {
    const trigger = driftCommand(flags.onDrift, ctx.manifest);
    if (trigger) {
      ctx.output.info(`drift found: running ${trigger.source === '--on-drift' ? '--on-drift' : 'retraining.command'}: ${trigger.command}`);
      result.trigger = await runDriftTrigger(trigger, { cwd: ctx.manifest.projectDir, env: ctx.env, report: result.report });
      if (result.trigger.exit_code !== 0) ctx.output.warn(`the drift command exited with ${result.trigger.exit_code}`);
    }
  }
  return { result, text: formatDriftTable(result) };
}
