/** `mlship stop`: stop the deployment (drain, then stop the processes). */
import type { CommandModule } from '../context.js';

export const run: CommandModule['run'] = async (ctx) => {
  const result = await (await ctx.target('stop')).stop();
  return { data: result, text: result.stopped ? `stopped ${result.version ?? 'the deployment'}` : 'nothing was running' };
};
