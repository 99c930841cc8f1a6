/**
 * The SageMaker Runtime double: what answers InvokeEndpoint and InvokeEndpointWithResponseStream
 * (moto runs no containers). The contract fake hands it every `POST /endpoints/…` request
 * (`ContractFake.runtime`), so the real `@aws-sdk/client-sagemaker-runtime` reaches it at the same
 * AWS_ENDPOINT_URL as every other call. Each request is checked against that SDK's API model (the
 * operation's route, its required members, the `X-Amzn-SageMaker-*` headers it declares); a request
 * the real service would refuse is a `ValidationError` and a recorded violation.
 *
 * What it runs is what SageMaker would: the endpoint as DescribeEndpoint shows it (the contract
 * fake's view: configuration, variants, their current weights), a variant chosen by those weights
 * (or `X-Amzn-SageMaker-Target-Variant`), and that variant's Model: its image's content is a build
 * folder (the build the image's tag names, as `mlship push` tags it, else the `mlship:build` of the
 * model package holding that image, artifact and version) and its `ModelDataUrl` is unpacked into the
 * model folder, the way SageMaker unpacks model.tar.gz into /opt/ml/model. The build runs with the
 * launch contract (../shared/container.ts) and SageMaker's variables (SAGEMAKER_BIND_TO_PORT, the
 * Model's Environment), ready once `/ping` answers 200 within the variant's
 * ContainerStartupHealthCheckTimeoutInSeconds; the request goes to its `/invocations`. A container
 * starts on its variant's first invocation (the double's one liberty: SageMaker starts it with the
 * endpoint) and stops when its variant leaves the endpoint or the double stops.
 *
 * Data Capture as SageMaker writes it, per the endpoint configuration's DataCaptureConfig: one JSON
 * line per sampled invocation, `{captureData: {endpointInput, endpointOutput}, eventMetadata,
 * eventVersion}`, each side `{observedContentType, mode, data, encoding}` (JSON for the configured
 * JSON content types, CSV for the CSV ones, else BASE64), in
 * `<destination>/<endpoint>/<variant>/yyyy/mm/dd/hh/<mm-ss-mmm>-<id>.jsonl` in S3 (moto), the file of
 * the hour rewritten as lines come. A streamed answer is captured whole once it ends (its content type
 * `text/event-stream` is not a JSON type: BASE64).
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import * as rt from '@aws-sdk/client-sagemaker-runtime';
import {
  type DataCaptureConfig,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  DescribeModelCommand,
  DescribeModelPackageCommand,
  ListModelPackageGroupsCommand,
  ListModelPackagesCommand,
  type ProductionVariant,
  SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { python as suitePython } from '../../helpers/cli.js';
import { type RunningContainer, startContainer } from '../shared/container.js';

export interface RuntimeOptions {
  /** The AWS endpoint the double reads endpoints, models and artifacts from and writes capture to (the contract fake). */
  awsUrl: string;
  /** Folders holding builds by id (a project's `.mlship/build`): the images' content. */
  buildsDirs: string[];
  python?: string;
  /** Picks variants by weight and samples capture; default Math.random. */
  random?: () => number;
  /** Longest wait for a container's /ping, whatever the variant allows (tests); default 120 s. */
  maxStartupMs?: number;
  account?: string;
  region?: string;
}

/** One invocation as the double saw it. */
export interface Invocation {
  operation: 'InvokeEndpoint' | 'InvokeEndpointWithResponseStream';
  endpoint: string;
  variant?: string;
  /** The status the caller got (200, 400, 424…). */
  status: number;
  /** When it came (epoch ms). */
  at: number;
  /** What SageMaker publishes of it: the container's own status and its time to answer (µs, ModelLatency). */
  modelStatus?: number;
  modelLatencyUs?: number;
}

interface Running {
  endpoint: string;
  variant: string;
  model: string;
  dir: string;
  container: RunningContainer;
}

type Schema = readonly unknown[];
/** A runtime operation as the SDK's model defines it: its input structure and its route. */
export type Operation = { name: Invocation['operation']; input: Schema; pattern: RegExp; method: string };

/** The runtime operations the double answers, their routes read from the SDK's API model. */
export const OPERATIONS: Operation[] = [rt.InvokeEndpoint$, rt.InvokeEndpointWithResponseStream$].map((op) => {
  const schema = op as unknown as Schema;
  const [method, uri] = (schema[3] as { http: [string, string, number] }).http;
  const input = (schema[4] as () => Schema)();
  const pattern = new RegExp(`^${uri.replace('{EndpointName}', '([^/]+)')}$`);
  return { name: schema[2] as Invocation['operation'], input, pattern, method };
});

/** The HTTP headers an input structure declares (lower case), and how many leading members are required. */
function declaredHeaders(input: Schema): { headers: Map<string, string>; names: string[]; required: number } {
  const names = input[4] as string[];
  const members = input[5] as unknown[];
  const headers = new Map<string, string>();
  members.forEach((m, i) => {
    const traits = Array.isArray(m) ? m[1] : undefined;
    if (traits && typeof traits === 'object' && typeof (traits as { httpHeader?: string }).httpHeader === 'string')
      headers.set((traits as { httpHeader: string }).httpHeader.toLowerCase(), names[i]!);
  });
  return { headers, names, required: typeof input[6] === 'number' ? input[6] : 0 };
}

/** Problems of a runtime request against the operation's input model (empty when the real service would take it). */
export function checkRuntimeRequest(op: Operation, headers: IncomingMessage['headers'], body: Buffer, endpointName: string): string[] {
  const { headers: declared, names, required } = declaredHeaders(op.input);
  const problems: string[] = [];
  for (const name of Object.keys(headers)) {
    if (name.startsWith('x-amzn-sagemaker-') && !declared.has(name)) problems.push(`${op.name}: ${op.input[2]} declares no header ${name}`);
  }
  for (const member of names.slice(0, required)) {
    if (member === 'EndpointName' && !/^[a-zA-Z0-9](-*[a-zA-Z0-9])*$/.test(endpointName))
      problems.push(`${op.name}: EndpointName "${endpointName}" is not a valid endpoint name`);
    if (member === 'Body' && body.length === 0) problems.push(`${op.name}: ${op.input[2]}.Body is required`);
  }
  if (body.length > 25 * 1024 * 1024) problems.push(`${op.name}: the body is ${body.length} bytes; the limit is 25 MB`);
  return problems;
}

/** One AWS event-stream message (prelude, string headers, payload, CRCs): the framing of a response stream. */
export function eventStreamMessage(headers: Record<string, string>, payload: Buffer): Buffer {
  const encoded = Object.entries(headers).map(([k, v]) => {
    const name = Buffer.from(k);
    const value = Buffer.from(v);
    const b = Buffer.alloc(1 + name.length + 1 + 2 + value.length);
    b.writeUInt8(name.length, 0);
    name.copy(b, 1);
    b.writeUInt8(7, 1 + name.length); // type 7: string
    b.writeUInt16BE(value.length, 2 + name.length);
    value.copy(b, 4 + name.length);
    return b;
  });
  const head = Buffer.concat(encoded);
  const prelude = Buffer.alloc(12);
  prelude.writeUInt32BE(12 + head.length + payload.length + 4, 0);
  prelude.writeUInt32BE(head.length, 4);
  prelude.writeUInt32BE(crc32(prelude.subarray(0, 8)), 8);
  const message = Buffer.concat([prelude, head, payload]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(message), 0);
  return Buffer.concat([message, crc]);
}

/** Data Capture's encoding of a body of this content type under a capture configuration. */
export function captureEncoding(contentType: string, config: DataCaptureConfig): 'JSON' | 'CSV' | 'BASE64' {
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  const has = (list: string[] | undefined) => (list ?? []).some((t) => t.toLowerCase() === type);
  if (has(config.CaptureContentTypeHeader?.JsonContentTypes)) return 'JSON';
  if (has(config.CaptureContentTypeHeader?.CsvContentTypes)) return 'CSV';
  return 'BASE64';
}

class RuntimeError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export class SageMakerRuntimeFake {
  readonly invocations: Invocation[] = [];
  readonly violations: string[] = [];
  private readonly sm: SageMakerClient;
  private readonly s3: S3Client;
  private readonly running = new Map<string, Promise<Running>>();
  /** Capture files being written: S3 URI → lines so far, and the write in flight. */
  private readonly captureFiles = new Map<string, { lines: string[]; writing: Promise<unknown> }>();
  private readonly random: () => number;

  constructor(private readonly options: RuntimeOptions) {
    const aws = { endpoint: options.awsUrl, region: options.region ?? 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };
    this.sm = new SageMakerClient(aws);
    this.s3 = new S3Client({ ...aws, forcePathStyle: true });
    this.random = options.random ?? Math.random;
  }

  /** Whether a request is the runtime's (`POST /endpoints/…`). */
  static owns(url: string | undefined): boolean {
    return (url ?? '').startsWith('/endpoints/');
  }

  /** Answer one runtime request (the body already read). */
  async handle(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://runtime');
    const match = OPERATIONS.map((op) => ({ op, m: op.pattern.exec(url.pathname) })).find((x) => x.m && req.method === x.op.method);
    if (!match)
      return this.error(res, new RuntimeError(404, 'UnknownOperationException', `${req.method} ${url.pathname} is not a SageMaker Runtime operation`));
    const { op } = match;
    const endpoint = decodeURIComponent(match.m![1]!);
    const record: Invocation = { operation: op.name, endpoint, status: 0, at: Date.now() };
    this.invocations.push(record);
    try {
      const problems = checkRuntimeRequest(op, req.headers, body, endpoint);
      if (problems.length > 0) {
        this.violations.push(...problems);
        throw new RuntimeError(400, 'ValidationError', problems.join('; '));
      }
      const { variant, config } = await this.route(endpoint, header(req, 'x-amzn-sagemaker-target-variant'));
      record.variant = variant.VariantName;
      const running = await this.container(endpoint, variant);
      const input = { body, contentType: header(req, 'content-type') ?? 'application/octet-stream' };
      const accept = op.name === 'InvokeEndpoint' ? header(req, 'accept') : header(req, 'x-amzn-sagemaker-accept');
      const sent = performance.now();
      const answer = await fetch(`${running.container.url}/invocations`, {
        method: 'POST',
        headers: {
          'content-type': input.contentType,
          ...(accept && { accept }),
          ...(header(req, 'x-amzn-sagemaker-custom-attributes') && {
            'x-amzn-sagemaker-custom-attributes': header(req, 'x-amzn-sagemaker-custom-attributes')!,
          }),
        },
        body,
      }).catch((e: Error) => {
        throw new RuntimeError(
          500,
          'InternalFailure',
          `the container of variant ${variant.VariantName} did not answer: ${e.message}: ${running.container.log().slice(-500)}`,
        );
      });
      const contentType = answer.headers.get('content-type') ?? 'application/octet-stream';
      record.modelStatus = answer.status;
      record.modelLatencyUs = Math.round((performance.now() - sent) * 1000);
      if (answer.status < 200 || answer.status > 299) {
        const text = await answer.text();
        throw new RuntimeError(
          424,
          'ModelError',
          `Received ${answer.status < 500 ? 'client' : 'server'} error (${answer.status}) from primary with message "${text}". See ${logStream(this.options, endpoint)} in account ${this.account} for more information.`,
          {
            OriginalStatusCode: answer.status,
            OriginalMessage: text,
            LogStreamArn: logStream(this.options, endpoint),
          },
        );
      }
      const inferenceId = header(req, 'x-amzn-sagemaker-inference-id');
      if (op.name === 'InvokeEndpoint') {
        const out = Buffer.from(await answer.arrayBuffer());
        await this.capture(endpoint, variant.VariantName!, config.DataCaptureConfig, input, { body: out, contentType }, inferenceId);
        record.status = 200;
        res.writeHead(200, { 'content-type': contentType, 'x-amzn-invoked-production-variant': variant.VariantName!, 'x-amzn-requestid': randomUUID() });
        res.end(out);
        return;
      }
      // The response stream: each piece the container sends, as it comes, in a PayloadPart event.
      record.status = 200;
      res.writeHead(200, {
        'content-type': 'application/vnd.amazon.eventstream',
        'x-amzn-sagemaker-content-type': contentType,
        'x-amzn-invoked-production-variant': variant.VariantName!,
        'x-amzn-requestid': randomUUID(),
      });
      const parts: Buffer[] = [];
      try {
        for await (const chunk of answer.body as unknown as AsyncIterable<Uint8Array>) {
          const part = Buffer.from(chunk);
          parts.push(part);
          res.write(eventStreamMessage({ ':event-type': 'PayloadPart', ':content-type': 'application/octet-stream', ':message-type': 'event' }, part));
        }
      } catch (e) {
        const payload = Buffer.from(JSON.stringify({ Message: `the model's stream broke: ${(e as Error).message}`, ErrorCode: 'ModelStreamError' }));
        res.write(eventStreamMessage({ ':exception-type': 'ModelStreamError', ':content-type': 'application/json', ':message-type': 'exception' }, payload));
      }
      res.end();
      await this.capture(endpoint, variant.VariantName!, config.DataCaptureConfig, input, { body: Buffer.concat(parts), contentType }, inferenceId);
    } catch (error) {
      const e = error instanceof RuntimeError ? error : new RuntimeError(500, 'InternalFailure', String((error as Error).message ?? error));
      record.status = e.status;
      if (res.headersSent) return void res.end();
      this.error(res, e);
    }
  }

  /**
   * CloudWatch GetMetricData over what SageMaker publishes for the invocations this double answered
   * (moto stores datapoints but cannot compute percentiles): `AWS/SageMaker` Invocations (Sum),
   * Invocation5XXErrors (Sum: the container answered 5xx) and ModelLatency (µs; Average, Sum, pNN)
   * by EndpointName + VariantName, one value per period from StartTime that had invocations (none:
   * no datapoint, as CloudWatch). The body and answer are CloudWatch's JSON protocol (awsJson1_0).
   */
  metricData(body: Record<string, any>): Record<string, unknown> {
    const start = epochMs(body.StartTime);
    const end = epochMs(body.EndTime);
    const results = ((body.MetricDataQueries ?? []) as Record<string, any>[]).map((q) => {
      const stat = q.MetricStat ?? {};
      const metric = stat.Metric ?? {};
      const dims = Object.fromEntries(((metric.Dimensions ?? []) as { Name: string; Value: string }[]).map((d) => [d.Name, d.Value]));
      const periodMs = Number(stat.Period ?? 60) * 1000;
      const mine = this.invocations.filter(
        (i) =>
          metric.Namespace === 'AWS/SageMaker' &&
          i.modelStatus !== undefined &&
          i.endpoint === dims.EndpointName &&
          i.variant === dims.VariantName &&
          i.at >= start &&
          i.at < end,
      );
      const buckets = new Map<number, Invocation[]>();
      for (const i of mine) {
        const at = start + Math.floor((i.at - start) / periodMs) * periodMs;
        buckets.set(at, [...(buckets.get(at) ?? []), i]);
      }
      const timestamps: number[] = [];
      const values: number[] = [];
      for (const [at, xs] of [...buckets].sort((a, b) => b[0] - a[0])) {
        const value = statistic(metric.MetricName, String(stat.Stat), xs);
        if (value === undefined) continue;
        timestamps.push(at / 1000);
        values.push(value);
      }
      return { Id: q.Id, Label: metric.MetricName, Timestamps: timestamps, Values: values, StatusCode: 'Complete' };
    });
    return { MetricDataResults: results, Messages: [] };
  }

  /** Stop every container (by pid) and forget their folders. */
  async stop(): Promise<void> {
    const all = [...this.running.values()];
    this.running.clear();
    await Promise.all(
      all.map((p) =>
        p.then(
          (r) => this.remove(r),
          () => undefined,
        ),
      ),
    );
    await Promise.all([...this.captureFiles.values()].map((f) => f.writing.catch(() => undefined)));
  }

  /** Between tests: containers stopped, records and capture files forgotten. */
  async reset(): Promise<void> {
    await this.stop();
    this.invocations.length = 0;
    this.violations.length = 0;
    this.captureFiles.clear();
  }

  /** The containers running now: `endpoint/variant` → its model (for assertions). */
  async containers(): Promise<Record<string, { model: string; pid: number; log: string }>> {
    const out: Record<string, { model: string; pid: number; log: string }> = {};
    for (const p of this.running.values()) {
      const r = await p.catch(() => undefined);
      if (r) out[`${r.endpoint}/${r.variant}`] = { model: r.model, pid: r.container.pid, log: r.container.log() };
    }
    return out;
  }

  private get account(): string {
    return this.options.account ?? '123456789012';
  }

  /** The endpoint's serving variant for this request, and its configuration. */
  private async route(endpoint: string, wanted: string | undefined) {
    const described = await this.sm.send(new DescribeEndpointCommand({ EndpointName: endpoint })).catch(() => undefined);
    if (!described) throw new RuntimeError(400, 'ValidationError', `Endpoint ${endpoint} of account ${this.account} not found.`);
    if (described.EndpointStatus !== 'InService' && described.EndpointStatus !== 'Updating')
      throw new RuntimeError(400, 'ValidationError', `Endpoint ${endpoint} of account ${this.account} is ${described.EndpointStatus}, not InService.`);
    const config = await this.sm.send(new DescribeEndpointConfigCommand({ EndpointConfigName: described.EndpointConfigName }));
    const serving = (described.ProductionVariants ?? []).map((v) => ({ name: v.VariantName!, weight: v.CurrentWeight ?? 0 }));
    // Containers of variants no longer on the endpoint (a promoted canary, a rollback) stop.
    const current = new Set(serving.map((v) => `${endpoint}/${v.name}/${config.ProductionVariants?.find((c) => c.VariantName === v.name)?.ModelName}`));
    const leaving = [...this.running].filter(([key]) => key.startsWith(`${endpoint}/`) && !current.has(key));
    for (const [key] of leaving) this.running.delete(key);
    await Promise.all(
      leaving.map(([, p]) =>
        p.then(
          (r) => this.remove(r),
          () => undefined,
        ),
      ),
    );
    let name: string | undefined = wanted;
    if (name === undefined) {
      const total = serving.reduce((a, v) => a + v.weight, 0);
      if (total <= 0) throw new RuntimeError(400, 'ValidationError', `Endpoint ${endpoint} has no variant with a positive weight.`);
      let pick = this.random() * total;
      name = serving.find((v) => (pick -= v.weight) < 0)?.name ?? serving[serving.length - 1]!.name;
    }
    const variant = config.ProductionVariants?.find((v) => v.VariantName === name);
    if (!variant || !serving.some((v) => v.name === name))
      throw new RuntimeError(400, 'ValidationError', `Variant ${name} is not in endpoint ${endpoint}'s configuration ${described.EndpointConfigName}.`);
    return { variant, config };
  }

  /** The running container of a variant's Model, started on first use. */
  private container(endpoint: string, variant: ProductionVariant): Promise<Running> {
    const key = `${endpoint}/${variant.VariantName}/${variant.ModelName}`;
    let p = this.running.get(key);
    if (!p) {
      p = this.start(endpoint, variant);
      this.running.set(key, p);
      p.catch(() => this.running.get(key) === p && this.running.delete(key));
    }
    return p;
  }

  private async start(endpoint: string, variant: ProductionVariant): Promise<Running> {
    const model = await this.sm.send(new DescribeModelCommand({ ModelName: variant.ModelName }));
    const c = model.PrimaryContainer ?? model.Containers?.[0];
    if (!c?.Image) throw new RuntimeError(500, 'InternalFailure', `model ${variant.ModelName} has no container image`);
    const environment = c.Environment ?? {};
    const buildDir = await this.buildOf(c.Image, c.ModelDataUrl, environment);
    const dir = mkdtempSync(path.join(tmpdir(), 'sagemaker-fake-container-'));
    const modelDir = path.join(dir, 'model');
    mkdirSync(modelDir);
    try {
      if (c.ModelDataUrl) {
        const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(c.ModelDataUrl);
        if (!m) throw new RuntimeError(500, 'InternalFailure', `ModelDataUrl ${c.ModelDataUrl} is not an S3 URI`);
        const object = await this.s3.send(new GetObjectCommand({ Bucket: m[1], Key: m[2] }));
        const tarball = path.join(dir, 'model.tar.gz');
        writeFileSync(tarball, await object.Body!.transformToByteArray());
        execFileSync('tar', ['-xzf', tarball, '-C', modelDir]);
      }
      const timeoutS = variant.ContainerStartupHealthCheckTimeoutInSeconds ?? 480;
      const container = await startContainer({
        buildDir,
        logDir: path.join(dir, 'logs'),
        modelDir,
        healthRoute: '/ping',
        timeoutMs: Math.min(timeoutS * 1000, this.options.maxStartupMs ?? 120_000),
        python: this.options.python ?? suitePython,
        env: (port) => ({ ...environment, SAGEMAKER_BIND_TO_PORT: String(port) }),
      });
      return { endpoint, variant: variant.VariantName!, model: variant.ModelName!, dir, container };
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      if (error instanceof RuntimeError) throw error;
      throw new RuntimeError(
        500,
        'InternalFailure',
        `the container of variant ${variant.VariantName} (${c.Image}) did not pass the ping health check: ${(error as Error).message}`,
      );
    }
  }

  /** The build folder an image holds: the build its tag names, else the `mlship:build` of the model package of this image, artifact and version. */
  private async buildOf(image: string, modelDataUrl: string | undefined, environment: Record<string, string>): Promise<string> {
    const find = (id: string | undefined) =>
      id === undefined ? undefined : this.options.buildsDirs.map((d) => path.join(d, id)).find((d) => existsSync(path.join(d, 'serve.py')));
    const tag = /:([^:/@]+)$/.exec(image)?.[1];
    const byTag = find(tag);
    if (byTag) return byTag;
    let recorded: string | undefined;
    const groups = await this.sm.send(new ListModelPackageGroupsCommand({ MaxResults: 100 }));
    for (const g of groups.ModelPackageGroupSummaryList ?? []) {
      const packages = await this.sm.send(new ListModelPackagesCommand({ ModelPackageGroupName: g.ModelPackageGroupName, MaxResults: 100 }));
      for (const p of packages.ModelPackageSummaryList ?? []) {
        if (environment.MLSHIP_VERSION !== undefined && `v${p.ModelPackageVersion}` !== environment.MLSHIP_VERSION) continue;
        const d = await this.sm.send(new DescribeModelPackageCommand({ ModelPackageName: p.ModelPackageArn }));
        const c = d.InferenceSpecification?.Containers?.[0];
        if (c?.Image === image && c.ModelDataUrl === modelDataUrl) recorded = d.CustomerMetadataProperties?.['mlship:build'] ?? recorded;
      }
    }
    const byPackage = find(recorded);
    if (byPackage) return byPackage;
    throw new RuntimeError(
      500,
      'InternalFailure',
      `the SageMaker double cannot run image ${image}: no build ${[tag, recorded].filter(Boolean).join(' or ')} under ${this.options.buildsDirs.join(', ')} (it runs the build an image was made from: push the project's own build, or name its id in the image tag)`,
    );
  }

  /** One Data Capture line for an invocation, when the configuration captures it. */
  private async capture(
    endpoint: string,
    variant: string,
    config: DataCaptureConfig | undefined,
    input: { body: Buffer; contentType: string },
    output: { body: Buffer; contentType: string },
    inferenceId: string | undefined,
  ): Promise<void> {
    if (!config?.EnableCapture || !config.DestinationS3Uri) return;
    if (this.random() * 100 >= (config.InitialSamplingPercentage ?? 0)) return;
    const modes = new Set((config.CaptureOptions ?? []).map((o) => o.CaptureMode));
    const side = (mode: 'INPUT' | 'OUTPUT', b: { body: Buffer; contentType: string }) => {
      const encoding = captureEncoding(b.contentType, config);
      return { observedContentType: b.contentType, mode, data: encoding === 'BASE64' ? b.body.toString('base64') : b.body.toString('utf8'), encoding };
    };
    const now = new Date();
    const line = JSON.stringify({
      captureData: {
        ...(modes.has('Input') && { endpointInput: side('INPUT', input) }),
        ...(modes.has('Output') && { endpointOutput: side('OUTPUT', output) }),
      },
      eventMetadata: { eventId: randomUUID(), ...(inferenceId && { inferenceId }), inferenceTime: now.toISOString().replace(/\.\d{3}Z$/, 'Z') },
      eventVersion: '0',
    });
    const iso = now.toISOString();
    const hour = `${iso.slice(0, 4)}/${iso.slice(5, 7)}/${iso.slice(8, 10)}/${iso.slice(11, 13)}`;
    const destination = config.DestinationS3Uri.replace(/\/+$/, '');
    const prefix = `${destination}/${endpoint}/${variant}/${hour}/`;
    let uri = [...this.captureFiles.keys()].find((k) => k.startsWith(prefix));
    if (!uri) uri = `${prefix}${iso.slice(14, 16)}-${iso.slice(17, 19)}-${iso.slice(20, 23)}-${randomUUID()}.jsonl`;
    const file = this.captureFiles.get(uri) ?? { lines: [], writing: Promise.resolve() };
    this.captureFiles.set(uri, file);
    file.lines.push(line);
    const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri)!;
    const text = `${file.lines.join('\n')}\n`;
    file.writing = file.writing.catch(() => undefined).then(() => this.s3.send(new PutObjectCommand({ Bucket: m[1], Key: m[2], Body: text })));
    await file.writing;
  }

  private async remove(r: Running): Promise<void> {
    await r.container.stop();
    rmSync(r.dir, { recursive: true, force: true });
  }

  /** An error as the runtime answers it (restJson: the type in `x-amzn-errortype`, the members in the body). */
  private error(res: ServerResponse, e: RuntimeError): void {
    res.writeHead(e.status, { 'content-type': 'application/json', 'x-amzn-errortype': e.type, 'x-amzn-requestid': randomUUID() });
    res.end(JSON.stringify({ Message: e.message, ...e.extra }));
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function logStream(options: RuntimeOptions, endpoint: string): string {
  return `arn:aws:logs:${options.region ?? 'us-east-1'}:${options.account ?? '123456789012'}:log-group:/aws/sagemaker/Endpoints/${endpoint}`;
}

/** A CloudWatch JSON timestamp (epoch seconds, or an ISO string) in epoch ms. */
function epochMs(value: unknown): number {
  return typeof value === 'number' ? value * 1000 : Date.parse(String(value));
}

/** One statistic of one metric over a period's invocations. */
function statistic(metric: string, stat: string, xs: Invocation[]): number | undefined {
  if (metric === 'Invocations') return stat === 'Sum' || stat === 'SampleCount' ? xs.length : undefined;
  if (metric === 'Invocation5XXErrors') return stat === 'Sum' ? xs.filter((i) => (i.modelStatus ?? 0) >= 500).length : undefined;
  if (metric !== 'ModelLatency') return undefined;
  const lat = xs.map((i) => i.modelLatencyUs ?? 0).sort((a, b) => a - b);
  if (stat === 'Average') return lat.reduce((a, b) => a + b, 0) / lat.length;
  if (stat === 'Sum') return lat.reduce((a, b) => a + b, 0);
  const p = /^p(\d+(?:\.\d+)?)$/.exec(stat);
  return p ? lat[Math.min(lat.length - 1, Math.ceil((Number(p[1]) / 100) * lat.length) - 1)] : undefined;
}
