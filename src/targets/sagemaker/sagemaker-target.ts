/**
 * The SageMaker target: push registers a build as a model package (artifact in S3, image in ECR),
 * deploy turns a version into a Model, a new endpoint configuration with Data Capture, and a
 * blue/green endpoint update guarded by CloudWatch alarms, then converges autoscaling, Model Monitor
 * and the retraining pipeline. A deploy is a list of planned steps: `plan` returns them, `deploy`
 * runs exactly those, so `--plan` shows what deploy would send.
 */
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import path from 'node:path';
import { OperationError, UsageError } from '../../core/errors.js';
import { sha256File } from '../../core/fs.js';
import type { BaselineProfile } from '../../drift/profile.js';
import type {
  Actor,
  BuildRef,
  ComputeChoice,
  DeployPlan,
  DeployRequest,
  DeployResult,
  HistoryEntry,
  LiveInfo,
  LogSource,
  LogWindow,
  PlanStep,
  PushOptions,
  PushResult,
  RollbackRequest,
  StopResult,
  Target,
  TargetContext,
  TargetStatus,
  VersionInfo,
} from '../types.js';
import type { AwsApi } from './api.js';
import { imageSource, packModel, pushImage, readBuild } from './artifact.js';
import { createAwsApi, ifExists, withErrorTranslation } from './aws-client.js';
import { captureSources } from './capture.js';
import { chooseCompute } from './compute.js';
import { monitorCron } from './cron.js';
import { monitorConstraints, monitorStatistics } from './monitor-baseline.js';
import { pipelineArn, pipelineRequest, renderPipelineDefinition, scheduleRequest } from './pipeline.js';
import { S3Registry, versionNumber, type PackageInfo } from './registry.js';
import {
  alarmRequests,
  bucketRequests,
  createEndpointRequest,
  dataQualityJobRequest,
  endpointConfigRequest,
  modelPackageRequest,
  modelRequest,
  monitorImage,
  monitoringScheduleConfig,
  scalingRequests,
  updateEndpointRequest,
  type VersionRecord,
} from './requests.js';
import { invokeUrl, keys, resolveResources, s3Uri, type Resources } from './resources.js';

/** How the target reaches AWS; tests pass a double in front of moto. */
export interface SageMakerTargetOptions {
  api?: AwsApi;
  /** Longest pause between endpoint polls (the first polls come sooner). */
  maxPollMs?: number;
  /** Pause function (tests make it instant). */
  sleep?: (ms: number) => Promise<void>;
}

interface Session {
  api: AwsApi;
  r: Resources;
  registry: S3Registry;
}

/** A planned step and the call that carries it out. */
interface Step extends PlanStep {
  run(): Promise<void>;
}

const TRANSITIONAL = new Set(['Creating', 'Updating', 'SystemUpdating', 'RollingBack', 'Deleting']);
const DEFAULT_TIMEOUT_S = 1800;

export class SageMakerTarget implements Target {
  readonly name = 'sagemaker' as const;
  private session?: Promise<Session>;

  constructor(
    private readonly ctx: TargetContext,
    private readonly options: SageMakerTargetOptions = {},
  ) {}

  private open(): Promise<Session> {
    this.session ??= (async () => {
      const sm = this.ctx.manifest.targets.sagemaker;
      const raw = this.options.api ?? (await createAwsApi({ region: sm?.region }));
      const api = withErrorTranslation(raw, { role: sm?.role });
      const identity = await api.getCallerIdentity({});
      if (!identity.Account) throw new OperationError('aws_error', 'STS returned no account id');
      const r = resolveResources(this.ctx.manifest, identity.Account, api.region);
      return { api, r, registry: new S3Registry(api, r) };
    })();
    return this.session;
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

  private actor(): Actor {
    let user = 'unknown';
    try {
      user = userInfo().username;
    } catch {
      user = this.ctx.env.USER ?? 'unknown';
    }
    return { command: this.ctx.command, user, host: hostname() };
  }

  // ---------------------------------------------------------------------------------------------
  // push

  async push(build: BuildRef, options: PushOptions): Promise<PushResult> {
    const info = readBuild(build.dir);
    const modelPath = path.join(build.dir, info.model.file);
    const digest = await sha256File(modelPath);
    if (digest !== info.model.sha256) {
      throw new OperationError('artifact_digest_mismatch', `the build's model artifact changed after the build (sha256 ${digest.slice(0, 12)}…, build.json says ${info.model.sha256.slice(0, 12)}…)`, {
        hint: 'Run `mlship build` again.',
      });
    }
    const { api, r, registry } = await this.open();
    const out = this.ctx.output;

    // An identical build (same model, same build, same image) is already a version: no duplicate.
    const packages = await registry.packages();
    for (const p of [...packages].reverse()) {
      const rec = await registry.record(p.version);
      if (rec && rec.digest === digest && rec.buildId === build.id && (options.image === undefined || rec.image === options.image)) {
        out.info(`${p.version} already holds build ${build.id}; nothing pushed`);
        return { version: this.toVersionInfo(p, rec, undefined), created: false };
      }
    }

    // Know where the image comes from before uploading anything.
    const source = await imageSource(r, build, { image: options.image, env: this.ctx.env });
    await this.ensureBucket(api, r);
    const artifactKey = keys.artifact(r, digest);
    if (!(await ifExists(() => api.headObject({ Bucket: r.bucket, Key: artifactKey })))) {
      const packed = await packModel(modelPath);
      try {
        const progress = await out.progress(`uploading model.tar.gz to ${s3Uri(r, artifactKey)}`);
        await api.putObject({
          Bucket: r.bucket,
          Key: artifactKey,
          Body: createReadStream(packed.file),
          ContentLength: statSync(packed.file).size,
          ContentType: 'application/gzip',
          Metadata: { 'mlship-sha256': digest },
        });
        progress.succeed(`uploaded ${s3Uri(r, artifactKey)}`);
      } finally {
        packed.cleanup();
      }
    }
    const image = 'uri' in source ? source.uri : await pushImage(api, r, build, source, { output: out, env: this.ctx.env });

    // The baseline and its Model Monitor export, stored by build (content-addressed) before the package refers to them.
    const baseline = await this.uploadBaseline(r, registry, build, info.baseline ?? 'baseline.json');

    if (!(await ifExists(() => api.describeModelPackageGroup({ ModelPackageGroupName: r.packageGroup })))) {
      await api.createModelPackageGroup({ ModelPackageGroupName: r.packageGroup, ModelPackageGroupDescription: `mlship versions of ${this.ctx.manifest.name}` });
    }
    const compute = chooseCompute(this.ctx.manifest);
    const created = await api.createModelPackage(
      modelPackageRequest(this.ctx.manifest, r, {
        image,
        modelDataUrl: s3Uri(r, artifactKey),
        digest,
        buildId: build.id,
        instanceTypes: [compute.instanceType],
        requireApproval: options.requireApproval === true,
        ...(baseline && { statistics: baseline.statistics, constraints: baseline.constraints }),
      }),
    );
    const arn = created.ModelPackageArn;
    const pkg = arn ? (await registry.packages()).find((p) => p.arn === arn) : undefined;
    if (!arn || !pkg) throw new OperationError('aws_error', `SageMaker did not return the new model package of group ${r.packageGroup}`);
    const gitCommit = info.gitCommit;
    // Training metrics as the training code left them (beside the manifest, as on the local target).
    const metrics = this.readMetrics(this.ctx.manifest.projectDir) ?? this.readMetrics(build.dir);
    const record: VersionRecord = {
      version: pkg.version,
      buildId: build.id,
      createdAt: this.ctx.now().toISOString(),
      digest,
      image,
      modelDataUrl: s3Uri(r, artifactKey),
      modelPackageArn: arn,
      ...(gitCommit && { gitCommit }),
      ...(metrics && { metrics }),
      ...(options.parent && { parent: options.parent }),
      ...(options.data && { data: options.data }),
      ...(options.gate && { gate: options.gate }),
      ...(baseline && { baseline }),
    };
    await registry.writeRecord(record);
    return { version: this.toVersionInfo(pkg, record, undefined), created: true };
  }

  private readMetrics(dir: string): Record<string, unknown> | undefined {
    const file = path.join(dir, 'metrics.json');
    if (!existsSync(file)) return undefined;
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch {
      return undefined;
    }
  }

  private async ensureBucket(api: AwsApi, r: Resources): Promise<void> {
    if (await ifExists(() => api.headBucket({ Bucket: r.bucket }))) return;
    const req = bucketRequests(r);
    this.ctx.output.info(`creating bucket s3://${r.bucket} (encrypted, public access blocked)`);
    await api.createBucket(req.create);
    await api.putBucketEncryption(req.encryption);
    await api.putPublicAccessBlock(req.publicAccess);
  }

  private async uploadBaseline(r: Resources, registry: S3Registry, build: BuildRef, name: string): Promise<VersionRecord['baseline']> {
    const file = path.join(build.dir, name);
    if (!existsSync(file)) return undefined;
    const profile = JSON.parse(readFileSync(file, 'utf8')) as BaselineProfile;
    const dir = `${r.root}/builds/${build.id}`;
    const threshold = this.ctx.manifest.monitoring.drift.threshold ?? 0.1;
    await registry.putJson(`${dir}/baseline.json`, profile);
    await registry.putJson(`${dir}/statistics.json`, monitorStatistics(this.ctx.manifest, profile));
    await registry.putJson(`${dir}/constraints.json`, monitorConstraints(this.ctx.manifest, profile, threshold));
    return { profile: s3Uri(r, `${dir}/baseline.json`), statistics: s3Uri(r, `${dir}/statistics.json`), constraints: s3Uri(r, `${dir}/constraints.json`) };
  }

  // ---------------------------------------------------------------------------------------------
  // versions and records

  private toVersionInfo(p: PackageInfo, rec: VersionRecord | undefined, live: string | undefined): VersionInfo {
    return {
      version: p.version,
      buildId: rec?.buildId ?? 'unknown',
      createdAt: rec?.createdAt ?? p.createdAt ?? '',
      digest: rec?.digest ?? '',
      ...(rec?.gitCommit && { gitCommit: rec.gitCommit }),
      ...(rec?.metrics && { metrics: rec.metrics }),
      ...(rec?.parent && { parent: rec.parent }),
      ...(rec?.data && { data: rec.data }),
      ...(rec?.gate && { gate: rec.gate }),
      location: { modelPackageArn: p.arn, approval: p.approval, ...(rec && { image: rec.image, modelDataUrl: rec.modelDataUrl }) },
      live: p.version === live,
    };
  }

  async versions(): Promise<VersionInfo[]> {
    const { registry } = await this.open();
    const [packages, live] = await Promise.all([registry.packages(), this.liveVersion()]);
    const records = await Promise.all(packages.map((p) => registry.record(p.version)));
    return packages.map((p, i) => this.toVersionInfo(p, records[i], live?.version));
  }

  /** The version record, or one derived from the model package when mlship did not push it (retraining pipeline). */
  private async recordOf(session: Session, p: PackageInfo): Promise<VersionRecord> {
    const rec = await session.registry.record(p.version);
    if (rec) return rec;
    const d = await session.api.describeModelPackage({ ModelPackageName: p.arn });
    const c = d.InferenceSpecification?.Containers?.[0];
    if (!c?.Image || !c.ModelDataUrl) throw new OperationError('version_incomplete', `model package ${p.arn} has no container image or model data`, { hint: 'Push the build again with `mlship push`.' });
    return {
      version: p.version,
      buildId: d.CustomerMetadataProperties?.['mlship:build'] ?? 'pipeline',
      createdAt: d.CreationTime ? new Date(d.CreationTime).toISOString() : '',
      digest: d.CustomerMetadataProperties?.['mlship:sha256'] ?? (/([0-9a-f]{64})/.exec(c.ModelDataUrl)?.[1] ?? 'unknown'),
      image: c.Image,
      modelDataUrl: c.ModelDataUrl,
      modelPackageArn: p.arn,
    };
  }

  /** The live endpoint: its status, configuration and the version that configuration serves. */
  private async endpointState(session: Session) {
    const ep = await ifExists(() => session.api.describeEndpoint({ EndpointName: session.r.endpoint }));
    if (!ep) return undefined;
    const config = ep.EndpointConfigName ?? '';
    const version = new RegExp(`^${session.r.endpoint}-(v\\d+)-`).exec(config)?.[1];
    return { status: ep.EndpointStatus ?? 'Unknown', config, version, failureReason: ep.FailureReason, raw: ep };
  }

  private async liveVersion(): Promise<{ version: string; config: string } | undefined> {
    const session = await this.open();
    const state = await this.endpointState(session);
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
    if (packages.length === 0) {
      throw new OperationError('no_versions', `no versions in model package group ${r.packageGroup} (${r.region})`, { hint: 'Run `mlship build` and `mlship push --target sagemaker` first.' });
    }
    const pkg = request.version ? packages.find((p) => p.version === request.version) : packages[packages.length - 1];
    if (!pkg) {
      throw new UsageError(`version ${request.version} is not registered (have ${packages.map((p) => p.version).join(', ')})`, { code: 'unknown_version', hint: 'Pick one of the listed versions.' });
    }
    if (pkg.approval === 'PendingManualApproval') {
      throw new OperationError('version_not_approved', `${pkg.version} is pending manual approval in model package group ${r.packageGroup}`, {
        hint: `Approve it (SageMaker Studio, or \`aws sagemaker update-model-package --model-package-arn ${pkg.arn} --model-approval-status Approved\`), then deploy again.`,
      });
    }
    const role = this.role(r);
    const rec = await this.recordOf(session, pkg);
    const compute = chooseCompute(manifest);
    const state = await this.endpointState(session);
    const steps: Step[] = [];

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
    let configName = mode.config;
    if (!configName || !(await ifExists(() => api.describeEndpointConfig({ EndpointConfigName: configName! })))) {
      const config = endpointConfigRequest(r, model.ModelName!, pkg.version, compute);
      configName = config.EndpointConfigName!;
      if (!(await ifExists(() => api.describeEndpointConfig({ EndpointConfigName: configName! })))) {
        steps.push({
          action: 'sagemaker:CreateEndpointConfig',
          resource: configName,
          details: {
            model: model.ModelName,
            instanceType: compute.instanceType,
            instanceCount: compute.replicas.min,
            dataCapture: { percent: 100, modes: ['Input', 'Output'], destination: s3Uri(r, keys.capture(r)) },
          },
          run: async () => void (await api.createEndpointConfig(config)),
        });
      }
    }
    const finalConfig = configName;

    // Alarms first: the endpoint update names them for its automatic rollback.
    for (const alarm of alarmRequests(manifest, r)) {
      steps.push({
        action: 'cloudwatch:PutMetricAlarm',
        resource: alarm.AlarmName!,
        details: { metric: alarm.MetricName, threshold: alarm.Threshold, ...(alarm.ExtendedStatistic && { statistic: alarm.ExtendedStatistic }) },
        run: async () => void (await api.putMetricAlarm(alarm)),
      });
    }

    const onConfig = state?.config === finalConfig && state.status === 'InService';
    const timeoutS = request.timeoutSeconds ?? DEFAULT_TIMEOUT_S;
    if (state?.status === 'Failed') {
      // A Failed endpoint serves nothing and SageMaker allows only DeleteEndpoint on it: replace it.
      steps.push({
        action: 'sagemaker:DeleteEndpoint',
        resource: r.endpoint,
        details: { reason: `the endpoint is Failed${state.failureReason ? ` (${state.failureReason})` : ''}; SageMaker allows only deleting it` },
        run: async () => {
          await api.deleteEndpoint({ EndpointName: r.endpoint });
          await this.waitGone(session, timeoutS);
        },
      });
    }
    if (!state || state.status === 'Failed') {
      const req = createEndpointRequest(r, finalConfig);
      steps.push({ action: 'sagemaker:CreateEndpoint', resource: r.endpoint, details: { endpointConfig: finalConfig }, run: async () => void (await api.createEndpoint(req)) });
    } else if (!onConfig) {
      const strategy = mode.action === 'rollback' ? { kind: 'all-at-once' as const } : request.strategy;
      const req = updateEndpointRequest(r, finalConfig, strategy);
      const routing = req.DeploymentConfig?.BlueGreenUpdatePolicy?.TrafficRoutingConfiguration;
      steps.push({
        action: 'sagemaker:UpdateEndpoint',
        resource: r.endpoint,
        details: {
          endpointConfig: finalConfig,
          from: state.config,
          blueGreen: routing?.Type,
          ...(routing?.CanarySize && { canaryPercent: routing.CanarySize.Value, bakeSeconds: routing.WaitIntervalInSeconds }),
          rollbackAlarms: [r.alarms.errors, r.alarms.latency],
        },
        // An update still running (an interrupted deploy) is waited for, not stacked on.
        run: async () => {
          const now = await this.endpointState(session);
          if (now && TRANSITIONAL.has(now.status)) await this.waitSettled(session, timeoutS);
          const settled = await this.endpointState(session);
          if (settled?.config === finalConfig && settled.status === 'InService') return;
          await api.updateEndpoint(req);
        },
      });
    }
    if (!onConfig) {
      steps.push({
        action: 'sagemaker:DescribeEndpoint',
        resource: r.endpoint,
        details: { waitFor: 'InService', endpointConfig: finalConfig, timeoutSeconds: timeoutS },
        run: () => this.waitForConfig(session, finalConfig, timeoutS),
      });
    }

    // Autoscaling between the manifest's replicas.
    const scaling = scalingRequests(manifest, r);
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

    steps.push(...(await this.monitoringSteps(session, rec, role)));
    steps.push(...(await this.retrainingSteps(session, rec, role, compute)));

    const plan: DeployPlan = {
      target: 'sagemaker',
      ...(state?.version && { from: state.version }),
      to: pkg.version,
      compute,
      url: invokeUrl(r),
      logging: { enabled: true, destination: s3Uri(r, keys.capture(r)) },
      steps,
      noop: onConfig,
    };
    return { session, plan, steps, pkg, rec, configName: finalConfig, previous: state?.version, compute };
  }

  private async monitoringSteps(session: Session, rec: VersionRecord, role: string): Promise<Step[]> {
    const { api, r } = session;
    const image = monitorImage(r.region);
    if (!rec.baseline || !image) {
      this.ctx.output.debug(!rec.baseline ? `no baseline stored with ${rec.version}: Model Monitor schedule skipped` : `no Model Monitor image known for ${r.region}: schedule skipped`);
      return [];
    }
    const job = dataQualityJobRequest(r, rec.version, rec.baseline, image, role);
    const cron = monitorCron(this.ctx.manifest.monitoring.drift.schedule);
    const config = monitoringScheduleConfig(job.JobDefinitionName!, cron.expression);
    const steps: Step[] = [];
    if (!(await ifExists(() => api.describeDataQualityJobDefinition({ JobDefinitionName: job.JobDefinitionName })))) {
      steps.push({
        action: 'sagemaker:CreateDataQualityJobDefinition',
        resource: job.JobDefinitionName!,
        details: { baseline: rec.baseline.statistics, reports: job.DataQualityJobOutputConfig?.MonitoringOutputs?.[0]?.S3Output?.S3Uri },
        run: async () => void (await api.createDataQualityJobDefinition(job)),
      });
    }
    const existing = await ifExists(() => api.describeMonitoringSchedule({ MonitoringScheduleName: r.monitoringSchedule }));
    const current = existing?.MonitoringScheduleConfig;
    if (!existing || current?.MonitoringJobDefinitionName !== config.MonitoringJobDefinitionName || current?.ScheduleConfig?.ScheduleExpression !== cron.expression) {
      steps.push({
        action: existing ? 'sagemaker:UpdateMonitoringSchedule' : 'sagemaker:CreateMonitoringSchedule',
        resource: r.monitoringSchedule,
        details: { schedule: cron.expression, jobDefinition: job.JobDefinitionName, ...(cron.note && { note: cron.note }) },
        run: async () => {
          if (cron.note) this.ctx.output.warn(cron.note);
          if (existing) await api.updateMonitoringSchedule({ MonitoringScheduleName: r.monitoringSchedule, MonitoringScheduleConfig: config });
          else await api.createMonitoringSchedule({ MonitoringScheduleName: r.monitoringSchedule, MonitoringScheduleConfig: config, Tags: [{ Key: 'mlship:project', Value: r.endpoint }] });
        },
      });
    }
    return steps;
  }

  private async retrainingSteps(session: Session, rec: VersionRecord, role: string, compute: ComputeChoice): Promise<Step[]> {
    const { api, r } = session;
    const manifest = this.ctx.manifest;
    if (!manifest.retraining.schedule) return [];
    const definition = renderPipelineDefinition(manifest, r, { image: rec.image, role, compute });
    const pipeline = pipelineRequest(manifest, r, definition, role);
    const existing = await ifExists(() => api.describePipeline({ PipelineName: r.pipeline }));
    const steps: Step[] = [
      {
        action: 's3:PutObject',
        resource: s3Uri(r, keys.pipelineSource(r)),
        details: { contents: 'project source for the training step (without .mlship, .git, node_modules)' },
        run: () => this.uploadSource(session),
      },
    ];
    if (!existing || existing.PipelineDefinition !== definition) {
      steps.push({
        action: existing ? 'sagemaker:UpdatePipeline' : 'sagemaker:CreatePipeline',
        resource: r.pipeline,
        details: { steps: ['Train', 'Register'], image: rec.image, command: manifest.retraining.command },
        run: async () => {
          if (existing) await api.updatePipeline({ PipelineName: pipeline.PipelineName, PipelineDefinition: pipeline.PipelineDefinition, PipelineDescription: pipeline.PipelineDescription, RoleArn: pipeline.RoleArn });
          else await api.createPipeline({ ...pipeline, ClientRequestToken: `${r.pipeline}-${Date.now()}` });
        },
      });
    }
    const schedule = scheduleRequest(manifest, r, existing?.PipelineArn ?? pipelineArn(r), role);
    if (schedule) {
      const current = await ifExists(() => api.getSchedule({ Name: schedule.Name }));
      if (!current || current.ScheduleExpression !== schedule.ScheduleExpression || current.Target?.Arn !== schedule.Target?.Arn) {
        steps.push({
          action: current ? 'scheduler:UpdateSchedule' : 'scheduler:CreateSchedule',
          resource: schedule.Name!,
          details: { expression: schedule.ScheduleExpression, timezone: 'UTC', target: r.pipeline },
          run: async () => {
            const arn = (await api.describePipeline({ PipelineName: r.pipeline })).PipelineArn ?? pipelineArn(r);
            const body = { ...schedule, Target: { ...schedule.Target!, Arn: arn } };
            if (current) await api.updateSchedule(body);
            else await api.createSchedule(body);
          },
        });
      }
    }
    return steps;
  }

  private async uploadSource(session: Session): Promise<void> {
    const { execa } = await import('execa');
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(path.join(tmpdir(), 'mlship-source-'));
    const file = path.join(dir, 'source.tar.gz');
    try {
      const excludes = ['.mlship', '.git', 'node_modules', '__pycache__', '.venv', 'venv'].flatMap((e) => [`--exclude=${e}`]);
      await execa('tar', ['-czf', file, ...excludes, '-C', this.ctx.manifest.projectDir, '.']);
      await session.api.putObject({ Bucket: session.r.bucket, Key: keys.pipelineSource(session.r), Body: readFileSync(file), ContentType: 'application/gzip' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  private sleep(ms: number): Promise<void> {
    return this.options.sleep ? this.options.sleep(ms) : new Promise((resolve) => setTimeout(resolve, ms));
  }

  /** Wait until a deleted endpoint is gone. */
  private async waitGone(session: Session, timeoutS: number): Promise<void> {
    const started = Date.now();
    let pause = 1000;
    while (await this.endpointState(session)) {
      if ((Date.now() - started) / 1000 >= timeoutS) {
        throw new OperationError('deploy_timeout', `endpoint ${session.r.endpoint} is still being deleted after ${timeoutS}s`, { hint: 'Run `mlship deploy` again later.' });
      }
      await this.sleep(pause);
      pause = Math.min(pause * 2, this.options.maxPollMs ?? 15_000);
    }
  }

  /** Wait until the endpoint leaves a transitional status. */
  private async waitSettled(session: Session, timeoutS: number): Promise<void> {
    const started = Date.now();
    const progress = await this.ctx.output.progress(`endpoint ${session.r.endpoint}: waiting for the running update to finish`);
    let pause = 1000;
    for (;;) {
      const state = await this.endpointState(session);
      if (!state || !TRANSITIONAL.has(state.status)) {
        progress.stop();
        return;
      }
      const elapsed = Math.round((Date.now() - started) / 1000);
      progress.update(`endpoint ${session.r.endpoint}: ${state.status} (${elapsed}s)`);
      if (elapsed >= timeoutS) {
        progress.fail();
        throw new OperationError('deploy_timeout', `endpoint ${session.r.endpoint} is still ${state.status} after ${timeoutS}s`, { hint: 'Run the command again later (or with a larger --timeout); it continues where this one stopped.' });
      }
      await this.sleep(pause);
      pause = Math.min(pause * 2, this.options.maxPollMs ?? 15_000);
    }
  }

  /**
   * Wait until the endpoint serves `config` and is InService, with progress; a failure (or an
   * automatic rollback) reports SageMaker's FailureReason and leaves the previous config serving.
   */
  private async waitForConfig(session: Session, config: string, timeoutS: number): Promise<void> {
    const { r } = session;
    const started = Date.now();
    const progress = await this.ctx.output.progress(`endpoint ${r.endpoint}: deploying ${config}`);
    let pause = 1000;
    let sawTransition = false;
    for (;;) {
      const state = await this.endpointState(session);
      const elapsed = Math.round((Date.now() - started) / 1000);
      if (!state) {
        progress.fail();
        throw new OperationError('endpoint_missing', `endpoint ${r.endpoint} disappeared while deploying`, { hint: 'Run `mlship deploy` again.' });
      }
      if (state.status === 'InService' && state.config === config) {
        progress.succeed(`endpoint ${r.endpoint}: InService on ${config} (${elapsed}s)`);
        return;
      }
      const rolledBack = state.status === 'InService' && state.config !== config && (sawTransition || state.failureReason);
      if (state.status === 'Failed' || state.status === 'OutOfService' || rolledBack) {
        progress.fail(`endpoint ${r.endpoint}: ${state.status}`);
        const kept = state.config && state.config !== config ? ` The endpoint still serves ${state.config}${state.version ? ` (${state.version})` : ''}.` : '';
        throw new OperationError('deploy_failed', `SageMaker could not put ${config} into service on endpoint ${r.endpoint}: ${state.failureReason ?? `status ${state.status}`}.${kept}`, {
          hint: 'Fix the cause named above (the container logs are in CloudWatch under /aws/sagemaker/Endpoints/' + r.endpoint + ') and deploy again.',
          details: { endpointStatus: state.status, failureReason: state.failureReason, endpointConfig: state.config },
        });
      }
      if (TRANSITIONAL.has(state.status)) sawTransition = true;
      progress.update(`endpoint ${r.endpoint}: ${state.status} (${elapsed}s)`);
      if (elapsed >= timeoutS) {
        progress.fail();
        throw new OperationError('deploy_timeout', `endpoint ${r.endpoint} is still ${state.status} after ${timeoutS}s; the previous configuration keeps serving until SageMaker finishes`, {
          hint: 'Run `mlship deploy` again (or with a larger --timeout) to keep waiting; it does not start a second update.',
        });
      }
      await this.sleep(pause);
      pause = Math.min(pause * 2, this.options.maxPollMs ?? 15_000);
    }
  }

  async plan(request: DeployRequest): Promise<DeployPlan> {
    const { plan } = await this.prepare(request, { action: 'deploy' });
    return { ...plan, steps: plan.steps.map(({ action, resource, details }) => ({ action, resource, ...(details && { details }) })) };
  }

  async deploy(request: DeployRequest): Promise<DeployResult> {
    return this.execute(request, { action: 'deploy' });
  }

  private async execute(request: DeployRequest, mode: { action: 'deploy' | 'rollback'; config?: string }): Promise<DeployResult> {
    const prepared = await this.prepare(request, mode);
    const { session, plan, steps, pkg, configName, previous, compute } = prepared;
    const { api, r, registry } = session;
    if (pkg.approval === 'Rejected' && mode.action === 'deploy') {
      this.ctx.output.warn(`${pkg.version} was rejected (rolled back earlier); deploying it marks it Approved again`);
    }
    for (const step of steps) {
      this.ctx.output.debug(`${step.action} ${step.resource}`);
      await step.run();
    }
    if (pkg.approval === 'Rejected' && mode.action === 'deploy') {
      await api.updateModelPackage({ ModelPackageArn: pkg.arn, ModelApprovalStatus: 'Approved', ApprovalDescription: `deployed again by mlship (${this.actor().user})` });
    }
    const ts = this.ctx.now().toISOString();
    if (!plan.noop) {
      const entry: HistoryEntry = {
        ts,
        action: mode.action,
        version: pkg.version,
        ...(previous && { previous }),
        by: this.actor(),
        details: { endpoint: r.endpoint, endpointConfig: configName, instanceType: compute.instanceType, region: r.region },
      };
      await registry.append(entry);
    }
    const live: LiveInfo = {
      version: pkg.version,
      url: invokeUrl(r),
      since: plan.noop ? ((await this.sinceOf(session, pkg.version)) ?? ts) : ts,
      healthy: true,
      details: { endpoint: r.endpoint, endpointConfig: configName, instanceType: compute.instanceType, region: r.region },
    };
    return { live, ...(previous && previous !== pkg.version && { previous }), changed: !plan.noop };
  }

  private async sinceOf(session: Session, version: string): Promise<string | undefined> {
    const history = await session.registry.history();
    return [...history].reverse().find((h) => h.version === version && h.action !== 'stop')?.ts;
  }

  // ---------------------------------------------------------------------------------------------
  // rollback, status, stop

  async rollback(request: RollbackRequest): Promise<DeployResult> {
    const session = await this.open();
    const { api, registry } = session;
    const state = await this.endpointState(session);
    if (!state?.version) {
      throw new OperationError('nothing_live', `endpoint ${session.r.endpoint} is not serving a version, so there is nothing to roll back`, { hint: 'Deploy a version with `mlship deploy --target sagemaker`.' });
    }
    const history = await registry.history();
    let to = request.to;
    if (!to) {
      const madeLive = [...history].reverse().find((h) => h.version === state.version && (h.action === 'deploy' || h.action === 'rollback'));
      to = madeLive?.previous;
      if (!to) {
        const packages = await registry.packages();
        to = [...packages].reverse().find((p) => versionNumber(p.version) < versionNumber(state.version!) && p.approval !== 'Rejected')?.version;
      }
      if (!to) throw new OperationError('nothing_to_roll_back', `${state.version} is the first version deployed on ${session.r.endpoint}; there is no previous one`, { hint: 'Name a version with --to vN.' });
    }
    if (to === state.version) {
      throw new UsageError(`${to} is already live on ${session.r.endpoint}`, { code: 'already_live', hint: 'Name another version with --to vN.' });
    }
    // Back to the exact endpoint configuration that served it, when it still exists.
    const config = [...history].reverse().find((h) => h.version === to && typeof h.details?.endpointConfig === 'string')?.details?.endpointConfig as string | undefined;
    const result = await this.execute({ version: to, timeoutSeconds: request.timeoutSeconds }, { action: 'rollback', ...(config && { config }) });
    const rejected = (await registry.packages()).find((p) => p.version === state.version);
    if (rejected && rejected.approval !== 'Rejected') {
      await api.updateModelPackage({ ModelPackageArn: rejected.arn, ModelApprovalStatus: 'Rejected', ApprovalDescription: `rolled back to ${to} by mlship (${this.actor().user})` });
    }
    return { ...result, previous: state.version };
  }

  async status(): Promise<TargetStatus> {
    const session = await this.open();
    const { api, r, registry } = session;
    const [state, history, versions] = await Promise.all([this.endpointState(session), registry.history(), this.versions()]);
    const details: Record<string, unknown> = { region: r.region, endpoint: r.endpoint, bucket: r.bucket, modelPackageGroup: r.packageGroup };
    let live: LiveInfo | undefined;
    if (state) {
      const config = await ifExists(() => api.describeEndpointConfig({ EndpointConfigName: state.config }));
      const variant = config?.ProductionVariants?.[0];
      const running = state.raw.ProductionVariants?.[0];
      const alarms = await api.describeAlarms({ AlarmNames: [r.alarms.errors, r.alarms.latency] });
      Object.assign(details, {
        endpointStatus: state.status,
        endpointConfig: state.config,
        instanceType: variant?.InstanceType,
        instanceCount: running?.CurrentInstanceCount ?? variant?.InitialInstanceCount,
        capture: state.raw.DataCaptureConfig?.DestinationS3Uri ?? config?.DataCaptureConfig?.DestinationS3Uri,
        alarms: (alarms.MetricAlarms ?? []).map((a) => ({ name: a.AlarmName, state: a.StateValue })),
        ...(state.failureReason && { failureReason: state.failureReason }),
      });
      if (state.version) {
        const since = [...history].reverse().find((h) => h.version === state.version && h.action !== 'stop')?.ts;
        live = {
          version: state.version,
          url: invokeUrl(r),
          since: since ?? (state.raw.LastModifiedTime ? new Date(state.raw.LastModifiedTime).toISOString() : ''),
          healthy: state.status === 'InService',
          details: { endpoint: r.endpoint, status: state.status, endpointConfig: state.config },
        };
      }
    }
    return { target: 'sagemaker', ...(live && { live }), history: history.slice(-20), versions, details };
  }

  async stop(): Promise<StopResult> {
    const session = await this.open();
    const { api, r, registry } = session;
    const state = await this.endpointState(session);
    if (!state) return { stopped: false };
    const resourceId = `endpoint/${r.endpoint}/variant/${r.variant}`;
    const scaling = await api.describeScalableTargets({ ServiceNamespace: 'sagemaker', ResourceIds: [resourceId], ScalableDimension: 'sagemaker:variant:DesiredInstanceCount' });
    if ((scaling.ScalableTargets ?? []).length > 0) {
      await api.deregisterScalableTarget({ ServiceNamespace: 'sagemaker', ResourceId: resourceId, ScalableDimension: 'sagemaker:variant:DesiredInstanceCount' });
    }
    await api.deleteEndpoint({ EndpointName: r.endpoint });
    await registry.append({ ts: this.ctx.now().toISOString(), action: 'stop', ...(state.version && { version: state.version }), by: this.actor(), details: { endpoint: r.endpoint, endpointConfig: state.config } });
    return { stopped: true, ...(state.version && { version: state.version }) };
  }

  // ---------------------------------------------------------------------------------------------
  // drift inputs

  async baseline(version?: string): Promise<BaselineProfile> {
    const session = await this.open();
    const packages = await session.registry.packages();
    const which = version ?? (await this.liveVersion())?.version ?? packages[packages.length - 1]?.version;
    if (!which) throw new OperationError('no_versions', `no versions in model package group ${session.r.packageGroup}`, { hint: 'Push a build first.' });
    const rec = await session.registry.record(which);
    const uri = rec?.baseline?.profile;
    const key = uri?.replace(`s3://${session.r.bucket}/`, '');
    const text = key ? await session.registry.getText(key) : undefined;
    if (!text) {
      throw new OperationError('baseline_missing', `no baseline profile is stored with ${which} in s3://${session.r.bucket}/${session.r.root}/`, {
        hint: 'Set features.baseline in mlship.yaml, build and push again, or pass --baseline FILE to drift-check.',
      });
    }
    return JSON.parse(text) as BaselineProfile;
  }

  async predictionLogs(window: LogWindow): Promise<LogSource[]> {
    const session = await this.open();
    const state = await this.endpointState(session);
    const destination = state?.raw.DataCaptureConfig?.DestinationS3Uri ?? s3Uri(session.r, keys.capture(session.r));
    return captureSources(session.api, session.r.endpoint, destination, window);
  }
}
