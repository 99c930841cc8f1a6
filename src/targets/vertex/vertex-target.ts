/**
 * The Vertex AI target on the shared deploy core. push registers a build as a new version of the
 * project's one Vertex model; deploy makes a version live on the project's endpoint (created with
 * request-response logging to BigQuery at 100%): DeployModel with dedicated resources from the shared
 * compute selection, then the shared rollout controller moves the traffic split (all at once, or a
 * canary baked against Cloud Monitoring metrics) and the loser is undeployed; the `default` alias
 * follows the live version; the monitoring job and the retraining schedule converge. A deploy is a
 * list of planned steps (shared/steps.ts): `plan` returns them, `deploy` runs exactly those.
 *
 * The folder: `api.ts` (every Google call, typed) · `client.ts` (the SDKs behind it, lazily loaded) ·
 * `errors.ts` (→ shared CloudError categories) · `resources.ts` (settings, names) · `requests.ts`
 * (pure request builders) · `push.ts` · `session.ts` (records, endpoint state) · `gcs-store.ts`
 * (shared ObjectStore over GCS) · `metrics.ts` (MetricsReader over Cloud Monitoring) · `logs.ts` +
 * `src/logs/formats/vertex.ts` (BigQuery logging rows → neutral records) · `pipeline.ts` (retraining) ·
 * `descriptor.ts` (SDK-free facts).
 */
import { CloudTarget, type CloudTargetOptions } from '../../deploy/cloud-target.js';
import { vertexDescriptor } from './descriptor.js';
import { loadCatalog } from '../../instances/catalog.js';
import { selectForManifest } from '../../compute/select.js';
import type { ComputeChoice } from '../../compute/types.js';
import { OperationError } from '../../util/errors.js';
import type { BaselineProfile } from '../../baseline/profile.js';
import { chooseRollback, historyEntry, liveSince, NoVersionsError, recentHistory } from '../../deploy/history.js';
import { ObjectRegistry } from '../../deploy/registry.js';
import { resolveVersion } from '../../deploy/versions.js';
import { httpLiveClient } from '../../deploy/live-client.js';
import { ALL_AT_ONCE, CanaryRevertedError, guardsFromManifest, runRollout, type RolloutStrategy, type TrafficControl } from '../../deploy/rollout.js';
import { converge, runSteps, toPlan, type Step } from '../../deploy/steps.js';
import type {
  DeployPlan,
  DeployRequest,
  DeployResult,
  LiveClient,
  LiveInfo,
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
import { withTranslation, type VertexApi } from './api.js';
import { GcsObjectStore } from './gcs-store.js';
import { bigQueryLogSource } from './logs.js';
import { cloudMonitoringReader } from './metrics.js';
import { retrainingSteps, runRetrainingPipeline } from './pipeline.js';
import { pushVersion } from '../../deploy/push.js';
import { versionInfo, versionRecords, vertexPush } from './push.js';
import { createEndpointRequest, createMonitoringJobRequest, deployModelRequest, loggingConfig, machineSpec, monitoringJob } from './requests.js';
import { resolveResources } from './resources.js';
import { readEndpoint, type EndpointState, type VertexRecord, type VertexSession } from './session.js';

/** How the target reaches Google Cloud; tests may pass a ready client. */
export interface VertexTargetOptions extends CloudTargetOptions {
  api?: VertexApi;
  /** Longest pause between polls of long-running operations. */
  maxPollMs?: number;
}

const DEFAULT_TIMEOUT_S = 1800;

export class VertexTarget extends CloudTarget<VertexSession, VertexTargetOptions> implements Target {
  readonly name = vertexDescriptor.name;

  constructor(ctx: TargetContext, options: VertexTargetOptions = {}) {
    super(ctx, options);
  }

  protected async connect(): Promise<VertexSession> {
    const r = resolveResources(this.ctx.manifest, this.ctx.env);
    const api = withTranslation(
      this.options.api ??
        (await (
          await import('./client.js')
        ).createVertexApi({
          project: r.project,
          region: r.region,
          ...(r.apiEndpoint && { apiEndpoint: r.apiEndpoint }),
          env: this.ctx.env,
          ...(this.options.maxPollMs && { maxPollMs: this.options.maxPollMs }),
        })),
    );
    return { api, r, registry: new ObjectRegistry<VertexRecord>(new GcsObjectStore(api, r.bucket), r.root) };
  }

  /** Release the gRPC channels (the CLI process exits anyway; tests and library users call this). */
  async close(): Promise<void> {
    const started = this.started;
    if (started) await (await started).api.close();
  }

  private where(session: VertexSession): string {
    return `endpoint ${session.r.endpointId} (${session.r.project}, ${session.r.region})`;
  }

  private compute(): ComputeChoice {
    return selectForManifest(this.ctx.manifest, { catalog: loadCatalog(vertexDescriptor.catalog) });
  }

  // ---------------------------------------------------------------------------------------------
  // push and versions

  async push(build: BuildRef, options: PushOptions): Promise<PushResult> {
    return pushVersion(this.ctx, vertexPush(await this.open(), this.ctx), build, options);
  }

  async versions(): Promise<VersionInfo[]> {
    const session = await this.open();
    const [records, state] = await Promise.all([versionRecords(session), readEndpoint(session)]);
    return records.map((rec) => versionInfo(rec, state?.live?.version));
  }

  // ---------------------------------------------------------------------------------------------
  // plan and deploy

  /** The steps that make `version` live; reads state, changes nothing. */
  private async prepare(request: DeployRequest, action: 'deploy' | 'rollback', toOverride?: string) {
    const session = await this.open();
    const { api, r } = session;
    const manifest = this.ctx.manifest;
    const rec = resolveVersion(
      await versionRecords(session),
      toOverride ?? request.version,
      `Vertex model ${r.model}`,
      'Run `mlship build` and `mlship push --target vertex` first.',
    );
    const compute = this.compute();
    const state = await readEndpoint(session);
    const strategy: RolloutStrategy = action === 'rollback' ? ALL_AT_ONCE : (request.strategy ?? ALL_AT_ONCE);
    const steps: Step[] = [];
    // What the steps learn as they run (the new deployed model's id), shared by closure.
    const run: { deployedId: string | undefined; state: typeof state; warning?: string } = {
      deployedId: state?.deployed.find((d) => d.version === rec.version)?.id,
      state,
    };

    const datasetCreated = { value: false };
    steps.push({
      action: 'bigquery:EnsureDataset',
      resource: `${r.project}.${r.loggingDataset}`,
      details: { location: r.region, table: r.loggingTable },
      run: async () => void (datasetCreated.value = await api.ensureDataset(r.project, r.loggingDataset, r.region)),
    });
    if (!state) {
      const req = createEndpointRequest(manifest, r);
      steps.push({
        action: 'aiplatform:CreateEndpoint',
        resource: r.endpoint,
        details: { displayName: req.endpoint!.displayName, logging: { samplingRate: 1, destination: r.loggingUri } },
        run: async () => void (await api.createEndpoint(req)),
      });
    } else if (state.loggingUri !== r.loggingUri) {
      steps.push({
        action: 'aiplatform:UpdateEndpoint',
        resource: r.endpoint,
        details: {
          updateMask: ['predict_request_response_logging_config'],
          logging: { samplingRate: 1, destination: r.loggingUri },
          was: state.loggingUri ?? 'off',
        },
        run: async () =>
          void (await api.updateEndpoint({
            endpoint: { ...state.endpoint, predictRequestResponseLoggingConfig: loggingConfig(r) },
            updateMask: { paths: ['predict_request_response_logging_config'] },
          })),
      });
    }

    const live = state?.live;
    const alreadyLive = live?.version === rec.version && live.traffic === 100 && (state?.deployed.length ?? 0) === 1;
    const others = (state?.deployed ?? []).filter((d) => d.version !== rec.version);
    if (!alreadyLive) {
      if (!run.deployedId) {
        // The new deployed model starts at 0% beside the live one (the rollout moves traffic), or 100% on an empty endpoint.
        const split: Record<string, number> = state?.deployed.length
          ? { '0': 0, ...Object.fromEntries(state.deployed.map((d) => [d.id, d.traffic])) }
          : { '0': 100 };
        const req = deployModelRequest(manifest, r, rec.versionId, rec.version, compute, split);
        const spec = machineSpec(compute);
        steps.push({
          action: 'aiplatform:DeployModel',
          resource: r.endpoint,
          details: {
            model: req.deployedModel!.model,
            version: rec.version,
            machineType: spec.machineType,
            ...(spec.acceleratorType && { accelerator: `${spec.acceleratorCount} x ${spec.acceleratorType}` }),
            replicas: compute.replicas,
            trafficSplit: split,
          },
          run: async () => {
            const progress = await this.ctx.output.progress(`deploying ${rec.version} to ${r.endpointId} on ${spec.machineType} (Vertex AI takes minutes)`);
            try {
              const deployed = await api.deployModel(req);
              run.deployedId = deployed.id ?? undefined;
              progress.succeed(`deployed ${rec.version} as deployed model ${deployed.id}`);
            } catch (error) {
              progress.fail(`deploying ${rec.version} failed; ${live ? `${live.version} keeps serving all traffic` : 'nothing was serving'}`);
              throw error;
            }
          },
        });
      }
      const stable = live && live.version !== rec.version ? live.version : undefined;
      steps.push({
        action: strategy.kind === 'canary' && stable ? 'rollout:Canary' : 'rollout:AllAtOnce',
        resource: r.endpoint,
        details:
          strategy.kind === 'canary' && stable
            ? { from: stable, to: rec.version, percent: strategy.percent, bakeMinutes: strategy.bakeMinutes }
            : { to: rec.version, percent: 100 },
        run: async () => {
          const traffic = this.trafficControl(session);
          const metrics = cloudMonitoringReader(api, r.endpointId, async (v) => (await readEndpoint(session))?.deployed.find((d) => d.version === v)?.id);
          try {
            ({ warning: run.warning } = await runRollout({
              strategy,
              stable,
              candidate: rec.version,
              traffic,
              metrics,
              guards: guardsFromManifest(manifest),
              clock: this.clock,
              reporter: this.ctx.output,
            }));
          } catch (error) {
            if (error instanceof CanaryRevertedError && run.deployedId) {
              await api.undeployModel({ endpoint: r.endpoint, deployedModelId: run.deployedId });
              // Recorded without `previous`: a later rollback must not go "back" to the rejected candidate.
              await session.registry.appendHistory(
                historyEntry(this.ctx, 'rollback', stable, undefined, {
                  endpoint: r.endpoint,
                  reverted: rec.version,
                  reason: error.message,
                  undeployed: run.deployedId,
                }),
              );
            }
            throw error;
          }
        },
      });
    }
    for (const d of others) {
      steps.push({
        action: 'aiplatform:UndeployModel',
        resource: r.endpoint,
        details: { deployedModelId: d.id, version: d.version },
        run: async () =>
          void (await api.undeployModel({ endpoint: r.endpoint, deployedModelId: d.id, trafficSplit: run.deployedId ? { [run.deployedId]: 100 } : {} })),
      });
    }
    // The `default` alias follows the live version (converged: no call when it is there already).
    const aliases = (await api.getModel(`${r.model}@${rec.versionId}`))?.versionAliases ?? [];
    if (!aliases.includes('default') || !alreadyLive)
      steps.push({
        action: 'aiplatform:MergeVersionAliases',
        resource: `${r.model}@${rec.versionId}`,
        details: { versionAliases: ['default', rec.version] },
        run: async () => void (await api.mergeVersionAliases({ name: `${r.model}@${rec.versionId}`, versionAliases: ['default', rec.version] })),
      });
    steps.push(...(await this.monitoringSteps(session, rec, () => run.deployedId)));
    steps.push(...(await retrainingSteps(session, manifest, rec, compute)));
    const plan: DeployPlan = {
      target: this.name,
      ...(live && { from: live.version }),
      to: rec.version,
      compute,
      url: r.predictUrl,
      logging: { enabled: true, destination: r.loggingUri },
      steps: toPlan(steps),
      noop: alreadyLive && steps.every((s) => s.action === 'bigquery:EnsureDataset'),
    };
    return { session, rec, plan, steps, run, previous: live?.version, compute };
  }

  /**
   * The monitoring job on the endpoint, for the live deployed model: created once, updated when the
   * deployed model changes or when `monitoring.alerts.email` names other recipients (only the changed
   * fields are in the update mask).
   */
  private async monitoringSteps(session: VertexSession, rec: VertexRecord, deployedId: () => string | undefined): Promise<Step[]> {
    const { api, r } = session;
    if (!rec.trainingData) return [];
    const emails = this.ctx.manifest.monitoring.alerts.email;
    const known = deployedId();
    type Job = NonNullable<Awaited<ReturnType<typeof api.findMonitoringJob>>>;
    const changed = (job: Job) => [
      ...(!known || job.modelDeploymentMonitoringObjectiveConfigs?.[0]?.deployedModelId !== known ? ['model_deployment_monitoring_objective_configs'] : []),
      ...(JSON.stringify(job.modelMonitoringAlertConfig?.emailAlertConfig?.userEmails ?? []) !== JSON.stringify(emails)
        ? ['model_monitoring_alert_config']
        : []),
    ];
    const build = () => monitoringJob(this.ctx.manifest, r, deployedId() ?? '', rec.trainingData!, emails);
    const details = {
      deployedModel: rec.version,
      trainingData: rec.trainingData,
      interval: `${Number(build().modelDeploymentMonitoringScheduleConfig!.monitorInterval!.seconds) / 3600} h`,
      methods: 'numeric: jensen_shannon_divergence, categorical: l_infinity',
      ...(emails.length > 0 && { alertEmails: emails }),
    };
    const step = await converge<Job>({
      resource: r.monitoringJob,
      describe: () => api.findMonitoringJob(r.monitoringJob),
      create: {
        action: 'aiplatform:CreateModelDeploymentMonitoringJob',
        details,
        run: async () => void (await api.createMonitoringJob(createMonitoringJobRequest(r, build()))),
      },
      update: {
        action: 'aiplatform:UpdateModelDeploymentMonitoringJob',
        resource: (job) => job.name ?? r.monitoringJob,
        details: (job) => ({ ...details, updateMask: changed(job) }),
        run: (job) => api.updateMonitoringJob({ modelDeploymentMonitoringJob: { ...build(), name: job.name }, updateMask: { paths: changed(job) } }),
      },
      differs: (job) => changed(job).length > 0,
    });
    return step ? [step] : [];
  }

  /** The shared controller's traffic moves, as UpdateEndpoint traffic splits by deployed model id. */
  private trafficControl(session: VertexSession): TrafficControl {
    const { api, r } = session;
    const ids = async () => {
      const state = await readEndpoint(session);
      if (!state) throw new OperationError('endpoint_missing', `endpoint ${r.endpoint} disappeared during the rollout`);
      return { state, id: (v: string) => state.deployed.find((d) => d.version === v)?.id ?? '' };
    };
    const update = async (state: EndpointState, split: Record<string, number>) =>
      void (await api.updateEndpoint({ endpoint: { ...state.endpoint, trafficSplit: split }, updateMask: { paths: ['traffic_split'] } }));
    return {
      split: async (stable, candidate, percent) => {
        const { state, id } = await ids();
        await update(state, { [id(stable)]: 100 - percent, [id(candidate)]: percent });
      },
      routeAll: async (version) => {
        const { state, id } = await ids();
        await update(state, { [id(version)]: 100 });
      },
    };
  }

  async plan(request: DeployRequest): Promise<DeployPlan> {
    return (await this.prepare(request, 'deploy')).plan;
  }

  async deploy(request: DeployRequest): Promise<DeployResult> {
    return this.apply(request, 'deploy');
  }

  private async apply(request: DeployRequest, action: 'deploy' | 'rollback', to?: string): Promise<DeployResult> {
    const prepared = await this.prepare(request, action, to);
    const { session, rec, plan, steps, run, previous } = prepared;
    if (plan.noop) {
      await runSteps(steps, this.ctx.output);
      return { live: await this.liveInfo(session), changed: false };
    }
    await runSteps(steps, this.ctx.output);
    const state = await readEndpoint(session);
    const d = state?.deployed.find((x) => x.id === run.deployedId);
    await session.registry.appendHistory(
      historyEntry(this.ctx, action, rec.version, previous, {
        endpoint: session.r.endpoint,
        deployedModelId: run.deployedId,
        ...(d && { machineType: d.machineType, replicas: d.replicas }),
        strategy: action === 'rollback' ? 'all-at-once' : (request.strategy?.kind ?? 'all-at-once'),
        ...(run.warning && { warning: run.warning }),
      }),
    );
    return { live: await this.liveInfo(session), ...(previous && previous !== rec.version && { previous }), changed: true };
  }

  private async liveInfo(session: VertexSession): Promise<LiveInfo> {
    const state = await readEndpoint(session);
    const live = state?.live;
    if (!state || !live)
      throw new OperationError('endpoint_not_serving', `${this.where(session)} serves no model`, { hint: 'Run `mlship deploy --target vertex`.' });
    const history = await session.registry.history();
    return {
      version: live.version,
      url: session.r.predictUrl,
      since: liveSince(history, live.version) ?? '',
      healthy: true,
      details: { endpoint: session.r.endpoint, deployedModelId: live.id, machineType: live.machineType, replicas: live.replicas },
    };
  }

  // ---------------------------------------------------------------------------------------------
  // rollback, status, stop

  async rollback(request: RollbackRequest): Promise<DeployResult> {
    const session = await this.open();
    const [records, state, history] = await Promise.all([versionRecords(session), readEndpoint(session), session.registry.history()]);
    const to = chooseRollback({
      where: this.where(session),
      live: state?.live?.version,
      ...(request.to && { to: request.to }),
      history,
      versions: records.map((v) => ({ version: v.version })),
    });
    return this.apply({ ...(request.timeoutSeconds && { timeoutSeconds: request.timeoutSeconds }) }, 'rollback', to);
  }

  async status(): Promise<TargetStatus> {
    const session = await this.open();
    const { api, r } = session;
    const [records, state, history, job] = await Promise.all([
      versionRecords(session),
      readEndpoint(session),
      session.registry.history(),
      api.findMonitoringJob(r.monitoringJob),
    ]);
    const live = state?.live;
    return {
      target: this.name,
      ...(live && {
        live: {
          version: live.version,
          url: r.predictUrl,
          since: liveSince(history, live.version) ?? '',
          healthy: true,
          details: { endpoint: r.endpoint, deployedModelId: live.id },
        },
      }),
      history: recentHistory(history),
      versions: records.map((rec) => versionInfo(rec, live?.version)),
      details: {
        project: r.project,
        region: r.region,
        endpoint: state ? r.endpoint : 'not created',
        model: r.model,
        ...(live && {
          machine: live.acceleratorType ? `${live.machineType} + ${live.acceleratorCount} x ${live.acceleratorType}` : live.machineType,
          replicas: live.replicas,
        }),
        trafficSplit: Object.fromEntries((state?.deployed ?? []).map((d) => [d.version, d.traffic])),
        logging: state?.loggingUri ?? 'off',
        monitoringJob: job ? `${job.displayName} (${String(job.state ?? 'unknown')}, ${String(job.scheduleState ?? 'unknown')})` : 'none',
      },
    };
  }

  /** A record goes to `:predict` as `{"instances": [record]}`; an LLM's streamed chat to `:streamRawPredict`: the OpenAI body and events as they are. */
  async liveClient(): Promise<LiveClient | undefined> {
    const session = await this.open();
    const live = (await readEndpoint(session))?.live;
    if (!live) return undefined;
    const { api, r } = session;
    return httpLiveClient({
      version: live.version,
      routes: { predict: r.predictUrl, chat: r.predictUrl.replace(/:predict$/, ':streamRawPredict') },
      predictBody: (record) => `{"instances":[${record}]}`,
      headers: () => api.predictHeaders(),
    });
  }

  async stop(): Promise<StopResult> {
    const session = await this.open();
    const { api, r } = session;
    const state = await readEndpoint(session);
    if (!state || state.deployed.length === 0) return { stopped: false };
    const job = await api.findMonitoringJob(r.monitoringJob);
    if (job?.name && job.state !== 'JOB_STATE_PAUSED') await api.pauseMonitoringJob(job.name);
    const order = [...state.deployed].sort((a, b) => a.traffic - b.traffic);
    for (const d of order) await api.undeployModel({ endpoint: r.endpoint, deployedModelId: d.id });
    await session.registry.appendHistory(
      historyEntry(this.ctx, 'stop', state.live?.version, undefined, { endpoint: r.endpoint, undeployed: order.map((d) => d.id) }),
    );
    return { stopped: true, ...(state.live && { version: state.live.version }) };
  }

  // ---------------------------------------------------------------------------------------------
  // drift inputs and retraining

  async baseline(version?: string): Promise<BaselineProfile> {
    const session = await this.open();
    const records = await versionRecords(session);
    const which = version ?? (await readEndpoint(session))?.live?.version ?? records[records.length - 1]?.version;
    if (!which) throw new NoVersionsError(`Vertex model ${session.r.model}`);
    const profile = await session.registry.getJson<BaselineProfile>(session.registry.keys.versionFile(which, 'baseline.json'));
    if (!profile) {
      throw new OperationError('baseline_missing', `no baseline profile is stored with ${which} in gs://${session.r.bucket}/${session.r.root}/`, {
        hint: 'Set features.baseline in mlship.yaml, build and push again, or pass --baseline FILE to drift-check.',
      });
    }
    return profile;
  }

  async predictionLogs(window: LogWindow): Promise<LogSource[]> {
    const session = await this.open();
    const [state, history] = await Promise.all([readEndpoint(session), session.registry.history()]);
    // Deployed model ids of the past come from history (they are gone from the endpoint once undeployed).
    const versions = new Map<string, string>();
    for (const h of history) if (h.version && typeof h.details?.deployedModelId === 'string') versions.set(h.details.deployedModelId, h.version);
    for (const d of state?.deployed ?? []) versions.set(d.id, d.version);
    const table = state?.loggingUri?.replace(/^bq:\/\//, '') ?? session.r.loggingTable;
    return [bigQueryLogSource(session.api, table, window, (id) => versions.get(id), Object.keys(this.ctx.manifest.features.schema))];
  }
  /** Labels uploaded to the bucket (`<root>/feedback/`: shared/registry.ts). */
  async feedbackLogs(window: LogWindow): Promise<LogSource[]> {
    return (await this.open()).registry.feedbackSources(window);
  }

  async startRetraining(timeoutSeconds: number): Promise<RetrainingRun> {
    const session = await this.open();
    const records = await versionRecords(session);
    const live = (await readEndpoint(session))?.live?.version;
    const rec = records.find((v) => v.version === live) ?? resolveVersion(records, undefined, `Vertex model ${session.r.model}`);
    return runRetrainingPipeline(session, this.ctx, rec, this.compute(), { timeoutSeconds, clock: this.clock });
  }
}

export { DEFAULT_TIMEOUT_S };
