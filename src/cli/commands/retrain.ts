/** `mlship retrain` — train, build, push with lineage, gate, promote (src/retrain/pipeline.ts). */
import { ExitCode, UsageError } from '../../core/errors.js';
import type { CommandModule } from '../context.js';

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export const run: CommandModule['run'] = async (ctx, _args, options) => {
  const [{ retrain }, { retrainContext }, { windowFromFlags }] = await Promise.all([
    import('../../retrain/pipeline.js'),
    import('../../retrain/context.js'),
    import('../../drift/window.js'),
  ]);
  const timeout = str(options.timeout);
  if (timeout !== undefined && !(Number(timeout) > 0)) throw new UsageError(`--timeout ${timeout} is not a number of seconds`, { code: 'bad_timeout', hint: 'Pass a positive number, e.g. --timeout 120.' });
  // A target with its own retraining pipeline runs it there, unless --local asks for a run here.
  const target = await ctx.target('retrain');
  if (target.startRetraining && options.local !== true) {
    if (options.fromLogs === true) throw new UsageError(`--from-logs trains where mlship runs; the ${target.name} pipeline reads its own data`, { code: 'remote_from_logs', hint: 'Add --local to train here and push to the target.' });
    if (options.dryRun === true) return { data: { dryRun: true, remote: target.name }, text: `would start the ${target.name} retraining pipeline and follow it to its end` };
    const run = await target.startRetraining(timeout === undefined ? undefined : Number(timeout));
    return { data: { remote: run }, text: `retraining pipeline ${run.pipeline}: ${run.status} in ${run.seconds} s (${run.executionId})` };
  }
  const rctx = await retrainContext(ctx, 'retrain');
  const window = windowFromFlags({ since: str(options.since), from: str(options.from), to: str(options.to) }, rctx.now());
  const { result, text } = await retrain(rctx, {
    fromLogs: options.fromLogs === true,
    deploy: options.deploy === true,
    dryRun: options.dryRun === true,
    window,
    logs: str(options.logs),
    image: options.image !== false,
    ...(timeout !== undefined && { timeoutSeconds: Number(timeout) }),
  });
  return { data: result, text, exitCode: result.gate && !result.gate.promoted ? ExitCode.checkFailed : ExitCode.ok };
};
