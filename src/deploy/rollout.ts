/**
 * The rollout controller: how a new version takes traffic from the live one. All at once, or a
 * canary: shift N% to the new version, bake for M minutes while a `MetricsReader` reports its
 * requests, 5xx and latency each period, then promote it to 100% or revert to the old version. The
 * guards (5xx, latency over `budget.latency_ms`) and the evidence a promotion needs
 * (`rollout.canary.min_requests` answered requests on the candidate) are derived from the manifest
 * once, here. A canary is promoted only on evidence: a bake that broke no guard but saw fewer
 * requests than the minimum (no traffic at night, a split that did not apply, a metrics source that
 * read nothing) is inconclusive and reverted, unless the deploy says to promote anyway (then with a
 * warning). A period the reader returned nothing for is "no data", never "zero errors". Every target
 * runs this controller over its traffic split (the local router, SageMaker's variant weights, Vertex's
 * and Azure's traffic maps). Time comes from the injected clock, so a 10-minute bake is instant in
 * tests.
 */
import { CheckFailedError } from '../util/errors.js';
import type { Reporter } from '../util/reporter.js';
import type { Manifest } from '../manifest/types.js';
import type { DeployRequest } from './types.js';
import type { Clock } from './poll.js';

/** How to shift traffic (`deploy --strategy`). */
export type RolloutStrategy = NonNullable<DeployRequest['strategy']>;
export const ALL_AT_ONCE: RolloutStrategy = { kind: 'all-at-once' };

/** When a canary is reverted, and what evidence its promotion needs. */
export interface RolloutGuards {
  /** Largest share of 5xx answers tolerated in one period (0: any 5xx reverts). */
  maxErrorRate: number;
  /** Latency at `percentile` above `maxMs` for `periods` periods in a row reverts. */
  latency: { percentile: 'p50' | 'p95' | 'p99'; maxMs: number; periods: number };
  /** Length of one evaluation period, in seconds. */
  periodSeconds: number;
  /** Answered requests the candidate must have served over the bake to be promoted (`--min-requests` overrides). */
  minRequests: number;
}

/**
 * The guards of a manifest: any 5xx, or latency over `budget.latency_ms` for 3 one-minute periods;
 * promoted only after `rollout.canary.min_requests` requests. An LLM's request lasts as long as its
 * completion: its latency is guarded only by an end-to-end budget the manifest writes (the tabular
 * default would revert every healthy LLM), else by its 5xx alone.
 */
export function guardsFromManifest(manifest: Manifest): RolloutGuards {
  const guard = (percentile: RolloutGuards['latency']['percentile'], maxMs: number) => ({
    maxErrorRate: 0,
    latency: { percentile, maxMs, periods: 3 },
    periodSeconds: 60,
    minRequests: manifest.rollout.canary.min_requests,
  });
  if (manifest.budget.llm) {
    const [percentile, value] = (Object.entries(manifest.budget.llm.e2e_ms ?? {})[0] ?? ['p95', Number.POSITIVE_INFINITY]) as [
      RolloutGuards['latency']['percentile'],
      number,
    ];
    return guard(percentile, value);
  }
  return guard(manifest.budget.latency_ms.percentile, manifest.budget.latency_ms.value);
}

/** What a metrics source reports for one version over one period. */
export interface VersionMetrics {
  requests: number;
  errors5xx: number;
  /** Latency at the guards' percentile, in ms; undefined when no request was answered. */
  latencyMs?: number;
}

/**
 * Reads a version's serving metrics (CloudWatch, Cloud Monitoring, Azure Monitor, the local router). Undefined:
 * the source had nothing for that window ("no data"), which is no evidence either way.
 */
export interface MetricsReader {
  read(version: string, window: { from: Date; to: Date }, percentile: RolloutGuards['latency']['percentile']): Promise<VersionMetrics | undefined>;
}

/** Moves traffic between versions on one endpoint. */
export interface TrafficControl {
  /** Send `percent` of the traffic to `candidate`, the rest to `stable`. */
  split(stable: string, candidate: string, percent: number): Promise<void>;
  /** Send all traffic to `version` (promote: the candidate; revert: the stable one). */
  routeAll(version: string): Promise<void>;
}

/** One period of the bake: what was read, or `noData` when the reader returned nothing. */
export type CanaryCheck = (VersionMetrics & { at: string }) | { at: string; noData: true };

/** How a rollout ended (a canary that is not promoted throws `CanaryRevertedError` instead). */
export interface RolloutOutcome {
  strategy: RolloutStrategy['kind'];
  promoted: true;
  /** Periods the canary was observed, with what was read. */
  checks: CanaryCheck[];
  /** Requests the candidate answered over the bake, and the minimum it needed (canary only). */
  evidence?: { requests: number; minRequests: number };
  /** Set when a canary without enough evidence was promoted anyway (`--promote-inconclusive`); goes in the history entry. */
  warning?: string;
}

/**
 * A canary was not promoted and the old version serves all traffic again. Exit 3 (a check said no).
 * `canary_reverted`: it broke a guard; `canary_inconclusive` (a subclass): not enough evidence.
 */
export class CanaryRevertedError extends CheckFailedError {
  constructor(
    candidate: string,
    stable: string,
    reason: string,
    details: Record<string, unknown>,
    code = 'canary_reverted',
    hint = `Look at ${candidate}'s logs for the cause, fix it, then push and deploy again.`,
  ) {
    super(code, `the canary of ${candidate} was reverted: ${reason}; ${stable} serves all traffic again`, {
      hint,
      details: { candidate, stable, reason, ...details },
    });
  }
}

/** The bake ended without the evidence a promotion needs: too few requests reached the candidate. */
export class CanaryInconclusiveError extends CanaryRevertedError {
  constructor(candidate: string, stable: string, requests: number, minRequests: number, details: Record<string, unknown>) {
    super(
      candidate,
      stable,
      `inconclusive: ${inconclusiveReason(requests, minRequests)}`,
      { requests, minRequests, ...details },
      'canary_inconclusive',
      'Send it more traffic during the bake: lengthen it (--bake 30m) or raise --canary-percent; or lower the minimum ' +
        '(--min-requests N, or rollout.canary.min_requests in mlship.yaml); or pass --promote-inconclusive to promote it anyway.',
    );
  }
}

function inconclusiveReason(requests: number, minRequests: number): string {
  return `it answered ${requests} request${requests === 1 ? '' : 's'} during the bake, fewer than the ${minRequests} a promotion needs`;
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
 * (all traffic back to `stable`) and `CanaryRevertedError` is thrown; one that answered fewer than
 * the minimum of requests over the bake is reverted with `CanaryInconclusiveError`, or promoted with
 * a warning when the strategy says `promoteInconclusive`.
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
  const minRequests = strategy.minRequests ?? guards.minRequests;
  await traffic.split(stable, candidate, strategy.percent);
  const progress = await reporter.progress(
    `canary: ${strategy.percent}% of traffic to ${candidate}, baking ${strategy.bakeMinutes} min (promoted after at least ${minRequests} requests)`,
  );
  const begin = clock.now().getTime();
  const end = begin + strategy.bakeMinutes * 60_000;
  const checks: CanaryCheck[] = [];
  let slow = 0;
  let requests = 0;
  while (clock.now().getTime() < end) {
    const from = clock.now();
    await clock.sleep(Math.min(guards.periodSeconds * 1000, end - from.getTime()));
    const to = clock.now();
    const elapsed = `${Math.round((to.getTime() - begin) / 1000)}s of ${Math.round(strategy.bakeMinutes * 60)}s`;
    const m = await metrics.read(candidate, { from, to }, guards.latency.percentile);
    if (!m) {
      // No data is no evidence: it neither breaks a guard nor counts towards the minimum.
      checks.push({ at: to.toISOString(), noData: true });
      progress.update(`canary ${candidate}: no metrics for this period (${requests} requests so far; ${elapsed})`);
      continue;
    }
    checks.push({ ...m, at: to.toISOString() });
    requests += m.requests;
    slow = m.latencyMs !== undefined && m.latencyMs > guards.latency.maxMs ? slow + 1 : 0;
    const reason = breach(m, guards, slow);
    if (reason) {
      progress.fail(`canary ${candidate}: ${reason}; reverting to ${stable}`);
      await traffic.routeAll(stable);
      throw new CanaryRevertedError(candidate, stable, reason, { checks });
    }
    progress.update(
      `canary ${candidate}: ${m.requests} requests, ${m.errors5xx} 5xx${m.latencyMs !== undefined ? `, ${guards.latency.percentile} ${Math.round(m.latencyMs)} ms` : ''} (${elapsed})`,
    );
  }
  const evidence = { requests, minRequests };
  if (requests < minRequests) {
    if (!strategy.promoteInconclusive) {
      progress.fail(`canary ${candidate}: ${inconclusiveReason(requests, minRequests)}; reverting to ${stable}`);
      await traffic.routeAll(stable);
      throw new CanaryInconclusiveError(candidate, stable, requests, minRequests, { checks });
    }
    await traffic.routeAll(candidate);
    const warning = `canary ${candidate} promoted without enough evidence (--promote-inconclusive): ${inconclusiveReason(requests, minRequests)}`;
    progress.stop();
    reporter.warn(warning);
    return { strategy: 'canary', promoted: true, checks, evidence, warning };
  }
  await traffic.routeAll(candidate);
  progress.succeed(`canary ${candidate}: healthy for ${strategy.bakeMinutes} min over ${requests} requests; promoted to all traffic`);
  return { strategy: 'canary', promoted: true, checks, evidence };
}
