/** `mlship retrain` — train, build, push with lineage, gate, promote (src/retrain/pipeline.ts). */
import { durationSeconds } from '../../util/duration.js';
import { ExitCode, UsageError } from '../../util/errors.js';
import { retrainContext, type CommandModule } from '../context.js';

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export const run: CommandModule['run'] = async (ctx, _args, options) => {
  const [{ runRetraining }, { windowFromFlags }] = await Promise.all([import('../../retrain/where.js'), import('../../monitoring/drift/window.js')]);
  const timeout = durationSeconds(options.timeout, '--timeout');
  const rctx = await retrainContext(ctx, 'retrain');
  if (rctx.manifest.model.flavor === 'llm') {
    throw new UsageError('mlship retrain does not retrain a language model: it runs retraining.command to train tabular models', {
      code: 'retrain_llm',
      hint: 'fine-tune the model where you train it, put the new GGUF in model/, then `mlship build && mlship push && mlship deploy` (drift-check and budget keep watching it)',
    });
  }
  const window = windowFromFlags({ since: str(options.since), from: str(options.from), to: str(options.to) }, rctx.now());
  // On a target with its own pipeline (SageMaker) the run happens there, unless --local.
  const outcome = await runRetraining(rctx, {
    local: options.local === true,
    fromLogs: options.fromLogs === true,
    deploy: options.deploy === true,
    dryRun: options.dryRun === true,
    window,
    logs: str(options.logs),
    // The image only when the target deploys one: retraining on the local target never builds it.
    ...(options.image === false && { image: false }),
    ...(options.builder !== undefined && { builder: (await import('../../packaging/image/select.js')).builderOption(options.builder) }),
    ...(timeout !== undefined && { timeoutSeconds: timeout }),
  });
  if (outcome.where === 'remote-dry-run') return { data: { dryRun: true, remote: outcome.target }, text: outcome.text };
  if (outcome.where === 'remote') return { data: { remote: outcome.run }, text: outcome.text };
  const { result, text } = outcome;
  return { data: result, text, exitCode: result.gate && !result.gate.promoted ? ExitCode.checkFailed : ExitCode.ok };
};
