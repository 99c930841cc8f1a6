/** `mlship quality` — live metric on labelled predictions vs the validation metric (src/monitoring/quality.ts). */
import { ExitCode } from '../../util/errors.js';
import { retrainContext, type CommandModule } from '../context.js';

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export const run: CommandModule['run'] = async (ctx, _args, options) => {
  const [{ checkQuality }, { windowFromFlags }] = await Promise.all([import('../../monitoring/quality.js'), import('../../monitoring/drift/window.js')]);
  const rctx = await retrainContext(ctx, 'quality');
  const window = windowFromFlags({ since: str(options.since), from: str(options.from), to: str(options.to) }, rctx.now());
  const { result, text } = await checkQuality(rctx, { window, logs: str(options.logs), version: str(options.version) });
  return { data: result, text, exitCode: result.alert ? ExitCode.checkFailed : ExitCode.ok };
};
