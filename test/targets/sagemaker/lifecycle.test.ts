/**
 * The SageMaker target end to end at the target level, through the real SDK clients:
 *   moto covers S3, STS, model package groups and packages, CreateModel, CreateEndpointConfig,
 *   CreateEndpoint/DescribeEndpoint/DeleteEndpoint, pipelines, Application Auto Scaling, CloudWatch
 *   alarms and EventBridge Scheduler;
 *   the contract fake (contract-fake.ts, in front of moto) covers UpdateEndpoint and
 *   UpdateEndpointWeightsAndCapacities, the data-quality job definition and the monitoring schedule,
 *   and checks every SageMaker request body against the API model shipped in @aws-sdk/client-sagemaker;
 *   a canary's bake reads moto's CloudWatch (GetMetricData).
 */
import { RETRAINING_TIMEOUT_S } from '../../../src/deploy/versions.js';
import { expectGolden } from '../../helpers/golden.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { ApplicationAutoScalingClient, DescribeScalingPoliciesCommand, DescribeScalableTargetsCommand } from '@aws-sdk/client-application-auto-scaling';
import { DescribeModelPackageCommand, DescribeEndpointConfigCommand, DescribePipelineCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { GetScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { GetBucketEncryptionCommand, GetPublicAccessBlockCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { OperationError } from '../../../src/util/errors.js';
import { manualClock } from '../../../src/deploy/poll.js';
import { chooseCompute, variantTimeouts } from '../../../src/targets/sagemaker/instance.js';
import { SageMakerTarget } from '../../../src/targets/sagemaker/sagemaker-target.js';
import type { ContractFake } from '../../doubles/sagemaker/contract-fake.js';
import { useAwsDoubles, type Moto } from '../../doubles/sagemaker/moto.js';
import { sagemakerProject } from './project.js';
import { makeBuild, targetContext } from '../../helpers/build.js';

let moto: Moto;
let fake: ContractFake;
let project: ReturnType<typeof sagemakerProject>;

const instant = { sleep: async () => undefined };

/** The selected instance type as a pattern (the selection's data may change; the plan's shape may not). */
function chooseComputeRe(manifest: Parameters<typeof chooseCompute>[0]): RegExp {
  return new RegExp(chooseCompute(manifest).instanceType.replace(/\./g, '\\.'), 'g');
}

function target(command = 'deploy') {
  const { ctx, stderr } = targetContext(project.manifestFile, command);
  return { target: new SageMakerTarget(ctx, instant), ctx, stderr };
}

useAwsDoubles((d) => ({ moto, fake } = d));

beforeEach(async () => {
  project = sagemakerProject('');
});

afterEach(() => {
  expect(fake.violations).toEqual([]);
  project.cleanup();
});

describe('SageMaker target against moto and the contract fake', { timeout: 180_000 }, () => {
  it('push creates the bucket, artifact, package group and package; an identical push creates nothing', async () => {
    const { target: t, ctx } = target('push');
    const build = makeBuild(ctx.manifest);
    const first = await t.push(build, { image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/mlship/churn:abc' });
    expect(first.created).toBe(true);
    expect(first.version.version).toBe('v1');
    expect(first.version.digest).toMatch(/^[0-9a-f]{64}$/);

    const s3 = new S3Client({});
    const enc = await s3.send(new GetBucketEncryptionCommand({ Bucket: 'mlship-test-bucket' }));
    expect(enc.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm).toBe('AES256');
    const pab = await s3.send(new GetPublicAccessBlockCommand({ Bucket: 'mlship-test-bucket' }));
    expect(pab.PublicAccessBlockConfiguration?.BlockPublicAcls).toBe(true);
    await s3.send(new HeadObjectCommand({ Bucket: 'mlship-test-bucket', Key: `models/churn/artifacts/${first.version.digest}/model.tar.gz` }));

    const pkg = await new SageMakerClient({}).send(new DescribeModelPackageCommand({ ModelPackageName: first.version.location!.modelPackageArn }));
    expect(pkg.ModelApprovalStatus).toBe('Approved');
    expect(pkg.InferenceSpecification?.Containers?.[0]?.ModelDataUrl).toBe(
      `s3://mlship-test-bucket/models/churn/artifacts/${first.version.digest}/model.tar.gz`,
    );
    expect(pkg.InferenceSpecification?.SupportedRealtimeInferenceInstanceTypes).toEqual([chooseCompute(ctx.manifest).instanceType]);

    const again = await t.push(build, {});
    expect(again.created).toBe(false);
    expect(again.version.version).toBe('v1');
    expect((await t.versions()).map((v) => v.version)).toEqual(['v1']);

    const pending = await target('push').target.push(makeBuild(ctx.manifest, 1), { image: 'img:2', requireApproval: true });
    expect(pending.version.version).toBe('v2');
    expect(pending.version.location?.approval).toBe('PendingManualApproval');
    await expect(target().target.deploy({ version: 'v2' })).rejects.toThrow(/pending manual approval/);
    // Pending is the same flag on every target; a deploy without --version passes over it.
    expect(pending.version.pending).toBe(true);
    expect((await target().target.plan({})).to).toBe('v1');
  });

  it('deploy, a second deploy, status, rollback, and a failed update that keeps the old config', async () => {
    const { target: pusher, ctx } = target('push');
    await pusher.push(makeBuild(ctx.manifest), { image: 'img:1' });

    const first = await target().target.deploy({});
    expect(first.changed).toBe(true);
    expect(first.live.version).toBe('v1');
    expect(first.live.url).toBe('https://runtime.sagemaker.us-east-1.amazonaws.com/endpoints/churn/invocations');
    const sm = new SageMakerClient({});
    const config1 = String(first.live.details?.endpointConfig);
    const described = await sm.send(new DescribeEndpointConfigCommand({ EndpointConfigName: config1 }));
    expect(described.ProductionVariants?.[0]?.InstanceType).toBe(chooseCompute(ctx.manifest).instanceType);
    expect(described.DataCaptureConfig?.InitialSamplingPercentage).toBe(100);
    expect(described.DataCaptureConfig?.DestinationS3Uri).toBe('s3://mlship-test-bucket/models/churn/capture');

    // Autoscaling, monitoring, pipeline and schedule were converged with the deploy.
    const aas = new ApplicationAutoScalingClient({});
    const targets = await aas.send(new DescribeScalableTargetsCommand({ ServiceNamespace: 'sagemaker' }));
    expect(targets.ScalableTargets?.[0]).toMatchObject({ ResourceId: 'endpoint/churn/variant/v1', MinCapacity: 1, MaxCapacity: 4 });
    // Their request bodies went through the fake's check against the Application Auto Scaling model.
    expect(fake.operations('AnyScaleFrontendService')).toEqual(expect.arrayContaining(['RegisterScalableTarget', 'PutScalingPolicy']));
    const policies = await aas.send(new DescribeScalingPoliciesCommand({ ServiceNamespace: 'sagemaker' }));
    expect(policies.ScalingPolicies?.[0]?.TargetTrackingScalingPolicyConfiguration?.PredefinedMetricSpecification?.PredefinedMetricType).toBe(
      'SageMakerVariantInvocationsPerInstance',
    );
    // No rollback alarms: a canary's guards are the shared rollout controller's, read from CloudWatch metrics.
    const alarms = await new CloudWatchClient({}).send(new DescribeAlarmsCommand({}));
    expect(alarms.MetricAlarms ?? []).toEqual([]);
    expect(fake.monitoringSchedules()[0]).toMatchObject({
      MonitoringScheduleName: 'churn-data-quality',
      MonitoringScheduleConfig: { ScheduleConfig: { ScheduleExpression: 'cron(0 2 ? * * *)' } },
    });
    const pipeline = await sm.send(new DescribePipelineCommand({ PipelineName: 'churn-retrain' }));
    const definition = JSON.parse(pipeline.PipelineDefinition ?? '{}') as { Steps: { Name: string }[] };
    expect(definition.Steps.map((s) => s.Name)).toEqual(['Train', 'Register']);
    const schedule = await new SchedulerClient({}).send(new GetScheduleCommand({ Name: 'churn-retrain' }));
    expect(schedule.ScheduleExpression).toBe('cron(0 3 ? * 1 *)');

    // Re-running the same deploy converges: no new model, config or endpoint call.
    fake.calls.length = 0;
    const again = await target().target.deploy({});
    expect(again.changed).toBe(false);
    expect(fake.operations().filter((o) => /^(Create|Update)(Model|EndpointConfig|Endpoint)$/.test(o))).toEqual([]);

    // A second version: a new config, the endpoint updated (UpdateEndpoint: contract fake); autoscaling moves to its variant.
    await target('push').target.push(makeBuild(ctx.manifest, 1), { image: 'img:2' });
    const second = await target().target.deploy({});
    expect(second.live.version).toBe('v2');
    expect(second.previous).toBe('v1');
    const config2 = String(second.live.details?.endpointConfig);
    expect(config2).not.toBe(config1);
    expect(fake.endpoint('churn')?.config).toBe(config2);
    const update = fake.calls.find((c) => c.operation === 'UpdateEndpoint');
    expect(update?.faked).toBe(true);
    expect(update?.body).toEqual({
      EndpointName: 'churn',
      EndpointConfigName: config2,
      RetainAllVariantProperties: true,
      ExcludeRetainedVariantProperties: [{ VariantPropertyType: 'DesiredWeight' }],
    });
    const scaled = await aas.send(new DescribeScalableTargetsCommand({ ServiceNamespace: 'sagemaker' }));
    expect(scaled.ScalableTargets?.map((t) => t.ResourceId)).toEqual(['endpoint/churn/variant/v2']);

    const status = await target('status').target.status();
    expect(status.live?.version).toBe('v2');
    expect(status.live?.healthy).toBe(true);
    expect(status.history.map((h) => [h.action, h.version])).toEqual([
      ['deploy', 'v1'],
      ['deploy', 'v2'],
    ]);
    expect(status.details).toMatchObject({
      endpointStatus: 'InService',
      instanceType: chooseCompute(ctx.manifest).instanceType,
      capture: expect.stringContaining('s3://mlship-test-bucket/models/churn/capture'),
    });
    expect(status.versions.map((v) => [v.version, v.live])).toEqual([
      ['v1', false],
      ['v2', true],
    ]);

    // Rollback: back to v1's exact configuration; v2's package is marked Rejected.
    const back = await target('rollback').target.rollback({});
    expect(back.live.version).toBe('v1');
    expect(back.previous).toBe('v2');
    expect(fake.endpoint('churn')?.config).toBe(config1);
    const v2 = (await target('status').target.versions()).find((v) => v.version === 'v2');
    expect(v2?.location?.approval).toBe('Rejected');
    const history = (await target('status').target.status()).history;
    expect(history.at(-1)).toMatchObject({ action: 'rollback', version: 'v1', previous: 'v2', by: { command: 'rollback' } });

    // Failure injection: the update to v2 fails → exit-1 error with the reason, v1's config still serves.
    fake.failNextUpdate = 'The primary container for production variant v2 did not pass the ping health check.';
    const failed = target().target.deploy({ version: 'v2' });
    await expect(failed).rejects.toBeInstanceOf(OperationError);
    await expect(failed).rejects.toThrow(/did not pass the ping health check/);
    expect(fake.endpoint('churn')?.config).toBe(config1);
    const after = await target('status').target.status();
    expect(after.history.at(-1)?.version).toBe('v1');
    expect(after.details?.endpointStatus).toBe('Failed');

    // The next deploy replaces the Failed endpoint (the only thing SageMaker allows on it).
    const replaced = await target().target.deploy({ version: 'v2' });
    expect(replaced.live.version).toBe('v2');
    expect(fake.operations().slice(-8)).toEqual(expect.arrayContaining(['DeleteEndpoint', 'CreateEndpoint']));

    // An update whose new fleet SageMaker gives up on leaves the endpoint InService on the old config,
    // and the old variant's autoscaling (released for the update) back.
    fake.failedUpdateStatus = 'InService';
    fake.failNextUpdate = 'The primary container for production variant v1 did not pass the ping health check.';
    await expect(target().target.deploy({ version: 'v1' })).rejects.toThrow(/did not pass the ping health check.*still serves churn-v2-/);
    expect((await target('status').target.status()).live?.version).toBe('v2');
    const kept = await aas.send(new DescribeScalableTargetsCommand({ ServiceNamespace: 'sagemaker' }));
    expect(kept.ScalableTargets?.map((t) => t.ResourceId)).toEqual(['endpoint/churn/variant/v2']);
  });

  it('drift inputs: the baseline stored with the version and Data Capture files read from S3', async () => {
    const { target: t, ctx } = target('push');
    await t.push(makeBuild(ctx.manifest), { image: 'img:1' });
    await target().target.deploy({});
    const baseline = await target('drift-check').target.baseline();
    expect(Object.keys(baseline.features)).toEqual(Object.keys(ctx.manifest.features.schema));

    const s3 = new S3Client({});
    const record = (i: number) =>
      JSON.stringify({
        captureData: {
          endpointInput: {
            observedContentType: 'application/json',
            mode: 'INPUT',
            data: JSON.stringify({ tenure_months: i, monthly_charges: 50, support_calls: 1, plan: 'pro', payment_method: 'card' }),
            encoding: 'JSON',
          },
          endpointOutput: { observedContentType: 'application/json', mode: 'OUTPUT', data: '{"prediction":0.3}', encoding: 'JSON' },
        },
        eventMetadata: { eventId: `e${i}`, inferenceTime: '2026-11-27T10:15:00Z' },
        eventVersion: '0',
      });
    const put = (key: string, lines: string[]) => s3.send(new PutObjectCommand({ Bucket: 'mlship-test-bucket', Key: key, Body: `${lines.join('\n')}\n` }));
    await put('models/churn/capture/churn/AllTraffic/2026/11/27/10/15-00-000-aaaa.jsonl', [record(1), record(2)]);
    await put('models/churn/capture/churn/AllTraffic/2026/11/27/11/05-00-000-bbbb.jsonl', [record(3)]);
    await put('models/churn/capture/churn/AllTraffic/2026/11/20/09/00-00-000-cccc.jsonl', [record(4)]);

    const sources = await target('drift-check').target.predictionLogs({ from: new Date('2026-11-27T00:00:00Z'), to: new Date('2026-11-28T00:00:00Z') });
    expect(sources.map((s) => s.format)).toEqual(['sagemaker-capture', 'sagemaker-capture']);
    const lines: string[] = [];
    for (const s of sources) for await (const line of s.lines()) lines.push(line);
    expect(lines.map((l) => (JSON.parse(l) as { eventMetadata: { eventId: string } }).eventMetadata.eventId)).toEqual(['e1', 'e2', 'e3']);
  });

  // Variant 1 is the same project with a model of other bytes (retrained, or trained by another
  // scikit-learn): the golden must not depend on bytes that training produces (issue 17, item 1).
  it.each([0, 1])('--plan lists the exact calls for a fresh account (golden, model variant %i) and changes nothing', async (variant) => {
    const { target: pusher, ctx } = target('push');
    const build = makeBuild(ctx.manifest, variant);
    const digest = (JSON.parse(readFileSync(path.join(build.dir, 'build.json'), 'utf8')) as { model: { sha256: string } }).model.sha256;
    await pusher.push(build, { image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/mlship/churn:build' });
    fake.calls.length = 0;
    const plan = await target().target.plan({});
    expect(plan.noop).toBe(false);
    const sagemakerOps = fake.operations();
    expect(sagemakerOps.every((o) => /^(Describe|List)/.test(o))).toBe(true);
    const otherWrites = fake.calls.filter((c) => c.service !== 'SageMaker' && c.service !== 'sts' && !/^(GET|HEAD) /.test(c.operation));
    expect(otherWrites).toEqual([]);
    // What the trained artifact decides — its digest, the content-addressed build id, digests of
    // request bodies that name them, the instance its size selects — is replaced by placeholders.
    // The selection's reasoning belongs to the budget tests; the plan golden keeps what deploy uses.
    const { instanceType, replicas, gpu } = plan.compute!;
    const text = JSON.stringify({ ...plan, compute: { instanceType, replicas, gpu } }, null, 2)
      .replaceAll(digest, '<sha256>')
      .replaceAll(build.id, '<build>')
      .replace(/-(v\d+)-[0-9a-f]{8}\b/g, '-$1-<hash>')
      .replace(chooseComputeRe(ctx.manifest), '<instance>');
    expectGolden(path.join(path.dirname(new URL(import.meta.url).pathname), 'golden'), 'plan-fresh.json', `${text}\n`);
    expect(plan.steps.map((s) => s.action)).toEqual([
      'sagemaker:CreateModel',
      'sagemaker:CreateEndpointConfig',
      'sagemaker:CreateEndpoint',
      'sagemaker:DescribeEndpoint',
      'application-autoscaling:RegisterScalableTarget',
      'application-autoscaling:PutScalingPolicy',
      'sagemaker:CreateDataQualityJobDefinition',
      'sagemaker:CreateMonitoringSchedule',
      's3:PutObject',
      'sagemaker:CreatePipeline',
      'scheduler:CreateSchedule',
    ]);
  });

  it('a canary over the wire: two variants, the split by UpdateEndpointWeightsAndCapacities, no CloudWatch datapoints is no evidence', async () => {
    const { ctx } = target();
    await target('push').target.push(makeBuild(ctx.manifest), { image: 'img:1' });
    await target().target.deploy({});
    await target('push').target.push(makeBuild(ctx.manifest, 1), { image: 'img:2' });
    const before = fake.endpoint('churn')?.config;
    // The bake's periods need time to pass (GetMetricData refuses an empty window): a clock moved by the sleeps.
    const clock = manualClock(new Date());
    const canaryTarget = new SageMakerTarget({ ...targetContext(project.manifestFile).ctx, now: clock.now }, { sleep: clock.sleep });
    const error = await canaryTarget.deploy({ version: 'v2', strategy: { kind: 'canary', percent: 10, bakeMinutes: 2, minRequests: 5 } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'canary_inconclusive', exitCode: 3, message: expect.stringMatching(/answered 0 requests during the bake/) });
    const splits = fake.calls.filter((c) => c.operation === 'UpdateEndpointWeightsAndCapacities').map((c) => c.body.DesiredWeightsAndCapacities);
    expect(splits).toEqual([
      [
        { VariantName: 'v1', DesiredWeight: 90 },
        { VariantName: 'v2', DesiredWeight: 10 },
      ],
      [
        { VariantName: 'v1', DesiredWeight: 100 },
        { VariantName: 'v2', DesiredWeight: 0 },
      ],
    ]);
    const configs = fake.calls.filter((c) => c.operation === 'UpdateEndpoint').map((c) => String(c.body.EndpointConfigName));
    expect(configs).toEqual([expect.stringMatching(/^churn-v1-v2-/), before]);
    expect(fake.calls.filter((c) => c.operation === 'GetMetricData')).toHaveLength(2);
    expect(fake.endpoint('churn')).toMatchObject({ config: before, status: 'InService', variants: [{ name: 'v1', weight: 1 }] });
    expect((await target('status').target.status()).live?.version).toBe('v1');
  });

  it('an interrupted deploy: the next run waits for the running update instead of starting another', async () => {
    const { target: pusher, ctx } = target('push');
    await pusher.push(makeBuild(ctx.manifest), { image: 'img:1' });
    await target().target.deploy({});
    await target('push').target.push(makeBuild(ctx.manifest, 1), { image: 'img:2' });
    fake.updatePolls = 4;
    // The first run gives up right after starting the update (as if interrupted): v1 still serves.
    const first = target().target.deploy({ timeoutSeconds: 0 });
    await expect(first).rejects.toThrow(/still Updating/);
    expect((await target('status').target.status()).live?.version).toBe('v1');
    const second = await target().target.deploy({});
    expect(second.live.version).toBe('v2');
    expect(fake.operations().filter((o) => o === 'UpdateEndpoint')).toHaveLength(1);
  });

  it('push without --image: ECR repository, login with the token on stdin only, tag and push; no engine → usage error', async () => {
    const bin = path.join(project.dir, 'fake-bin');
    mkdirSync(bin);
    const log = path.join(project.dir, 'docker.log');
    // A stand-in docker CLI that records its arguments and stdin (the engine is not what is under test).
    writeFileSync(
      path.join(bin, 'docker'),
      `#!/bin/sh\necho "ARGS $*" >> ${log}\nif [ "$1" = login ]; then echo "STDIN $(cat)" >> ${log}; fi\nif [ "$1" = image ]; then echo sha256:feedfacefeedface; fi\nexit 0\n`,
      { mode: 0o755 },
    );
    const { ctx } = targetContext(project.manifestFile, 'push');
    const withDocker = new SageMakerTarget({ ...ctx, env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } }, instant);
    const build = makeBuild(ctx.manifest);
    const pushed = await withDocker.push(build, {});
    const uri = pushed.version.location?.image;
    expect(uri).toMatch(new RegExp(`^123456789012\\.dkr\\.ecr\\.us-east-1\\.amazonaws\\.com/mlship/churn:${build.id}$`));
    const calls = readFileSync(log, 'utf8');
    expect(calls).toContain(`ARGS build --platform linux/amd64 -t ${uri}`);
    expect(calls).toContain(`ARGS push ${uri}`);
    const login = /ARGS (login .*)\nSTDIN (.*)\n/.exec(calls);
    expect(login?.[1]).toMatch(/^login --username AWS --password-stdin /);
    // The password travels on stdin, never in the arguments.
    expect(login?.[2]).toBeTruthy();
    expect(login?.[1]).not.toContain(login?.[2] ?? '');

    const noEngine = new SageMakerTarget({ ...ctx, env: { ...process.env, PATH: path.join(project.dir, 'empty') } }, instant);
    await expect(noEngine.push(makeBuild(ctx.manifest, 7), {})).rejects.toMatchObject({ code: 'image_required', exitCode: 2 });
  });

  it('stop deletes the endpoint (configs, models and versions stay) and records it; a retraining gate is kept with the version', async () => {
    const { target: pusher, ctx } = target('push');
    const gate = { promoted: true, metric: 'auc', candidate: 0.91, live: 0.88 };
    await pusher.push(makeBuild(ctx.manifest), { image: 'img:1', parent: 'v0', gate });
    await target().target.deploy({});
    const stopped = await target('stop').target.stop();
    expect(stopped).toEqual({ stopped: true, version: 'v1' });
    const status = await target('status').target.status();
    expect(status.live).toBeUndefined();
    expect(status.history.at(-1)).toMatchObject({ action: 'stop', version: 'v1' });
    expect(status.versions[0]).toMatchObject({ version: 'v1', parent: 'v0', gate, live: false });
    const targets = await new ApplicationAutoScalingClient({}).send(new DescribeScalableTargetsCommand({ ServiceNamespace: 'sagemaker' }));
    expect(targets.ScalableTargets ?? []).toEqual([]);
    expect(await target('stop').target.stop()).toEqual({ stopped: false });
    // Deploying again brings the same configuration back.
    expect((await target().target.deploy({})).live.version).toBe('v1');
  });

  it('a GPU instance type the real API accepts and moto rejects (ml.g5.xlarge: contract fake)', async () => {
    writeFileSync(project.manifestFile, readFileSync(project.manifestFile, 'utf8').replace('compute: auto', 'compute: ml.g5.xlarge'));
    const { target: pusher, ctx } = target('push');
    expect(chooseCompute(ctx.manifest)).toMatchObject({ instanceType: 'ml.g5.xlarge', gpu: true });
    await pusher.push(makeBuild(ctx.manifest), { image: 'img:gpu' });
    const deployed = await target().target.deploy({});
    const config = await new SageMakerClient({}).send(new DescribeEndpointConfigCommand({ EndpointConfigName: String(deployed.live.details?.endpointConfig) }));
    // A GPU model gets the start-up time of its size (requests.ts startupTimeouts), a GPU's warm-up included.
    const timeouts = variantTimeouts(ctx.manifest, chooseCompute(ctx.manifest))!;
    expect(timeouts.startup).toBeGreaterThan(timeouts.download);
    expect(config.ProductionVariants?.[0]).toMatchObject({
      InstanceType: 'ml.g5.xlarge',
      ContainerStartupHealthCheckTimeoutInSeconds: timeouts.startup,
      ModelDataDownloadTimeoutInSeconds: timeouts.download,
    });
    expect(fake.calls.find((c) => c.operation === 'CreateEndpointConfig')?.faked).toBe(true);
    expect((await target('status').target.status()).details).toMatchObject({ instanceType: 'ml.g5.xlarge' });
  });

  it('the retraining pipeline runs on demand after deploy created it (StartPipelineExecution: moto)', async () => {
    const { target: pusher, ctx } = target('push');
    await expect(target('retrain').target.startRetraining(RETRAINING_TIMEOUT_S)).rejects.toMatchObject({ code: 'pipeline_missing' });
    await pusher.push(makeBuild(ctx.manifest), { image: 'img:1' });
    await target().target.deploy({});
    const run = await target('retrain').target.startRetraining(RETRAINING_TIMEOUT_S);
    expect(run).toMatchObject({ pipeline: 'churn-retrain', status: 'Succeeded' });
    expect(run.executionId).toContain('pipeline/churn-retrain/execution/');
  });
});
