/**
 * `mlship deploy [--version vN] [--plan] [--strategy canary --canary-percent N --bake D --min-requests N
 * --promote-inconclusive]`: make a version live on the target.
 */
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
  const canaryOnly = ['canaryPercent', 'bake', 'bakeMinutes', 'minRequests', 'promoteInconclusive'].filter((k) => options[k] !== undefined);
  if (strategy !== 'canary' && canaryOnly.length > 0) {
    throw new UsageError('--canary-percent, --bake, --min-requests and --promote-inconclusive apply only to --strategy canary', {
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
      ? {
          strategy: {
            kind: 'canary' as const,
            percent: positive(options.canaryPercent ?? 10, '--canary-percent'),
            bakeMinutes: bakeMinutes(options),
            minRequests: options.minRequests === undefined ? manifest.rollout.canary.min_requests : count(options.minRequests, '--min-requests'),
            ...(options.promoteInconclusive === true && { promoteInconclusive: true }),
          },
        }
      : {}),
  };
  // Addresses the target cannot mail: said once, on stderr, and in the plan document.
  const alertWarning = alertEmailWarning(manifest);
  if (alertWarning) ctx.output.warn(alertWarning);
  if (options.plan === true) {
    const planned = await target.plan(request);
    for (const w of planned.warnings ?? []) ctx.output.warn(w);
    const warnings = [...(planned.warnings ?? []), ...(alertWarning ? [alertWarning] : [])];
    const plan = { ...planned, ...(request.strategy?.kind === 'canary' && { rollout: request.strategy }), ...(warnings.length > 0 && { warnings }) };
    return { data: { plan }, text: formatPlan(plan, ctx.output) };
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

/** A whole number of at least 1 (a count of requests). */
function count(value: unknown, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} must be a whole number of at least 1, got "${String(value)}"`, { hint: `e.g. ${flag} 50` });
  return n;
}

function positive(value: unknown, flag: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} must be a positive number, got "${String(value)}"`, { hint: `e.g. ${flag} 30` });
  return n;
}
