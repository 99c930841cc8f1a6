/** `mlship status`: which version is live, where, since when, its health, history and versions. */
import type { CommandModule } from '../context.js';
import { formatStatus } from '../format.js';

export const run: CommandModule['run'] = async (ctx) => {
  const status = await (await ctx.target('status')).status();
  return { data: status, text: formatStatus(status, ctx.output) };
};
