/**
 * `mlship budget` as a library call: load-test the endpoint, judge the latency budget stage by stage,
 * feed the measured time per request into instance selection, and cost the result. For an LLM: a
 * streaming load test at the budget's concurrency, judged per token (tokens.ts), its throughput
 * recorded for selection (compute/measured.ts).
 */
import type { Manifest } from '../manifest/types.js';
import type { ComputeChoice } from '../compute/types.js';
import { loadCatalog, type Catalog } from '../instances/catalog.js';
import { registeredTargets } from '../manifest/targets.js';
import { estimateCost, type CostReport } from './cost.js';
import { analyzeLatency, type LatencyReport } from './latency.js';
import { runLoadTest, type LoadTestResult } from './load-test.js';
import { llmRequestBodies, requestBodies } from './requests.js';
import { runStreamLoadTest, type StreamLoadResult } from './stream.js';
import { analyzeTokens, type TokenReport } from './tokens.js';
import { buildCostFor, recordThroughput, type MeasuredThroughput } from '../compute/measured.js';
import { OperationError } from '../util/errors.js';
import { httpLiveClient } from '../deploy/live-client.js';
import type { LiveClient } from '../deploy/types.js';
import { selectCompute, selectionInput, type SelectionInput } from '../compute/select.js';

/** Defaults: a few seconds at the manifest's expected rate. */
export const DEFAULT_DURATION_SECONDS = 5;

/** What to measure: the deployment (its client) and, optionally, the load. */
export interface BudgetRequest {
  /** The deployment as its callers reach it: the target's `liveClient()`, or `urlClient(--url)`. */
  client: LiveClient;
  /** Overall request rate; default `serving.expected_rps` unless only `connections` is given. */
  rps?: number;
  connections?: number;
  durationSeconds?: number;
}

/** The load the test will apply, after defaults. */
export interface LoadPlan {
  client: LiveClient;
  rps?: number;
  connections: number;
  durationSeconds: number;
}

/** Everything `mlship budget` found: the `--json` document. */
export interface BudgetResult {
  url: string;
  verdict: 'within' | 'over';
  /** Why the verdict is "over" (empty when within). */
  reasons: string[];
  load: Omit<LoadTestResult, 'samples'>;
  latency: LatencyReport;
  compute: ComputeChoice;
  cost: CostReport;
  /** For a target without prices (local): what the same load would cost on a cloud. */
  cloudReference?: CostReport;
}

/** The prediction route of an endpoint: a bare base URL gets `/predict`. */
export function predictUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.pathname === '' || parsed.pathname === '/') parsed.pathname = '/predict';
  return parsed.toString();
}

/** Apply the defaults: rate from the manifest, a few connections, a few seconds. */
export function planLoad(manifest: Manifest, request: BudgetRequest): LoadPlan {
  const asked = request.rps ?? (request.connections === undefined ? manifest.serving.expected_rps : undefined);
  // The load generator paces whole requests per second.
  const rps = asked === undefined ? undefined : Math.max(1, Math.round(asked));
  return {
    client: request.client,
    ...(rps !== undefined && { rps }),
    connections: request.connections ?? defaultConnections(rps),
    durationSeconds: request.durationSeconds ?? DEFAULT_DURATION_SECONDS,
  };
}

/**
 * Rate mode: one lane (connection) per request per second up to 16, so requests are spread over the
 * second (see `runLoadTest`). Unthrottled mode: a few connections.
 */
function defaultConnections(rps: number | undefined): number {
  if (rps === undefined) return 4;
  return Math.min(16, Math.max(1, Math.round(rps)));
}

/** Run the whole measurement. */
export async function measureBudget(manifest: Manifest, plan: LoadPlan): Promise<BudgetResult> {
  const run = await runLoadTest({
    client: plan.client,
    bodies: requestBodies(manifest),
    durationSeconds: plan.durationSeconds,
    connections: plan.connections,
    ...(plan.rps !== undefined && { rps: plan.rps }),
  });
  const { samples, ...load } = run;
  const latency = analyzeLatency(samples, manifest.budget, run.errors + run.timeouts);
  if (plan.rps !== undefined && run.achievedRps < plan.rps * 0.9) {
    latency.findings.push(`the endpoint answered ${run.achievedRps} rps of the ${plan.rps} asked: it cannot keep up, so requests queued (see the remainder)`);
  }
  if (run.generator.saturated) {
    latency.findings.push(`the load generator used ${run.generator.cpuPercent}% of a core: it may have limited the rate; the latencies are a lower bound`);
  }
  return judge(manifest, plan.client.predictRoute, load, latency);
}

/**
 * What the same load would cost on a cloud, beside a target priced as "runs on this machine": the
 * catalog of the first registered target that sizes instances by load (SageMaker, the first cloud).
 */
function referenceCatalog(): Catalog {
  for (const t of registeredTargets()) {
    const catalog = loadCatalog(t.catalog);
    if (catalog.sizing === 'by-load') return catalog;
  }
  throw new Error('no registered target has a cloud catalog');
}

/** Selection and cost from a latency report (pure apart from reading the artifact size and the build's calibration). */
export function judge(manifest: Manifest, url: string, load: Omit<LoadTestResult, 'samples'>, latency: LatencyReport): BudgetResult {
  // The build's calibration (CPU time on one thread) sizes instances when there is one; else the
  // server's own time per request in the load test (the sum of its stages, wall clock).
  const calibrated = buildCostFor(manifest) !== undefined;
  const measuredMs = latency.server?.mean ?? (latency.client.count > 0 ? latency.client.mean : undefined);
  const loadTest =
    !calibrated && measuredMs !== undefined && measuredMs > 0
      ? { cpuMsPerRequest: measuredMs, cpuMsBasis: 'the load test: the server’s time per request (wall clock)' }
      : {};
  const { compute, cost, cloudReference } = costed(manifest, selectionInput(manifest, loadTest));
  const reasons: string[] = [];
  if (latency.verdict === 'over') {
    if (latency.overStages.length > 0) reasons.push(`over budget in ${latency.overStages.join(', ')}`);
    if (latency.endToEndMs > latency.targetMs)
      reasons.push(`end to end ${latency.endToEndMs.toFixed(1)} ms > ${latency.percentile} target ${latency.targetMs} ms`);
    if (latency.failed > 0 && reasons.length === 0) reasons.push(`${latency.failed} of ${latency.requests} requests failed`);
  }
  if (cost.withinBudget === false) reasons.push(`$${cost.selected.monthlyUsd.expected}/month > monthly budget $${cost.monthlyBudgetUsd}`);
  return { url, verdict: reasons.length > 0 ? 'over' : 'within', reasons, load, latency, compute, cost, ...(cloudReference && { cloudReference }) };
}

/** The selection, its cost and, for a target without prices (local), the same on a cloud. */
function costed(manifest: Manifest, input: SelectionInput): { compute: ComputeChoice; cost: CostReport; cloudReference?: CostReport } {
  const compute = selectCompute(input);
  const cost = estimateCost(input, compute, manifest.budget.monthly_usd);
  if (input.catalog.sizing !== 'fixed') return { compute, cost };
  // The cloud has other hardware: a throughput measured here does not size its replicas.
  const { throughput: _measuredHere, ...rest } = input;
  const cloud = { ...rest, catalog: referenceCatalog(), compute: input.compute === 'gpu' || input.compute === 'cpu' ? input.compute : 'auto' };
  return { compute, cost, cloudReference: estimateCost(cloud, selectCompute(cloud), manifest.budget.monthly_usd) };
}

/** An LLM's test: the deployment's client, streams at once and for how long. */
export interface LlmLoadPlan {
  client: LiveClient;
  concurrency: number;
  durationSeconds: number;
}

/** An LLM's test runs longer by default: a real model spends seconds on one completion. */
export const DEFAULT_LLM_DURATION_SECONDS = 10;

/** Everything `mlship budget` found for an LLM: the `--json` document. */
export interface LlmBudgetResult {
  kind: 'llm';
  url: string;
  verdict: 'within' | 'over';
  /** Why the verdict is "over" (empty when within). */
  reasons: string[];
  load: Omit<StreamLoadResult, 'samples'>;
  tokens: TokenReport;
  /** The throughput kept for selection (absent when the endpoint was not the target's deployment). */
  throughput?: MeasuredThroughput;
  compute: ComputeChoice;
  cost: CostReport;
  cloudReference?: CostReport;
}

/** The chat route of an endpoint: a bare base URL gets `/v1/chat/completions`. */
export function chatUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.pathname === '' || parsed.pathname === '/') parsed.pathname = '/v1/chat/completions';
  return parsed.toString();
}

/**
 * A --url's client over plain HTTP, without credentials: a bare base URL gets the prediction route
 * (`/predict`) and the chat route (`/v1/chat/completions`); a full route is used as it is.
 */
export function urlClient(url: string): LiveClient {
  return httpLiveClient({ routes: { predict: predictUrl(url), chat: chatUrl(url) } });
}

/** An LLM's load after defaults: `budget.concurrency` streams unless `connections` says otherwise. */
export function planLlmLoad(manifest: Manifest, request: Omit<BudgetRequest, 'rps'>): LlmLoadPlan {
  return {
    client: request.client,
    concurrency: request.connections ?? manifest.budget.llm?.concurrency ?? 1,
    durationSeconds: request.durationSeconds ?? DEFAULT_LLM_DURATION_SECONDS,
  };
}

/**
 * Measure an LLM's budget. `record`: the endpoint is the target's own deployment, so its throughput
 * is kept for selection (with the instance type and replicas the selection gave it); a --url may be
 * any machine and is not kept.
 */
export async function measureLlmBudget(manifest: Manifest, plan: LlmLoadPlan, options: { record?: boolean; now?: () => Date } = {}): Promise<LlmBudgetResult> {
  const budget = manifest.budget.llm;
  if (!budget) throw new OperationError('budget_not_llm', 'the manifest is not an LLM (model.flavor: llm)');
  const run = await runStreamLoadTest({
    client: plan.client,
    bodies: llmRequestBodies(manifest),
    concurrency: plan.concurrency,
    durationSeconds: plan.durationSeconds,
  });
  const { samples, ...load } = run;
  const tokens = analyzeTokens(samples, budget, run.wallMs, plan.concurrency);
  if (samples.length > 0 && tokens.failed === samples.length) {
    throw new OperationError('endpoint_failed', `${plan.client.chatRoute} failed every request of the load test (${samples.length}): ${samples[0]!.error}`, {
      hint: 'check the deployment (`mlship status`, its logs) and run `mlship budget` again',
    });
  }
  if (run.generator.saturated) {
    tokens.findings.push(`the load generator used ${run.generator.cpuPercent}% of a core: it may have limited the rate; the latencies are an upper bound`);
  }
  let throughput: MeasuredThroughput | undefined;
  if (options.record && tokens.aggregateTokensPerSecond > 0 && tokens.completionTokens) {
    const deployed = selectCompute(selectionInput(manifest));
    const replicas = Math.max(1, deployed.replicas.min);
    throughput = recordThroughput(manifest, {
      method: 'mlship budget: streaming load test',
      target: manifest.target,
      instanceType: deployed.instanceType,
      concurrency: plan.concurrency,
      tokensPerSecond: Math.round((tokens.aggregateTokensPerSecond / replicas) * 10) / 10,
      tokensPerRequest: Math.round(tokens.completionTokens.mean * 10) / 10,
      replicas,
      measuredAt: (options.now ?? (() => new Date()))().toISOString(),
    });
  }
  const { compute, cost, cloudReference } = costed(manifest, selectionInput(manifest));
  const reasons = [...tokens.over];
  if (cost.withinBudget === false) reasons.push(`$${cost.selected.monthlyUsd.expected}/month > monthly budget $${cost.monthlyBudgetUsd}`);
  return {
    kind: 'llm',
    url: plan.client.chatRoute,
    verdict: reasons.length > 0 ? 'over' : 'within',
    reasons,
    load,
    tokens,
    ...(throughput && { throughput }),
    compute,
    cost,
    ...(cloudReference && { cloudReference }),
  };
}
