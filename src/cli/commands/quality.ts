/** `mlship quality` — live metric on labelled predictions vs the validation metric (src/retrain/quality.ts). */
import { ExitCode } from '../../core/errors.js';
import type { CommandModule } from '../context.js';

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export const run: CommandModule['run'] = async (ctx, _args, options) => {
  const [{ checkQuality }, { retrainContext }, { windowFromFlags }] = await Promise.all([
    import('../../retrain/quality.js'),
    import('../../retrain/context.js'),
    import('../../drift/window.js'),
  ]);
  const rctx = await retrainContext(ctx, 'quality');
  const window = windowFromFlags({ since: str(options.since), from: str(options.from), to: str(options.to) }, rctx.now());
  const { result, text } = await checkQuality(rctx, { window, logs: str(options.logs), version: str(options.version) });
  return { data: result, text, exitCode: result.alert ? ExitCode.checkFailed : ExitCode.ok };
};
