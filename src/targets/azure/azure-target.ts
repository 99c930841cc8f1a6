/**
 * The Azure Machine Learning target. push (the shared flow, Azure's calls in `push.ts`) registers a
 * build as model version N (the model folder in the workspace's blob datastore, tags with build,
 * digest, git commit and mlship version) and environment version N (the image and its inferenceConfig
 * routes); deploy puts one managed online endpoint per project in front of one managed online
 * deployment per version (`vN`, instance type from the shared compute selection, probes, the model
 * data collector on), moves traffic with the shared rollout controller reading Azure Monitor, removes
 * the old deployment, and converges autoscale and the drift-monitor and retraining schedules. A
 * deploy is a list of steps: `plan` returns them, `deploy` runs exactly those.
 *
 * The folder: `client.ts` (every Azure call, SDK or raw through the same pipeline) · `errors.ts` ·
 * `resources.ts` (names) · `requests.ts` + `schedules.ts` (pure request builders) · `push.ts` ·
 * `blob-store.ts` (the datastore as the shared ObjectStore) · `container-registry.ts` (the workspace's
 * ACR for push) · `data-collector.ts` (prediction logs for drift-check) · `descriptor.ts` (SDK-free facts).
 */
import { CloudTarget, type CloudTargetOptions } from '../../deploy/cloud-target.js';
import { azureDescriptor } from './descriptor.js';
import { OperationError, UsageError } from '../../util/errors.js';
import { loadCatalog } from '../../instances/catalog.js';
import { selectForManifest } from '../../compute/select.js';
import type { BaselineProfile } from '../../baseline/profile.js';
import { CloudError, translatingCalls } from '../../deploy/cloud-errors.js';
import { chooseRollback, historyEntry, liveSince, recentHistory } from '../../deploy/history.js';
import { pushVersion } from '../../deploy/push.js';
import { resolveVersion } from '../../deploy/versions.js';
import { httpLiveClient } from '../../deploy/live-client.js';
import type { ObjectStore } from '../../deploy/object-store.js';
import { ObjectRegistry } from '../../deploy/registry.js';
import { ALL_AT_ONCE, CanaryRevertedError, guardsFromManifest, runRollout, type MetricsReader, type TrafficControl } from '../../deploy/rollout.js';
import { converge, runSteps, toPlan, type Step } from '../../deploy/steps.js';
import type {
  DeployPlan,
  DeployRequest,
  DeployResult,
  LiveClient,
  PushOptions,
  PushResult,
  RetrainingRun,
  RollbackRequest,
  StopResult,
  Target,
  TargetContext,
  TargetStatus,
  VersionInfo,
} from '../../deploy/types.js';
import type { LogSource, LogWindow } from '../../logs/types.js';
import type { BuildRef } from '../../packaging/index.js';
import { blobStoreOver, openBlobStore, type BlobStore } from './blob-store.js';
import { API_VERSION, connectAzureMl, type ArmResource, type AzureMl } from './client.js';
import { azurePush, versionInfo } from './push.js';
import { collectorSources } from './data-collector.js';
import { translateAzureError } from './errors.js';
import { autoscaleBody, autoscaleName, deploymentBody, endpointBody, PROBE_PERIOD_S, type AzureVersionRecord } from './requests.js';
import { deploymentName, resolveResources, workspaceChildId, type AzureResources } from './resources.js';
import { promotionSteps, runRetrainingJob, sourceCode, versionRecords, type AzureSession } from './retraining.js';
import { monitorScheduleBody, retrainScheduleBody } from './schedules.js';

/** How the target reaches Azure; tests may pass their own client. */
export interface AzureTargetOptions extends CloudTargetOptions {
  api?: AzureMl;
  /** The datastore's objects (tests: a `MemoryObjectStore`); default: the datastore's blob container. */
  store?: ObjectStore;
  /** Longest pause between polls of a long-running operation. */
  pollMs?: number;
}

type Session = AzureSession;

/** The endpoint as a deploy reads it: its traffic, its deployments, the live version. */
interface EndpointState {
  endpoint?: ArmResource;
  traffic: Record<string, number>;
  deployments: ArmResource[];
  live?: string;
}

export class AzureTarget extends CloudTarget<Session, AzureTargetOptions> implements Target {
  readonly name = azureDescriptor.name;

  constructor(ctx: TargetContext, options: AzureTargetOptions = {}) {
    super(ctx, options);
  }

  protected async connect(): Promise<Session> {
    const r = resolveResources(this.ctx.manifest, this.ctx.env);
    const raw = this.options.api ?? (await connectAzureMl({ ...r, ...(this.options.pollMs !== undefined && { pollMs: this.options.pollMs }) }));
    const api = withTranslation(raw, r);
    const datastore = await api.getDatastore(r.datastore);
    const blobs = this.options.store
      ? blobStoreOver(this.options.store, datastore.name ?? 'workspaceblobstore')
      : await openBlobStore(datastore, api.credential);
    const store = withStoreTranslation(blobs, r);
    return { api, r, store, registry: new ObjectRegistry<AzureVersionRecord>(store, r.prefix) };
  }

  private where(r: AzureResources): string {
    return `endpoint ${r.endpoint} (workspace ${r.workspace})`;
  }

  // ---------------------------------------------------------------------------------------------
  // versions

  /** mlship's versions, oldest first: pushed ones and pending retrained ones (retraining.ts). */
  private async records(s: Session): Promise<AzureVersionRecord[]> {
    return (await versionRecords(s)).records;
  }

  async versions(): Promise<VersionInfo[]> {
    const s = await this.open();
    const [recs, state] = await Promise.all([this.records(s), this.endpointState(s)]);
    return recs.map((rec) => versionInfo(rec, state.live));
  }

  async push(build: BuildRef, options: PushOptions): Promise<PushResult> {
    return pushVersion(this.ctx, azurePush(await this.open(), this.ctx), build, options);
  }

  async baseline(version?: string): Promise<BaselineProfile> {
    const s = await this.open();
    const where = `model ${s.r.model} of workspace ${s.r.workspace}`;
    const v = version ?? (await this.endpointState(s)).live ?? resolveVersion(await this.records(s), undefined, where).version;
    const profile = await s.registry.getJson<BaselineProfile>(s.registry.keys.versionFile(v, 'baseline.json'));
    if (!profile)
      throw new OperationError('baseline_missing', `${v} has no baseline profile in ${s.store.uri(s.registry.keys.versionFile(v, 'baseline.json'))}`, {
        hint: 'Set features.baseline in mlship.yaml, build and push again.',
      });
    return profile;
  }

  // ---------------------------------------------------------------------------------------------
  // endpoint state

  private async endpointState(s: Session): Promise<EndpointState> {
    const endpoint = await s.api.getEndpoint(s.r.endpoint);
    if (!endpoint) return { traffic: {}, deployments: [] };
    const traffic = (endpoint.properties.traffic ?? {}) as Record<string, number>;
    const deployments = await s.api.listDeployments(s.r.endpoint);
    const live = Object.entries(traffic)
      .sort(([, a], [, b]) => b - a)
      .find(([, w]) => w > 0)?.[0];
    return { endpoint, traffic, deployments, ...(live && { live }) };
  }

  private location(r: AzureResources, state: EndpointState): string {
    const location = state.endpoint?.location ?? r.region;
    if (!location) {
      throw new UsageError("targets.azure.region is needed to create the online endpoint (it must be the workspace's region)", {
        code: 'azure_region_missing',
        hint: 'Add region: <the workspace region, e.g. westeurope> to targets.azure in mlship.yaml (`az ml workspace show --query location`).',
      });
    }
    return location;
  }

  // ---------------------------------------------------------------------------------------------
  // plan and deploy

  private async prepare(request: DeployRequest, mode: 'deploy' | 'rollback') {
    const s = await this.open();
    const { api, r } = s;
    const manifest = this.ctx.manifest;
    const rec = resolveVersion(await this.records(s), request.version, `model ${r.model} of workspace ${r.workspace}`);
    const state = await this.endpointState(s);
    const location = this.location(r, state);
    const rollout: { warning?: string } = {};
    const compute = selectForManifest(manifest, { catalog: loadCatalog(azureDescriptor.catalog) });
    const name = deploymentName(rec.version);
    const existing = state.deployments.find((d) => d.name === name);
    const healthy = existing?.properties.provisioningState === 'Succeeded';
    const strategy = request.strategy ?? ALL_AT_ONCE;
    const steps: Step[] = promotionSteps(s, rec);
    const noop = state.live === rec.version && state.traffic[name] === 100 && healthy;

    if (!state.endpoint) {
      steps.push({
        action: 'azureml:OnlineEndpoints_CreateOrUpdate',
        resource: r.endpoint,
        details: { api: `SDK ${API_VERSION.sdk}`, authMode: r.authMode, location },
        run: async () => void (await api.putEndpoint(r.endpoint, endpointBody(r, location, {}))),
      });
    }
    if (!healthy) {
      const body = deploymentBody(r, manifest, rec, compute, location);
      steps.push({
        action: 'azureml:OnlineDeployments_CreateOrUpdate',
        resource: `${r.endpoint}/${name}`,
        details: {
          api: `raw ${API_VERSION.ml}`,
          instanceType: compute.instanceType,
          instanceCount: compute.replicas.min,
          image: rec.image,
          ...(manifest.model.flavor === 'llm' && {
            startupProbe: `${(body.properties.startupProbe as { failureThreshold: number }).failureThreshold * PROBE_PERIOD_S} s for the model to load`,
          }),
          dataCollector: ['model_inputs', 'model_outputs'],
          ...(existing && { replaces: `a ${String(existing.properties.provisioningState)} deployment` }),
        },
        run: () => this.createDeployment(s, name, body),
      });
    }
    if (!noop) {
      steps.push({
        action: 'azureml:OnlineEndpoints_CreateOrUpdate',
        resource: `${r.endpoint} traffic`,
        details: {
          api: `SDK ${API_VERSION.sdk}`,
          strategy: state.live && state.live !== name ? strategy : ALL_AT_ONCE,
          from: state.traffic,
          to: { [name]: 100 },
        },
        run: async () => void (rollout.warning = await this.rollout(s, location, state.live, name, mode === 'rollback' ? ALL_AT_ONCE : strategy)),
      });
    }
    for (const d of state.deployments) {
      if (d.name && d.name !== name) {
        steps.push({
          action: 'azureml:OnlineDeployments_Delete',
          resource: `${r.endpoint}/${d.name}`,
          details: { api: `SDK ${API_VERSION.sdk}`, after: 'the new version takes all traffic' },
          run: () => api.deleteDeployment(r.endpoint, d.name!),
        });
      }
    }
    const deploymentId = workspaceChildId(r, `onlineEndpoints/${r.endpoint}/deployments/${name}`);
    if (!noop || compute.replicas.max > compute.replicas.min) {
      const scale = autoscaleBody(r, deploymentId, compute, location);
      steps.push({
        action: 'insights:AutoscaleSettings_CreateOrUpdate',
        resource: autoscaleName(r),
        details: { api: `raw ${API_VERSION.autoscale}`, min: compute.replicas.min, max: compute.replicas.max },
        run: () => api.putAutoscale(autoscaleName(r), scale),
      });
    }
    steps.push(...(await this.scheduleSteps(s, rec, deploymentId)));
    return { s, rec, state, compute, steps, noop, name, rollout };
  }

  /** The drift monitor (CreateMonitor) and retraining (CreateJob) schedules, converged. */
  private async scheduleSteps(s: Session, rec: AzureVersionRecord, deploymentId: string): Promise<Step[]> {
    const { api, r, store, registry } = s;
    const manifest = this.ctx.manifest;
    const steps: Step[] = [];
    const emails = manifest.monitoring.alerts.email;
    // Azure's drift monitor compares tabular features with the training sample: an LLM has neither
    // (its traffic's drift is mlship's drift-check over the collected requests).
    const wanted: [string, ArmResource, Record<string, unknown>][] = [];
    if (manifest.model.flavor !== 'llm')
      wanted.push([
        r.monitorSchedule,
        monitorScheduleBody(r, manifest, rec, {
          deploymentId,
          production: store.assetUri(`modelDataCollector/${r.endpoint}/${deploymentName(rec.version)}/model_inputs/`),
          reference: store.assetUri(registry.keys.versionFile(rec.version, 'baseline.csv')),
        }),
        { action: 'CreateMonitor', ...(emails.length > 0 && { alertEmails: emails }) },
      ]);
    if (manifest.retraining.schedule) {
      const code = await sourceCode(s, manifest);
      if (code.step) steps.push(code.step);
      wanted.push([r.retrainSchedule, retrainScheduleBody(r, manifest, rec, code.id), { action: 'CreateJob' }]);
    }
    for (const [name, body, what] of wanted) {
      // A PUT creates or replaces: one action either way, taken only when the stored schedule differs.
      const put = {
        action: 'azureml:Schedules_CreateOrUpdate',
        details: { api: `raw ${API_VERSION.ml}`, ...what, cron: (body.properties.trigger as { expression: string }).expression },
        run: () => api.putSchedule(name, body),
      };
      const step = await converge({
        resource: name,
        describe: () => api.getSchedule(name),
        create: put,
        update: put,
        differs: (current) => !sameSchedule(current, body),
      });
      if (step) steps.push(step);
    }
    return steps;
  }

  /** Create or replace a deployment; a failure leaves traffic where it was and says why, with the container's log tail. */
  private async createDeployment(s: Session, name: string, body: ArmResource): Promise<void> {
    const progress = await this.ctx.output.progress(`creating deployment ${name} on ${s.r.endpoint} (${String(body.properties.instanceType)})`);
    try {
      await s.api.putDeployment(s.r.endpoint, name, body);
      progress.succeed(`deployment ${name} is ready`);
    } catch (error) {
      progress.fail(`deployment ${name} failed`);
      const logs = await s.api.deploymentLogs(s.r.endpoint, name, 20).catch(() => '');
      const cause = error as Error;
      throw new OperationError('azure_deployment_failed', `deployment ${name} of ${s.r.endpoint} failed: ${cause.message}; traffic is unchanged`, {
        hint: logs ? `Container log tail:\n${logs.trim()}` : 'See the deployment logs: az ml online-deployment get-logs.',
        details: { deployment: name, logs, ...(cause instanceof CloudError && { kind: cause.kind }) },
        cause: error,
      });
    }
  }

  private traffic(s: Session, location: string): TrafficControl {
    const put = (traffic: Record<string, number>) => s.api.putEndpoint(s.r.endpoint, endpointBody(s.r, location, traffic)).then(() => undefined);
    return {
      split: (stable, candidate, percent) => put({ [stable]: 100 - percent, [candidate]: percent }),
      routeAll: (version) => put({ [version]: 100 }),
    };
  }

  /** Azure Monitor metrics of one deployment: requests and 5xx by status class, latency percentile (undefined: no data). */
  private metrics(s: Session): MetricsReader {
    const endpointId = workspaceChildId(s.r, `onlineEndpoints/${s.r.endpoint}`);
    return {
      read: async (version, window, percentile) => {
        const latencyMetric = `RequestLatency_P${percentile.slice(1)}`;
        const series = await s.api.metrics(endpointId, {
          names: ['RequestsPerMinute', latencyMetric],
          from: window.from,
          to: window.to,
          aggregation: 'Total,Average',
          filter: `deployment eq '${deploymentName(version)}' and statusCodeClass eq '*'`,
        });
        const requests = series.filter((x) => x.name === 'RequestsPerMinute');
        // Azure Monitor returned no request series for the window: no data, not zero errors.
        if (requests.length === 0) return undefined;
        const latency = series.find((x) => x.name === latencyMetric)?.average;
        const total = requests.reduce((a, x) => a + x.total, 0);
        return {
          requests: total,
          errors5xx: requests.filter((x) => x.dimensions.statusCodeClass === '5xx').reduce((a, x) => a + x.total, 0),
          ...(total > 0 && latency !== undefined && { latencyMs: latency }),
        };
      },
    };
  }

  /** Returns the warning of a canary promoted without enough evidence, for the history entry. */
  private async rollout(
    s: Session,
    location: string,
    stable: string | undefined,
    candidate: string,
    strategy: NonNullable<DeployRequest['strategy']>,
  ): Promise<string | undefined> {
    try {
      const outcome = await runRollout({
        strategy,
        stable,
        candidate,
        traffic: this.traffic(s, location),
        metrics: this.metrics(s),
        guards: guardsFromManifest(this.ctx.manifest),
        clock: this.clock,
        reporter: this.ctx.output,
      });
      return outcome.warning;
    } catch (error) {
      if (error instanceof CanaryRevertedError && stable) {
        // Back to 0% (done by the controller), then the new deployment goes.
        // The candidate never became live, so history is unchanged (a later rollback goes before the stable one).
        await s.api.deleteDeployment(s.r.endpoint, candidate).catch(() => undefined);
      }
      throw error;
    }
  }

  async plan(request: DeployRequest): Promise<DeployPlan> {
    const { s, rec, state, compute, steps, noop } = await this.prepare(request, 'deploy');
    return {
      target: this.name,
      ...(state.live && { from: state.live }),
      to: rec.version,
      compute,
      ...(typeof state.endpoint?.properties.scoringUri === 'string' && { url: state.endpoint.properties.scoringUri }),
      logging: { enabled: true, destination: s.store.assetUri(`modelDataCollector/${s.r.endpoint}/`) },
      steps: toPlan(steps),
      noop,
    };
  }

  async deploy(request: DeployRequest): Promise<DeployResult> {
    return this.apply(request, 'deploy');
  }

  private async apply(request: DeployRequest, mode: 'deploy' | 'rollback'): Promise<DeployResult> {
    const { s, rec, state, steps, noop, rollout } = await this.prepare(request, mode);
    await runSteps(steps, this.ctx.output);
    if (!noop) {
      await s.registry.appendHistory(
        historyEntry(this.ctx, mode, rec.version, state.live, {
          endpoint: s.r.endpoint,
          deployment: deploymentName(rec.version),
          ...(rollout.warning && { warning: rollout.warning }),
        }),
      );
    }
    const live = await this.liveInfo(s);
    if (!live)
      throw new OperationError('azure_not_live', `${rec.version} is not serving on ${this.where(s.r)} after the deploy`, {
        hint: 'Run `mlship status --target azure` and look at the deployment logs.',
      });
    return { live, ...(state.live && state.live !== rec.version && { previous: state.live }), changed: !noop };
  }

  async rollback(request: RollbackRequest): Promise<DeployResult> {
    const s = await this.open();
    const [state, history, recs] = await Promise.all([this.endpointState(s), s.registry.history(), this.records(s)]);
    const rejected = new Set(history.filter((h) => h.action === 'rollback' && h.previous).map((h) => h.previous!));
    const to = chooseRollback({
      where: this.where(s.r),
      live: state.live,
      ...(request.to && { to: request.to }),
      history,
      versions: recs.map((x) => ({ version: x.version, rejected: rejected.has(x.version) })),
    });
    return this.apply({ version: to, ...(request.timeoutSeconds && { timeoutSeconds: request.timeoutSeconds }) }, 'rollback');
  }

  private async liveInfo(s: Session) {
    const state = await this.endpointState(s);
    if (!state.live || !state.endpoint) return undefined;
    const history = await s.registry.history();
    const dep = state.deployments.find((d) => d.name === state.live);
    return {
      version: state.live,
      url: String(state.endpoint.properties.scoringUri ?? ''),
      since: liveSince(history, state.live) ?? String((state.endpoint as { systemData?: { lastModifiedAt?: string } }).systemData?.lastModifiedAt ?? ''),
      healthy: dep?.properties.provisioningState === 'Succeeded',
      details: { endpoint: s.r.endpoint, authMode: state.endpoint.properties.authMode },
    };
  }

  async status(): Promise<TargetStatus> {
    const s = await this.open();
    const [state, history, recs, monitor, retrain] = await Promise.all([
      this.endpointState(s),
      s.registry.history(),
      this.records(s),
      s.api.getSchedule(s.r.monitorSchedule),
      s.api.getSchedule(s.r.retrainSchedule),
    ]);
    const live = await this.liveInfo(s);
    const schedule = (x: ArmResource | undefined) =>
      x && {
        cron: (x.properties.trigger as { expression?: string } | undefined)?.expression,
        enabled: x.properties.isEnabled !== false,
        state: x.properties.provisioningState,
      };
    return {
      target: this.name,
      ...(live && { live }),
      history: recentHistory(history),
      versions: recs.map((x) => versionInfo(x, state.live)),
      details: {
        workspace: s.r.workspace,
        endpoint: s.r.endpoint,
        ...(state.endpoint && { scoringUri: state.endpoint.properties.scoringUri, provisioningState: state.endpoint.properties.provisioningState }),
        deployments: state.deployments.map((d) => ({
          name: d.name,
          traffic: state.traffic[d.name ?? ''] ?? 0,
          instanceType: d.properties.instanceType,
          instanceCount: d.sku?.capacity,
          provisioningState: d.properties.provisioningState,
          dataCollection: d.properties.dataCollector ? s.store.assetUri(`modelDataCollector/${s.r.endpoint}/${d.name}/`) : 'off',
        })),
        ...(monitor && { monitor: schedule(monitor) }),
        ...(retrain && { retraining: schedule(retrain) }),
      },
    };
  }

  /** The scoring URI takes a record, or the OpenAI body as it is, with the endpoint's key or an AAD token. */
  async liveClient(): Promise<LiveClient | undefined> {
    const s = await this.open();
    const state = await this.endpointState(s);
    const url = state.endpoint?.properties.scoringUri;
    if (!state.live || typeof url !== 'string') return undefined;
    const authMode = String(state.endpoint!.properties.authMode ?? 'Key');
    let authorization: Promise<string> | undefined;
    return httpLiveClient({
      version: state.live,
      routes: { predict: url, chat: url },
      headers: async () => ({ authorization: await (authorization ??= s.api.scoringAuthorization(s.r.endpoint, authMode)) }),
    });
  }

  async stop(): Promise<StopResult> {
    const s = await this.open();
    const state = await this.endpointState(s);
    if (!state.endpoint) return { stopped: false };
    const progress = await this.ctx.output.progress(`deleting endpoint ${s.r.endpoint} and its deployments`);
    await s.api.deleteEndpoint(s.r.endpoint);
    progress.succeed(`deleted endpoint ${s.r.endpoint}`);
    await s.registry.appendHistory(historyEntry(this.ctx, 'stop', state.live, undefined, { endpoint: s.r.endpoint }));
    return { stopped: true, ...(state.live && { version: state.live }) };
  }

  async predictionLogs(window: LogWindow): Promise<LogSource[]> {
    const s = await this.open();
    return collectorSources(s.store, s.r.endpoint, window);
  }

  /** Labels uploaded to the datastore (`mlship/<name>/feedback/`: shared/registry.ts). */
  async feedbackLogs(window: LogWindow): Promise<LogSource[]> {
    return (await this.open()).registry.feedbackSources(window);
  }

  /** Submit the retraining command job and follow it (retraining.ts); the result is a pending version. */
  async startRetraining(timeoutSeconds: number): Promise<RetrainingRun> {
    const s = await this.open();
    const { live } = await this.endpointState(s);
    return runRetrainingJob(s, this.ctx.manifest, { ...(live && { live }), now: this.ctx.now(), timeoutSeconds, clock: this.clock, reporter: this.ctx.output });
  }
}

/** Whether a stored schedule already says what mlship would send (trigger and action). */
function sameSchedule(current: ArmResource, wanted: ArmResource): boolean {
  const pick = (x: ArmResource) => JSON.stringify([x.properties.trigger, x.properties.action]);
  return pick(current) === pick(wanted);
}

/** Every client call's failures through the one translation. */
function withTranslation(api: AzureMl, r: AzureResources): AzureMl {
  return translatingCalls(api, (error) => translateAzureError(error, r));
}

/** Storage failures (no role on the storage account…) through the same translation. */
function withStoreTranslation(store: BlobStore, r: AzureResources): BlobStore {
  return translatingCalls(store, (error) => translateAzureError(error, r));
}
