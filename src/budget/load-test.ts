/**
 * The bounded load test behind `mlship budget`: real requests through the deployment's `LiveClient`
 * (the platform's own route and credentials: plain HTTP locally and for a --url, SageMaker's
 * InvokeEndpoint, Vertex's :predict, Azure's scoring URI) at a rate or a concurrency for a few
 * seconds; every response's client-side latency and `Server-Timing` stages become one sample. A rate
 * is spread over lanes, each with at most one request in flight, sending at evenly spaced instants
 * (staggered across lanes), so no burst queues at the server that real traffic at that rate would not
 * make. The generator's own CPU use is measured so a saturated load generator is reported instead of
 * mistaken for a slow server.
 */
import type { LiveClient } from '../deploy/types.js';
import { MlshipError, OperationError } from '../util/errors.js';
import { parseServerTiming } from './server-timing.js';

/** What to send, how fast and for how long. */
export interface LoadTestOptions {
  /** The deployment as its callers reach it (`urlClient` for a bare URL). */
  client: LiveClient;
  /** Request bodies (one JSON record each), sent in turn. */
  bodies: string[];
  durationSeconds: number;
  /** Concurrent requests (each lane one at a time). */
  connections: number;
  /** Overall requests per second; undefined = as fast as the connections go. */
  rps?: number;
  /** Requests sent one by one before the test (not measured): checks the endpoint and warms it up. */
  warmupRequests?: number;
  timeoutSeconds?: number;
}

/** One measured response. */
export interface Sample {
  status: number;
  /** Client-side latency: request sent → response body read (ms). */
  totalMs: number;
  /** Server-reported stages (ms). */
  stages: Record<string, number>;
  /** Records predicted together with this request (the app's X-Batch-Size), when reported. */
  batchSize?: number;
}

/** The load generator's own footprint. */
export interface GeneratorUsage {
  /** CPU time of this process over the test, as a share of one core (100 = one core busy). */
  cpuPercent: number;
  cpuMs: number;
  /** Above ~80 % of a core the generator, not the server, may limit the rate. */
  saturated: boolean;
}

/** What came back: every sample and the load generator's own footprint. */
export interface LoadTestResult {
  url: string;
  durationSeconds: number;
  connections: number;
  targetRps: number | null;
  /** Responses received (any status). */
  responses: number;
  achievedRps: number;
  /** Connection errors and timeouts (no response). */
  errors: number;
  timeouts: number;
  /** Responses by status code. */
  statusCounts: Record<string, number>;
  samples: Sample[];
  generator: GeneratorUsage;
}

/** Run the load test. Throws `OperationError` when the endpoint is unreachable or rejects the requests. */
export async function runLoadTest(options: LoadTestOptions): Promise<LoadTestResult> {
  if (options.bodies.length === 0)
    throw new OperationError('budget_no_requests', 'no request bodies to send', { hint: 'set features.baseline so mlship can build requests from its rows' });
  const { client } = options;
  const url = client.predictRoute;
  await preflight({
    url,
    bodies: options.bodies,
    ...(options.warmupRequests !== undefined && { warmupRequests: options.warmupRequests }),
    ...(options.timeoutSeconds !== undefined && { timeoutSeconds: options.timeoutSeconds }),
    send: (body, signal) => client.predict(body, { signal }),
  });

  const samples: Sample[] = [];
  const statusCounts: Record<string, number> = {};
  const failures = { errors: 0, timeouts: 0 };
  const timeoutMs = (options.timeoutSeconds ?? 10) * 1000;
  let next = 0;
  const once = async () => {
    const body = options.bodies[next++ % options.bodies.length]!;
    const sent = performance.now();
    try {
      const response = await client.predict(body, { signal: AbortSignal.timeout(timeoutMs) });
      await response.arrayBuffer();
      const batch = Number(response.headers.get('x-batch-size'));
      samples.push({
        status: response.status,
        totalMs: performance.now() - sent,
        stages: parseServerTiming(response.headers.get('server-timing') ?? undefined),
        ...(Number.isFinite(batch) && batch > 0 && { batchSize: batch }),
      });
      statusCounts[response.status] = (statusCounts[response.status] ?? 0) + 1;
    } catch (error) {
      if ((error as Error).name === 'TimeoutError') failures.timeouts++;
      else failures.errors++;
    }
  };

  const cpuBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  const t0 = performance.now();
  const deadline = t0 + options.durationSeconds * 1000;
  // A lane sends one request at a time: unthrottled, the next as soon as the last one ended; at a
  // rate, at its evenly spaced instants (a late answer delays only that lane's next request).
  const rates = options.rps === undefined ? Array.from({ length: options.connections }, () => undefined) : lanesFor(options.rps, options.connections);
  const lane = async (rate: number | undefined, offsetMs: number) => {
    const interval = rate === undefined ? 0 : 1000 / rate;
    let at = t0 + offsetMs;
    for (;;) {
      const wait = at - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      if (performance.now() >= deadline) return;
      await once();
      // A late lane sends its next request at once, never a burst to catch up.
      at = rate === undefined ? 0 : Math.max(at + interval, performance.now());
    }
  };
  // Lanes at a rate start staggered over one lane's interval, so their requests interleave.
  const stagger = options.rps === undefined ? 0 : 1000 / options.rps;
  await Promise.all(rates.map((rate, i) => lane(rate, i * stagger)));
  const generator = generatorUsage(cpuBefore, started);
  return {
    url,
    durationSeconds: options.durationSeconds,
    connections: rates.length,
    targetRps: options.rps ?? null,
    responses: samples.length,
    achievedRps: Math.round((samples.length / options.durationSeconds) * 10) / 10,
    errors: failures.errors,
    timeouts: failures.timeouts,
    statusCounts,
    samples,
    generator,
  };
}

/** This process's CPU use since `cpuBefore` / `started` (`process.cpuUsage()`, `process.hrtime.bigint()`). */
export function generatorUsage(cpuBefore: NodeJS.CpuUsage, started: bigint): GeneratorUsage {
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const cpuPercent = Math.round((cpuMs / wallMs) * 1000) / 10;
  return { cpuPercent, cpuMs: Math.round(cpuMs), saturated: cpuPercent > 80 };
}

/** Per-lane whole rates adding up to `rps` (at least 1 rps in all), over at most `connections` lanes. */
export function lanesFor(rps: number, connections: number): number[] {
  const total = Math.max(1, Math.round(rps));
  const count = Math.max(1, Math.min(total, Math.floor(connections)));
  return Array.from({ length: count }, (_, i) => Math.floor(total / count) + (i < total % count ? 1 : 0));
}

/**
 * A few requests one at a time before measuring: an unreachable endpoint or a rejected body becomes a
 * clear error here (with the server's answer), not a load test full of failures; the server warms up.
 */
export async function preflight(
  options: Pick<LoadTestOptions, 'bodies' | 'warmupRequests' | 'timeoutSeconds'> & {
    /** The route the requests reach, for messages. */
    url: string;
    /** How a request is sent: the deployment's client. */
    send: (body: string, signal: AbortSignal) => Promise<Response>;
  },
  rejectedHint = 'check that the URL is the prediction route and that features.baseline rows match features.schema',
): Promise<void> {
  const count = Math.max(1, options.warmupRequests ?? 5);
  const { send } = options;
  for (let i = 0; i < count; i++) {
    const body = options.bodies[i % options.bodies.length]!;
    let response: Response;
    try {
      response = await send(body, AbortSignal.timeout((options.timeoutSeconds ?? 10) * 1000));
    } catch (error) {
      if (error instanceof MlshipError) throw error;
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
      throw new OperationError('endpoint_unreachable', `cannot reach ${options.url} (${cause})`, {
        hint: 'start the deployment (`mlship deploy` or `mlship serve`) or pass --url of a running endpoint',
      });
    }
    const text = await response.text();
    if (!response.ok) {
      throw new OperationError('budget_request_rejected', `${options.url} answered ${response.status} to a test request: ${text.slice(0, 300)}`, {
        hint:
          response.status === 401 || response.status === 403
            ? 'the endpoint refused the request’s credentials: mlship sends the platform’s credentials only to the target’s own live deployment (`mlship budget` without --url); or measure the same build locally (`mlship serve`, then --url http://127.0.0.1:8080) with --target naming the cloud to cost'
            : rejectedHint,
        details: { status: response.status, body: body.slice(0, 500) },
      });
    }
  }
}
