/** `mlship drift-check` — compare logged inputs and outputs with the baseline (src/monitoring/drift/). */
import { ExitCode } from '../../util/errors.js';
import type { CommandModule } from '../context.js';

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export const run: CommandModule['run'] = async (ctx, _args, options) => {
  const manifest = await ctx.manifest();
  const { checkDrift } = await import('../../monitoring/drift/run.js');
  const { result, text } = await checkDrift(
    { manifest, output: ctx.output, env: ctx.env, cwd: ctx.cwd, now: new Date() },
    {
      since: str(options.since),
      from: str(options.from),
      to: str(options.to),
      logs: str(options.logs),
      baseline: str(options.baseline),
      reference: str(options.reference),
      report: str(options.report),
      onDrift: str(options.onDrift),
    },
  );
  return { data: result, text, exitCode: result.drift ? ExitCode.checkFailed : ExitCode.ok };
};
