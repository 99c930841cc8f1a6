/**
 * A Vertex AI control plane on 127.0.0.1 that the real `@google-cloud/aiplatform` client talks to over
 * its default gRPC transport: ModelService (UploadModel, GetModel, ListModelVersions,
 * MergeVersionAliases), EndpointService (Create/Get/List/DeleteEndpoint, Deploy/UndeployModel,
 * UpdateEndpoint), JobService (ModelDeploymentMonitoringJob create/get/list/update/pause/resume/
 * delete), PipelineService (Create/GetPipelineJob), ScheduleService (Create/Get/List/Update/Pause/
 * ResumeSchedule) and google.longrunning.Operations (GetOperation). Every other RPC answers
 * UNIMPLEMENTED.
 *
 * Every request passes the checks the client does not make (protos.ts, checks.ts): the routing header
 * names the request's resource, REQUIRED fields are present, names are well-formed and in this fake's
 * project and location, referenced models/versions/endpoints/objects exist. Long-running operations
 * finish after `pollsUntilDone` polls; `inject` makes the next call of a method fail (at the call or
 * in its operation). Deploying a model starts its container through `runner` (the serving app for
 * real, see container.ts), and the operation finishes only once it answers its health route.
 */
import type { ServerUnaryCall, sendUnaryData } from '@grpc/grpc-js';
import {
  checkAlias,
  checkCron,
  checkDedicatedResources,
  checkDeploymentTimeout,
  checkLoggingConfig,
  checkProbe,
  checkTrafficSplit,
  structFields,
} from './checks.js';
import { camel, grpc, loadProtos, missingRequired, pack, SERVICES, type MethodInfo, type ServiceName } from './protos.js';

const S = grpc.status;

/** An error the fake answers with (a gRPC status). */
export class FakeError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** A running stand-in for a deployed model's container. */
export interface Container {
  /** Base URL of the serving app. */
  url: string;
  predictRoute: string;
  healthRoute: string;
  stop(): Promise<void>;
}

/** Starts a model's container; the fake calls it on DeployModel and stops it on UndeployModel. */
export type ContainerRunner = (model: ModelVersion, deployedModelId: string, endpointId: string) => Promise<Container>;

export interface ModelVersion {
  /** `projects/P/locations/L/models/M` */
  name: string;
  versionId: string;
  aliases: string[];
  model: Record<string, any>;
  createTime: Date;
}

interface EndpointState {
  endpoint: Record<string, any>;
  deployed: Record<string, any>[];
  split: Record<string, number>;
  containers: Map<string, Container>;
}

interface Operation {
  name: string;
  polls: number;
  info: MethodInfo;
  settled?: { response?: Record<string, unknown>; error?: FakeError };
}

/** One failure to inject into the next call of `method` (e.g. `DeployModel`). */
export interface Injection {
  method: string;
  code: number;
  message: string;
  /** `call`: the RPC itself fails; `operation` (default for LROs): the operation ends with the error. */
  phase?: 'call' | 'operation';
}

export interface FakeOptions {
  project: string;
  location: string;
  /** Polls of GetOperation before an operation is done. */
  pollsUntilDone?: number;
  runner?: ContainerRunner;
  /** Whether a gs:// object or prefix exists (the GCS fake). */
  gcsExists?: (uri: string) => boolean;
  /** The location of a bucket (lowercase), for the same-region rule of artifactUri. */
  gcsBucketLocation?: (bucket: string) => string | undefined;
}

/** One call the fake answered, for tests that list what mlship sent. */
export interface RecordedCall {
  service: ServiceName;
  method: string;
  request: Record<string, any>;
  error?: string;
}

export class VertexGrpcFake {
  readonly models = new Map<string, ModelVersion[]>();
  readonly endpoints = new Map<string, EndpointState>();
  readonly monitoringJobs = new Map<string, Record<string, any>>();
  readonly pipelineJobs = new Map<string, { job: Record<string, any>; gets: number }>();
  readonly schedules = new Map<string, Record<string, any>>();
  readonly calls: RecordedCall[] = [];
  readonly injections: Injection[] = [];
  /** Model versions (`…/models/M@2`) whose container never passes its health check: DeployModel fails as on Vertex. */
  readonly unhealthy = new Set<string>();
  /** Test lever: when set, PipelineJobs end PIPELINE_STATE_FAILED with this error message (instead of succeeding). */
  pipelineFailure?: string;
  private readonly operations = new Map<string, Operation>();
  private server?: InstanceType<typeof grpc.Server>;
  private ids = 1000;
  port = 0;

  constructor(readonly options: FakeOptions) {}

  get parent(): string {
    return `projects/${this.options.project}/locations/${this.options.location}`;
  }

  /** Make the next call of a method fail. */
  inject(injection: Injection): void {
    this.injections.push(injection);
  }

  async start(port = 0): Promise<number> {
    const protos = loadProtos();
    const server = new grpc.Server();
    for (const service of [...SERVICES, 'Operations'] as ServiceName[]) {
      const handlers: Record<string, (call: ServerUnaryCall<any, any>, cb: sendUnaryData<any>) => void> = {};
      for (const [method, info] of Object.entries(protos.methods[service])) {
        const impl = (this as any)[`${method}`] as ((req: any) => unknown) | undefined;
        if (typeof impl !== 'function') continue;
        handlers[method] = (call, cb) => {
          void this.handle(info, impl.bind(this), call).then(
            (reply) => cb(null, reply),
            (e: unknown) =>
              cb(e instanceof FakeError ? { code: e.code, details: e.message } : { code: S.INTERNAL, details: `fake bug: ${(e as Error).stack}` }),
          );
        };
      }
      server.addService(protos.definitions[service], handlers);
    }
    this.port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    this.server = server;
    return this.port;
  }

  async stop(): Promise<void> {
    for (const ep of this.endpoints.values()) for (const c of ep.containers.values()) await c.stop().catch(() => undefined);
    // A client still connected (a test that failed before closing its target) must not hold the stop:
    // after a short grace, open calls are cut.
    const server = this.server;
    if (!server) return;
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, 2000);
      server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
  }

  // ---------------------------------------------------------------------------------------------
  // the common path of every call

  private async handle(info: MethodInfo, impl: (req: any) => unknown, call: ServerUnaryCall<any, any>): Promise<unknown> {
    const request = call.request as Record<string, any>;
    const record: RecordedCall = { service: info.service, method: info.name, request };
    this.calls.push(record);
    if (process.env.MLSHIP_FAKE_LOG) process.stderr.write(`vertex fake: gRPC ${info.name}\n`);
    try {
      if (info.service !== 'Operations') this.checkRouting(info, request, call.metadata.get('x-goog-request-params')[0]?.toString() ?? '');
      const missing = missingRequired(info.requestType, request);
      if (missing.length) throw new FakeError(S.INVALID_ARGUMENT, `Required field${missing.length > 1 ? 's' : ''} not set: ${missing.join(', ')}`);
      const at = this.injections.findIndex((i) => i.method === info.name || (i.method === '*' && info.service !== 'Operations'));
      const injected = at >= 0 ? this.injections.splice(at, 1)[0] : undefined;
      if (injected && (injected.phase === 'call' || !info.lro)) throw new FakeError(injected.code, injected.message);
      if (!info.lro) return await impl(request);
      // Long-running: validate now (errors at the call), do the work in the background.
      const work = impl(request) as (() => Promise<Record<string, unknown>>) | Promise<() => Promise<Record<string, unknown>>>;
      const run = await work;
      const name = `${this.operationParent(info, request)}/operations/${++this.ids}`;
      const op: Operation = { name, polls: this.options.pollsUntilDone ?? 2, info };
      this.operations.set(name, op);
      (injected ? Promise.reject(new FakeError(injected.code, injected.message)) : run()).then(
        (response) => (op.settled = { response }),
        (error: unknown) => (op.settled = { error: error instanceof FakeError ? error : new FakeError(S.INTERNAL, String(error)) }),
      );
      return { name, done: false, metadata: pack(info.lro.metadata, metadataOf(info.lro.metadata)) };
    } catch (e) {
      record.error = (e as Error).message;
      throw e;
    }
  }

  private checkRouting(info: MethodInfo, request: Record<string, any>, header: string): void {
    if (!info.route) return;
    const value = info.route.field
      .split('.')
      .map(camel)
      .reduce<any>((o, k) => o?.[k], request);
    if (typeof value !== 'string' || !value) throw new FakeError(S.INVALID_ARGUMENT, `${info.route.field} is required`);
    const expected = `${info.route.field}=${encodeURIComponent(value)}`;
    if (!header.split('&').includes(expected)) throw new FakeError(S.INVALID_ARGUMENT, `routing header "${header}" does not match the request (${expected})`);
    if (!info.route.pattern.test(value)) throw new FakeError(S.INVALID_ARGUMENT, `"${value}" is not a well-formed resource name for ${info.name}`);
    if (!value.startsWith(`${this.parent}`)) {
      throw new FakeError(
        S.INVALID_ARGUMENT,
        `"${value}" is not in ${this.parent}: this endpoint serves location ${this.options.location} of project ${this.options.project}`,
      );
    }
  }

  private operationParent(info: MethodInfo, request: Record<string, any>): string {
    const value = info.route
      ? info.route.field
          .split('.')
          .map(camel)
          .reduce<any>((o, k) => o?.[k], request)
      : undefined;
    return typeof value === 'string' ? value : this.parent;
  }

  // ---------------------------------------------------------------------------------------------
  // google.longrunning.Operations

  async getOperation(req: { name: string }): Promise<unknown> {
    const op = this.operations.get(req.name);
    if (!op) throw new FakeError(S.NOT_FOUND, `Operation ${req.name} not found`);
    op.polls -= 1;
    const meta = pack(op.info.lro!.metadata, metadataOf(op.info.lro!.metadata));
    if (op.polls > 0 || !op.settled) return { name: op.name, done: false, metadata: meta };
    if (op.settled.error) return { name: op.name, done: true, metadata: meta, error: { code: op.settled.error.code, message: op.settled.error.message } };
    return { name: op.name, done: true, metadata: meta, response: pack(op.info.lro!.response, op.settled.response ?? {}) };
  }

  // ---------------------------------------------------------------------------------------------
  // ModelService

  private modelVersions(name: string): ModelVersion[] {
    const versions = this.models.get(name);
    if (!versions) throw new FakeError(S.NOT_FOUND, `Model ${name} not found`);
    return versions;
  }

  /** `…/models/M`, `…/models/M@3`, `…/models/M@alias` → the version (no suffix = the `default` alias). */
  resolveModel(ref: string): ModelVersion {
    const [name, suffix] = ref.split('@') as [string, string | undefined];
    if (!/^projects\/[^/]+\/locations\/[^/]+\/models\/[^/@]+$/.test(name)) throw new FakeError(S.INVALID_ARGUMENT, `"${ref}" is not a model resource name`);
    const versions = this.modelVersions(name);
    const wanted = suffix ?? 'default';
    const version = /^\d+$/.test(wanted) ? versions.find((v) => v.versionId === wanted) : versions.find((v) => v.aliases.includes(wanted));
    if (!version) throw new FakeError(S.NOT_FOUND, `Model ${ref} not found: no version ${wanted}`);
    return version;
  }

  modelView(v: ModelVersion): Record<string, unknown> {
    const ts = timestamp(v.createTime);
    return {
      ...v.model,
      name: v.name,
      versionId: v.versionId,
      versionAliases: v.aliases,
      versionCreateTime: ts,
      versionUpdateTime: ts,
      createTime: ts,
      updateTime: ts,
    };
  }

  uploadModel(req: any): () => Promise<Record<string, unknown>> {
    const model = req.model;
    if (!model.containerSpec?.imageUri) throw new FakeError(S.INVALID_ARGUMENT, 'model.container_spec.image_uri is required for a custom-container model');
    if (model.artifactUri) {
      if (!/^gs:\/\/[a-z0-9][a-z0-9._-]+\//.test(model.artifactUri))
        throw new FakeError(S.INVALID_ARGUMENT, `artifact_uri "${model.artifactUri}" is not a gs:// directory`);
      if (this.options.gcsExists && !this.options.gcsExists(model.artifactUri))
        throw new FakeError(S.INVALID_ARGUMENT, `artifact_uri ${model.artifactUri} holds no objects`);
      const where = this.options.gcsBucketLocation?.(model.artifactUri.split('/')[2]);
      if (where && where !== this.options.location) {
        throw new FakeError(
          S.FAILED_PRECONDITION,
          `The Cloud Storage bucket of artifact_uri ${model.artifactUri} is in ${where}; it must be in the model's region ${this.options.location}`,
        );
      }
    }
    for (const a of model.versionAliases ?? []) {
      const problem = checkAlias(a);
      if (problem) throw new FakeError(S.INVALID_ARGUMENT, problem);
    }
    for (const problem of [
      checkProbe('container_spec.startup_probe', model.containerSpec.startupProbe),
      checkProbe('container_spec.health_probe', model.containerSpec.healthProbe),
      checkProbe('container_spec.liveness_probe', model.containerSpec.livenessProbe),
      checkDeploymentTimeout(model.containerSpec.deploymentTimeout),
    ])
      if (problem) throw new FakeError(S.INVALID_ARGUMENT, problem);
    for (const e of model.containerSpec.env ?? [])
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(e.name)) throw new FakeError(S.INVALID_ARGUMENT, `env name "${e.name}" is invalid`);
    let name: string;
    if (req.parentModel) {
      name = req.parentModel;
      this.modelVersions(name);
    } else {
      const id = req.modelId || String(++this.ids);
      if (!/^[a-z_][a-z0-9_-]{0,62}$/.test(id)) throw new FakeError(S.INVALID_ARGUMENT, `model_id "${id}" must match [a-z_][a-z0-9_-]{0,62}`);
      name = `${req.parent}/models/${id}`;
      if (this.models.has(name)) throw new FakeError(S.ALREADY_EXISTS, `Model ${name} already exists; upload a new version with parent_model`);
    }
    return async () => {
      const versions = this.models.get(name) ?? [];
      const { versionAliases, ...rest } = model;
      const version: ModelVersion = { name, versionId: String(versions.length + 1), aliases: [], model: rest, createTime: new Date() };
      versions.push(version);
      this.models.set(name, versions);
      this.moveAliases(version, [...(versions.length === 1 ? ['default'] : []), ...(versionAliases ?? [])]);
      return { model: name, modelVersionId: version.versionId };
    };
  }

  private moveAliases(version: ModelVersion, aliases: string[]): void {
    const versions = this.models.get(version.name)!;
    for (const a of aliases) {
      if (a.startsWith('-')) {
        if (a === '-default') throw new FakeError(S.INVALID_ARGUMENT, 'the default alias cannot be removed, only moved');
        version.aliases = version.aliases.filter((x) => x !== a.slice(1));
        continue;
      }
      const problem = checkAlias(a);
      if (problem) throw new FakeError(S.INVALID_ARGUMENT, problem);
      for (const v of versions) v.aliases = v.aliases.filter((x) => x !== a);
      version.aliases.push(a);
    }
  }

  getModel(req: { name: string }): Record<string, unknown> {
    return this.modelView(this.resolveModel(req.name));
  }

  listModelVersions(req: { name: string }): Record<string, unknown> {
    return { models: this.modelVersions(req.name).map((v) => this.modelView(v)) };
  }

  mergeVersionAliases(req: { name: string; versionAliases: string[] }): Record<string, unknown> {
    if (!req.name.includes('@')) throw new FakeError(S.INVALID_ARGUMENT, 'name must name a version (…/models/M@<version>)');
    const version = this.resolveModel(req.name);
    this.moveAliases(version, req.versionAliases);
    return this.modelView(version);
  }

  // ---------------------------------------------------------------------------------------------
  // EndpointService

  endpointState(name: string): EndpointState {
    const ep = this.endpoints.get(name);
    if (!ep) throw new FakeError(S.NOT_FOUND, `Endpoint ${name} not found`);
    return ep;
  }

  endpointView(ep: EndpointState): Record<string, unknown> {
    return { ...ep.endpoint, deployedModels: ep.deployed, trafficSplit: ep.split };
  }

  createEndpoint(req: any): () => Promise<Record<string, unknown>> {
    const problem = checkLoggingConfig(req.endpoint.predictRequestResponseLoggingConfig);
    if (problem) throw new FakeError(S.INVALID_ARGUMENT, problem);
    if (req.endpoint.deployedModels?.length || Object.keys(req.endpoint.trafficSplit ?? {}).length) {
      throw new FakeError(S.INVALID_ARGUMENT, 'deployed_models and traffic_split are set by DeployModel, not CreateEndpoint');
    }
    const id = req.endpointId || String(++this.ids);
    if (!/^([a-z][a-z0-9-]{0,61}[a-z0-9]|[1-9][0-9]{0,8})$/.test(id)) throw new FakeError(S.INVALID_ARGUMENT, `endpoint_id "${id}" is not valid`);
    const name = `${req.parent}/endpoints/${id}`;
    if (this.endpoints.has(name)) throw new FakeError(S.ALREADY_EXISTS, `Endpoint ${name} already exists`);
    return async () => {
      const ts = timestamp(new Date());
      this.endpoints.set(name, { endpoint: { ...req.endpoint, name, createTime: ts, updateTime: ts }, deployed: [], split: {}, containers: new Map() });
      return this.endpointView(this.endpoints.get(name)!);
    };
  }

  getEndpoint(req: { name: string }): Record<string, unknown> {
    return this.endpointView(this.endpointState(req.name));
  }

  listEndpoints(req: { parent: string; filter?: string }): Record<string, unknown> {
    const display = /display_name\s*=\s*"([^"]*)"/.exec(req.filter ?? '')?.[1];
    const endpoints = [...this.endpoints.values()].filter((e) => display === undefined || e.endpoint.displayName === display);
    return { endpoints: endpoints.map((e) => this.endpointView(e)) };
  }

  deleteEndpoint(req: { name: string }): () => Promise<Record<string, unknown>> {
    const ep = this.endpointState(req.name);
    if (ep.deployed.length) throw new FakeError(S.FAILED_PRECONDITION, `Endpoint ${req.name} has deployed models; undeploy them first`);
    return async () => {
      this.endpoints.delete(req.name);
      return {};
    };
  }

  updateEndpoint(req: { endpoint: any; updateMask?: { paths?: string[] } }): Record<string, unknown> {
    const ep = this.endpointState(req.endpoint.name);
    const paths = req.updateMask?.paths ?? [];
    if (paths.length === 0) throw new FakeError(S.INVALID_ARGUMENT, 'update_mask is required');
    const allowed = ['display_name', 'description', 'labels', 'traffic_split', 'predict_request_response_logging_config'];
    const bad = paths.find((p) => !allowed.includes(p));
    if (bad) throw new FakeError(S.INVALID_ARGUMENT, `update_mask path "${bad}" is not updatable`);
    if (paths.includes('traffic_split')) {
      const problem = checkTrafficSplit(req.endpoint.trafficSplit, new Set(ep.deployed.map((d) => d.id)));
      if (problem) throw new FakeError(S.INVALID_ARGUMENT, problem);
      if (ep.deployed.length && !Object.keys(req.endpoint.trafficSplit ?? {}).length) throw new FakeError(S.INVALID_ARGUMENT, 'traffic_split must sum to 100');
      ep.split = { ...req.endpoint.trafficSplit };
    }
    if (paths.includes('predict_request_response_logging_config')) {
      const problem = checkLoggingConfig(req.endpoint.predictRequestResponseLoggingConfig);
      if (problem) throw new FakeError(S.INVALID_ARGUMENT, problem);
      ep.endpoint.predictRequestResponseLoggingConfig = req.endpoint.predictRequestResponseLoggingConfig;
    }
    for (const p of ['display_name', 'description', 'labels']) if (paths.includes(p)) ep.endpoint[camel(p)] = req.endpoint[camel(p)];
    if (!ep.endpoint.displayName) throw new FakeError(S.INVALID_ARGUMENT, 'endpoint.display_name is required');
    return this.endpointView(ep);
  }

  deployModel(req: any): () => Promise<Record<string, unknown>> {
    const ep = this.endpointState(req.endpoint);
    const dm = req.deployedModel;
    if (!dm.model) throw new FakeError(S.INVALID_ARGUMENT, 'deployed_model.model is required');
    const version = this.resolveModel(dm.model);
    const problem = checkDedicatedResources(dm.dedicatedResources);
    if (problem) throw new FakeError(S.INVALID_ARGUMENT, problem);
    const keys = new Set(['0', ...ep.deployed.map((d) => d.id)]);
    const splitProblem = checkTrafficSplit(req.trafficSplit, keys);
    if (splitProblem) throw new FakeError(S.INVALID_ARGUMENT, splitProblem);
    const endpointId = req.endpoint.split('/').pop()!;
    return async () => {
      const id = String(++this.ids * 1000 + 7);
      if (this.unhealthy.has(`${version.name}@${version.versionId}`)) {
        throw new FakeError(
          S.FAILED_PRECONDITION,
          `Model server never became ready. Please validate that your model file or container configuration are valid. Model server logs can be found at https://console.cloud.google.com/logs (deployed model ${id}).`,
        );
      }
      const container = this.options.runner ? await this.options.runner(version, id, endpointId) : undefined;
      const deployed = {
        ...dm,
        id,
        model: `${version.name}`,
        modelVersionId: version.versionId,
        displayName: dm.displayName || version.model.displayName,
        createTime: timestamp(new Date()),
      };
      ep.deployed.push(deployed);
      if (container) ep.containers.set(id, container);
      const split = req.trafficSplit && Object.keys(req.trafficSplit).length ? req.trafficSplit : ep.deployed.length === 1 ? { '0': 100 } : undefined;
      if (split)
        ep.split = Object.fromEntries(
          Object.entries(split as Record<string, number>)
            .map(([k, v]) => [k === '0' ? id : k, v])
            .filter(([, v]) => (v as number) > 0),
        );
      return { deployedModel: deployed };
    };
  }

  undeployModel(req: any): () => Promise<Record<string, unknown>> {
    const ep = this.endpointState(req.endpoint);
    const dm = ep.deployed.find((d) => d.id === req.deployedModelId);
    if (!dm) throw new FakeError(S.NOT_FOUND, `DeployedModel ${req.deployedModelId} not found on ${req.endpoint}`);
    const remaining = ep.deployed.filter((d) => d.id !== dm.id);
    const newSplit = Object.keys(req.trafficSplit ?? {}).length ? (req.trafficSplit as Record<string, number>) : undefined;
    if ((ep.split[dm.id] ?? 0) > 0 && remaining.length > 0 && !newSplit) {
      throw new FakeError(
        S.FAILED_PRECONDITION,
        `DeployedModel ${dm.id} receives ${ep.split[dm.id]}% of the traffic; give traffic_split for the remaining models`,
      );
    }
    if (newSplit) {
      const problem = checkTrafficSplit(newSplit, new Set(remaining.map((d) => d.id)));
      if (problem) throw new FakeError(S.INVALID_ARGUMENT, problem);
    }
    return async () => {
      ep.deployed = ep.deployed.filter((d) => d.id !== dm.id);
      ep.split = newSplit ? { ...newSplit } : Object.fromEntries(Object.entries(ep.split).filter(([k]) => k !== dm.id));
      await ep.containers.get(dm.id)?.stop();
      ep.containers.delete(dm.id);
      return {};
    };
  }

  // ---------------------------------------------------------------------------------------------
  // JobService: model deployment monitoring

  createModelDeploymentMonitoringJob(req: any): Record<string, unknown> {
    const job = req.modelDeploymentMonitoringJob;
    this.checkMonitoringJob(job);
    if ([...this.monitoringJobs.values()].some((j) => j.endpoint === job.endpoint)) {
      throw new FakeError(S.FAILED_PRECONDITION, `Endpoint ${job.endpoint} already has a model deployment monitoring job`);
    }
    const name = `${req.parent}/modelDeploymentMonitoringJobs/${++this.ids}`;
    const ts = timestamp(new Date());
    const stored = { ...job, name, state: 'JOB_STATE_RUNNING', scheduleState: 'RUNNING', createTime: ts, updateTime: ts };
    this.monitoringJobs.set(name, stored);
    return stored;
  }

  private checkMonitoringJob(job: any): void {
    const ep = this.endpointState(job.endpoint);
    const ids = new Set(ep.deployed.map((d) => d.id));
    for (const c of job.modelDeploymentMonitoringObjectiveConfigs ?? []) {
      if (!ids.has(c.deployedModelId)) throw new FakeError(S.INVALID_ARGUMENT, `deployed_model_id ${c.deployedModelId} is not deployed on ${job.endpoint}`);
      const data = c.objectiveConfig?.trainingDataset;
      for (const uri of data?.gcsSource?.uris ?? [])
        if (this.options.gcsExists && !this.options.gcsExists(uri)) throw new FakeError(S.INVALID_ARGUMENT, `training dataset ${uri} does not exist`);
      if (data && !data.dataFormat) throw new FakeError(S.INVALID_ARGUMENT, 'training_dataset.data_format is required with gcs_source');
      const skew = c.objectiveConfig?.trainingPredictionSkewDetectionConfig;
      const drift = c.objectiveConfig?.predictionDriftDetectionConfig;
      for (const t of [...Object.values(skew?.skewThresholds ?? {}), ...Object.values(drift?.driftThresholds ?? {})] as { value?: number }[]) {
        if (!(t.value! > 0 && t.value! <= 1)) throw new FakeError(S.INVALID_ARGUMENT, `threshold ${t.value} is not in (0, 1]`);
      }
    }
    const seconds = Number(job.modelDeploymentMonitoringScheduleConfig?.monitorInterval?.seconds ?? 0);
    if (seconds < 3600 || seconds % 3600 !== 0)
      throw new FakeError(S.INVALID_ARGUMENT, `monitor_interval must be whole hours, at least 1 hour (got ${seconds} s)`);
    // model_monitoring_alert_config.email_alert_config.user_emails: addresses (the service's own wording is unverified).
    for (const email of job.modelMonitoringAlertConfig?.emailAlertConfig?.userEmails ?? []) {
      if (typeof email !== 'string' || !/^[^@\s,]+@[^@\s,]+\.[^@\s,]+$/.test(email))
        throw new FakeError(S.INVALID_ARGUMENT, `user_emails: ${JSON.stringify(email)} is not an email address`);
    }
    const rate = job.loggingSamplingStrategy?.randomSampleConfig?.sampleRate;
    if (!(rate > 0 && rate <= 1))
      throw new FakeError(S.INVALID_ARGUMENT, `logging_sampling_strategy.random_sample_config.sample_rate must be in (0, 1], got ${rate}`);
  }

  private monitoringJob(name: string): Record<string, any> {
    const job = this.monitoringJobs.get(name);
    if (!job) throw new FakeError(S.NOT_FOUND, `ModelDeploymentMonitoringJob ${name} not found`);
    return job;
  }

  getModelDeploymentMonitoringJob(req: { name: string }): Record<string, unknown> {
    return this.monitoringJob(req.name);
  }

  listModelDeploymentMonitoringJobs(req: { filter?: string }): Record<string, unknown> {
    const display = /display_name\s*=\s*"([^"]*)"/.exec(req.filter ?? '')?.[1];
    return { modelDeploymentMonitoringJobs: [...this.monitoringJobs.values()].filter((j) => display === undefined || j.displayName === display) };
  }

  updateModelDeploymentMonitoringJob(req: any): () => Promise<Record<string, unknown>> {
    const job = this.monitoringJob(req.modelDeploymentMonitoringJob.name);
    const paths: string[] = req.updateMask?.paths ?? [];
    if (!paths.length) throw new FakeError(S.INVALID_ARGUMENT, 'update_mask is required');
    const merged = { ...job };
    for (const p of paths) merged[camel(p)] = req.modelDeploymentMonitoringJob[camel(p)];
    this.checkMonitoringJob(merged);
    return async () => {
      Object.assign(job, merged, { updateTime: timestamp(new Date()) });
      return job;
    };
  }

  pauseModelDeploymentMonitoringJob(req: { name: string }): Record<string, unknown> {
    Object.assign(this.monitoringJob(req.name), { state: 'JOB_STATE_PAUSED', scheduleState: 'OFFLINE' });
    return {};
  }

  resumeModelDeploymentMonitoringJob(req: { name: string }): Record<string, unknown> {
    Object.assign(this.monitoringJob(req.name), { state: 'JOB_STATE_RUNNING', scheduleState: 'RUNNING' });
    return {};
  }

  deleteModelDeploymentMonitoringJob(req: { name: string }): () => Promise<Record<string, unknown>> {
    this.monitoringJob(req.name);
    return async () => {
      this.monitoringJobs.delete(req.name);
      return {};
    };
  }

  // ---------------------------------------------------------------------------------------------
  // PipelineService and ScheduleService

  private checkPipelineJob(job: any, parent: string): void {
    const spec = structFields(job.pipelineSpec);
    if (!spec) throw new FakeError(S.INVALID_ARGUMENT, 'pipeline_job.pipeline_spec is empty (a plain object instead of a Struct?)');
    for (const key of ['pipelineInfo', 'root', 'deploymentSpec', 'components', 'schemaVersion']) {
      if (!spec[key]) throw new FakeError(S.INVALID_ARGUMENT, `pipeline_spec has no "${key}": not a compiled KFP pipeline`);
    }
    const out = job.runtimeConfig?.gcsOutputDirectory;
    if (!/^gs:\/\/[a-z0-9][a-z0-9._-]+\//.test(out ?? ''))
      throw new FakeError(S.INVALID_ARGUMENT, `runtime_config.gcs_output_directory "${out}" is not a gs:// directory`);
    if (!parent.startsWith(this.parent)) throw new FakeError(S.INVALID_ARGUMENT, `parent ${parent} is not in ${this.parent}`);
  }

  createPipelineJob(req: any): Record<string, unknown> {
    this.checkPipelineJob(req.pipelineJob, req.parent);
    const name = `${req.parent}/pipelineJobs/${req.pipelineJobId || `mlship-${++this.ids}`}`;
    if (this.pipelineJobs.has(name)) throw new FakeError(S.ALREADY_EXISTS, `PipelineJob ${name} already exists`);
    const job = { ...req.pipelineJob, name, state: 'PIPELINE_STATE_PENDING', createTime: timestamp(new Date()) };
    this.pipelineJobs.set(name, { job, gets: 0 });
    return job;
  }

  getPipelineJob(req: { name: string }): Record<string, unknown> {
    const entry = this.pipelineJobs.get(req.name);
    if (!entry) throw new FakeError(S.NOT_FOUND, `PipelineJob ${req.name} not found`);
    entry.gets += 1;
    const states = ['PIPELINE_STATE_PENDING', 'PIPELINE_STATE_RUNNING', 'PIPELINE_STATE_SUCCEEDED'];
    if (entry.job.state !== 'PIPELINE_STATE_FAILED') entry.job.state = states[Math.min(entry.gets, states.length - 1)];
    // pipelineFailure lever: the run fails where it would have succeeded, with a google.rpc.Status error.
    if (entry.job.state === 'PIPELINE_STATE_SUCCEEDED' && this.pipelineFailure)
      Object.assign(entry.job, { state: 'PIPELINE_STATE_FAILED', error: { code: S.INTERNAL, message: this.pipelineFailure } });
    return entry.job;
  }

  private checkSchedule(s: any): void {
    const cronProblem = checkCron(s.cron);
    if (cronProblem) throw new FakeError(S.INVALID_ARGUMENT, cronProblem);
    const inner = s.createPipelineJobRequest;
    if (!inner) throw new FakeError(S.INVALID_ARGUMENT, 'schedule.create_pipeline_job_request is required');
    this.checkPipelineJob(inner.pipelineJob ?? {}, inner.parent ?? '');
    if (!(s.maxConcurrentRunCount > 0)) throw new FakeError(S.INVALID_ARGUMENT, 'schedule.max_concurrent_run_count must be positive');
  }

  createSchedule(req: any): Record<string, unknown> {
    this.checkSchedule(req.schedule);
    const name = `${req.parent}/schedules/${++this.ids}`;
    const stored = { ...req.schedule, name, state: 'ACTIVE', createTime: timestamp(new Date()) };
    this.schedules.set(name, stored);
    return stored;
  }

  private schedule(name: string): Record<string, any> {
    const s = this.schedules.get(name);
    if (!s) throw new FakeError(S.NOT_FOUND, `Schedule ${name} not found`);
    return s;
  }

  getSchedule(req: { name: string }): Record<string, unknown> {
    return this.schedule(req.name);
  }

  listSchedules(req: { filter?: string }): Record<string, unknown> {
    const display = /display_name\s*=\s*"([^"]*)"/.exec(req.filter ?? '')?.[1];
    return { schedules: [...this.schedules.values()].filter((s) => display === undefined || s.displayName === display) };
  }

  updateSchedule(req: any): Record<string, unknown> {
    const s = this.schedule(req.schedule.name);
    const paths: string[] = req.updateMask?.paths ?? [];
    if (!paths.length) throw new FakeError(S.INVALID_ARGUMENT, 'update_mask is required');
    const merged = { ...s };
    for (const p of paths) merged[camel(p)] = req.schedule[camel(p)];
    this.checkSchedule(merged);
    Object.assign(s, merged);
    return s;
  }

  pauseSchedule(req: { name: string }): Record<string, unknown> {
    this.schedule(req.name).state = 'PAUSED';
    return {};
  }

  resumeSchedule(req: { name: string }): Record<string, unknown> {
    this.schedule(req.name).state = 'ACTIVE';
    return {};
  }
}

function timestamp(d: Date): { seconds: string; nanos: number } {
  return { seconds: String(Math.floor(d.getTime() / 1000)), nanos: (d.getTime() % 1000) * 1e6 };
}

/** Operation metadata: every Vertex metadata type used here has `genericMetadata`. */
function metadataOf(type: string): Record<string, unknown> {
  return type.endsWith('OperationMetadata') && type.startsWith('google.cloud.aiplatform') ? { genericMetadata: {} } : {};
}
