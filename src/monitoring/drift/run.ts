/**
 * `mlship drift-check` end to end: pick the logs (`--logs`, else the target's prediction logs in
 * the window) and the baseline (`--baseline`, `--reference first-week`, else the live version's
 * profile from the target; an LLM's: llm.ts), run the check, write the HTML report, fire the drift command.
 */
import path from 'node:path';
import type { Reporter } from '../../util/reporter.js';
import { UsageError } from '../../util/errors.js';
import type { Manifest } from '../../manifest/types.js';
import type { Target } from '../../deploy/types.js';
import type { LogSource, LogWindow } from '../../logs/types.js';
import { firstWeekReference, loadBaselineFile } from './baseline.js';
import { runDriftCheck, type DriftResult } from './check.js';
import { parserThreads } from './parse-pool.js';
import { formatDriftTable } from './format.js';
import type { BaselineProfile } from '../../baseline/profile.js';
import { localLogSources } from '../../logs/readers.js';
import { driftCommand, RETRAIN, runDriftTrigger, type TriggerResult } from './trigger.js';
import { windowFromFlags } from './window.js';

/** The command's flags, as given. */
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

/** What the command hands over from its context. */
export interface DriftRunContext {
  manifest: Manifest;
  output: Reporter;
  env: NodeJS.ProcessEnv;
  cwd: string;
  now: Date;
  /** The manifest's target (made once, lazily); default: created from the manifest. */
  target?: () => Promise<Target>;
}

/** The result (with the report path and the trigger outcome) and the table for stdout. */
export interface DriftOutcome {
  result: DriftResult & { report?: string; trigger?: TriggerResult };
  text: string;
}

/** Run the whole command; the caller turns `result.drift` into exit code 3. */
export async function checkDrift(ctx: DriftRunContext, flags: DriftFlags): Promise<DriftOutcome> {
  if (flags.reference !== undefined && flags.reference !== 'first-week') {
    throw new UsageError(`--reference ${flags.reference} is not known`, {
      code: 'bad_reference',
      hint: 'The one reference besides the training baseline is --reference first-week.',
    });
  }
  if (flags.reference && flags.baseline)
    throw new UsageError('--reference and --baseline both choose the baseline', { code: 'bad_reference', hint: 'Pass one of them.' });
  let window: LogWindow = windowFromFlags(flags, ctx.now);
  let target: Target | undefined;
  const getTarget = async (): Promise<Target> => {
    if (!target && ctx.target) target = await ctx.target();
    if (!target) {
      const { createTarget } = await import('../../targets/index.js');
      target = await createTarget({ manifest: ctx.manifest, output: ctx.output, env: ctx.env, command: 'drift-check', now: () => ctx.now });
    }
    return target;
  };
  const schema = ctx.manifest.features.schema;
  const allSources = async (w: LogWindow): Promise<LogSource[]> =>
    flags.logs ? localLogSources(flags.logs, w, ctx.cwd) : (await getTarget()).predictionLogs(w);
  const workers = parserThreads(ctx.env);
  ctx.output.debug(
    workers > 0 ? `drift-check: a log longer than one batch is parsed on ${workers} parser threads` : 'drift-check: logs are parsed on the main thread',
  );

  let result: DriftOutcome['result'];
  if (ctx.manifest.model.flavor === 'llm') {
    // An LLM's traffic has no request fields: what it derives from each request is compared instead (llm.ts).
    const { checkLlmDrift } = await import('./llm.js');
    result = await checkLlmDrift({
      manifest: ctx.manifest,
      sources: allSources,
      window,
      ...(flags.baseline !== undefined && { baselineFile: flags.baseline }),
      firstWeek: flags.reference === 'first-week',
      cwd: ctx.cwd,
      now: ctx.now,
      workers,
      debug: (m) => ctx.output.debug(m),
    });
  } else {
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
    result = await runDriftCheck({
      baseline,
      baselineSource,
      sources,
      window,
      schema,
      settings: ctx.manifest.monitoring.drift,
      workers,
    });
  }

  if (flags.report) {
    const file = path.resolve(ctx.cwd, flags.report);
    const { writeDriftReport } = await import('./report.js');
    await writeDriftReport(result, file, { project: ctx.manifest.name, generatedAt: ctx.now });
    result.report = file;
    ctx.output.info(`report written to ${path.relative(ctx.cwd, file) || file}`);
  }
  if (result.drift) {
    const trigger = driftCommand(flags.onDrift, ctx.manifest);
    if (trigger?.command === RETRAIN) {
      ctx.output.info(`drift found: retraining (${trigger.source === '--on-drift' ? '--on-drift retrain' : 'retraining.on_drift'})`);
      result.trigger = await retrainOnDrift(ctx, trigger.source, getTarget);
    } else if (trigger) {
      ctx.output.info(`drift found: running --on-drift: ${trigger.command}`);
      result.trigger = await runDriftTrigger(trigger, { cwd: ctx.manifest.projectDir, env: ctx.env, report: result.report });
      if (result.trigger.exit_code !== 0) ctx.output.warn(`the drift command exited with ${result.trigger.exit_code}`);
    }
  }
  return { result, text: formatDriftTable(result) };
}

/**
 * The retraining path on drift, in process, the same way `mlship retrain` goes: the target's own
 * pipeline when it has one (SageMaker), else a run here with the manifest's settings (from the logs
 * when `retraining.data` is not set). Its failure or a held-back candidate is reported in the
 * trigger result; drift-check still exits 3.
 */
async function retrainOnDrift(ctx: DriftRunContext, source: TriggerResult['source'], target: () => Promise<Target>): Promise<TriggerResult> {
  const [{ runRetraining }, { defaultFromLogs }, { isMlshipError }] = await Promise.all([
    import('../../retrain/where.js'),
    import('../../retrain/dataset.js'),
    import('../../util/errors.js'),
  ]);
  const remote = (await target()).startRetraining !== undefined;
  const fromLogs = !remote && defaultFromLogs(ctx.manifest);
  const command = `mlship retrain${fromLogs ? ' --from-logs' : ''}`;
  try {
    const outcome = await runRetraining(
      { manifest: ctx.manifest, output: ctx.output, env: ctx.env, cwd: ctx.cwd, now: () => ctx.now, target },
      { fromLogs, deploy: false, dryRun: false, window: {} },
    );
    ctx.output.info(outcome.text);
    if (outcome.where !== 'local') {
      return {
        command,
        source,
        exit_code: 0,
        retrain: outcome.where === 'remote' ? { pipeline: outcome.run.pipeline, executionId: outcome.run.executionId, status: outcome.run.status } : {},
      };
    }
    const { result } = outcome;
    const promoted = result.gate?.promoted;
    if (promoted === false) ctx.output.warn(`the retrained ${result.version} was held back by the gate`);
    return {
      command,
      source,
      exit_code: promoted === false ? 3 : 0,
      retrain: { ...(result.version && { version: result.version }), ...(promoted !== undefined && { promoted }), ...(result.live && { live: result.live }) },
    };
  } catch (error) {
    if (!isMlshipError(error)) throw error;
    ctx.output.warn(`retraining failed: ${error.message}${error.hint ? ` (${error.hint})` : ''}`);
    return { command, source, exit_code: error.exitCode, retrain: { error: error.message } };
  }
}
