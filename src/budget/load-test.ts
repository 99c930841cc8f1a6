/**
 * The bounded load test behind `mlship budget`: autocannon (loaded lazily, only when a test runs)
 * sends real requests at a rate or a concurrency for a few seconds; every response's client-side
 * latency and `Server-Timing` stages become one sample. The generator's own CPU use is measured so a
 * saturated load generator is reported instead of mistaken for a slow server.
 */
import { MlshipError, OperationError } from '../util/errors.js';
import { parseServerTiming } from './server-timing.js';

/** What to send, how fast and for how long. */
export interface LoadTestOptions {
  /** Full URL of the prediction route. */
  url: string;
  /** Request bodies (JSON text), sent in turn. */
  bodies: string[];
  durationSeconds: number;
  /** Concurrent connections (each one request at a time). */
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
  /** Client-side latency: request written → response complete (ms). */
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

/** The narrow slice of autocannon this module uses. */
interface AutocannonClient {
  on(event: 'headers', listener: (info: { statusCode: number; headers: string[] }) => void): void;
  on(event: 'response', listener: (statusCode: number, bytes: number, durationMs: number) => void): void;
}
interface AutocannonResult {
  errors: number;
  timeouts: number;
  duration: number;
}
type Autocannon = (options: Record<string, unknown>) => Promise<AutocannonResult>;

/** Run the load test. Throws `OperationError` when the endpoint is unreachable or rejects the requests. */
export async function runLoadTest(options: LoadTestOptions): Promise<LoadTestResult> {
  if (options.bodies.length === 0)
    throw new OperationError('budget_no_requests', 'no request bodies to send', { hint: 'set features.baseline so mlship can build requests from its rows' });
  await preflight(options);
  const { default: autocannon } = (await import('autocannon')) as unknown as { default: Autocannon };

  const samples: Sample[] = [];
  const statusCounts: Record<string, number> = {};
  const setupClient = (client: AutocannonClient) => {
    // One request in flight per connection: each `headers` event belongs to the next `response`.
    let stages: Record<string, number> = {};
    let batchSize: number | undefined;
    client.on('headers', (info) => {
      stages = parseServerTiming(headerValues(info.headers, 'server-timing'));
      const batch = Number(headerValues(info.headers, 'x-batch-size')[0]);
      batchSize = Number.isFinite(batch) && batch > 0 ? batch : undefined;
    });
    client.on('response', (statusCode, _bytes, durationMs) => {
      samples.push({ status: statusCode, totalMs: durationMs, stages, ...(batchSize !== undefined && { batchSize }) });
      statusCounts[statusCode] = (statusCounts[statusCode] ?? 0) + 1;
      stages = {};
      batchSize = undefined;
    });
  };

  const cpuBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  const base = {
    url: options.url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    requests: options.bodies.map((body) => ({ method: 'POST', body })),
    duration: options.durationSeconds,
    timeout: options.timeoutSeconds ?? 10,
    setupClient,
  };
  let results: AutocannonResult[];
  try {
    results =
      options.rps === undefined
        ? [await autocannon({ ...base, connections: options.connections })]
        : await paced(autocannon, base, options.rps, options.connections);
  } catch (error) {
    throw new OperationError('budget_load_failed', `the load test against ${options.url} failed: ${(error as Error).message}`, { cause: error });
  }
  const result = { errors: results.reduce((a, r) => a + r.errors, 0), timeouts: results.reduce((a, r) => a + r.timeouts, 0) };
  const generator = generatorUsage(cpuBefore, started);
  return {
    url: options.url,
    durationSeconds: options.durationSeconds,
    connections: options.rps === undefined ? options.connections : lanesFor(options.rps, options.connections).length,
    targetRps: options.rps ?? null,
    responses: samples.length,
    // Paced lanes start staggered over up to a second, each running the full duration.
    achievedRps: Math.round((samples.length / options.durationSeconds) * 10) / 10,
    errors: result.errors,
    timeouts: result.timeouts,
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

/**
 * A rate spread evenly over the second. autocannon's rate limit sends each second's share of a
 * connection back to back at the start of the second; those bursts queue at the server and would be
 * measured as latency no real traffic at that rate has. So the rate is split over several lanes of one
 * connection each, started at evenly staggered offsets: at most one request per lane in flight, and
 * the bursts interleave instead of piling up.
 */
async function paced(autocannon: Autocannon, base: Record<string, unknown>, rps: number, connections: number): Promise<AutocannonResult[]> {
  const lanes = lanesFor(rps, connections);
  const step = 1000 / lanes.length;
  // Stop a hair before the last whole second: a lane's once-a-second refill and autocannon's stop
  // timer would otherwise both fire at `duration` and the refill's burst would slip in first.
  const duration = Math.max(0.05, Number(base.duration) - 0.02);
  return Promise.all(
    lanes.map(
      (rate, i) =>
        new Promise<AutocannonResult>((resolve, reject) => {
          setTimeout(() => autocannon({ ...base, duration, connections: 1, overallRate: rate }).then(resolve, reject), i * step);
        }),
    ),
  );
}

/** Per-lane whole rates adding up to `rps` (at least 1 rps in all), over at most `connections` lanes. */
export function lanesFor(rps: number, connections: number): number[] {
  const total = Math.max(1, Math.round(rps));
  const count = Math.max(1, Math.min(total, Math.floor(connections)));
  return Array.from({ length: count }, (_, i) => Math.floor(total / count) + (i < total % count ? 1 : 0));
}

/** All values of a header in autocannon's flat `[name, value, name, value…]` list. */
function headerValues(flat: string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) if (flat[i]!.toLowerCase() === name) out.push(flat[i + 1]!);
  return out;
}

/**
 * A few requests one at a time before measuring: an unreachable endpoint or a rejected body becomes a
 * clear error here (with the server's answer), not a load test full of failures; the server warms up.
 */
export async function preflight(
  options: Pick<LoadTestOptions, 'url' | 'bodies' | 'warmupRequests' | 'timeoutSeconds'> & {
    /** How a request is sent (the deployment's client); default a JSON POST to `url`. */
    send?: (body: string, signal: AbortSignal) => Promise<Response>;
  },
  rejectedHint = 'check that the URL is the prediction route and that features.baseline rows match features.schema',
): Promise<void> {
  const count = Math.max(1, options.warmupRequests ?? 5);
  const send =
    options.send ??
    ((body: string, signal: AbortSignal) => fetch(options.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal }));
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
