/**
 * Where a retraining runs, decided in one place for `mlship retrain` and `drift-check --on-drift
 * retrain` alike: on the target's own pipeline when it has one (SageMaker Pipelines…) unless
 * `--local` asks for a run here; otherwise here (train, build, push with lineage, gate).
 */
import { UsageError } from '../util/errors.js';
import type { RetrainingRun } from '../deploy/types.js';
import { RETRAINING_TIMEOUT_S } from '../deploy/versions.js';
import type { RetrainContext } from './context.js';
import { retrain, type RetrainFlags, type RetrainResult } from './pipeline.js';

export type RetrainOutcome =
  | { where: 'remote'; run: RetrainingRun; text: string }
  | { where: 'remote-dry-run'; target: string; text: string }
  | { where: 'local'; result: RetrainResult; text: string };

/** Run one retraining where it belongs. `local` forces a run here; `timeoutSeconds` bounds a remote run. */
export async function runRetraining(ctx: RetrainContext, flags: RetrainFlags & { local?: boolean }): Promise<RetrainOutcome> {
  const target = await ctx.target();
  if (target.startRetraining && flags.local !== true) {
    if (flags.fromLogs) {
      throw new UsageError(`--from-logs trains where mlship runs; the ${target.name} pipeline reads its own data`, {
        code: 'remote_from_logs',
        hint: 'Add --local to train here and push to the target.',
      });
    }
    if (flags.dryRun)
      return { where: 'remote-dry-run', target: target.name, text: `would start the ${target.name} retraining pipeline and follow it to its end` };
    const run = await target.startRetraining(flags.timeoutSeconds ?? RETRAINING_TIMEOUT_S);
    const registered = run.version ? `; registered ${run.version}, pending promotion: mlship deploy --version ${run.version}` : '';
    return { where: 'remote', run, text: `retraining pipeline ${run.pipeline}: ${run.status} in ${run.seconds} s (${run.executionId})${registered}` };
  }
  const { result, text } = await retrain(ctx, flags);
  return { where: 'local', result, text };
}
