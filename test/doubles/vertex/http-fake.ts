/**
 * The HTTP doubles beside the Vertex gRPC fake, on one port:
 * - Cloud Storage JSON API as `@google-cloud/storage` 7 speaks it with `STORAGE_EMULATOR_HOST`:
 *   buckets get/insert, objects get (metadata and `alt=media`), list (prefix, delimiter, pages),
 *   multipart upload (answers crc32c and md5Hash, or the client deletes the object) with
 *   `ifGenerationMatch`, delete.
 * - BigQuery v2 as `@google-cloud/bigquery` 8 speaks it with `BIGQUERY_EMULATOR_HOST`: datasets
 *   get/insert, tables get, `jobs.query` + `getQueryResults` for the one query shape mlship sends
 *   (rows of one table between two timestamps, paged).
 * - Cloud Monitoring v3 `timeSeries.list` for the online prediction metrics of an endpoint.
 * - The REST predict route `POST /v1/{endpoint}:predict`: picks a deployed model by the endpoint's
 *   traffic split, forwards `{"instances", "parameters"}` to that model's container (the serving app,
 *   for real), records the request for the metrics, and writes a request-response logging row to the
 *   BigQuery table named by the endpoint's logging config, as Vertex does.
 * - `:rawPredict` and `:streamRawPredict`: the body passed to the container as it is and its answer
 *   streamed back (an LLM's OpenAI bodies and event streams); metrics, no logging row.
 * Sources: CONTRACT.md beside this file; shapes from the public REST references of each API.
 */
import { createHash } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createConnection, createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { CRC32C } from '@google-cloud/storage';
import type { VertexGrpcFake } from './grpc-fake.js';

export interface StoredObject {
  data: Buffer;
  contentType: string;
  generation: number;
  metadata?: Record<string, string>;
  updated: Date;
}

/** One prediction the predict route served, for Cloud Monitoring. */
export interface PredictionEvent {
  ts: Date;
  endpointId: string;
  deployedModelId: string;
  latencyMs: number;
  error: boolean;
}

export interface BigQueryTable {
  schema: { name: string; type: string; mode?: string }[];
  rows: Record<string, unknown>[];
}

export class VertexHttpFake {
  readonly buckets = new Map<string, { location: string; objects: Map<string, StoredObject> }>();
  readonly datasets = new Map<string, { location: string }>();
  readonly tables = new Map<string, BigQueryTable>();
  readonly events: PredictionEvent[] = [];
  /** Model versions (`…/models/M@2`) whose predictions fail with 500, as a broken release would. */
  readonly failing = new Set<string>();
  /**
   * Synthetic serving behaviour of model versions (`…/models/M@2`) for Cloud Monitoring: each read of a
   * window reports 100 predictions of that deployed model with this error rate and latency, besides
   * what the predict route really served (tests with an injected clock send no traffic).
   */
  readonly behaviour = new Map<string, { errorRate?: number; latencyMs?: number }>();
  /**
   * Set: every deployed model gets synthetic predictions in each window read, this many per minute of
   * the window times its share of the endpoint's traffic (behaviour as above, else healthy at 5 ms);
   * 0 is an endpoint nobody calls. Unset: the 100 predictions per read of the behaviour map.
   */
  syntheticRequestsPerMinute: number | undefined;
  readonly requests: { method: string; path: string }[] = [];
  private readonly queries = new Map<string, Record<string, unknown>[]>();
  private readonly picks = new Map<string, Record<string, number>>();
  private http?: Server;
  private front?: NetServer;
  /** Every connection to the front (HTTP and the gRPC ones piped through), cut by stop. */
  private readonly sockets = new Set<Socket>();
  private generation = 1;
  private ids = 0;
  port = 0;

  constructor(
    private readonly grpc: VertexGrpcFake,
    readonly project: string,
  ) {}

  /** Whether a `gs://bucket/name` object or a `gs://bucket/prefix/` folder exists. */
  gcsExists(uri: string): boolean {
    const m = /^gs:\/\/([^/]+)\/(.*)$/.exec(uri);
    const bucket = m && this.buckets.get(m[1]!);
    if (!bucket) return false;
    const key = m[2]!;
    return key.endsWith('/') ? [...bucket.objects.keys()].some((k) => k.startsWith(key)) : bucket.objects.has(key);
  }

  /**
   * Start listening on one port for both this HTTP server and the gRPC fake: a connection that opens
   * with the HTTP/2 preface is piped to gRPC, anything else is HTTP/1.1 — one address, as Vertex has.
   */
  async start(grpcPort: number, port = 0): Promise<number> {
    this.http = createServer(
      (req, res) => void this.route(req, res).catch((e: unknown) => send(res, 500, { error: { code: 500, message: `fake bug: ${(e as Error).stack}` } })),
    );
    this.front = createNetServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.once('data', (chunk) => {
        socket.pause();
        if (chunk.toString('latin1', 0, 14) === 'PRI * HTTP/2.0') {
          const upstream = createConnection({ host: '127.0.0.1', port: grpcPort }, () => {
            upstream.write(chunk);
            socket.pipe(upstream).pipe(socket);
            socket.resume();
          });
          const close = () => {
            socket.destroy();
            upstream.destroy();
          };
          upstream.on('error', close);
          socket.on('error', close);
        } else {
          socket.unshift(chunk);
          this.http!.emit('connection', socket);
          socket.resume();
        }
      });
    });
    this.port = await new Promise<number>((resolve) => this.front!.listen(port, '127.0.0.1', () => resolve((this.front!.address() as { port: number }).port)));
    return this.port;
  }

  async stop(): Promise<void> {
    this.http?.closeAllConnections();
    // A client still connected (a test that failed before closing its target, a gRPC channel piped
    // through here) must not hold the stop until the hook times out: its connection is cut.
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.front ? this.front.close(() => resolve()) : resolve()));
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    // With STORAGE_EMULATOR_HOST the client drops the /storage/v1 base path (uploads keep /upload/storage/v1).
    if (/^\/b(\/|$)/.test(url.pathname)) url.pathname = `/storage/v1${url.pathname}`;
    const p = decodeURIComponent(url.pathname);
    this.requests.push({ method: req.method ?? 'GET', path: p });
    if (process.env.MLSHIP_FAKE_LOG) process.stderr.write(`vertex fake: ${req.method} ${req.url}\n`);
    const body = await readBody(req);
    let m: RegExpExecArray | null;
    // ---- Cloud Storage
    if ((m = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(p)) && req.method === 'POST') return this.upload(m[1]!, url, req, body, res);
    if ((m = /^\/storage\/v1\/b\/([^/]+)\/o\/(.+)$/.exec(url.pathname)))
      return this.object(decodeURIComponent(m[1]!), decodeURIComponent(m[2]!), url, req, res);
    if ((m = /^\/storage\/v1\/b\/([^/]+)\/o$/.exec(p)) && req.method === 'GET') return this.list(m[1]!, url, res);
    if ((m = /^\/storage\/v1\/b\/([^/]+)$/.exec(p)) && req.method === 'GET') {
      const b = this.buckets.get(m[1]!);
      return b ? send(res, 200, { kind: 'storage#bucket', name: m[1], id: m[1], location: b.location.toUpperCase() }) : notFound(res, `bucket ${m[1]}`);
    }
    if (p === '/storage/v1/b' && req.method === 'POST') {
      const meta = JSON.parse(body.toString() || '{}') as { name?: string; location?: string };
      if (!meta.name || !/^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/.test(meta.name))
        return send(res, 400, { error: { code: 400, message: `Invalid bucket name: '${meta.name}'` } });
      if (this.buckets.has(meta.name))
        return send(res, 409, { error: { code: 409, message: 'Your previous request to create the named bucket succeeded and you already own it.' } });
      this.buckets.set(meta.name, { location: (meta.location ?? 'US').toLowerCase(), objects: new Map() });
      return send(res, 200, { kind: 'storage#bucket', name: meta.name, location: (meta.location ?? 'US').toUpperCase() });
    }
    // ---- BigQuery
    if ((m = /^\/bigquery\/v2\/projects\/([^/]+)\/datasets\/([^/]+)$/.exec(p)) && req.method === 'GET') {
      const d = this.datasets.get(`${m[1]}.${m[2]}`);
      return d
        ? send(res, 200, { kind: 'bigquery#dataset', id: `${m[1]}:${m[2]}`, datasetReference: { projectId: m[1], datasetId: m[2] }, location: d.location })
        : notFound(res, `Dataset ${m[1]}:${m[2]}`);
    }
    if ((m = /^\/bigquery\/v2\/projects\/([^/]+)\/datasets$/.exec(p)) && req.method === 'POST') {
      const meta = JSON.parse(body.toString()) as { datasetReference: { datasetId: string }; location?: string };
      const id = `${m[1]}.${meta.datasetReference.datasetId}`;
      if (this.datasets.has(id)) return send(res, 409, { error: { code: 409, message: `Already Exists: Dataset ${m[1]}:${meta.datasetReference.datasetId}` } });
      this.datasets.set(id, { location: meta.location ?? 'US' });
      return send(res, 200, {
        kind: 'bigquery#dataset',
        id: `${m[1]}:${meta.datasetReference.datasetId}`,
        datasetReference: { projectId: m[1], datasetId: meta.datasetReference.datasetId },
        location: meta.location ?? 'US',
      });
    }
    if ((m = /^\/bigquery\/v2\/projects\/([^/]+)\/queries$/.exec(p)) && req.method === 'POST') return this.query(m[1]!, JSON.parse(body.toString()), res);
    if ((m = /^\/bigquery\/v2\/projects\/([^/]+)\/queries\/([^/]+)$/.exec(p)) && req.method === 'GET') return this.queryPage(m[1]!, m[2]!, url, res);
    // ---- Cloud Monitoring
    if ((m = /^\/v3\/projects\/([^/]+)\/timeSeries$/.exec(p)) && req.method === 'GET') return this.timeSeries(url, res);
    // ---- Vertex AI online prediction (REST)
    if ((m = /^\/v1\/(projects\/[^/]+\/locations\/[^/]+\/endpoints\/[^/:]+):predict$/.exec(p)) && req.method === 'POST') return this.predict(m[1]!, body, res);
    if ((m = /^\/v1\/(projects\/[^/]+\/locations\/[^/]+\/endpoints\/[^/:]+):(rawPredict|streamRawPredict)$/.exec(p)) && req.method === 'POST')
      return this.rawPredict(m[1]!, req, body, res);
    return send(res, 404, { error: { code: 404, message: `the Vertex fake does not serve ${req.method} ${p}` } });
  }

  // ---------------------------------------------------------------------------------------------
  // Cloud Storage

  private objectResource(bucket: string, name: string, o: StoredObject): Record<string, unknown> {
    const crc = new CRC32C();
    crc.update(o.data);
    return {
      kind: 'storage#object',
      id: `${bucket}/${name}/${o.generation}`,
      name,
      bucket,
      generation: String(o.generation),
      metageneration: '1',
      contentType: o.contentType,
      size: String(o.data.length),
      md5Hash: createHash('md5').update(o.data).digest('base64'),
      crc32c: crc.toString(),
      updated: o.updated.toISOString(),
      timeCreated: o.updated.toISOString(),
      ...(o.metadata && { metadata: o.metadata }),
    };
  }

  private upload(bucketName: string, url: URL, req: IncomingMessage, body: Buffer, res: ServerResponse): void {
    const bucket = this.buckets.get(bucketName);
    if (!bucket) return notFound(res, `bucket ${bucketName}`);
    if (url.searchParams.get('uploadType') !== 'multipart')
      return send(res, 501, { error: { code: 501, message: 'the fake takes multipart uploads only (resumable: false)' } });
    const boundary = /boundary="?([^";]+)"?/.exec(req.headers['content-type'] ?? '')?.[1];
    if (!boundary) return send(res, 400, { error: { code: 400, message: 'multipart upload without a boundary' } });
    const parts = splitMultipart(body, boundary);
    if (parts.length !== 2) return send(res, 400, { error: { code: 400, message: `multipart upload needs 2 parts, got ${parts.length}` } });
    const meta = JSON.parse(parts[0]!.body.toString()) as { name?: string; contentType?: string; metadata?: Record<string, string> };
    const name = url.searchParams.get('name') ?? meta.name;
    if (!name) return send(res, 400, { error: { code: 400, message: 'object name missing' } });
    const match = url.searchParams.get('ifGenerationMatch');
    const existing = bucket.objects.get(name);
    if (match !== null && Number(match) !== (existing?.generation ?? 0)) {
      return send(res, 412, {
        error: { code: 412, message: 'At least one of the pre-conditions you specified did not hold.', errors: [{ reason: 'conditionNotMet' }] },
      });
    }
    const object: StoredObject = {
      data: parts[1]!.body,
      contentType: meta.contentType ?? parts[1]!.headers['content-type'] ?? 'application/octet-stream',
      generation: ++this.generation,
      ...(meta.metadata && { metadata: meta.metadata }),
      updated: new Date(),
    };
    bucket.objects.set(name, object);
    send(res, 200, this.objectResource(bucketName, name, object));
  }

  private object(bucketName: string, name: string, url: URL, req: IncomingMessage, res: ServerResponse): void {
    const bucket = this.buckets.get(bucketName);
    const o = bucket?.objects.get(name);
    if (!o) return notFound(res, `No such object: ${bucketName}/${name}`);
    if (req.method === 'DELETE') {
      bucket!.objects.delete(name);
      res.writeHead(204).end();
      return;
    }
    if (url.searchParams.get('alt') === 'media') {
      res.writeHead(200, {
        'content-type': o.contentType,
        'content-length': o.data.length,
        'x-goog-hash': `crc32c=${this.objectResource(bucketName, name, o).crc32c},md5=${createHash('md5').update(o.data).digest('base64')}`,
        'x-goog-generation': String(o.generation),
      });
      res.end(o.data);
      return;
    }
    send(res, 200, this.objectResource(bucketName, name, o));
  }

  private list(bucketName: string, url: URL, res: ServerResponse): void {
    const bucket = this.buckets.get(bucketName);
    if (!bucket) return notFound(res, `bucket ${bucketName}`);
    const prefix = url.searchParams.get('prefix') ?? '';
    const delimiter = url.searchParams.get('delimiter');
    const max = Number(url.searchParams.get('maxResults') ?? 1000);
    const token = url.searchParams.get('pageToken') ?? '';
    const names = [...bucket.objects.keys()].filter((k) => k.startsWith(prefix) && k > token).sort();
    const items: string[] = [];
    const prefixes = new Set<string>();
    for (const k of names) {
      const rest = k.slice(prefix.length);
      const cut = delimiter ? rest.indexOf(delimiter) : -1;
      if (cut >= 0) prefixes.add(prefix + rest.slice(0, cut + 1));
      else items.push(k);
      if (items.length >= max) break;
    }
    const next = items.length >= max ? items[items.length - 1] : undefined;
    send(res, 200, {
      kind: 'storage#objects',
      items: items.map((k) => this.objectResource(bucketName, k, bucket.objects.get(k)!)),
      ...(prefixes.size && { prefixes: [...prefixes] }),
      ...(next && { nextPageToken: next }),
    });
  }

  // ---------------------------------------------------------------------------------------------
  // BigQuery

  /** Append a row to `project.dataset.table`, creating the table (not the dataset) as Vertex does. */
  insertRow(table: string, row: Record<string, unknown>): boolean {
    const dataset = table.split('.').slice(0, 2).join('.');
    if (!this.datasets.has(dataset)) return false;
    let t = this.tables.get(table);
    if (!t) {
      t = { schema: LOGGING_SCHEMA, rows: [] };
      this.tables.set(table, t);
    }
    t.rows.push(row);
    return true;
  }

  private query(project: string, body: any, res: ServerResponse): void {
    const sql = String(body.query ?? '');
    const from = /FROM\s+`([^`]+)`/i.exec(sql)?.[1];
    if (!from) return send(res, 400, { error: { code: 400, message: `the fake answers only SELECT … FROM \`project.dataset.table\` queries: ${sql}` } });
    if (body.useLegacySql !== false)
      return send(res, 400, { error: { code: 400, message: 'legacy SQL is not supported by the fake; set useLegacySql: false' } });
    const table = this.tables.get(from);
    if (!table) {
      const dataset = from.split('.').slice(0, 2).join('.');
      return notFound(res, this.datasets.has(dataset) ? `Table ${from.replace('.', ':')} was not found` : `Dataset ${dataset.replace('.', ':')} was not found`);
    }
    const params = Object.fromEntries((body.queryParameters ?? []).map((q: any) => [q.name, q.parameterValue?.value]));
    const where = /logging_time\s*>=\s*(?:TIMESTAMP\()?@(\w+)\)?\s+AND\s+logging_time\s*<\s*(?:TIMESTAMP\()?@(\w+)/i.exec(sql);
    const lo = where ? Date.parse(params[where[1]!]) : -Infinity;
    const hi = where ? Date.parse(params[where[2]!]) : Infinity;
    const rows = table.rows.filter((r) => {
      const t = Date.parse(String(r.logging_time));
      return t >= lo && t < hi;
    });
    const jobId = `job_${++this.ids}`;
    this.queries.set(jobId, rows);
    const int64 = body.formatOptions?.useInt64Timestamp === true ? '&formatOptions.useInt64Timestamp=true' : '';
    this.queryPage(project, jobId, new URL(`http://fake/?maxResults=${body.maxResults ?? 1000}${int64}`), res);
  }

  private queryPage(project: string, jobId: string, url: URL, res: ServerResponse): void {
    const rows = this.queries.get(jobId);
    if (!rows) return notFound(res, `Job ${project}:${jobId}`);
    const start = Number(url.searchParams.get('pageToken') ?? url.searchParams.get('startIndex') ?? 0);
    const max = Number(url.searchParams.get('maxResults') ?? 1000);
    const page = rows.slice(start, start + max);
    const int64 = url.searchParams.get('formatOptions.useInt64Timestamp') === 'true';
    const next = start + max < rows.length ? String(start + max) : undefined;
    send(res, 200, {
      kind: 'bigquery#queryResponse',
      jobReference: { projectId: project, jobId, location: 'US' },
      jobComplete: true,
      totalRows: String(rows.length),
      schema: { fields: LOGGING_SCHEMA },
      rows: page.map((r) => ({ f: LOGGING_SCHEMA.map((f) => ({ v: encodeCell(r[f.name], f.mode === 'REPEATED', int64) })) })),
      ...(next && { pageToken: next }),
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Cloud Monitoring

  private timeSeries(url: URL, res: ServerResponse): void {
    const filter = url.searchParams.get('filter') ?? '';
    const metric = /metric\.type\s*=\s*"([^"]+)"/.exec(filter)?.[1];
    const endpointId = /resource\.labels\.endpoint_id\s*=\s*"([^"]+)"/.exec(filter)?.[1];
    const deployedId = /metric\.labels\.deployed_model_id\s*=\s*"([^"]+)"/.exec(filter)?.[1];
    const start = Date.parse(url.searchParams.get('interval.startTime') ?? '');
    const end = Date.parse(url.searchParams.get('interval.endTime') ?? '');
    if (!metric || Number.isNaN(end)) return send(res, 400, { error: { code: 400, message: 'filter with metric.type and interval.endTime are required' } });
    const events = this.events.filter(
      (e) =>
        (!endpointId || e.endpointId === endpointId) &&
        (!deployedId || e.deployedModelId === deployedId) &&
        e.ts.getTime() <= end &&
        (Number.isNaN(start) || e.ts.getTime() > start),
    );
    for (const ep of this.grpc.endpoints.values()) {
      for (const d of ep.deployed) {
        const rpm = this.syntheticRequestsPerMinute;
        const b = this.behaviour.get(`${d.model}@${d.modelVersionId}`) ?? (rpm !== undefined ? {} : undefined);
        const id = ep.endpoint.name.split('/').pop();
        if (!b || (endpointId && id !== endpointId) || (deployedId && d.id !== deployedId)) continue;
        const minutes = Number.isNaN(start) ? 1 : Math.max(0, (end - start) / 60_000);
        const n = rpm === undefined ? 100 : Math.round((rpm * minutes * (ep.split[d.id] ?? 0)) / 100);
        for (let i = 0; i < n; i++)
          events.push({
            ts: new Date(end),
            endpointId: id,
            deployedModelId: d.id,
            latencyMs: b.latencyMs ?? 5,
            error: i < Math.round((b.errorRate ?? 0) * n),
          });
      }
    }
    const byModel = new Map<string, PredictionEvent[]>();
    for (const e of events) byModel.set(e.deployedModelId, [...(byModel.get(e.deployedModelId) ?? []), e]);
    const series = [...byModel.entries()].map(([id, list]) => {
      const resource = {
        type: 'aiplatform.googleapis.com/Endpoint',
        labels: { endpoint_id: list[0]!.endpointId, resource_container: this.project, location: this.grpc.options.location },
      };
      // One point per event: DELTA metrics over the event's instant, newest first as the API returns them.
      const points = [...list]
        .reverse()
        .map((e) => ({ interval: { startTime: e.ts.toISOString(), endTime: e.ts.toISOString() }, value: pointValue(metric, e) }));
      return {
        metric: { type: metric, labels: { deployed_model_id: id } },
        resource,
        metricKind: 'DELTA',
        valueType: metric.endsWith('latencies') ? 'DISTRIBUTION' : 'INT64',
        points,
      };
    });
    send(res, 200, metric.match(/error_count|prediction_count|prediction_latencies/) ? { timeSeries: series } : {});
  }

  // ---------------------------------------------------------------------------------------------
  // online prediction

  private async predict(endpointName: string, body: Buffer, res: ServerResponse): Promise<void> {
    let ep;
    try {
      ep = this.grpc.endpointState(endpointName);
    } catch {
      return notFound(res, `Endpoint ${endpointName}`);
    }
    const id = this.pick(endpointName, ep.split);
    const dm = ep.deployed.find((d) => d.id === id);
    const container = id ? ep.containers.get(id) : undefined;
    if (!dm || !container)
      return send(res, 400, {
        error: { code: 400, message: `Endpoint ${endpointName} has no deployed model to serve the request`, status: 'FAILED_PRECONDITION' },
      });
    let parsed: { instances?: unknown[]; parameters?: unknown };
    try {
      parsed = JSON.parse(body.toString());
    } catch {
      return send(res, 400, { error: { code: 400, message: 'Invalid JSON payload received.', status: 'INVALID_ARGUMENT' } });
    }
    const started = Date.now();
    const version = `${dm.model}@${dm.modelVersionId}`;
    const answer = this.failing.has(version)
      ? { status: 500, body: JSON.stringify({ error: 'injected failure' }) }
      : await forward(
          `${container.url}${container.predictRoute}`,
          JSON.stringify({ instances: parsed.instances, ...(parsed.parameters !== undefined && { parameters: parsed.parameters }) }),
        );
    const endpointId = endpointName.split('/').pop()!;
    this.events.push({ ts: new Date(), endpointId, deployedModelId: id!, latencyMs: Date.now() - started, error: answer.status >= 500 });
    if (answer.status !== 200)
      return send(res, answer.status, {
        error: { code: answer.status, message: answer.body, status: answer.status >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION' },
      });
    const predictions = (JSON.parse(answer.body) as { predictions: unknown[] }).predictions;
    const logging = ep.endpoint.predictRequestResponseLoggingConfig;
    const uri: string | undefined = logging?.enabled ? logging.bigqueryDestination?.outputUri : undefined;
    if (uri && Math.random() < (logging.samplingRate ?? 0)) {
      const parts = uri.slice('bq://'.length).split('.');
      const table =
        parts.length === 3 ? parts.join('.') : `${parts[0]}.${parts[1] ?? `logging_${ep.endpoint.displayName}_${endpointId}`}.request_response_logging`;
      this.insertRow(table, {
        endpoint: endpointName,
        deployed_model_id: id,
        logging_time: new Date().toISOString(),
        request_id: String(++this.ids),
        request_payload: (parsed.instances ?? []).map((i) => JSON.stringify(i)),
        response_payload: predictions.map((p) => JSON.stringify(p)),
      });
    }
    send(res, 200, { predictions, deployedModelId: id, model: dm.model, modelDisplayName: dm.displayName, modelVersionId: dm.modelVersionId });
  }

  /**
   * rawPredict and streamRawPredict: the caller's body handed to the picked model's predict route as
   * it is, and its answer (status, content type, body) passed back as it comes — a stream event by
   * event — with the X-Vertex-AI-Endpoint-Id / X-Vertex-AI-Deployed-Model-Id headers Vertex adds.
   * Counted for Cloud Monitoring; not written to the request-response logging table (Vertex documents
   * that logging for predict requests of custom-trained models; mlship logs what predict serves).
   */
  private async rawPredict(endpointName: string, req: IncomingMessage, body: Buffer, res: ServerResponse): Promise<void> {
    let ep;
    try {
      ep = this.grpc.endpointState(endpointName);
    } catch {
      return notFound(res, `Endpoint ${endpointName}`);
    }
    const id = this.pick(endpointName, ep.split);
    const dm = ep.deployed.find((d) => d.id === id);
    const container = id ? ep.containers.get(id) : undefined;
    if (!dm || !container)
      return send(res, 400, {
        error: { code: 400, message: `Endpoint ${endpointName} has no deployed model to serve the request`, status: 'FAILED_PRECONDITION' },
      });
    const endpointId = endpointName.split('/').pop()!;
    const started = Date.now();
    const record = (status: number) =>
      this.events.push({ ts: new Date(), endpointId, deployedModelId: id!, latencyMs: Date.now() - started, error: status >= 500 });
    if (this.failing.has(`${dm.model}@${dm.modelVersionId}`)) {
      record(500);
      return send(res, 500, { error: { code: 500, message: 'injected failure', status: 'INTERNAL' } });
    }
    const upstream = httpRequest(`${container.url}${container.predictRoute}`, {
      method: 'POST',
      headers: { 'content-type': req.headers['content-type'] ?? 'application/json', 'content-length': body.length },
    });
    upstream.on('response', (answer) => {
      res.writeHead(answer.statusCode ?? 502, {
        'content-type': answer.headers['content-type'] ?? 'application/json',
        'x-vertex-ai-endpoint-id': endpointId,
        'x-vertex-ai-deployed-model-id': id!,
      });
      answer.on('data', (c: Buffer) => res.write(c));
      answer.on('end', () => {
        record(answer.statusCode ?? 502);
        res.end();
      });
      // A caller that leaves stops the generation: the container's connection is closed.
      res.on('close', () => answer.destroy());
    });
    upstream.on('error', (e) => {
      record(503);
      if (!res.headersSent) send(res, 503, { error: { code: 503, message: `container unreachable: ${e.message}`, status: 'UNAVAILABLE' } });
      else res.end();
    });
    upstream.end(body);
  }

  /** Smooth weighted round robin over the traffic split: deterministic, and exact over 100 requests. */
  private pick(endpoint: string, split: Record<string, number>): string | undefined {
    const current = this.picks.get(endpoint) ?? {};
    let best: string | undefined;
    for (const [id, w] of Object.entries(split)) {
      if (w <= 0) continue;
      current[id] = (current[id] ?? 0) + w;
      if (best === undefined || current[id]! > current[best]!) best = id;
    }
    if (best) current[best]! -= Object.values(split).reduce((a, b) => a + b, 0);
    this.picks.set(endpoint, current);
    return best;
  }
}

/** The columns of a request-response logging table (types as third-party queries show them; unverified). */
export const LOGGING_SCHEMA = [
  { name: 'endpoint', type: 'STRING' },
  { name: 'deployed_model_id', type: 'STRING' },
  { name: 'logging_time', type: 'TIMESTAMP' },
  { name: 'request_id', type: 'NUMERIC' },
  { name: 'request_payload', type: 'STRING', mode: 'REPEATED' },
  { name: 'response_payload', type: 'STRING', mode: 'REPEATED' },
];

/** BigQuery's REST row encoding: TIMESTAMP as epoch microseconds (useInt64Timestamp) or seconds, REPEATED as [{v}]. */
function encodeCell(value: unknown, repeated: boolean, int64Timestamp: boolean): unknown {
  if (repeated) return ((value as unknown[]) ?? []).map((v) => ({ v: String(v) }));
  if (typeof value === 'string' && /^\d{4}-\d\d-\d\dT/.test(value)) return int64Timestamp ? String(Date.parse(value) * 1000) : String(Date.parse(value) / 1000);
  return value === undefined || value === null ? null : String(value);
}

const LATENCY_BOUNDS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000];

function pointValue(metric: string, e: PredictionEvent): Record<string, unknown> {
  if (metric.endsWith('error_count')) return { int64Value: e.error ? '1' : '0' };
  if (metric.endsWith('prediction_count')) return { int64Value: '1' };
  const counts = new Array(LATENCY_BOUNDS.length + 1).fill(0) as number[];
  counts[LATENCY_BOUNDS.findIndex((b) => e.latencyMs < b) === -1 ? LATENCY_BOUNDS.length : LATENCY_BOUNDS.findIndex((b) => e.latencyMs < b)]! += 1;
  return {
    distributionValue: { count: '1', mean: e.latencyMs, bucketOptions: { explicitBuckets: { bounds: LATENCY_BOUNDS } }, bucketCounts: counts.map(String) },
  };
}

function forward(url: string, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let data = '';
      res.on('data', (c: Buffer) => (data += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 502, body: data }));
    });
    req.on('error', (e) => resolve({ status: 503, body: `container unreachable: ${e.message}` }));
    req.end(body);
  });
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function notFound(res: ServerResponse, what: string): void {
  send(res, 404, { error: { code: 404, message: `Not found: ${what}`, errors: [{ reason: 'notFound', message: `Not found: ${what}` }], status: 'NOT_FOUND' } });
}

function splitMultipart(body: Buffer, boundary: string): { headers: Record<string, string>; body: Buffer }[] {
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: { headers: Record<string, string>; body: Buffer }[] = [];
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    const start = at + delimiter.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    const next = body.indexOf(delimiter, start);
    if (next < 0) break;
    const chunk = body.subarray(start + 2, next - 2);
    const split = chunk.indexOf('\r\n\r\n');
    const headers = Object.fromEntries(
      chunk
        .subarray(0, split)
        .toString()
        .split('\r\n')
        .filter(Boolean)
        .map((l) => [l.slice(0, l.indexOf(':')).trim().toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
    );
    parts.push({ headers, body: chunk.subarray(split + 4) });
    at = next;
  }
  return parts;
}
