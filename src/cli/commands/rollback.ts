/** `mlship rollback [--to vN]`: make the previous live (or the named) version live again. */
import { durationSeconds } from '../../util/duration.js';
import type { CommandModule } from '../context.js';
import { formatLive } from '../format.js';

export const run: CommandModule['run'] = async (ctx, _args, options) => {
  const target = await ctx.target('rollback');
  const result = await target.rollback({
    ...(typeof options.to === 'string' && { to: options.to }),
    ...(options.timeout !== undefined && { timeoutSeconds: durationSeconds(options.timeout, '--timeout') }),
  });
  const verb = result.changed ? `rolled back to ${result.live.version}` : `${result.live.version} was already live`;
  return { data: result, text: `${ctx.output.style('green', '✔')} ${verb}${result.previous ? ` (from ${result.previous})` : ''}\n${formatLive(result.live)}` };
};
