/**
 * Pure request builders: manifest, resources and a version in, AWS request bodies out. Everything
 * the SageMaker target sends is decided here, so the bodies are golden-tested and `--plan` shows
 * exactly what `deploy` will send.
 */
import { createHash } from 'node:crypto';
import type * as AAS from '@aws-sdk/client-application-auto-scaling';
import type * as CW from '@aws-sdk/client-cloudwatch';
import type * as S3 from '@aws-sdk/client-s3';
import type * as SM from '@aws-sdk/client-sagemaker';
import type { Manifest } from '../../manifest/types.js';
import type { ComputeChoice } from '../../deploy/types.js';
import { keys, s3Uri, type Resources } from './resources.js';
import type { VersionRecordBase } from '../../deploy/registry.js';
import { modelLoadSeconds } from '../../compute/load-time.js';

/** What mlship stores about a version next to its model package (`versions/vN/version.json`). */
export interface VersionRecord extends VersionRecordBase {
  image: string;
  modelDataUrl: string;
  modelPackageArn: string;
  /** The model file's size (build.json), which sizes an LLM's start-up timeouts; absent in records of older pushes. */
  modelBytes?: number;
  /** S3 URIs of the baseline profile and its Model Monitor export, when the build had a baseline. */
  baseline?: { profile: string; statistics: string; constraints: string };
}

/** Short stable digest of a request body: names that change exactly when the request does. */
export function shortHash(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 8);
}

/** The artifact bucket: created with default encryption and every kind of public access blocked. */
export function bucketRequests(r: Resources): {
  create: S3.CreateBucketCommandInput;
  encryption: S3.PutBucketEncryptionCommandInput;
  publicAccess: S3.PutPublicAccessBlockCommandInput;
} {
  return {
    create: {
      Bucket: r.bucket,
      // us-east-1 is the one region that rejects an explicit LocationConstraint.
      ...(r.region !== 'us-east-1' && { CreateBucketConfiguration: { LocationConstraint: r.region as S3.BucketLocationConstraint } }),
    },
    encryption: {
      Bucket: r.bucket,
      ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BucketKeyEnabled: true }] },
    },
    publicAccess: {
      Bucket: r.bucket,
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true },
    },
  };
}

/** Environment of the serving container: which contract to speak and which version it serves. */
export function containerEnvironment(manifest: Manifest, version: string, digest: string): Record<string, string> {
  return { MLSHIP_MODEL_NAME: manifest.name, MLSHIP_VERSION: version, MLSHIP_MODEL_SHA256: digest };
}

/** The model package of a new version in the project's Model Package Group. */
export function modelPackageRequest(
  manifest: Manifest,
  r: Resources,
  input: {
    image: string;
    modelDataUrl: string;
    digest: string;
    buildId: string;
    instanceTypes: string[];
    requireApproval: boolean;
    statistics?: string;
    constraints?: string;
  },
): SM.CreateModelPackageCommandInput {
  return {
    ModelPackageGroupName: r.packageGroup,
    ModelPackageDescription: `${manifest.name} build ${input.buildId}`,
    InferenceSpecification: {
      Containers: [{ Image: input.image, ModelDataUrl: input.modelDataUrl }],
      SupportedContentTypes: ['application/json'],
      SupportedResponseMIMETypes: ['application/json'],
      SupportedRealtimeInferenceInstanceTypes: input.instanceTypes as SM.ProductionVariantInstanceType[],
    },
    ModelApprovalStatus: input.requireApproval ? 'PendingManualApproval' : 'Approved',
    CustomerMetadataProperties: { 'mlship:build': input.buildId, 'mlship:sha256': input.digest },
    ...(input.statistics &&
      input.constraints && {
        ModelMetrics: {
          ModelDataQuality: {
            Statistics: { ContentType: 'application/json', S3Uri: input.statistics },
            Constraints: { ContentType: 'application/json', S3Uri: input.constraints },
          },
        },
      }),
  };
}

/** The SageMaker Model of a version: its image and artifact, named by version and digest. */
export function modelRequest(manifest: Manifest, r: Resources, v: VersionRecord, role: string): SM.CreateModelCommandInput {
  return {
    ModelName: `${manifest.name}-${v.version}-${v.digest.slice(0, 8)}`,
    ExecutionRoleArn: role,
    PrimaryContainer: { Image: v.image, ModelDataUrl: v.modelDataUrl, Environment: containerEnvironment(manifest, v.version, v.digest) },
  };
}

/** A variant's time to fetch its model data and to answer /ping once started, in seconds (CreateEndpointConfig). */
export interface StartupTimeouts {
  /** ModelDataDownloadTimeoutInSeconds: model.tar.gz from S3 to the instance, unpacked. */
  download: number;
  /** ContainerStartupHealthCheckTimeoutInSeconds: from the container's start to its first 200 on /ping. */
  startup: number;
}

/** What SageMaker accepts for both timeouts. */
export const TIMEOUT_BOUNDS_S = { min: 60, max: 3600 } as const;

/**
 * How long a variant may take to download and to load a model of `bytes` of weights (`gpu`: it loads
 * onto a GPU): the one estimate every cloud's health checks use (`modelLoadSeconds`,
 * src/compute/load-time.ts) — the start-up health check allows the whole load, the download the copy
 * alone (no GPU warm-up) — each kept within SageMaker's 60–3600 s.
 */
export function startupTimeouts(bytes: number, gpu: boolean): StartupTimeouts {
  const bounded = (s: number) => Math.min(TIMEOUT_BOUNDS_S.max, Math.max(TIMEOUT_BOUNDS_S.min, s));
  return { download: bounded(modelLoadSeconds(bytes, false)), startup: bounded(modelLoadSeconds(bytes, gpu)) };
}

/** One production variant of an endpoint configuration: a version's Model, named after the version. */
export interface VariantSpec {
  version: string;
  modelName: string;
  /** Its share of the traffic when the configuration goes live (relative to the other variants'). */
  weight: number;
  /** Default: the manifest's compute choice. */
  instanceType?: string;
}

/**
 * A new endpoint configuration (never an overwrite): one production variant per version, named after
 * it (`v3`), so CloudWatch's per-variant metrics are per version; the instance type and count; and
 * Data Capture of 100% of requests and responses as JSON. A canary's configuration holds the stable
 * variant (weight 1) and the candidate's (weight 0): the rollout controller moves the weights. Its name
 * carries a digest of its body, so the same deploy finds the same configuration and a changed one gets
 * a new name. `timeouts` (an LLM, or any model on a GPU: `startupTimeouts`) give every variant the
 * time its model takes to download and load; without them SageMaker's defaults apply. `capture: false`
 * (`dataCaptureAllowed`) leaves Data Capture off.
 */
export function endpointConfigRequest(
  r: Resources,
  variants: VariantSpec[],
  compute: ComputeChoice,
  options: { timeouts?: StartupTimeouts; capture?: boolean } = {},
): SM.CreateEndpointConfigCommandInput {
  const { timeouts, capture = true } = options;
  const body: Omit<SM.CreateEndpointConfigCommandInput, 'EndpointConfigName'> = {
    ProductionVariants: variants.map((v) => ({
      VariantName: v.version,
      ModelName: v.modelName,
      InstanceType: (v.instanceType ?? compute.instanceType) as SM.ProductionVariantInstanceType,
      InitialInstanceCount: compute.replicas.min,
      InitialVariantWeight: v.weight,
      ...(timeouts && { ContainerStartupHealthCheckTimeoutInSeconds: timeouts.startup, ModelDataDownloadTimeoutInSeconds: timeouts.download }),
    })),
    ...(capture && {
      DataCaptureConfig: {
        EnableCapture: true,
        InitialSamplingPercentage: 100,
        DestinationS3Uri: s3Uri(r, keys.capture(r)),
        CaptureOptions: [{ CaptureMode: 'Input' }, { CaptureMode: 'Output' }],
        CaptureContentTypeHeader: { JsonContentTypes: ['application/json'] },
      },
    }),
  };
  return { EndpointConfigName: `${r.endpoint}-${variants.map((v) => v.version).join('-')}-${shortHash(body)}`, ...body };
}

/**
 * Whether the endpoint may capture requests and responses. Data Capture stores the bodies as they
 * are, so a manifest that keeps prompts and completions out of its log (`monitoring.log_content:
 * redacted | hashed`) gets none: SageMaker cannot redact them. The reason, when it may not.
 */
export function dataCaptureAllowed(manifest: Manifest, r: Resources): { allowed: true } | { allowed: false; reason: string } {
  const mode = manifest.monitoring.log_content;
  if (mode === 'full') return { allowed: true };
  return {
    allowed: false,
    reason: `monitoring.log_content is ${mode}, and SageMaker's Data Capture would store every prompt and completion in full in ${s3Uri(r, keys.capture(r))}: capture is off for endpoint ${r.endpoint}, so drift-check has no SageMaker traffic to read (log_content: full turns it on)`,
  };
}

/** The traffic split of a live endpoint: each named variant's weight, in percent. */
export function weightsRequest(r: Resources, weights: Record<string, number>): SM.UpdateEndpointWeightsAndCapacitiesCommandInput {
  return {
    EndpointName: r.endpoint,
    DesiredWeightsAndCapacities: Object.entries(weights).map(([VariantName, DesiredWeight]) => ({ VariantName, DesiredWeight })),
  };
}

/** ARN of the project's drift-alert topic (CreateTopic returns the same; the plan needs it first). */
export function alertTopicArn(r: Resources): string {
  return `arn:${arnPartition(r.region)}:sns:${r.region}:${r.account}:${r.alertTopic}`;
}

function arnPartition(region: string): string {
  return region.startsWith('cn-') ? 'aws-cn' : region.startsWith('us-gov-') ? 'aws-us-gov' : 'aws';
}

/**
 * The drift alarms, one per feature: Model Monitor's data-quality job publishes
 * `feature_baseline_drift_<feature>` (the distance to the baseline) for the endpoint and schedule when
 * `emit_metrics` is on in the baseline constraints; above the constraints' comparison threshold the
 * alarm notifies the SNS topic that mails `monitoring.alerts.email`. One datapoint per monitoring run:
 * a missing period is not a breach, so each run that drifts mails once.
 */
export function driftAlarmRequests(manifest: Manifest, r: Resources, threshold: number): CW.PutMetricAlarmCommandInput[] {
  return Object.keys(manifest.features.schema).map((feature) => ({
    AlarmName: `${r.alertTopic}-${feature.replace(/[^A-Za-z0-9_.-]/g, '_')}`,
    AlarmDescription: `mlship: Model Monitor found drift of ${manifest.name}'s feature ${feature} against its training baseline`,
    Namespace: 'aws/sagemaker/Endpoints/data-metrics',
    MetricName: `feature_baseline_drift_${feature}`,
    Dimensions: [
      { Name: 'Endpoint', Value: r.endpoint },
      { Name: 'MonitoringSchedule', Value: r.monitoringSchedule },
    ],
    Statistic: 'Maximum',
    Period: 3600,
    EvaluationPeriods: 1,
    Threshold: threshold,
    ComparisonOperator: 'GreaterThanThreshold',
    TreatMissingData: 'notBreaching',
    AlarmActions: [alertTopicArn(r)],
  }));
}

/** A new endpoint on a configuration. */
export function createEndpointRequest(r: Resources, configName: string): SM.CreateEndpointCommandInput {
  return { EndpointName: r.endpoint, EndpointConfigName: configName, Tags: [{ Key: 'mlship:project', Value: r.endpoint }] };
}

/**
 * Switch a live endpoint to a configuration (SageMaker brings the new fleet up and moves traffic once
 * it passes its health check; a fleet that fails leaves the old one serving). Instance counts are kept
 * (autoscaling owns them once live); weights are not: they are the configuration's.
 */
export function updateEndpointRequest(r: Resources, configName: string): SM.UpdateEndpointCommandInput {
  return {
    EndpointName: r.endpoint,
    EndpointConfigName: configName,
    RetainAllVariantProperties: true,
    ExcludeRetainedVariantProperties: [{ VariantPropertyType: 'DesiredWeight' }],
  };
}

/** The Application Auto Scaling resource of a variant. */
export function scalingResourceId(r: Resources, variant: string): string {
  return `endpoint/${r.endpoint}/variant/${variant}`;
}

/** Autoscaling between the manifest's replicas: target tracking on invocations per instance. */
export function scalingRequests(
  manifest: Manifest,
  r: Resources,
  variant: string,
): { target: AAS.RegisterScalableTargetCommandInput; policy: AAS.PutScalingPolicyCommandInput } {
  const resourceId = scalingResourceId(r, variant);
  const { min, max } = manifest.serving.replicas;
  // At the expected rate the minimum fleet sits at the target; more traffic adds instances.
  const perInstancePerMinute = Math.max(1, Math.ceil((manifest.serving.expected_rps * 60) / Math.max(1, min)));
  return {
    target: {
      ServiceNamespace: 'sagemaker',
      ResourceId: resourceId,
      ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
      MinCapacity: min,
      MaxCapacity: max,
    },
    policy: {
      PolicyName: r.scalingPolicy,
      ServiceNamespace: 'sagemaker',
      ResourceId: resourceId,
      ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: {
        TargetValue: perInstancePerMinute,
        PredefinedMetricSpecification: { PredefinedMetricType: 'SageMakerVariantInvocationsPerInstance' },
        ScaleInCooldown: 300,
        ScaleOutCooldown: 60,
      },
    },
  };
}

/**
 * Accounts hosting SageMaker's Model Monitor analyzer image (`sagemaker-model-monitor-analyzer`),
 * from the SageMaker developer guide's "Model Monitor prebuilt container" table.
 */
const MONITOR_ACCOUNTS: Record<string, string> = {
  'us-east-1': '156813124566',
  'us-east-2': '777275614652',
  'us-west-1': '890145073186',
  'us-west-2': '159807026194',
  'ca-central-1': '536280801234',
  'eu-west-1': '468650794304',
  'eu-west-2': '749857270468',
  'eu-west-3': '680080141114',
  'eu-central-1': '048819808253',
  'eu-north-1': '895015795356',
  'ap-northeast-1': '574779866223',
  'ap-northeast-2': '709848358524',
  'ap-southeast-1': '245545462676',
  'ap-southeast-2': '563025443158',
  'ap-south-1': '126357580389',
  'sa-east-1': '539772159869',
};

/** The Model Monitor analyzer image of a region, or undefined where mlship does not know it. */
export function monitorImage(region: string): string | undefined {
  const account = MONITOR_ACCOUNTS[region];
  return account ? `${account}.dkr.ecr.${region}.amazonaws.com/sagemaker-model-monitor-analyzer` : undefined;
}

/** The data-quality job: captured traffic of the endpoint against the version's baseline. */
export function dataQualityJobRequest(
  r: Resources,
  version: string,
  baseline: { statistics: string; constraints: string },
  image: string,
  role: string,
): SM.CreateDataQualityJobDefinitionCommandInput {
  const body: Omit<SM.CreateDataQualityJobDefinitionCommandInput, 'JobDefinitionName'> = {
    DataQualityAppSpecification: { ImageUri: image },
    DataQualityBaselineConfig: { ConstraintsResource: { S3Uri: baseline.constraints }, StatisticsResource: { S3Uri: baseline.statistics } },
    DataQualityJobInput: {
      EndpointInput: {
        EndpointName: r.endpoint,
        LocalPath: '/opt/ml/processing/input/endpoint',
        S3InputMode: 'File',
        S3DataDistributionType: 'FullyReplicated',
      },
    },
    DataQualityJobOutputConfig: {
      MonitoringOutputs: [{ S3Output: { S3Uri: s3Uri(r, keys.monitoringReports(r)), LocalPath: '/opt/ml/processing/output', S3UploadMode: 'EndOfJob' } }],
    },
    JobResources: { ClusterConfig: { InstanceCount: 1, InstanceType: 'ml.m5.large', VolumeSizeInGB: 20 } },
    RoleArn: role,
    StoppingCondition: { MaxRuntimeInSeconds: 3600 },
  };
  // Job definitions are immutable: a changed baseline or version gets a new one.
  return { JobDefinitionName: `${r.monitoringSchedule}-${version}-${shortHash(body)}`, ...body };
}

/** The monitoring schedule running a data-quality job definition on the manifest's schedule. */
export function monitoringScheduleConfig(jobDefinitionName: string, expression: string): SM.MonitoringScheduleConfig {
  return {
    ScheduleConfig: { ScheduleExpression: expression },
    MonitoringJobDefinitionName: jobDefinitionName,
    MonitoringType: 'DataQuality',
  };
}
