/** `mlship deploy [--version vN] [--plan]`: make a version live on the target. */
import { UsageError } from '../../core/errors.js';
import type { CommandModule } from '../context.js';
import { formatPlan, formatLive } from '../format.js';

const STRATEGIES = ['all-at-once', 'canary'] as const;

export const run: CommandModule['run'] = async (ctx, _args, options) => {
  const strategy = options.strategy ?? 'all-at-once';
  if (!STRATEGIES.includes(strategy as (typeof STRATEGIES)[number])) {
    throw new UsageError(`--strategy must be one of ${STRATEGIES.join(', ')}, got "${String(strategy)}"`, { code: 'bad_strategy', hint: 'e.g. --strategy canary --canary-percent 10 --bake-minutes 10' });
  }
  if (strategy !== 'canary' && (options.canaryPercent !== undefined || options.bakeMinutes !== undefined)) {
    throw new UsageError('--canary-percent and --bake-minutes apply only to --strategy canary', { code: 'bad_strategy', hint: 'Add --strategy canary, or leave them out.' });
  }
  // A strategy the target cannot run is refused before anything is loaded or changed.
  const { checkStrategy } = await import('../../targets/descriptors.js');
  checkStrategy((await ctx.manifest()).target, strategy as (typeof STRATEGIES)[number]);
  const target = await ctx.target('deploy');
  const request = {
    ...(typeof options.version === 'string' && { version: options.version }),
    ...(options.timeout !== undefined && { timeoutSeconds: positive(options.timeout, '--timeout') }),
    ...(options.port !== undefined && { port: positive(options.port, '--port') }),
    ...(strategy === 'canary'
      ? { strategy: { kind: 'canary' as const, percent: positive(options.canaryPercent ?? 10, '--canary-percent'), bakeMinutes: positive(options.bakeMinutes ?? 10, '--bake-minutes') } }
      : {}),
  };
  if (options.plan === true) {
    const plan = await target.plan(request);
    return { data: { plan }, text: formatPlan(plan, ctx.output) };
  }
  const result = await target.deploy(request);
  const verb = result.changed ? `${result.live.version} is live` : `${result.live.version} was already live (nothing changed)`;
  return { data: result, text: `${ctx.output.style('green', '✔')} ${verb}${result.previous ? ` (was ${result.previous})` : ''}\n${formatLive(result.live)}` };
};

function positive(value: unknown, flag: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} must be a positive number, got "${String(value)}"`, { hint: `e.g. ${flag} 30` });
  return n;
}
