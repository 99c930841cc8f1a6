/**
 * The local router: a small reverse proxy on the stable port in front of the version processes.
 *
 * Why a proxy: switching versions must not fail a single request. The router sends new requests to
 * the new version the moment it is switched, lets requests already in flight on the old version
 * finish (the deploy waits for `inflight` to reach zero before stopping it), and retries a request
 * whose connection failed before any response arrived (a keep-alive socket closed by a stopping app)
 * on the current version. Bodies are buffered (they are small, bounded JSON), so a retry resends
 * exactly what the client sent.
 *
 * Canary: `split` puts a second backend beside the live one and sends it `percent` of the new
 * requests (a deterministic weighted round-robin, so 10% is every tenth request, not a coin toss);
 * the router counts, per version, the requests answered, the 5xx (a backend that never answered
 * counts as one) and each answer's latency, which `POST /stats` hands the shared rollout controller
 * (src/deploy/rollout.ts) period by period. `switchTo` the canary promotes it (the old live version
 * drains); `switchTo` the live one reverts (the canary drains). Either way no request fails.
 *
 * Control: a second loopback listener takes `POST /switch {url, version}`, `POST /split {url, version,
 * percent}`, `POST /stats {version, percentile}` (the counts since the last read, then reset),
 * `GET /state`, `POST /drain {url}` (answers when that backend has no request in flight), each with
 * the token from the deploy state file.
 */
import { Agent, createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface Backend {
  url: string;
  version: string;
}

interface LiveBackend extends Backend {
  agent: Agent;
  inflight: number;
  /** `url` parsed once, not per request. */
  hostname: string;
  port: number;
  host: string;
}

/** Headers that belong to one hop and are not forwarded. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer']);
const RETRYABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ECONNABORTED']);
/** Largest body the router buffers; the app enforces its own, smaller limit with a 413. */
const MAX_BODY = 64 * 1024 * 1024;
/** Latencies kept for the canary between two reads of its stats (a bound on memory). */
const MAX_LATENCIES = 100_000;

/** What one version answered since its stats were last read. */
export interface VersionStats {
  requests: number;
  errors5xx: number;
  /** Latency at the asked percentile, ms; absent when nothing was answered. */
  latencyMs?: number;
}

function liveBackend(backend: Backend): LiveBackend {
  const url = new URL(backend.url);
  return {
    ...backend,
    agent: new Agent({ keepAlive: true, maxSockets: Infinity }),
    inflight: 0,
    hostname: url.hostname,
    port: Number(url.port),
    host: url.host,
  };
}

/** The value at quantile `q` of unsorted samples (nearest rank). */
function quantile(samples: number[], q: number): number | undefined {
  if (samples.length === 0) return undefined;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

export class Router {
  private current: LiveBackend | undefined;
  private readonly draining = new Set<LiveBackend>();
  private readonly waiters = new Set<() => void>();
  /** Requests served, for `GET /state`. */
  private served = 0;

  /** The canary beside the live backend, and its share of new requests (percent). */
  private canary: { backend: LiveBackend; percent: number } | undefined;
  /** Requests routed since the split, for the weighted round-robin. */
  private routed = 0;
  private readonly stats = new Map<string, { requests: number; errors5xx: number; latencies: number[] }>();

  /**
   * Point all new requests at a backend; returns the one it replaces (still draining). Switching to
   * the canary promotes it; switching to the live backend while a canary runs reverts the canary.
   */
  switchTo(backend: Backend): Backend | undefined {
    const previous = this.current;
    const canary = this.canary?.backend;
    this.canary = undefined;
    if (canary && canary.url === backend.url) {
      this.current = canary;
    } else if (previous && previous.url === backend.url) {
      if (canary) this.retire(canary);
      return undefined;
    } else {
      this.current = liveBackend(backend);
      if (canary) this.retire(canary);
    }
    if (previous) this.retire(previous);
    return previous && { url: previous.url, version: previous.version };
  }

  /** Send `percent` of new requests to `backend` beside the live one; its stats start from zero. */
  split(backend: Backend, percent: number): void {
    if (!this.current) throw new Error('no live backend to split traffic with');
    if (!(percent > 0 && percent < 100)) throw new Error(`percent must be between 0 and 100, got ${percent}`);
    if (this.canary) this.retire(this.canary.backend);
    this.canary = { backend: liveBackend(backend), percent };
    this.routed = 0;
    this.stats.delete(backend.version);
  }

  /** What `version` answered since the last read (then counted from zero again). */
  readStats(version: string, q: number): VersionStats {
    const s = this.stats.get(version);
    this.stats.delete(version);
    if (!s) return { requests: 0, errors5xx: 0 };
    const latencyMs = quantile(s.latencies, q);
    return { requests: s.requests, errors5xx: s.errors5xx, ...(latencyMs !== undefined && { latencyMs }) };
  }

  private retire(backend: LiveBackend): void {
    this.draining.add(backend);
    this.settle(backend);
  }

  /** Count an answer of the canary's version (the live version is not watched: nothing reads it). */
  private record(version: string, status: number, ms: number): void {
    if (this.canary?.backend.version !== version) return;
    let s = this.stats.get(version);
    if (!s) this.stats.set(version, (s = { requests: 0, errors5xx: 0, latencies: [] }));
    s.requests++;
    if (status >= 500) s.errors5xx++;
    // Past the bound a random sample is replaced: O(1), and the percentile stays representative.
    if (s.latencies.length >= MAX_LATENCIES) s.latencies[Math.floor(Math.random() * MAX_LATENCIES)] = ms;
    else s.latencies.push(ms);
  }

  /** The backend of the next request: the canary on its share of the round-robin, else the live one. */
  private pick(): LiveBackend | undefined {
    const c = this.canary;
    if (!c) return this.current;
    const n = this.routed++;
    return Math.floor(((n + 1) * c.percent) / 100) > Math.floor((n * c.percent) / 100) ? c.backend : this.current;
  }

  /** Resolves once no request is in flight on `url` (or after `timeoutMs`). */
  async drain(url: string, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    const busy = () =>
      [...this.draining].some((b) => b.url === url && b.inflight > 0) ||
      (this.current?.url === url && this.current.inflight > 0) ||
      (this.canary?.backend.url === url && this.canary.backend.inflight > 0);
    while (busy()) {
      if (Date.now() >= deadline) return false;
      await new Promise<void>((resolve) => {
        const done = () => {
          this.waiters.delete(done);
          resolve();
        };
        this.waiters.add(done);
        setTimeout(done, Math.max(1, Math.min(100, deadline - Date.now())));
      });
    }
    return true;
  }

  state(): {
    current?: Backend & { inflight: number };
    canary?: Backend & { inflight: number; percent: number };
    draining: (Backend & { inflight: number })[];
    served: number;
  } {
    const view = (b: LiveBackend) => ({ url: b.url, version: b.version, inflight: b.inflight });
    return {
      ...(this.current && { current: view(this.current) }),
      ...(this.canary && { canary: { ...view(this.canary.backend), percent: this.canary.percent } }),
      draining: [...this.draining].map(view),
      served: this.served,
    };
  }

  /** The request handler of the stable port. */
  handle = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      // Past the bound the body is read and dropped, then answered 413: closing a socket with unread
      // data would reset it, and the client would see the reset instead of the answer.
      if (size <= MAX_BODY) chunks.push(chunk);
      else if (size > 2 * MAX_BODY) req.destroy();
    });
    req.on('end', () => {
      if (res.headersSent) return;
      if (size > MAX_BODY) return reply(res, 413, { error: 'request body too large' });
      this.forward(req, res, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks), 0);
    });
    req.on('error', () => undefined);
  };

  private forward(req: IncomingMessage, res: ServerResponse, body: Buffer, attempt: number): void {
    // A retry goes to the live version: the first pick did not answer.
    const backend = attempt === 0 ? this.pick() : this.current;
    if (!backend) {
      reply(res, 503, { error: 'no version is live', hint: 'run `mlship deploy`' });
      return;
    }
    backend.inflight++;
    const started = performance.now();
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      backend.inflight--;
      this.settle(backend);
    };
    const upstream = request(
      {
        hostname: backend.hostname,
        port: backend.port,
        path: req.url ?? '/',
        method: req.method,
        headers: requestHeaders(req.rawHeaders, backend.host, body.length),
        agent: backend.agent,
      },
      (response) => {
        this.served++;
        const status = response.statusCode ?? 502;
        res.writeHead(status, endToEnd(response.rawHeaders));
        response.pipe(res);
        response.on('end', () => {
          this.record(backend.version, status, performance.now() - started);
          release();
        });
        response.on('error', () => {
          release();
          res.destroy();
        });
      },
    );
    upstream.on('error', (error: NodeJS.ErrnoException) => {
      release();
      if (res.headersSent) {
        res.destroy();
        return;
      }
      // The request never reached a version that answered: try again on the live one.
      if (RETRYABLE.has(error.code ?? '') && attempt < 3) {
        setTimeout(() => this.forward(req, res, body, attempt + 1), attempt * 10);
        return;
      }
      this.record(backend.version, 502, performance.now() - started);
      reply(res, 502, { error: `the live version did not answer: ${error.code ?? error.message}` });
    });
    upstream.end(body);
  }

  private settle(backend: LiveBackend): void {
    if (backend !== this.current && backend !== this.canary?.backend && backend.inflight === 0 && this.draining.has(backend)) {
      this.draining.delete(backend);
      backend.agent.destroy();
    }
    for (const w of [...this.waiters]) w();
  }
}

/**
 * The end-to-end headers of a raw header list ([name, value, name, value, ...], as received), still
 * flat: Node takes that shape as is, so no header object is built per request in either direction.
 */
function endToEnd(raw: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (!HOP_BY_HOP.has(name.toLowerCase())) out.push(name, raw[i + 1]!);
  }
  return out;
}

/** The client's end-to-end headers for the backend, with its Host and the buffered body's length. */
function requestHeaders(raw: string[], host: string, length: number): string[] {
  const out = ['host', host, 'content-length', String(length)];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (name !== 'host' && name !== 'content-length' && !HOP_BY_HOP.has(name)) out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** The control listener: switch, drain and state, guarded by a token. */
export function controlServer(router: Router, token: string): Server {
  return createServer((req, res) => {
    if (req.headers.authorization !== `Bearer ${token}`) return reply(res, 401, { error: 'bad token' });
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      void (async () => {
        const body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
        if (req.method === 'POST' && req.url === '/switch') {
          const previous = router.switchTo({ url: String(body.url), version: String(body.version) });
          return reply(res, 200, { previous: previous ?? null });
        }
        if (req.method === 'POST' && req.url === '/split') {
          router.split({ url: String(body.url), version: String(body.version) }, Number(body.percent));
          return reply(res, 200, {});
        }
        if (req.method === 'POST' && req.url === '/stats') {
          return reply(res, 200, router.readStats(String(body.version), Number(body.quantile ?? 0.95)));
        }
        if (req.method === 'POST' && req.url === '/drain') {
          const drained = await router.drain(String(body.url), Number(body.timeoutMs ?? 30_000));
          return reply(res, 200, { drained });
        }
        if (req.method === 'GET' && req.url === '/state') return reply(res, 200, router.state());
        reply(res, 404, { error: 'unknown control route' });
      })().catch((error: Error) => reply(res, 400, { error: error.message }));
    });
  });
}
