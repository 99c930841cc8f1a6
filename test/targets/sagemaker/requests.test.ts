import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadManifestFile } from '../../../src/manifest/load.js';
import type { Manifest } from '../../../src/manifest/types.js';
import { monitorCron, schedulerCron } from '../../../src/targets/sagemaker/cron.js';
import { monitorConstraints, monitorStatistics } from '../../../src/targets/sagemaker/monitor-baseline.js';
import { pipelineRequest, renderPipelineDefinition, scheduleRequest, trainingScript } from '../../../src/targets/sagemaker/pipeline.js';
import {
  bucketRequests,
  createEndpointRequest,
  dataCaptureAllowed,
  dataQualityJobRequest,
  endpointConfigRequest,
  modelPackageRequest,
  modelRequest,
  monitorImage,
  monitoringScheduleConfig,
  scalingRequests,
  startupTimeouts,
  updateEndpointRequest,
  weightsRequest,
  type VersionRecord,
} from '../../../src/targets/sagemaker/requests.js';
import { resolveResources } from '../../../src/targets/sagemaker/resources.js';
import { variantTimeouts } from '../../../src/targets/sagemaker/instance.js';
import { modelLoadSeconds } from '../../../src/compute/load-time.js';
import type { ComputeChoice } from '../../../src/deploy/types.js';
import { expectGolden } from '../../helpers/golden.js';
import { ROLE, sagemakerProject } from './project.js';
import { exampleBaseline } from '../../helpers/build.js';
import { validateAutoScalingInput, validateSageMakerInput } from '../../doubles/sagemaker/sdk-shapes.js';
import { variantMetricsRequest } from '../../../src/targets/sagemaker/metrics.js';

const GOLDEN = path.join(path.dirname(new URL(import.meta.url).pathname), 'golden');

function golden(name: string, value: unknown): void {
  expectGolden(GOLDEN, name, `${JSON.stringify(value, null, 2)}\n`);
}

let project: ReturnType<typeof sagemakerProject>;
let manifest: Manifest;
const compute: ComputeChoice = { instanceType: 'ml.c5.large', replicas: { min: 1, max: 4 }, gpu: false, reasons: ['golden'] };
const digest = 'a'.repeat(64);
const record: VersionRecord = {
  version: 'v3',
  buildId: '0123456789ab',
  createdAt: '2026-11-28T12:00:00.000Z',
  digest,
  image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/mlship/churn:0123456789ab',
  modelDataUrl: `s3://mlship-test-bucket/models/churn/artifacts/${digest}/model.tar.gz`,
  modelPackageArn: 'arn:aws:sagemaker:us-east-1:123456789012:model-package/churn/3',
  baseline: {
    profile: 's3://mlship-test-bucket/models/churn/builds/0123456789ab/baseline.json',
    statistics: 's3://mlship-test-bucket/models/churn/builds/0123456789ab/statistics.json',
    constraints: 's3://mlship-test-bucket/models/churn/builds/0123456789ab/constraints.json',
  },
};

beforeAll(() => {
  project = sagemakerProject();
  manifest = loadManifestFile(project.manifestFile);
});
afterAll(() => project.cleanup());

function sageMakerValid(operation: string, body: unknown): void {
  expect(validateSageMakerInput(operation, body)).toEqual([]);
}

describe('SageMaker request builders (golden)', () => {
  it('push: bucket and model package', () => {
    const r = resolveResources(manifest, '123456789012', 'us-east-1');
    const pkg = modelPackageRequest(manifest, r, {
      image: record.image,
      modelDataUrl: record.modelDataUrl,
      digest,
      buildId: record.buildId,
      instanceTypes: [compute.instanceType],
      requireApproval: false,
      statistics: record.baseline!.statistics,
      constraints: record.baseline!.constraints,
    });
    sageMakerValid('CreateModelPackage', pkg);
    golden('push-requests.json', {
      bucket: bucketRequests(r),
      bucketOutsideUsEast1: bucketRequests(resolveResources(manifest, '123456789012', 'eu-west-1')).create,
      modelPackage: pkg,
    });
  });

  it("deploy: model, endpoint configs (one variant; a canary's two), endpoint create and update, traffic split, metrics, autoscaling", () => {
    const r = resolveResources(manifest, '123456789012', 'us-east-1');
    const model = modelRequest(manifest, r, record, ROLE);
    const config = endpointConfigRequest(r, [{ version: 'v3', modelName: model.ModelName!, weight: 1 }], compute);
    const canaryConfig = endpointConfigRequest(
      r,
      [
        { version: 'v2', modelName: 'churn-v2-bbbbbbbb', weight: 1, instanceType: 'ml.m5.large' },
        { version: 'v3', modelName: model.ModelName!, weight: 0 },
      ],
      compute,
    );
    const update = updateEndpointRequest(r, config.EndpointConfigName!);
    const split = weightsRequest(r, { v2: 90, v3: 10 });
    sageMakerValid('CreateModel', model);
    sageMakerValid('CreateEndpointConfig', config);
    sageMakerValid('CreateEndpointConfig', canaryConfig);
    sageMakerValid('CreateEndpoint', createEndpointRequest(r, config.EndpointConfigName!));
    sageMakerValid('UpdateEndpoint', update);
    sageMakerValid('UpdateEndpointWeightsAndCapacities', split);
    const scaling = scalingRequests(manifest, r, 'v3');
    expect(validateAutoScalingInput('RegisterScalableTarget', scaling.target)).toEqual([]);
    expect(validateAutoScalingInput('PutScalingPolicy', scaling.policy)).toEqual([]);
    // A canary's period of 60 s, and a bake read in one 3-minute window: one period covering it.
    const window = { from: new Date('2026-11-28T12:00:00Z'), to: new Date('2026-11-28T12:01:00Z') };
    const metrics = variantMetricsRequest(r.endpoint, 'v3', window, 'p95');
    expect(variantMetricsRequest(r.endpoint, 'v3', { ...window, to: new Date('2026-11-28T12:02:30Z') }, 'p95').MetricDataQueries?.[0]?.MetricStat?.Period).toBe(
      180,
    );
    golden('deploy-requests.json', {
      model,
      endpointConfig: config,
      canaryEndpointConfig: canaryConfig,
      createEndpoint: createEndpointRequest(r, config.EndpointConfigName!),
      updateEndpoint: update,
      canarySplit: split,
      canaryMetrics: metrics,
      scaling,
    });
    // The same inputs name the same config (a re-run converges); another instance type, a new one.
    expect(endpointConfigRequest(r, [{ version: 'v3', modelName: model.ModelName!, weight: 1 }], compute).EndpointConfigName).toBe(config.EndpointConfigName);
    expect(
      endpointConfigRequest(r, [{ version: 'v3', modelName: model.ModelName!, weight: 1 }], { ...compute, instanceType: 'ml.m5.large' }).EndpointConfigName,
    ).not.toBe(config.EndpointConfigName);
  });

  it('GPU instance types the real API accepts pass the shape check', () => {
    const r = resolveResources(manifest, '123456789012', 'us-east-1');
    const variant = [{ version: 'v3', modelName: 'churn-v3-aaaaaaaa', weight: 1 }];
    const gpu = endpointConfigRequest(
      r,
      variant,
      { instanceType: 'ml.g5.xlarge', replicas: { min: 1, max: 2 }, gpu: true, reasons: [] },
      { timeouts: startupTimeouts(14e9, true) },
    );
    sageMakerValid('CreateEndpointConfig', gpu);
    expect(gpu.ProductionVariants?.[0]).toMatchObject({ ContainerStartupHealthCheckTimeoutInSeconds: 460, ModelDataDownloadTimeoutInSeconds: 340 });
    const uncaptured = endpointConfigRequest(r, variant, compute, { capture: false });
    sageMakerValid('CreateEndpointConfig', uncaptured);
    expect(uncaptured.DataCaptureConfig).toBeUndefined();
    expect(dataCaptureAllowed(manifest, r)).toEqual({ allowed: true });
    const hashed = { ...manifest, monitoring: { ...manifest.monitoring, log_content: 'hashed' } } as Manifest;
    expect(dataCaptureAllowed(hashed, r)).toMatchObject({ allowed: false, reason: expect.stringMatching(/log_content is hashed.*capture is off/) });
    const bogus = endpointConfigRequest(r, variant, { instanceType: 'ml.g99.huge', replicas: { min: 1, max: 2 }, gpu: true, reasons: [] });
    expect(validateSageMakerInput('CreateEndpointConfig', bogus).join()).toMatch(/not a ProductionVariantInstanceType/);
  });

  it("start-up timeouts: the shared load-time estimate of the model's bytes, within SageMaker's 60-3600 s, only for an LLM or a GPU", () => {
    // The start-up health check allows the whole load (a GPU's warm-up too), the download the copy alone.
    expect(startupTimeouts(14e9, true)).toEqual({ download: modelLoadSeconds(14e9, false), startup: modelLoadSeconds(14e9, true) });
    expect(startupTimeouts(14e9, true)).toEqual({ download: 340, startup: 460 }); // 7B fp16 on a GPU
    expect(startupTimeouts(572_000, false)).toEqual({ download: 70, startup: 70 }); // the tiny test model
    expect(startupTimeouts(0, false)).toEqual({ download: 60, startup: 60 });
    expect(startupTimeouts(1e12, true)).toEqual({ download: 3600, startup: 3600 });
    // The manifest's model: none for the example on a CPU; the pushed bytes when the record has them, else the choice's parameters at its quantization.
    const cpu = { instanceType: 'ml.c5.large', replicas: { min: 1, max: 2 }, gpu: false, reasons: [] };
    expect(variantTimeouts(manifest, cpu)).toBeUndefined();
    const sizing = { params: 7e9 } as ComputeChoice['sizing'];
    const llm = { ...manifest, model: { ...manifest.model, flavor: 'llm', quantization: 'fp16' } } as unknown as Manifest;
    expect(variantTimeouts(llm, { ...cpu, instanceType: 'ml.g6.xlarge', gpu: true, sizing })).toEqual(startupTimeouts(14e9, true));
    expect(variantTimeouts(llm, { ...cpu, sizing })).toEqual(startupTimeouts(14e9, false));
    expect(variantTimeouts(llm, { ...cpu, sizing }, 4e9)).toEqual(startupTimeouts(4e9, false));
  });

  it('monitoring: Model Monitor statistics and constraints, job definition, schedule', () => {
    const r = resolveResources(manifest, '123456789012', 'us-east-1');
    const profile = exampleBaseline(manifest);
    const stats = monitorStatistics(manifest, profile) as { dataset: { item_count: number }; features: { name: string; inferred_type: string }[] };
    expect(stats.dataset.item_count).toBe(profile.rows);
    expect(stats.features.map((f) => [f.name, f.inferred_type])).toEqual([
      ['tenure_months', 'Integral'],
      ['monthly_charges', 'Fractional'],
      ['support_calls', 'Integral'],
      ['plan', 'String'],
      ['payment_method', 'String'],
    ]);
    golden('monitor-constraints.json', monitorConstraints(manifest, profile, 0.1));
    const job = dataQualityJobRequest(r, 'v3', record.baseline!, monitorImage('us-east-1')!, ROLE);
    sageMakerValid('CreateDataQualityJobDefinition', job);
    const schedule = {
      MonitoringScheduleName: r.monitoringSchedule,
      MonitoringScheduleConfig: monitoringScheduleConfig(job.JobDefinitionName!, monitorCron(manifest.monitoring.drift.schedule).expression),
    };
    sageMakerValid('CreateMonitoringSchedule', schedule);
    golden('monitoring-requests.json', { dataQualityJobDefinition: job, monitoringSchedule: schedule });
  });

  it('retraining: pipeline definition from the template and the schedule', () => {
    const r = resolveResources(manifest, '123456789012', 'us-east-1');
    const definition = renderPipelineDefinition(manifest, r, { image: record.image, role: ROLE, compute });
    const pipeline = pipelineRequest(manifest, r, definition, ROLE);
    sageMakerValid('CreatePipeline', { ...pipeline, ClientRequestToken: 'token-token-token-token-token-token' });
    const doc = JSON.parse(definition) as { Steps: { Name: string; Type: string; Arguments: Record<string, unknown> }[] };
    expect(doc.Steps.map((s) => s.Type)).toEqual(['Training', 'RegisterModel']);
    // The register step is a CreateModelPackage request whose model data comes from the training step.
    const register = {
      ...doc.Steps[1]!.Arguments,
      ModelApprovalStatus: 'PendingManualApproval',
      InferenceSpecification: {
        ...(doc.Steps[1]!.Arguments.InferenceSpecification as object),
        Containers: [{ Image: record.image, ModelDataUrl: 's3://x/model.tar.gz' }],
      },
    };
    sageMakerValid('CreateModelPackage', register);
    expect(trainingScript(manifest)).toContain('python train.py');
    golden('pipeline-definition.json', doc);
    golden('retrain-schedule.json', scheduleRequest(manifest, r, 'arn:aws:sagemaker:us-east-1:123456789012:pipeline/churn-retrain', ROLE));
  });

  it('cron expressions in the AWS dialects', () => {
    expect(schedulerCron('0 3 * * 0')).toBe('cron(0 3 ? * 1 *)');
    expect(schedulerCron('30 4 1 * *')).toBe('cron(30 4 1 * ? *)');
    expect(schedulerCron('0 6 * * 1-5')).toBe('cron(0 6 ? * 2-6 *)');
    expect(monitorCron('0 2 * * *')).toEqual({ expression: 'cron(0 2 ? * * *)' });
    expect(monitorCron('0 * * * *')).toEqual({ expression: 'cron(0 * ? * * *)' });
    expect(monitorCron('15 2 * * 1').note).toMatch(/only hourly or daily/);
    expect(() => schedulerCron('0 3 * *')).toThrow(/five-field/);
  });
});

describe('Model Monitor statistics: the KLL sketch (issue 17, item 4)', () => {
  it('writes distribution.kll.sketch {parameters: {c, k}, data} from the baseline values, weights adding up to the count', async () => {
    const { kllSketch } = await import('../../../src/targets/sagemaker/monitor-baseline.js');
    const small = kllSketch([1, 2, 3], 3);
    expect(small).toEqual({ parameters: { c: 0.64, k: 2048 }, data: [[1, 2, 3]] });
    const values = Array.from({ length: 10_000 }, (_, i) => i);
    const big = kllSketch(values, values.length);
    expect(big.data.reduce((n, level, h) => n + level.length * 2 ** h, 0)).toBe(10_000);
    expect(big.data.every((level) => level.length <= 2048)).toBe(true);
    const stats = monitorStatistics(manifest, exampleBaseline(manifest)) as {
      features: { numerical_statistics?: { common: { num_present: number }; distribution: { kll: { sketch: { parameters: unknown; data: number[][] } } } } }[];
    };
    for (const f of stats.features.filter((x) => x.numerical_statistics)) {
      const { sketch } = f.numerical_statistics!.distribution.kll;
      expect(sketch.parameters).toEqual({ c: 0.64, k: 2048 });
      expect(sketch.data.reduce((n, level, h) => n + level.length * 2 ** h, 0)).toBe(f.numerical_statistics!.common.num_present);
    }
  });
});
