/** `mlship retrain` — train, build, push with lineage, gate, promote (src/retrain/pipeline.ts). */
import { ExitCode, UsageError } from '../../core/errors.js';
import type { CommandModule } from '../context.js';

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export const run: CommandModule['run'] = async (ctx, _args, options) => {
  const [{ runRetraining }, { retrainContext }, { windowFromFlags }] = await Promise.all([
    import('../../retrain/where.js'),
    import('../../retrain/context.js'),
    import('../../drift/window.js'),
  ]);
  const timeout = str(options.timeout);
  if (timeout !== undefined && !(Number(timeout) > 0)) throw new UsageError(`--timeout ${timeout} is not a number of seconds`, { code: 'bad_timeout', hint: 'Pass a positive number, e.g. --timeout 120.' });
  const rctx = await retrainContext(ctx, 'retrain');
  const window = windowFromFlags({ since: str(options.since), from: str(options.from), to: str(options.to) }, rctx.now());
  // On a target with its own pipeline (SageMaker) the run happens there, unless --local.
  const outcome = await runRetraining(rctx, {
    local: options.local === true,
    fromLogs: options.fromLogs === true,
    deploy: options.deploy === true,
    dryRun: options.dryRun === true,
    window,
    logs: str(options.logs),
    image: options.image !== false,
    ...(timeout !== undefined && { timeoutSeconds: Number(timeout) }),
  });
  if (outcome.where === 'remote-dry-run') return { data: { dryRun: true, remote: outcome.target }, text: outcome.text };
  if (outcome.where === 'remote') return { data: { remote: outcome.run }, text: outcome.text };
  const { result, text } = outcome;
  return { data: result, text, exitCode: result.gate && !result.gate.promoted ? ExitCode.checkFailed : ExitCode.ok };
};
