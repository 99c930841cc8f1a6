/**
 * Latency-budget arithmetic, pure: load-test samples + the manifest's `budget` block → each stage's
 * measured percentiles against its allocation, the client-side total, the undeclared remainder
 * (network, queuing) and the verdict. Budgets are cumulative: the whole chain is judged, including
 * stages outside the model server that the user declares (a database lookup, the real network hop),
 * which are counted at their allocation because they cannot be measured here.
 */
import type { Manifest } from '../manifest/types.js';
import type { Sample } from './load-test.js';
import { round, summarize, type Percentiles } from './stats.js';

/** The stages the generated serving app reports in `Server-Timing`, in request order. */
export const SERVER_STAGES = ['validate', 'queue', 'features', 'model', 'post', 'log'] as const;

/** Manifest stage names that mean a server stage by another word. */
const STAGE_ALIASES: Record<string, string> = {
  validation: 'validate',
  preprocess: 'features',
  inference: 'model',
  predict: 'model',
  postprocess: 'post',
  logging: 'log',
  batching: 'queue',
};

/** Share of failed requests above which the budget cannot be said to hold. */
const MAX_ERROR_RATE = 0.01;

/** The percentile a budget is stated at. */
export type PercentileName = 'p50' | 'p95' | 'p99';

/** One stage of the request chain, judged against its allocation. */
export interface StageReport {
  /** The name as the manifest declares it (or as the server reports it when undeclared). */
  name: string;
  /** `server`: measured from Server-Timing; `declared`: outside the model server, counted at its allocation. */
  kind: 'server' | 'declared';
  /** The Server-Timing name measured for this stage, when different from `name`. */
  serverName?: string;
  allocatedMs: number | null;
  measured: Percentiles | null;
  /** The value judged: measured at the budget's percentile, or the allocation of a declared stage. */
  valueMs: number;
  status: 'ok' | 'over' | 'declared' | 'unallocated';
}

/** The latency budget, stage by stage and end to end. */
export interface LatencyReport {
  percentile: PercentileName;
  targetMs: number;
  stages: StageReport[];
  /** Sum of the server stages, per request. */
  server: Percentiles | null;
  /** Client-side latency minus the server stages, per request: the network hop and queuing. */
  remainder: Percentiles | null;
  /** Client-side latency of successful requests. */
  client: Percentiles;
  /** Records per micro-batch the server predicted each request in (X-Batch-Size), when it says. */
  batchSize: Percentiles | null;
  /** Sum of the allocations of declared (unmeasured) stages. */
  declaredMs: number;
  /** Client total at the percentile plus the declared stages: the whole chain. */
  endToEndMs: number;
  requests: number;
  failed: number;
  errorRate: number;
  verdict: 'within' | 'over';
  /** The stages over their allocation. */
  overStages: string[];
  /** What the verdict rests on, one sentence each. */
  findings: string[];
}

/** Judge the samples against the budget. `failed` counts requests that got no 2xx answer. */
export function analyzeLatency(samples: readonly Sample[], budget: Manifest['budget'], failedWithoutResponse = 0): LatencyReport {
  const percentile = budget.latency_ms.percentile;
  const targetMs = budget.latency_ms.value;
  const ok = samples.filter((s) => s.status >= 200 && s.status < 300);
  const failed = samples.length - ok.length + failedWithoutResponse;
  const total = samples.length + failedWithoutResponse;
  const errorRate = total === 0 ? 0 : failed / total;

  // Server stages in the order the server reports them (known stages first, then any others).
  const seen = new Set<string>();
  for (const s of ok) for (const name of Object.keys(s.stages)) if (name !== 'total') seen.add(name);
  const serverOrder = [...SERVER_STAGES.filter((n) => seen.has(n)), ...[...seen].filter((n) => !(SERVER_STAGES as readonly string[]).includes(n))];
  const measuredOf = (serverName: string) => summarize(ok.filter((s) => s.stages[serverName] !== undefined).map((s) => s.stages[serverName]!));

  const stages: StageReport[] = [];
  const claimed = new Set<string>();
  for (const [name, allocatedMs] of Object.entries(budget.stages_ms)) {
    const serverName = seen.has(name) ? name : STAGE_ALIASES[name] !== undefined && seen.has(STAGE_ALIASES[name]!) ? STAGE_ALIASES[name]! : undefined;
    if (serverName === undefined || claimed.has(serverName)) {
      stages.push({ name, kind: 'declared', allocatedMs, measured: null, valueMs: allocatedMs, status: 'declared' });
      continue;
    }
    claimed.add(serverName);
    const measured = measuredOf(serverName);
    const valueMs = measured[percentile];
    stages.push({
      name,
      kind: 'server',
      ...(serverName !== name && { serverName }),
      allocatedMs,
      measured,
      valueMs,
      status: valueMs > allocatedMs ? 'over' : 'ok',
    });
  }
  // Server stages nobody allocated: measured, shown in server order after the declared ones.
  for (const serverName of serverOrder) {
    if (claimed.has(serverName)) continue;
    const measured = measuredOf(serverName);
    stages.push({ name: serverName, kind: 'server', allocatedMs: null, measured, valueMs: measured[percentile], status: 'unallocated' });
  }

  const client = summarize(ok.map((s) => s.totalMs));
  const withStages = ok.filter((s) => Object.keys(s.stages).some((k) => k !== 'total'));
  const serverSum = (s: Sample) => Object.entries(s.stages).reduce((a, [k, v]) => (k === 'total' ? a : a + v), 0);
  const server = withStages.length > 0 ? summarize(withStages.map(serverSum)) : null;
  const remainder = withStages.length > 0 ? summarize(withStages.map((s) => Math.max(0, s.totalMs - serverSum(s)))) : null;
  const declaredMs = round(stages.filter((s) => s.kind === 'declared').reduce((a, s) => a + (s.allocatedMs ?? 0), 0));
  const endToEndMs = round(client[percentile] + declaredMs);

  const overStages = stages.filter((s) => s.status === 'over').map((s) => s.name);
  const findings: string[] = [];
  for (const s of stages.filter((x) => x.status === 'over')) {
    findings.push(`${s.name} is over its allocation: ${percentile} ${fmt(s.valueMs)} ms > ${fmt(s.allocatedMs!)} ms`);
  }
  const chainOver = endToEndMs > targetMs;
  const chainWords =
    declaredMs > 0
      ? `client ${percentile} ${fmt(client[percentile])} ms + ${fmt(declaredMs)} ms declared outside the server`
      : `client ${percentile} ${fmt(client[percentile])} ms`;
  findings.push(`end to end ${fmt(endToEndMs)} ms (${chainWords}) ${chainOver ? '>' : '<='} the ${percentile} target of ${fmt(targetMs)} ms`);
  const errorsOver = errorRate > MAX_ERROR_RATE;
  if (failed > 0)
    findings.push(`${failed} of ${total} requests failed (${(errorRate * 100).toFixed(1)}%)${errorsOver ? ', more than the 1% a budget can hold with' : ''}`);
  if (ok.length > 0 && withStages.length === 0) {
    findings.push('the server sent no Server-Timing header: its stages could not be measured, only the client-side total');
  }
  if (ok.length === 0) findings.push('no request succeeded: nothing to measure');
  const batched = ok.filter((s) => s.batchSize !== undefined);
  const batchSize = batched.length > 0 ? summarize(batched.map((s) => s.batchSize!)) : null;
  if (batchSize)
    findings.push(
      `the server predicted requests in micro-batches of ${round(batchSize.p50)} records at p50 (p99 ${round(batchSize.p99)}); their wait is the queue stage`,
    );

  return {
    percentile,
    targetMs,
    stages,
    server,
    remainder,
    client,
    batchSize,
    declaredMs,
    endToEndMs,
    requests: total,
    failed,
    errorRate: round(errorRate),
    verdict: overStages.length > 0 || chainOver || errorsOver || ok.length === 0 ? 'over' : 'within',
    overStages,
    findings,
  };
}

function fmt(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2);
}
