/**
 * The rollout controller: how a new version takes traffic from the live one. All at once, or a
 * canary: shift N% to the new version, bake for M minutes while a `MetricsReader` reports its 5xx
 * rate and latency each period, then promote it to 100% or revert to the old version. The guards
 * (5xx, latency over `budget.latency_ms`) are derived from the manifest once, here; SageMaker feeds
 * the same guards to its native blue/green alarms, Vertex and Azure run this controller over their
 * traffic split. Time comes from the injected clock, so a 10-minute bake is instant in tests.
 */
import { CheckFailedError } from '../util/errors.js';
import type { Reporter } from '../util/reporter.js';
import type { Manifest } from '../manifest/types.js';
import type { DeployRequest } from './types.js';
import type { Clock } from './poll.js';

/** How to shift traffic (`deploy --strategy`). */
export type RolloutStrategy = NonNullable<DeployRequest['strategy']>;
export const ALL_AT_ONCE: RolloutStrategy = { kind: 'all-at-once' };

/** When a canary is reverted. */
export interface RolloutGuards {
  /** Largest share of 5xx answers tolerated in one period (0: any 5xx reverts). */
  maxErrorRate: number;
  /** Latency at `percentile` above `maxMs` for `periods` periods in a row reverts. */
  latency: { percentile: 'p50' | 'p95' | 'p99'; maxMs: number; periods: number };
  /** Length of one evaluation period, in seconds. */
  periodSeconds: number;
}

/** The guards of a manifest: any 5xx, or latency over `budget.latency_ms` for 3 one-minute periods. */
export function guardsFromManifest(manifest: Manifest): RolloutGuards {
  const { percentile, value } = manifest.budget.latency_ms;
  return { maxErrorRate: 0, latency: { percentile, maxMs: value, periods: 3 }, periodSeconds: 60 };
}

/** What a metrics source reports for one version over one period. */
export interface VersionMetrics {
  requests: number;
  errors5xx: number;
  /** Latency at the guards' percentile, in ms; undefined when no request was answered. */
  latencyMs?: number;
}

/** Reads a version's serving metrics (CloudWatch, Cloud Monitoring, Azure Monitor, the local router). */
export interface MetricsReader {
  read(version: string, window: { from: Date; to: Date }, percentile: RolloutGuards['latency']['percentile']): Promise<VersionMetrics>;
}

/** Moves traffic between versions on one endpoint. */
export interface TrafficControl {
  /** Send `percent` of the traffic to `candidate`, the rest to `stable`. */
  split(stable: string, candidate: string, percent: number): Promise<void>;
  /** Send all traffic to `version` (promote: the candidate; revert: the stable one). */
  routeAll(version: string): Promise<void>;
}

/** How a rollout ended (a reverted canary throws `CanaryRevertedError` instead). */
export interface RolloutOutcome {
  strategy: RolloutStrategy['kind'];
  promoted: true;
  /** Periods the canary was observed, with what was read. */
  checks: (VersionMetrics & { at: string })[];
}

/** A canary broke a guard and the old version serves all traffic again. Exit 3 (a check said no). */
export class CanaryRevertedError extends CheckFailedError {
  constructor(candidate: string, stable: string, reason: string, details: Record<string, unknown>) {
    super('canary_reverted', `the canary of ${candidate} was reverted: ${reason}; ${stable} serves all traffic again`, {
      hint: `Look at ${candidate}'s logs for the cause, fix it, then push and deploy again.`,
      details: { candidate, stable, reason, ...details },
    });
  }
}

/** Why one period's metrics break a guard, or undefined when they do not. */
export function breach(m: VersionMetrics, guards: RolloutGuards, slowPeriods: number): string | undefined {
  if (m.errors5xx > 0 && m.errors5xx / Math.max(m.requests, 1) > guards.maxErrorRate) {
    return `${m.errors5xx} of ${m.requests} requests answered 5xx (more than ${(guards.maxErrorRate * 100).toFixed(1)}%)`;
  }
  if (slowPeriods >= guards.latency.periods) {
    return `latency ${guards.latency.percentile} above the ${guards.latency.maxMs} ms budget for ${slowPeriods} periods`;
  }
  return undefined;
}

/**
 * Move traffic from `stable` to `candidate` by the strategy. With nothing live (no `stable`) or
 * all-at-once, the candidate takes all traffic at once. A canary that breaks a guard is reverted
 * (all traffic back to `stable`) and `CanaryRevertedError` is thrown.
 */
export async function runRollout(options: {
  strategy: RolloutStrategy;
  stable: string | undefined;
  candidate: string;
  traffic: TrafficControl;
  metrics: MetricsReader;
  guards: RolloutGuards;
  clock: Clock;
  reporter: Reporter;
}): Promise<RolloutOutcome> {
  const { strategy, stable, candidate, traffic, metrics, guards, clock, reporter } = options;
  if (strategy.kind === 'all-at-once' || !stable || stable === candidate) {
    await traffic.routeAll(candidate);
    return { strategy: 'all-at-once', promoted: true, checks: [] };
  }
  await traffic.split(stable, candidate, strategy.percent);
  const progress = await reporter.progress(`canary: ${strategy.percent}% of traffic to ${candidate}, baking ${strategy.bakeMinutes} min`);
  const begin = clock.now().getTime();
  const end = begin + strategy.bakeMinutes * 60_000;
  const checks: RolloutOutcome['checks'] = [];
  let slow = 0;
  while (clock.now().getTime() < end) {
    const from = clock.now();
    await clock.sleep(Math.min(guards.periodSeconds * 1000, end - from.getTime()));
    const to = clock.now();
    const m = await metrics.read(candidate, { from, to }, guards.latency.percentile);
    checks.push({ ...m, at: to.toISOString() });
    slow = m.latencyMs !== undefined && m.latencyMs > guards.latency.maxMs ? slow + 1 : 0;
    const reason = breach(m, guards, slow);
    if (reason) {
      progress.fail(`canary ${candidate}: ${reason}; reverting to ${stable}`);
      await traffic.routeAll(stable);
      throw new CanaryRevertedError(candidate, stable, reason, { checks });
    }
    const elapsed = Math.round((to.getTime() - begin) / 1000);
    progress.update(
      `canary ${candidate}: ${m.requests} requests, ${m.errors5xx} 5xx${m.latencyMs !== undefined ? `, ${guards.latency.percentile} ${Math.round(m.latencyMs)} ms` : ''} (${elapsed}s of ${strategy.bakeMinutes * 60}s)`,
    );
  }
  await traffic.routeAll(candidate);
  progress.succeed(`canary ${candidate}: healthy for ${strategy.bakeMinutes} min; promoted to all traffic`);
  return { strategy: 'canary', promoted: true, checks };
}
