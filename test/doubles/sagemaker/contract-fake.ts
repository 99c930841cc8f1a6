/**
 * The SageMaker contract fake: an HTTP server in front of moto that the real SDK clients talk to
 * (AWS_ENDPOINT_URL points here). Every SageMaker request body is checked against the API model in
 * @aws-sdk/client-sagemaker (`sdk-shapes.ts`); a mismatch is answered with a ValidationException and
 * recorded in `violations` (Application Auto Scaling bodies likewise, against its SDK). Everything else
 * is forwarded to moto unchanged.
 *
 * Calls this fake answers itself, because moto 5 lacks them:
 *   - UpdateEndpoint (the endpoint goes Updating → InService on the new config and its variants,
 *     or, with `failNextUpdate`, Updating → Failed with a FailureReason, keeping the old config)
 *   - UpdateEndpointWeightsAndCapacities (moto has it, but checks the variants of the configuration
 *     the endpoint was created on, which a faked UpdateEndpoint does not change: Updating → InService
 *     with the new weights)
 *   - CreateDataQualityJobDefinition, DescribeDataQualityJobDefinition
 *   - CreateMonitoringSchedule, DescribeMonitoringSchedule, UpdateMonitoringSchedule
 * and it overlays DescribeEndpoint (status, config, FailureReason, the variants and their weights) so
 * the update is visible.
 * CreateEndpointConfig with an instance type the real API accepts (the SDK's enum) but moto rejects
 * (ml.g5, ml.g6, ml.p4d…) is passed to moto with a stand-in type moto knows, and DescribeEndpointConfig
 * answers with the real type again.
 * The SageMaker Runtime's `POST /endpoints/…` (InvokeEndpoint, InvokeEndpointWithResponseStream) goes to
 * `runtime` when one is set (`runtime.ts`: the endpoint's variants run for real, with Data Capture).
 * Everything else (S3, STS, ECR, model package groups and packages, models, endpoint configs,
 * CreateEndpoint, pipelines, Application Auto Scaling, CloudWatch, EventBridge Scheduler) is moto;
 * CloudWatch GetMetricData is moto's too, except with a runtime double: then it is the double's
 * answer over the invocations it served (`runtime.metricData`; moto cannot compute percentiles), so
 * a canary bakes on real traffic.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { SageMakerRuntimeFake } from './runtime.js';
import { validateAutoScalingInput, validateSageMakerInput } from './sdk-shapes.js';

export const FAKED_OPERATIONS = [
  'UpdateEndpoint',
  'UpdateEndpointWeightsAndCapacities',
  'CreateDataQualityJobDefinition',
  'DescribeDataQualityJobDefinition',
  'CreateMonitoringSchedule',
  'DescribeMonitoringSchedule',
  'UpdateMonitoringSchedule',
] as const;

/** A production variant as the endpoint runs it. */
interface Variant {
  name: string;
  weight: number;
}

interface EndpointState {
  config: string;
  status: string;
  variants: Variant[];
  failureReason?: string;
  /** Describes left before a pending update (a new configuration, or new weights) finishes. */
  pending?: { config: string; polls: number; fail?: string; weights?: Record<string, number> };
}

export interface RecordedCall {
  service: string;
  operation: string;
  body: Record<string, unknown>;
  faked: boolean;
}

export class ContractFake {
  readonly calls: RecordedCall[] = [];
  readonly violations: string[] = [];
  /** The next UpdateEndpoint fails with this reason. */
  failNextUpdate?: string;
  /**
   * Where a failed update leaves the endpoint: `Failed` (broken; SageMaker then allows only
   * DeleteEndpoint) or `InService` on the old configuration (the new fleet failed its health check).
   */
  failedUpdateStatus: 'Failed' | 'InService' = 'Failed';
  /** Describes an update stays `Updating`. */
  updatePolls = 1;
  /** Errors to answer SageMaker operations with, as AWS would (awsJson error documents); `times` answers that many calls. */
  readonly injected: { operation: string; status: number; type: string; message: string; times: number }[] = [];
  private endpoints = new Map<string, EndpointState>();
  /** Endpoint config → the instance types moto was not shown (variant index → type). */
  private substituted = new Map<string, string[]>();
  /** Endpoint configurations moto holds, with their variants' initial weights. */
  private configs = new Map<string, Variant[]>();
  private jobDefinitions = new Map<string, Record<string, unknown>>();
  private schedules = new Map<string, Record<string, unknown>>();
  private server?: Server;
  url = '';
  /** The runtime double answering InvokeEndpoint (runtime.ts); without one, nothing runs the endpoints. */
  runtime?: SageMakerRuntimeFake;

  constructor(private readonly motoUrl: string) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', () => resolve()));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  reset(): void {
    this.calls.length = 0;
    this.violations.length = 0;
    this.failNextUpdate = undefined;
    this.failedUpdateStatus = 'Failed';
    this.updatePolls = 1;
    this.injected.length = 0;
    this.endpoints.clear();
    this.substituted.clear();
    this.configs.clear();
    this.jobDefinitions.clear();
    this.schedules.clear();
  }

  /** Operations of one service, in order. */
  operations(service = 'SageMaker'): string[] {
    return this.calls.filter((c) => c.service === service).map((c) => c.operation);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    if (this.runtime && req.method === 'POST' && (req.url ?? '').startsWith('/endpoints/')) return this.runtime.handle(req, res, raw);
    const target = String(req.headers['x-amz-target'] ?? '');
    const [service, operation] = target.includes('.') ? (target.split('.') as [string, string]) : [this.serviceOf(req), `${req.method} ${req.url}`];
    let body: Record<string, unknown> = {};
    if (target && raw.length > 0) {
      try {
        body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
      } catch {
        body = {};
      }
    }
    const faked = service === 'SageMaker' && (FAKED_OPERATIONS as readonly string[]).includes(operation);
    this.calls.push({ service, operation, body, faked });
    try {
      const injected = this.injected.find((e) => service === 'SageMaker' && e.operation === operation && e.times > 0);
      if (injected) {
        injected.times--;
        return this.json(res, injected.status, { __type: injected.type, message: injected.message });
      }
      if (service === 'SageMaker') {
        const problems = validateSageMakerInput(operation, body);
        if (problems.length > 0) {
          this.violations.push(...problems);
          return this.json(res, 400, { __type: 'ValidationException', message: `contract fake: ${problems.join('; ')}` });
        }
        if (faked) return this.fake(operation, body, res);
      }
      if (this.runtime && service === 'GraniteServiceVersion20100801' && operation === 'GetMetricData') {
        // What SageMaker publishes for the invocations the runtime double answered (moto computes no percentiles).
        return this.json(res, 200, this.runtime.metricData(body));
      }
      if (service === 'AnyScaleFrontendService') {
        // Application Auto Scaling speaks the same awsJson protocol: its bodies are checked against its SDK model too.
        const problems = validateAutoScalingInput(operation, body);
        if (problems.length > 0) {
          this.violations.push(...problems);
          return this.json(res, 400, { __type: 'ValidationException', message: `contract fake: ${problems.join('; ')}` });
        }
      }
      let forwarded = await this.forward(req, raw);
      if (service === 'SageMaker' && operation === 'CreateEndpointConfig' && forwarded.status === 400 && /instance/i.test(forwarded.body.toString('utf8'))) {
        // An instance type the real API accepts (checked above against the SDK's enum) that moto does not know.
        const variants = (body.ProductionVariants ?? []) as { InstanceType?: string }[];
        this.substituted.set(
          String(body.EndpointConfigName),
          variants.map((v) => v.InstanceType ?? ''),
        );
        const standIn = { ...body, ProductionVariants: variants.map((v) => ({ ...v, InstanceType: 'ml.p3.2xlarge' })) };
        this.calls[this.calls.length - 1]!.faked = true;
        forwarded = await this.forward(req, Buffer.from(JSON.stringify(standIn)));
      }
      if (service === 'SageMaker' && forwarded.status === 200) this.observe(operation, body, forwarded);
      res.writeHead(forwarded.status, forwarded.headers);
      res.end(forwarded.body);
    } catch (error) {
      this.json(res, 500, { __type: 'InternalFailure', message: String(error) });
    }
  }

  private serviceOf(req: IncomingMessage): string {
    const auth = String(req.headers.authorization ?? '');
    return /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\//.exec(auth)?.[1] ?? 'unknown';
  }

  private async forward(req: IncomingMessage, raw: Buffer): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers))
      if (typeof v === 'string' && !['host', 'connection', 'content-length', 'expect', 'transfer-encoding'].includes(k)) headers[k] = v;
    const response = await fetch(`${this.motoUrl}${req.url ?? '/'}`, {
      method: req.method,
      headers,
      ...(raw.length > 0 && req.method !== 'GET' && req.method !== 'HEAD' && { body: raw }),
    });
    const out: Record<string, string> = {};
    response.headers.forEach((v, k) => {
      if (k !== 'content-encoding' && k !== 'transfer-encoding' && k !== 'connection' && k !== 'content-length') out[k] = v;
    });
    const body = Buffer.from(await response.arrayBuffer());
    return { status: response.status, headers: out, body };
  }

  /** Track what moto created, and overlay DescribeEndpoint with the fake's endpoint state. */
  private observe(operation: string, body: Record<string, unknown>, forwarded: { body: Buffer; headers: Record<string, string> }): void {
    if (operation === 'CreateEndpointConfig') {
      const variants = (body.ProductionVariants ?? []) as { VariantName?: string; InitialVariantWeight?: number }[];
      this.configs.set(
        String(body.EndpointConfigName),
        variants.map((v) => ({ name: String(v.VariantName), weight: v.InitialVariantWeight ?? 1 })),
      );
    }
    if (operation === 'CreateEndpoint') {
      const config = String(body.EndpointConfigName);
      this.endpoints.set(String(body.EndpointName), { config, status: 'InService', variants: [...(this.configs.get(config) ?? [])] });
    }
    if (operation === 'DeleteEndpoint') this.endpoints.delete(String(body.EndpointName));
    if (operation === 'DescribeEndpointConfig' && this.substituted.has(String(body.EndpointConfigName))) {
      const real = this.substituted.get(String(body.EndpointConfigName))!;
      const doc = JSON.parse(forwarded.body.toString('utf8')) as { ProductionVariants?: { InstanceType?: string }[] };
      doc.ProductionVariants?.forEach((v, i) => (v.InstanceType = real[i] ?? v.InstanceType));
      forwarded.body = Buffer.from(JSON.stringify(doc));
    }
    if (operation === 'DescribeEndpoint') {
      const state = this.endpoints.get(String(body.EndpointName));
      if (!state) return;
      if (state.pending) {
        if (state.pending.polls > 0) state.pending.polls--;
        else {
          const weights = state.pending.weights;
          if (state.pending.fail) {
            state.status = this.failedUpdateStatus;
            state.failureReason = state.pending.fail;
          } else if (weights) {
            state.variants = state.variants.map((v) => ({ ...v, weight: weights[v.name] ?? v.weight }));
            state.status = 'InService';
          } else {
            state.config = state.pending.config;
            state.variants = [...(this.configs.get(state.config) ?? [])];
            state.status = 'InService';
            delete state.failureReason;
          }
          delete state.pending;
        }
      }
      const doc = JSON.parse(forwarded.body.toString('utf8')) as Record<string, unknown>;
      doc.EndpointConfigName = state.config;
      doc.EndpointStatus = state.status;
      const pendingWeights = state.pending?.weights;
      doc.ProductionVariants = state.variants.map((v) => ({
        VariantName: v.name,
        CurrentWeight: v.weight,
        DesiredWeight: pendingWeights?.[v.name] ?? v.weight,
        CurrentInstanceCount: 1,
        DesiredInstanceCount: 1,
      }));
      if (state.failureReason) doc.FailureReason = state.failureReason;
      else delete doc.FailureReason;
      forwarded.body = Buffer.from(JSON.stringify(doc));
    }
  }

  private fake(operation: string, body: Record<string, unknown>, res: ServerResponse): void {
    const now = Date.now() / 1000;
    const arn = (kind: string, name: unknown) => `arn:aws:sagemaker:us-east-1:123456789012:${kind}/${String(name).toLowerCase()}`;
    const notFound = (what: string) => this.json(res, 400, { __type: 'ResourceNotFound', Message: `${what} does not exist` });
    switch (operation) {
      case 'UpdateEndpoint': {
        const name = String(body.EndpointName);
        const state = this.endpoints.get(name);
        if (!state) return this.json(res, 400, { __type: 'ValidationException', message: `Could not find endpoint "${name}".` });
        if (!this.configs.has(String(body.EndpointConfigName)))
          return this.json(res, 400, { __type: 'ValidationException', message: `Could not find endpoint configuration "${String(body.EndpointConfigName)}".` });
        if (state.status !== 'InService' && state.status !== 'Failed')
          return this.json(res, 400, { __type: 'ValidationException', message: `Cannot update in-progress endpoint "${arn('endpoint', name)}".` });
        const fail = this.failNextUpdate;
        this.failNextUpdate = undefined;
        state.status = 'Updating';
        delete state.failureReason;
        state.pending = { config: String(body.EndpointConfigName), polls: this.updatePolls, ...(fail && { fail }) };
        return this.json(res, 200, { EndpointArn: arn('endpoint', name) });
      }
      case 'UpdateEndpointWeightsAndCapacities': {
        const name = String(body.EndpointName);
        const state = this.endpoints.get(name);
        if (!state) return this.json(res, 400, { __type: 'ValidationException', message: `Could not find endpoint "${arn('endpoint', name)}".` });
        if (state.status !== 'InService')
          return this.json(res, 400, { __type: 'ValidationException', message: `Cannot update in-progress endpoint "${arn('endpoint', name)}".` });
        const weights: Record<string, number> = {};
        for (const d of (body.DesiredWeightsAndCapacities ?? []) as { VariantName: string; DesiredWeight?: number }[]) {
          if (!state.variants.some((v) => v.name === d.VariantName))
            return this.json(res, 400, {
              __type: 'ValidationException',
              message: `The variant name(s) "${d.VariantName}" is/are not present within endpoint configuration "${state.config}".`,
            });
          if (d.DesiredWeight !== undefined) weights[d.VariantName] = d.DesiredWeight;
        }
        state.status = 'Updating';
        state.pending = { config: state.config, polls: this.updatePolls, weights };
        return this.json(res, 200, { EndpointArn: arn('endpoint', name) });
      }
      case 'CreateDataQualityJobDefinition': {
        const name = String(body.JobDefinitionName);
        if (this.jobDefinitions.has(name)) return this.json(res, 400, { __type: 'ResourceInUse', Message: `Job definition ${name} already exists` });
        this.jobDefinitions.set(name, { ...body, JobDefinitionArn: arn('data-quality-job-definition', name), CreationTime: now });
        return this.json(res, 200, { JobDefinitionArn: arn('data-quality-job-definition', name) });
      }
      case 'DescribeDataQualityJobDefinition': {
        const def = this.jobDefinitions.get(String(body.JobDefinitionName));
        return def ? this.json(res, 200, def) : notFound(`Job definition ${String(body.JobDefinitionName)}`);
      }
      case 'CreateMonitoringSchedule': {
        const name = String(body.MonitoringScheduleName);
        if (this.schedules.has(name)) return this.json(res, 400, { __type: 'ResourceInUse', Message: `Monitoring schedule ${name} already exists` });
        if (!this.jobDefinitions.has(String((body.MonitoringScheduleConfig as Record<string, unknown>)?.MonitoringJobDefinitionName)))
          return notFound('Job definition');
        this.schedules.set(name, {
          MonitoringScheduleName: name,
          MonitoringScheduleArn: arn('monitoring-schedule', name),
          MonitoringScheduleStatus: 'Scheduled',
          MonitoringType: 'DataQuality',
          CreationTime: now,
          LastModifiedTime: now,
          MonitoringScheduleConfig: body.MonitoringScheduleConfig,
        });
        return this.json(res, 200, { MonitoringScheduleArn: arn('monitoring-schedule', name) });
      }
      case 'DescribeMonitoringSchedule': {
        const s = this.schedules.get(String(body.MonitoringScheduleName));
        return s ? this.json(res, 200, s) : notFound(`Monitoring schedule ${String(body.MonitoringScheduleName)}`);
      }
      case 'UpdateMonitoringSchedule': {
        const s = this.schedules.get(String(body.MonitoringScheduleName));
        if (!s) return notFound(`Monitoring schedule ${String(body.MonitoringScheduleName)}`);
        s.MonitoringScheduleConfig = body.MonitoringScheduleConfig;
        s.LastModifiedTime = now;
        return this.json(res, 200, { MonitoringScheduleArn: s.MonitoringScheduleArn });
      }
      default:
        return this.json(res, 400, { __type: 'UnknownOperationException', message: operation });
    }
  }

  /** The monitoring schedules the fake holds (for assertions). */
  monitoringSchedules(): Record<string, unknown>[] {
    return [...this.schedules.values()];
  }

  /** The fake's view of an endpoint (for assertions). */
  endpoint(name: string): EndpointState | undefined {
    return this.endpoints.get(name);
  }

  private json(res: ServerResponse, status: number, doc: unknown): void {
    const text = JSON.stringify(doc);
    res.writeHead(status, {
      'content-type': 'application/x-amz-json-1.1',
      'x-amzn-requestid': 'contract-fake',
      ...(status >= 400 && { 'x-amzn-errortype': String((doc as { __type?: string }).__type) }),
    });
    res.end(text);
  }
}
