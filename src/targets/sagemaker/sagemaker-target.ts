/**
 * The SageMaker target: push registers a build as a model package (artifact in S3, image in ECR),
 * deploy turns a version into a Model and a new endpoint configuration with Data Capture (one
 * production variant per version, named after it) and updates the endpoint, then converges
 * autoscaling, Model Monitor and the retraining pipeline. A canary runs through the shared rollout
 * controller like on every target: both versions as variants of one configuration, the split by
 * UpdateEndpointWeightsAndCapacities, each version's requests, 5xx and latency from CloudWatch
 * (`metrics.ts`); promoted, the endpoint ends on the candidate's variant alone. A deploy is a list of planned steps: `plan` returns them, `deploy`
 * runs exactly those, so `--plan` shows what deploy would send.
 *
 * Built on the shared deploy core (src/deploy/): steps/plan/converge, the poller, history
 * and rollback policy, the object-store registry, the image flow and the cloud error categories. What
 * is SageMaker's own is here: `api.ts` (the narrow client: every AWS call used) · `aws-client.ts` (the
 * SDK behind it, loaded lazily) · `errors.ts` (AWS errors → the shared categories, in one place) ·
 * `descriptor.ts` (SDK-free facts and capabilities) · `resources.ts` (names, S3 layout) · `requests.ts`
 * (pure request builders) · `push.ts`, `artifact.ts` (model.tar.gz, ECR) · `s3-store.ts`, `registry.ts`
 * (S3 as the shared `ObjectStore`; model package groups) · `session.ts`, `endpoint-wait.ts` (what
 * "waiting" means, for the shared poller) · `converge-steps.ts` (monitoring, retraining) · `metrics.ts` (the canary's CloudWatch reader) ·
 * `monitor-baseline.ts` (Model Monitor statistics/constraints) · `pipeline.ts` + `templates/sagemaker/`
 * · `cron.ts` · `capture.ts`, `src/logs/formats/sagemaker.ts` (Data Capture files → neutral records) ·
 * `retrain-run.ts` · `compute.ts`.
 */
import { CloudTarget, type CloudTargetOptions } from '../../deploy/cloud-target.js';
import { OperationError, UsageError } from '../../util/errors.js';
import type { BaselineProfile } from '../../baseline/profile.js';
import { actor, chooseRollback, historyEntry, liveSince, NoVersionsError, recentHistory } from '../../deploy/history.js';
import { resolveVersion } from '../../deploy/versions.js';
import { responseOf } from '../../deploy/live-client.js';
import { runSteps, toPlan, type Step } from '../../deploy/steps.js';
import { CanaryRevertedError, guardsFromManifest, runRollout, type RolloutStrategy, type TrafficControl } from '../../deploy/rollout.js';
import type {
  ComputeChoice,
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
import type { AwsApi, InvokeAnswer } from './api.js';
import { createAwsApi, ifExists, withErrorTranslation } from './aws-client.js';
import { captureSources } from './capture.js';
import { chooseCompute, variantTimeouts } from './instance.js';
import { alertSteps, monitoringSteps, retrainingSteps } from './converge-steps.js';
import { EndpointWaiter } from './endpoint-wait.js';
import { sagemakerPush } from './push.js';
import { pushVersion } from '../../deploy/push.js';
import { runRetrainingPipeline } from './retrain-run.js';
import { S3Registry, versionInfo, type PackageInfo } from './registry.js';
import {
  createEndpointRequest,
  dataCaptureAllowed,
  endpointConfigRequest,
  modelRequest,
  scalingRequests,
  scalingResourceId,
  updateEndpointRequest,
  weightsRequest,
  type VariantSpec,
  type VersionRecord,
} from './requests.js';
import { cloudWatchReader } from './metrics.js';
import { invokeUrl, keys, resolveResources, s3Uri, type Resources } from './resources.js';
import { endpointState, TRANSITIONAL, type Session } from './session.js';
import { sagemakerDescriptor } from './descriptor.js';

/** How the target reaches AWS; tests pass a double in front of moto. */
export interface SageMakerTargetOptions extends CloudTargetOptions {
  api?: AwsApi;
  /** Longest pause between endpoint polls (the first polls come sooner). */
  maxPollMs?: number;
}

/** Endpoint `where` for messages. */
function where(r: Resources): string {
  return `endpoint ${r.endpoint} (${r.region})`;
}

const DEFAULT_TIMEOUT_S = 1800;

export class SageMakerTarget extends CloudTarget<Session, SageMakerTargetOptions> implements Target {
  readonly name = sagemakerDescriptor.name;

  constructor(ctx: TargetContext, options: SageMakerTargetOptions = {}) {
    super(ctx, options);
  }

  protected async connect(): Promise<Session> {
    const sm = this.ctx.manifest.targets.sagemaker;
    const raw = this.options.api ?? (await createAwsApi({ region: sm?.region }));
    const api = withErrorTranslation(raw, { role: sm?.role });
    const identity = await api.getCallerIdentity({});
    if (!identity.Account) throw new OperationError('aws_error', 'STS returned no account id');
    const r = resolveResources(this.ctx.manifest, identity.Account, api.region);
    return { api, r, registry: new S3Registry(api, r) };
  }

  private waiter(session: Session): EndpointWaiter {
    return new EndpointWaiter(session, this.ctx.output, this.clock, this.options);
  }

  private role(r: Resources): string {
    if (!r.role) {
      throw new UsageError('the SageMaker target needs an execution role for the endpoint and jobs (targets.sagemaker.role is not set)', {
        code: 'sagemaker_role_missing',
        hint: 'Add `targets: { sagemaker: { role: arn:aws:iam::<account>:role/<name> } }` to mlship.yaml: a role SageMaker can assume, with read access to the bucket and ECR.',
      });
    }
    return r.role;
  }

  // ---------------------------------------------------------------------------------------------
  // push

  async push(build: BuildRef, options: PushOptions): Promise<PushResult> {
    return pushVersion(this.ctx, sagemakerPush(await this.open(), this.ctx), build, options);
  }

  // ---------------------------------------------------------------------------------------------
  // versions and records

  async versions(): Promise<VersionInfo[]> {
    const { registry } = await this.open();
    const [packages, live] = await Promise.all([registry.packages(), this.liveVersion()]);
    const records = await Promise.all(packages.map((p) => registry.readRecord(p.version)));
    return packages.map((p, i) => versionInfo(p, records[i], live?.version));
  }

  /** The version record, or one derived from the model package when mlship did not push it (retraining pipeline). */
  private async recordOf(session: Session, p: PackageInfo): Promise<VersionRecord> {
    const rec = await session.registry.readRecord(p.version);
    if (rec) return rec;
    const d = await session.api.describeModelPackage({ ModelPackageName: p.arn });
    const c = d.InferenceSpecification?.Containers?.[0];
    if (!c?.Image || !c.ModelDataUrl)
      throw new OperationError('version_incomplete', `model package ${p.arn} has no container image or model data`, {
        hint: 'Push the build again with `mlship push`.',
      });
    return {
      version: p.version,
      buildId: d.CustomerMetadataProperties?.['mlship:build'] ?? 'pipeline',
      createdAt: d.CreationTime ? new Date(d.CreationTime).toISOString() : '',
      digest: d.CustomerMetadataProperties?.['mlship:sha256'] ?? /([0-9a-f]{64})/.exec(c.ModelDataUrl)?.[1] ?? 'unknown',
      image: c.Image,
      modelDataUrl: c.ModelDataUrl,
      modelPackageArn: p.arn,
    };
  }

  private async liveVersion(): Promise<{ version: string; config: string } | undefined> {
    const session = await this.open();
    const state = await endpointState(session);
    return state?.version ? { version: state.version, config: state.config } : undefined;
  }

  // ---------------------------------------------------------------------------------------------
  // plan and deploy

  /** Build the steps that make `version` live; reads state, changes nothing. */
  private async prepare(request: DeployRequest, mode: { action: 'deploy' | 'rollback'; config?: string }) {
    const session = await this.open();
    const { api, r, registry } = session;
    const manifest = this.ctx.manifest;
    const packages = await registry.packages();
    // Without --version: the newest version not waiting for approval (a retraining run's result is promoted by name).
    const pkg = resolveVersion(
      packages.map((p) => ({ ...p, pending: p.approval === 'PendingManualApproval' })),
      request.version,
      `model package group ${r.packageGroup} (${r.region})`,
      'Run `mlship build` and `mlship push --target sagemaker` first.',
    );
    const stored = pkg.pending ? await registry.readRecord(pkg.version) : undefined;
    if (stored && !stored.pending) {
      // Pushed with --require-approval: a person approves it, a deploy does not.
      throw new OperationError('version_not_approved', `${pkg.version} is pending manual approval in model package group ${r.packageGroup}`, {
        hint: `Approve it (SageMaker Studio, or \`aws sagemaker update-model-package --model-package-arn ${pkg.arn} --model-approval-status Approved\`), then deploy again.`,
      });
    }
    const role = this.role(r);
    const rec = await this.recordOf(session, pkg);
    const compute = chooseCompute(manifest);
    const state = await endpointState(session);
    const steps: Step[] = [];
    // What the steps learn as they run (a canary promoted without enough evidence), for the history entry.
    const run: { warning?: string } = {};
    if (pkg.pending) {
      // A retraining pipeline's version, named by --version: deploying it is its promotion.
      steps.push({
        action: 'sagemaker:UpdateModelPackage',
        resource: pkg.arn,
        details: { approval: 'Approved', promotes: pkg.version },
        run: async () =>
          void (await api.updateModelPackage({
            ModelPackageArn: pkg.arn,
            ModelApprovalStatus: 'Approved',
            ApprovalDescription: `promoted by mlship deploy --version ${pkg.version} (${actor(this.ctx.command, this.ctx.env).user})`,
          })),
      });
    }

    // Model and endpoint configuration: reuse the named ones when they exist (a re-run converges).
    const model = modelRequest(manifest, r, rec, role);
    if (!(await ifExists(() => api.describeModel({ ModelName: model.ModelName })))) {
      steps.push({
        action: 'sagemaker:CreateModel',
        resource: model.ModelName!,
        details: { image: rec.image, modelDataUrl: rec.modelDataUrl, executionRole: role },
        run: async () => void (await api.createModel(model)),
      });
    }
    // The configuration the version ends on: its one variant (a rollback reuses the one that served it).
    const recorded = mode.config ? await ifExists(() => api.describeEndpointConfig({ EndpointConfigName: mode.config! })) : undefined;
    const final = recorded
      ? { name: mode.config!, variants: (recorded.ProductionVariants ?? []).map((v) => v.VariantName ?? '') }
      : await this.configStep(session, steps, [{ version: pkg.version, modelName: model.ModelName!, weight: 1 }], compute, rec.modelBytes);

    const onConfig = state?.config === final.name && state.status === 'InService';
    const timeoutS = request.timeoutSeconds ?? DEFAULT_TIMEOUT_S;
    // A canary runs beside the version serving now; with nothing healthy serving, the version takes all traffic at once.
    const stable = state && state.status !== 'Failed' && state.version !== pkg.version ? state.version : undefined;
    const canary = mode.action === 'deploy' && request.strategy?.kind === 'canary' && stable && !onConfig ? request.strategy : undefined;
    if (state?.status === 'Failed') {
      // A Failed endpoint serves nothing and SageMaker allows only DeleteEndpoint on it: replace it.
      steps.push({
        action: 'sagemaker:DeleteEndpoint',
        resource: r.endpoint,
        details: { reason: `the endpoint is Failed${state.failureReason ? ` (${state.failureReason})` : ''}; SageMaker allows only deleting it` },
        run: async () => {
          await this.releaseScaling(
            session,
            state.variants.map((v) => v.name),
          );
          await api.deleteEndpoint({ EndpointName: r.endpoint });
          await this.waiter(session).gone(timeoutS);
        },
      });
    }
    if (!state || state.status === 'Failed') {
      const req = createEndpointRequest(r, final.name);
      steps.push({
        action: 'sagemaker:CreateEndpoint',
        resource: r.endpoint,
        details: { endpointConfig: final.name },
        run: async () => void (await api.createEndpoint(req)),
      });
      steps.push(this.waitStep(session, final.name, timeoutS));
    } else if (canary && stable) {
      // The canary: both versions on one endpoint as two variants, the candidate's at weight 0; the
      // shared rollout controller moves the weights and reads each variant's CloudWatch metrics.
      const stableVariant = (await ifExists(() => api.describeEndpointConfig({ EndpointConfigName: state.config })))?.ProductionVariants?.find(
        (v) => v.VariantName === stable || state.variants.length === 1,
      );
      if (!stableVariant?.ModelName) {
        throw new OperationError('endpoint_config_missing', `the endpoint configuration ${state.config} serving ${stable} on ${where(r)} cannot be read`, {
          hint: 'Deploy without --strategy canary (all at once), then run canaries again.',
        });
      }
      const both = await this.configStep(
        session,
        steps,
        [
          // The stable variant keeps its instance type: SageMaker refuses to change it under autoscaling.
          { version: stable, modelName: stableVariant.ModelName, weight: 1, ...(stableVariant.InstanceType && { instanceType: stableVariant.InstanceType }) },
          { version: pkg.version, modelName: model.ModelName!, weight: 0 },
        ],
        compute,
        rec.modelBytes,
      );
      steps.push(...this.switchSteps(session, state.config, both, timeoutS));
      steps.push({
        action: 'rollout:Canary',
        resource: r.endpoint,
        details: {
          from: stable,
          to: pkg.version,
          percent: canary.percent,
          bakeMinutes: canary.bakeMinutes,
          minRequests: canary.minRequests ?? manifest.rollout.canary.min_requests,
          split: 'sagemaker:UpdateEndpointWeightsAndCapacities',
          metrics: 'cloudwatch:GetMetricData AWS/SageMaker Invocations, Invocation5XXErrors, ModelLatency per variant',
        },
        run: () => this.canary(session, canary, stable, pkg.version, state.config, timeoutS, run),
      });
      // Promoted: the stable variant's fleet goes (a configuration with the candidate alone), so one fleet is paid for.
      steps.push(...this.switchSteps(session, both.name, final, timeoutS));
    } else if (!onConfig) {
      steps.push(...this.switchSteps(session, state.config, final, timeoutS));
    }

    // Autoscaling between the manifest's replicas.
    const scaling = scalingRequests(manifest, r, final.variants[0] ?? pkg.version);
    steps.push({
      action: 'application-autoscaling:RegisterScalableTarget',
      resource: scaling.target.ResourceId!,
      details: { min: scaling.target.MinCapacity, max: scaling.target.MaxCapacity },
      run: async () => void (await api.registerScalableTarget(scaling.target)),
    });
    steps.push({
      action: 'application-autoscaling:PutScalingPolicy',
      resource: scaling.policy.PolicyName!,
      details: { metric: 'SageMakerVariantInvocationsPerInstance', targetValue: scaling.policy.TargetTrackingScalingPolicyConfiguration?.TargetValue },
      run: async () => void (await api.putScalingPolicy(scaling.policy)),
    });

    const capture = dataCaptureAllowed(manifest, r);
    steps.push(...(await monitoringSteps(session, this.ctx, rec, role)));
    steps.push(...(await alertSteps(session, this.ctx, rec)));
    steps.push(...(await retrainingSteps(session, this.ctx, rec, role, compute)));

    const plan: DeployPlan = {
      target: this.name,
      ...(state?.version && { from: state.version }),
      to: pkg.version,
      compute,
      url: invokeUrl(r),
      logging: { enabled: capture.allowed, destination: s3Uri(r, keys.capture(r)) },
      steps,
      noop: onConfig,
      ...(!capture.allowed && { warnings: [capture.reason] }),
    };
    return { session, plan, steps, pkg, rec, configName: final.name, previous: state?.version, compute, run };
  }

  async plan(request: DeployRequest): Promise<DeployPlan> {
    const prepared = await this.prepare(request, { action: 'deploy' });
    return { ...prepared.plan, steps: toPlan(prepared.steps) };
  }

  async deploy(request: DeployRequest): Promise<DeployResult> {
    return this.execute(request, { action: 'deploy' });
  }

  /** A new endpoint configuration of these variants, planned when it does not exist yet. */
  private async configStep(
    session: Session,
    steps: Step[],
    variants: VariantSpec[],
    compute: ComputeChoice,
    modelBytes: number | undefined,
  ): Promise<{ name: string; variants: string[] }> {
    const { api, r } = session;
    const timeouts = variantTimeouts(this.ctx.manifest, compute, modelBytes);
    const capture = dataCaptureAllowed(this.ctx.manifest, r).allowed;
    const config = endpointConfigRequest(r, variants, compute, { timeouts, capture });
    const name = config.EndpointConfigName!;
    if (!(await ifExists(() => api.describeEndpointConfig({ EndpointConfigName: name })))) {
      steps.push({
        action: 'sagemaker:CreateEndpointConfig',
        resource: name,
        details: {
          variants: Object.fromEntries(config.ProductionVariants!.map((v) => [v.VariantName, { model: v.ModelName, weight: v.InitialVariantWeight }])),
          instanceType: compute.instanceType,
          instanceCount: compute.replicas.min,
          ...(timeouts && { modelDataDownloadTimeoutSeconds: timeouts.download, containerStartupHealthCheckTimeoutSeconds: timeouts.startup }),
          dataCapture: capture ? { percent: 100, modes: ['Input', 'Output'], destination: s3Uri(r, keys.capture(r)) } : 'off',
        },
        run: async () => void (await api.createEndpointConfig(config)),
      });
    }
    return { name, variants: variants.map((v) => v.version) };
  }

  /** Wait until the endpoint is InService on `config` (a failed update leaves the previous one serving). */
  private waitStep(session: Session, config: string, timeoutS: number): Step {
    return {
      action: 'sagemaker:DescribeEndpoint',
      resource: session.r.endpoint,
      details: { waitFor: 'InService', endpointConfig: config, timeoutSeconds: timeoutS },
      run: () => this.waiter(session).inService(config, timeoutS),
    };
  }

  /**
   * Move the live endpoint from one configuration to another, and wait until it serves it. An update
   * that fails leaves the old fleet serving: its autoscaling, released for the update, comes back.
   */
  private switchSteps(session: Session, from: string, to: { name: string; variants: string[] }, timeoutS: number): Step[] {
    const released: string[] = [];
    const wait = this.waitStep(session, to.name, timeoutS);
    return [
      {
        action: 'sagemaker:UpdateEndpoint',
        resource: session.r.endpoint,
        details: { endpointConfig: to.name, from, variants: to.variants },
        run: async () => void released.push(...(await this.switchEndpoint(session, to, timeoutS, { waitForService: false }))),
      },
      {
        ...wait,
        run: async () => {
          try {
            await wait.run();
          } catch (error) {
            const now = await endpointState(session).catch(() => undefined);
            for (const variant of released.filter((v) => now?.status === 'InService' && now.variants.some((x) => x.name === v))) {
              const scaling = scalingRequests(this.ctx.manifest, session.r, variant);
              // Best effort: the failed update is what the user must hear about.
              await session.api
                .registerScalableTarget(scaling.target)
                .then(() => session.api.putScalingPolicy(scaling.policy))
                .catch(() => this.ctx.output.warn(`autoscaling of ${variant} could not be restored; the next deploy registers it again`));
            }
            throw error;
          }
        },
      },
    ];
  }

  /**
   * UpdateEndpoint to a configuration. An update still running (an interrupted deploy) is waited for,
   * not stacked on; autoscaling is released first from the variants the configuration drops (SageMaker
   * refuses to remove a variant that is a scalable target). Returns the variants released.
   */
  private async switchEndpoint(
    session: Session,
    to: { name: string; variants: string[] },
    timeoutS: number,
    options = { waitForService: true },
  ): Promise<string[]> {
    const now = await endpointState(session);
    if (now && TRANSITIONAL.has(now.status)) await this.waiter(session).settled(timeoutS);
    const settled = await endpointState(session);
    let released: string[] = [];
    if (settled?.config !== to.name || settled.status !== 'InService') {
      released = await this.releaseScaling(
        session,
        (settled?.variants ?? []).map((v) => v.name).filter((v) => !to.variants.includes(v)),
      );
      await session.api.updateEndpoint(updateEndpointRequest(session.r, to.name));
    }
    if (options.waitForService) await this.waiter(session).inService(to.name, timeoutS);
    return released;
  }

  /** Deregister the variants' scalable targets (with their policies), those that are registered; returns their variants. */
  private async releaseScaling(session: Session, variants: string[]): Promise<string[]> {
    if (variants.length === 0) return [];
    const dimension = 'sagemaker:variant:DesiredInstanceCount';
    const ids = variants.map((v) => scalingResourceId(session.r, v));
    const registered = await session.api.describeScalableTargets({ ServiceNamespace: 'sagemaker', ResourceIds: ids, ScalableDimension: dimension });
    const released: string[] = [];
    for (const t of registered.ScalableTargets ?? []) {
      await session.api.deregisterScalableTarget({ ServiceNamespace: 'sagemaker', ResourceId: t.ResourceId, ScalableDimension: dimension });
      released.push(variants[ids.indexOf(t.ResourceId ?? '')] ?? '');
    }
    return released;
  }

  /**
   * The canary through the shared rollout controller: weights by UpdateEndpointWeightsAndCapacities,
   * each version's metrics from CloudWatch. Not promoted: the stable variant has all traffic again (the
   * controller) and the endpoint goes back to the configuration that served before, without the
   * candidate's fleet; the history is unchanged, since the candidate never became live.
   */
  private async canary(
    session: Session,
    strategy: Extract<RolloutStrategy, { kind: 'canary' }>,
    stable: string,
    candidate: string,
    before: string,
    timeoutS: number,
    run: { warning?: string },
  ): Promise<void> {
    try {
      const outcome = await runRollout({
        strategy,
        stable,
        candidate,
        traffic: this.trafficControl(session, timeoutS),
        metrics: cloudWatchReader(session.api, session.r.endpoint),
        guards: guardsFromManifest(this.ctx.manifest),
        clock: this.clock,
        reporter: this.ctx.output,
      });
      run.warning = outcome.warning;
    } catch (error) {
      if (error instanceof CanaryRevertedError) {
        await this.switchEndpoint(session, { name: before, variants: [stable] }, timeoutS);
        this.ctx.output.warn(`${stable} is still live and serving all traffic.`);
      }
      throw error;
    }
  }

  /** The controller's traffic moves: the variants' weights (in percent), applied before it reads metrics. */
  private trafficControl(session: Session, timeoutS: number): TrafficControl {
    const weigh = async (weights: Record<string, number>) => {
      await session.api.updateEndpointWeightsAndCapacities(weightsRequest(session.r, weights));
      await this.waiter(session).weighted(weights, timeoutS);
    };
    return {
      split: (stable, candidate, percent) => weigh({ [stable]: 100 - percent, [candidate]: percent }),
      routeAll: async (version) => {
        const variants = (await endpointState(session))?.variants ?? [];
        await weigh(Object.fromEntries(variants.map((v) => [v.name, v.name === version ? 100 : 0])));
      },
    };
  }

  private async execute(request: DeployRequest, mode: { action: 'deploy' | 'rollback'; config?: string }): Promise<DeployResult> {
    const prepared = await this.prepare(request, mode);
    const { session, plan, steps, pkg, configName, previous, compute, run } = prepared;
    // What `--plan` would have said (no Data Capture…), said on the way too.
    for (const w of plan.warnings ?? []) this.ctx.output.warn(w);
    const { api, r, registry } = session;
    if (pkg.approval === 'Rejected' && mode.action === 'deploy') {
      this.ctx.output.warn(`${pkg.version} was rejected (rolled back earlier); deploying it marks it Approved again`);
    }
    await runSteps(steps, this.ctx.output);
    if (pkg.approval === 'Rejected' && mode.action === 'deploy') {
      await api.updateModelPackage({
        ModelPackageArn: pkg.arn,
        ModelApprovalStatus: 'Approved',
        ApprovalDescription: `deployed again by mlship (${actor(this.ctx.command, this.ctx.env).user})`,
      });
    }
    const ts = this.ctx.now().toISOString();
    if (!plan.noop) {
      await registry.appendHistory(
        historyEntry(this.ctx, mode.action, pkg.version, previous, {
          endpoint: r.endpoint,
          endpointConfig: configName,
          instanceType: compute.instanceType,
          region: r.region,
          strategy: mode.action === 'deploy' && previous && previous !== pkg.version ? (request.strategy?.kind ?? 'all-at-once') : 'all-at-once',
          ...(run.warning && { warning: run.warning }),
        }),
      );
    }
    const live: LiveInfo = {
      version: pkg.version,
      url: invokeUrl(r),
      since: plan.noop ? (liveSince(await registry.history(), pkg.version) ?? ts) : ts,
      healthy: true,
      details: { endpoint: r.endpoint, endpointConfig: configName, instanceType: compute.instanceType, region: r.region },
    };
    return { live, ...(previous && previous !== pkg.version && { previous }), changed: !plan.noop };
  }

  // ---------------------------------------------------------------------------------------------
  // rollback, status, stop

  async rollback(request: RollbackRequest): Promise<DeployResult> {
    const session = await this.open();
    const { api, registry, r } = session;
    const [state, history, packages] = await Promise.all([endpointState(session), registry.history(), registry.packages()]);
    const live = state?.version;
    const to = chooseRollback({
      where: where(r),
      live,
      ...(request.to && { to: request.to }),
      history,
      versions: packages.map((p) => ({ version: p.version, rejected: p.approval === 'Rejected' })),
    });
    // Back to the exact endpoint configuration that served it, when it still exists.
    const config = [...history].reverse().find((h) => h.version === to && typeof h.details?.endpointConfig === 'string')?.details?.endpointConfig as
      | string
      | undefined;
    const result = await this.execute({ version: to, timeoutSeconds: request.timeoutSeconds }, { action: 'rollback', ...(config && { config }) });
    const rejected = packages.find((p) => p.version === live);
    if (rejected && rejected.approval !== 'Rejected') {
      await api.updateModelPackage({
        ModelPackageArn: rejected.arn,
        ModelApprovalStatus: 'Rejected',
        ApprovalDescription: `rolled back to ${to} by mlship (${actor(this.ctx.command, this.ctx.env).user})`,
      });
    }
    return { ...result, ...(live && { previous: live }) };
  }

  async status(): Promise<TargetStatus> {
    const session = await this.open();
    const { api, r, registry } = session;
    const [state, history, versions] = await Promise.all([endpointState(session), registry.history(), this.versions()]);
    const details: Record<string, unknown> = { region: r.region, endpoint: r.endpoint, bucket: r.bucket, modelPackageGroup: r.packageGroup };
    let live: LiveInfo | undefined;
    if (state) {
      const config = await ifExists(() => api.describeEndpointConfig({ EndpointConfigName: state.config }));
      const variant = config?.ProductionVariants?.find((v) => v.VariantName === state.version) ?? config?.ProductionVariants?.[0];
      const running = state.raw.ProductionVariants?.find((v) => v.VariantName === variant?.VariantName);
      const total = state.variants.reduce((a, v) => a + v.weight, 0);
      Object.assign(details, {
        endpointStatus: state.status,
        endpointConfig: state.config,
        instanceType: variant?.InstanceType,
        instanceCount: running?.CurrentInstanceCount ?? variant?.InitialInstanceCount,
        capture: state.raw.DataCaptureConfig?.DestinationS3Uri ?? config?.DataCaptureConfig?.DestinationS3Uri,
        // Each variant's (version's) share of the traffic, in percent.
        trafficSplit: Object.fromEntries(state.variants.map((v) => [v.name, total > 0 ? Math.round((v.weight / total) * 100) : 0])),
        ...(state.failureReason && { failureReason: state.failureReason }),
      });
      if (state.version) {
        const since = liveSince(history, state.version);
        live = {
          version: state.version,
          url: invokeUrl(r),
          since: since ?? (state.raw.LastModifiedTime ? new Date(state.raw.LastModifiedTime).toISOString() : ''),
          healthy: state.status === 'InService',
          details: { endpoint: r.endpoint, status: state.status, endpointConfig: state.config },
        };
      }
    }
    return { target: this.name, ...(live && { live }), history: recentHistory(history), versions, details };
  }

  /** Through the SageMaker Runtime (signed by the SDK): a record by InvokeEndpoint, a streamed chat by InvokeEndpointWithResponseStream. */
  async liveClient(): Promise<LiveClient | undefined> {
    const session = await this.open();
    const state = await endpointState(session);
    if (!state?.version) return undefined;
    const { api, r } = session;
    const input = (body: string) => ({ EndpointName: r.endpoint, ContentType: 'application/json', Body: new TextEncoder().encode(body) });
    const answer = (a: InvokeAnswer) => responseOf(a.status, a.contentType, a.body);
    return {
      version: state.version,
      predictRoute: invokeUrl(r),
      chatRoute: `${invokeUrl(r)}-response-stream`,
      predict: async (record, { signal }) => answer(await api.invokeEndpoint({ ...input(record), Accept: 'application/json' }, { abortSignal: signal })),
      streamChat: async (body, { signal }) =>
        answer(await api.invokeEndpointWithResponseStream({ ...input(body), Accept: 'text/event-stream' }, { abortSignal: signal })),
    };
  }

  async stop(): Promise<StopResult> {
    const session = await this.open();
    const { api, r, registry } = session;
    const state = await endpointState(session);
    if (!state) return { stopped: false };
    await this.releaseScaling(
      session,
      state.variants.map((v) => v.name),
    );
    await api.deleteEndpoint({ EndpointName: r.endpoint });
    await registry.appendHistory(historyEntry(this.ctx, 'stop', state.version, undefined, { endpoint: r.endpoint, endpointConfig: state.config }));
    return { stopped: true, ...(state.version && { version: state.version }) };
  }

  // ---------------------------------------------------------------------------------------------
  // drift inputs

  async baseline(version?: string): Promise<BaselineProfile> {
    const session = await this.open();
    const packages = await session.registry.packages();
    const which = version ?? (await this.liveVersion())?.version ?? packages[packages.length - 1]?.version;
    if (!which) throw new NoVersionsError(`model package group ${session.r.packageGroup}`, 'Push a build first, or pass --baseline FILE to drift-check.');
    const rec = await session.registry.readRecord(which);
    const uri = rec?.baseline?.profile;
    const key = uri?.replace(`s3://${session.r.bucket}/`, '');
    const text = key ? await session.registry.store.getText(key) : undefined;
    if (!text) {
      throw new OperationError('baseline_missing', `no baseline profile is stored with ${which} in s3://${session.r.bucket}/${session.r.root}/`, {
        hint: 'Set features.baseline in mlship.yaml, build and push again, or pass --baseline FILE to drift-check.',
      });
    }
    return JSON.parse(text) as BaselineProfile;
  }

  async predictionLogs(window: LogWindow): Promise<LogSource[]> {
    const session = await this.open();
    const state = await endpointState(session);
    const destination = state?.raw.DataCaptureConfig?.DestinationS3Uri ?? s3Uri(session.r, keys.capture(session.r));
    return captureSources(session.api, session.r.endpoint, destination, window);
  }

  /** Labels uploaded to the bucket (`<root>/feedback/`: shared/registry.ts). */
  async feedbackLogs(window: LogWindow): Promise<LogSource[]> {
    return (await this.open()).registry.feedbackSources(window);
  }

  /**
   * Run the project's SageMaker retraining pipeline now and follow it. Not part of `Target`: the
   * retrain command can call it when the target offers it (training then happens on SageMaker).
   */
  async startRetraining(timeoutSeconds: number): Promise<RetrainingRun> {
    return runRetrainingPipeline(await this.open(), this.ctx.output, {
      timeoutS: timeoutSeconds,
      clock: this.clock,
      ...(this.options.maxPollMs !== undefined && { maxPollMs: this.options.maxPollMs }),
    });
  }
}
