/** `mlship deploy [--version vN] [--plan]`: make a version live on the target. */
import { durationSeconds } from '../../util/duration.js';
import { UsageError } from '../../util/errors.js';
import type { CommandModule } from '../context.js';
import { formatPlan, formatLive } from '../format.js';

const STRATEGIES = ['all-at-once', 'canary'] as const;

export const run: CommandModule['run'] = async (ctx, _args, options) => {
  const strategy = options.strategy ?? 'all-at-once';
  if (!STRATEGIES.includes(strategy as (typeof STRATEGIES)[number])) {
    throw new UsageError(`--strategy must be one of ${STRATEGIES.join(', ')}, got "${String(strategy)}"`, {
      code: 'bad_strategy',
      hint: 'e.g. --strategy canary --canary-percent 10 --bake-minutes 10',
    });
  }
  if (strategy !== 'canary' && (options.canaryPercent !== undefined || options.bakeMinutes !== undefined)) {
    throw new UsageError('--canary-percent and --bake-minutes apply only to --strategy canary', {
      code: 'bad_strategy',
      hint: 'Add --strategy canary, or leave them out.',
    });
  }
  // A strategy the target cannot run is refused before anything is loaded or changed.
  const { alertEmailWarning, checkStrategy } = await import('../../targets/descriptors.js');
  const manifest = await ctx.manifest();
  checkStrategy(manifest.target, strategy as (typeof STRATEGIES)[number]);
  const target = await ctx.target('deploy');
  const request = {
    ...(typeof options.version === 'string' && { version: options.version }),
    ...(options.timeout !== undefined && { timeoutSeconds: durationSeconds(options.timeout, '--timeout') }),
    ...(options.port !== undefined && { port: positive(options.port, '--port') }),
    ...(strategy === 'canary'
      ? { strategy: { kind: 'canary' as const, percent: positive(options.canaryPercent ?? 10, '--canary-percent'), bakeMinutes: bakeMinutes(options) } }
      : {}),
  };
  // Addresses the target cannot mail: said once, on stderr, and in the plan document.
  const alertWarning = alertEmailWarning(manifest);
  if (alertWarning) ctx.output.warn(alertWarning);
  if (options.plan === true) {
    const plan = await target.plan(request);
    return { data: { plan: alertWarning ? { ...plan, warnings: [alertWarning] } : plan }, text: formatPlan(plan, ctx.output) };
  }
  const result = await target.deploy(request);
  const verb = result.changed ? `${result.live.version} is live` : `${result.live.version} was already live (nothing changed)`;
  return { data: result, text: `${ctx.output.style('green', '✔')} ${verb}${result.previous ? ` (was ${result.previous})` : ''}\n${formatLive(result.live)}` };
};

/** Canary bake time in minutes from `--bake` (or its former name `--bake-minutes`); a plain number is minutes. */
function bakeMinutes(options: Record<string, unknown>): number {
  const flag = options.bake !== undefined ? '--bake' : '--bake-minutes';
  return (durationSeconds(options.bake ?? options.bakeMinutes ?? 10, flag, 'm') ?? 600) / 60;
}

function positive(value: unknown, flag: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} must be a positive number, got "${String(value)}"`, { hint: `e.g. ${flag} 30` });
  return n;
}
