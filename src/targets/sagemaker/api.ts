/**
 * The narrow AWS client of the SageMaker target: exactly the API calls mlship makes, one method per
 * call, nothing else. The real implementation (`aws-client.ts`) sends each through the @aws-sdk v3
 * client of its service; tests put a fake in front of it. Request and response shapes are the SDK's
 * own (type-only imports, erased at run time), so a fake is held to the real API model by the compiler
 * as well as by the shape check in the tests. Nothing outside `src/targets/sagemaker/` sees these types.
 */
import type * as AAS from '@aws-sdk/client-application-auto-scaling';
import type * as CW from '@aws-sdk/client-cloudwatch';
import type * as ECR from '@aws-sdk/client-ecr';
import type * as S3 from '@aws-sdk/client-s3';
import type * as SM from '@aws-sdk/client-sagemaker';
import type * as RT from '@aws-sdk/client-sagemaker-runtime';
import type * as SCH from '@aws-sdk/client-scheduler';
import type * as SNS from '@aws-sdk/client-sns';
import type * as STS from '@aws-sdk/client-sts';

type Call<I, O> = (input: I) => Promise<O>;

/** An object read from S3: its bytes as a stream of chunks. */
export interface S3Body {
  stream(): AsyncIterable<Uint8Array>;
  text(): Promise<string>;
}

/**
 * What a SageMaker Runtime call answered: the container's status (its own error status too: a
 * ModelError is an answer, not a failure), content type and bytes as they arrive (a response
 * stream's PayloadParts, one by one).
 */
export interface InvokeAnswer {
  status: number;
  contentType?: string;
  body: AsyncIterable<Uint8Array>;
}

/** Every AWS call the SageMaker target makes, and only those. */
export interface AwsApi {
  readonly region: string;

  // STS: the account, for default resource names.
  getCallerIdentity: Call<STS.GetCallerIdentityCommandInput, STS.GetCallerIdentityCommandOutput>;

  // S3: artifacts, baselines, registry history, capture files.
  headBucket: Call<S3.HeadBucketCommandInput, S3.HeadBucketCommandOutput>;
  createBucket: Call<S3.CreateBucketCommandInput, S3.CreateBucketCommandOutput>;
  putBucketEncryption: Call<S3.PutBucketEncryptionCommandInput, S3.PutBucketEncryptionCommandOutput>;
  putPublicAccessBlock: Call<S3.PutPublicAccessBlockCommandInput, S3.PutPublicAccessBlockCommandOutput>;
  headObject: Call<S3.HeadObjectCommandInput, S3.HeadObjectCommandOutput>;
  putObject: Call<S3.PutObjectCommandInput, S3.PutObjectCommandOutput>;
  /** GetObject, with the body adapted to `S3Body`. */
  getObject(input: S3.GetObjectCommandInput): Promise<S3Body>;
  listObjectsV2: Call<S3.ListObjectsV2CommandInput, S3.ListObjectsV2CommandOutput>;

  // ECR: the serving image.
  describeRepositories: Call<ECR.DescribeRepositoriesCommandInput, ECR.DescribeRepositoriesCommandOutput>;
  createRepository: Call<ECR.CreateRepositoryCommandInput, ECR.CreateRepositoryCommandOutput>;
  getAuthorizationToken: Call<ECR.GetAuthorizationTokenCommandInput, ECR.GetAuthorizationTokenCommandOutput>;

  // SageMaker: registry (model package groups), serving, monitoring, pipelines.
  describeModelPackageGroup: Call<SM.DescribeModelPackageGroupCommandInput, SM.DescribeModelPackageGroupCommandOutput>;
  createModelPackageGroup: Call<SM.CreateModelPackageGroupCommandInput, SM.CreateModelPackageGroupCommandOutput>;
  createModelPackage: Call<SM.CreateModelPackageCommandInput, SM.CreateModelPackageCommandOutput>;
  listModelPackages: Call<SM.ListModelPackagesCommandInput, SM.ListModelPackagesCommandOutput>;
  describeModelPackage: Call<SM.DescribeModelPackageCommandInput, SM.DescribeModelPackageCommandOutput>;
  updateModelPackage: Call<SM.UpdateModelPackageCommandInput, SM.UpdateModelPackageCommandOutput>;
  describeModel: Call<SM.DescribeModelCommandInput, SM.DescribeModelCommandOutput>;
  createModel: Call<SM.CreateModelCommandInput, SM.CreateModelCommandOutput>;
  describeEndpointConfig: Call<SM.DescribeEndpointConfigCommandInput, SM.DescribeEndpointConfigCommandOutput>;
  createEndpointConfig: Call<SM.CreateEndpointConfigCommandInput, SM.CreateEndpointConfigCommandOutput>;
  describeEndpoint: Call<SM.DescribeEndpointCommandInput, SM.DescribeEndpointCommandOutput>;
  createEndpoint: Call<SM.CreateEndpointCommandInput, SM.CreateEndpointCommandOutput>;
  updateEndpoint: Call<SM.UpdateEndpointCommandInput, SM.UpdateEndpointCommandOutput>;
  /** The canary's traffic split: weights of the variants of the endpoint's configuration. */
  updateEndpointWeightsAndCapacities: Call<SM.UpdateEndpointWeightsAndCapacitiesCommandInput, SM.UpdateEndpointWeightsAndCapacitiesCommandOutput>;
  deleteEndpoint: Call<SM.DeleteEndpointCommandInput, SM.DeleteEndpointCommandOutput>;
  describeDataQualityJobDefinition: Call<SM.DescribeDataQualityJobDefinitionCommandInput, SM.DescribeDataQualityJobDefinitionCommandOutput>;
  createDataQualityJobDefinition: Call<SM.CreateDataQualityJobDefinitionCommandInput, SM.CreateDataQualityJobDefinitionCommandOutput>;
  describeMonitoringSchedule: Call<SM.DescribeMonitoringScheduleCommandInput, SM.DescribeMonitoringScheduleCommandOutput>;
  createMonitoringSchedule: Call<SM.CreateMonitoringScheduleCommandInput, SM.CreateMonitoringScheduleCommandOutput>;
  updateMonitoringSchedule: Call<SM.UpdateMonitoringScheduleCommandInput, SM.UpdateMonitoringScheduleCommandOutput>;
  describePipeline: Call<SM.DescribePipelineCommandInput, SM.DescribePipelineCommandOutput>;
  createPipeline: Call<SM.CreatePipelineCommandInput, SM.CreatePipelineCommandOutput>;
  updatePipeline: Call<SM.UpdatePipelineCommandInput, SM.UpdatePipelineCommandOutput>;
  startPipelineExecution: Call<SM.StartPipelineExecutionCommandInput, SM.StartPipelineExecutionCommandOutput>;
  describePipelineExecution: Call<SM.DescribePipelineExecutionCommandInput, SM.DescribePipelineExecutionCommandOutput>;

  // SageMaker Runtime: the live endpoint as its callers reach it (`mlship budget`).
  invokeEndpoint(input: RT.InvokeEndpointCommandInput, options?: { abortSignal?: AbortSignal }): Promise<InvokeAnswer>;
  invokeEndpointWithResponseStream(input: RT.InvokeEndpointWithResponseStreamCommandInput, options?: { abortSignal?: AbortSignal }): Promise<InvokeAnswer>;

  // Application Auto Scaling: replicas between the manifest's min and max.
  registerScalableTarget: Call<AAS.RegisterScalableTargetCommandInput, AAS.RegisterScalableTargetCommandOutput>;
  deregisterScalableTarget: Call<AAS.DeregisterScalableTargetCommandInput, AAS.DeregisterScalableTargetCommandOutput>;
  putScalingPolicy: Call<AAS.PutScalingPolicyCommandInput, AAS.PutScalingPolicyCommandOutput>;
  describeScalableTargets: Call<AAS.DescribeScalableTargetsCommandInput, AAS.DescribeScalableTargetsCommandOutput>;

  // CloudWatch: each variant's invocations, 5xx and latency (the canary's bake), and the alarms that mail drift.
  getMetricData: Call<CW.GetMetricDataCommandInput, CW.GetMetricDataCommandOutput>;
  putMetricAlarm: Call<CW.PutMetricAlarmCommandInput, CW.PutMetricAlarmCommandOutput>;
  describeAlarms: Call<CW.DescribeAlarmsCommandInput, CW.DescribeAlarmsCommandOutput>;

  // SNS: the drift-alert topic and its e-mail subscriptions (`monitoring.alerts.email`).
  createTopic: Call<SNS.CreateTopicCommandInput, SNS.CreateTopicCommandOutput>;
  listSubscriptionsByTopic: Call<SNS.ListSubscriptionsByTopicCommandInput, SNS.ListSubscriptionsByTopicCommandOutput>;
  subscribe: Call<SNS.SubscribeCommandInput, SNS.SubscribeCommandOutput>;

  // EventBridge Scheduler: the retraining schedule.
  getSchedule: Call<SCH.GetScheduleCommandInput, SCH.GetScheduleCommandOutput>;
  createSchedule: Call<SCH.CreateScheduleCommandInput, SCH.CreateScheduleCommandOutput>;
  updateSchedule: Call<SCH.UpdateScheduleCommandInput, SCH.UpdateScheduleCommandOutput>;
}

/** The service and SDK command behind each call, for the real client and for error messages. */
export const CALLS = {
  getCallerIdentity: ['sts', 'GetCallerIdentity'],
  headBucket: ['s3', 'HeadBucket'],
  createBucket: ['s3', 'CreateBucket'],
  putBucketEncryption: ['s3', 'PutBucketEncryption'],
  putPublicAccessBlock: ['s3', 'PutPublicAccessBlock'],
  headObject: ['s3', 'HeadObject'],
  putObject: ['s3', 'PutObject'],
  getObject: ['s3', 'GetObject'],
  listObjectsV2: ['s3', 'ListObjectsV2'],
  describeRepositories: ['ecr', 'DescribeRepositories'],
  createRepository: ['ecr', 'CreateRepository'],
  getAuthorizationToken: ['ecr', 'GetAuthorizationToken'],
  describeModelPackageGroup: ['sagemaker', 'DescribeModelPackageGroup'],
  createModelPackageGroup: ['sagemaker', 'CreateModelPackageGroup'],
  createModelPackage: ['sagemaker', 'CreateModelPackage'],
  listModelPackages: ['sagemaker', 'ListModelPackages'],
  describeModelPackage: ['sagemaker', 'DescribeModelPackage'],
  updateModelPackage: ['sagemaker', 'UpdateModelPackage'],
  describeModel: ['sagemaker', 'DescribeModel'],
  createModel: ['sagemaker', 'CreateModel'],
  describeEndpointConfig: ['sagemaker', 'DescribeEndpointConfig'],
  createEndpointConfig: ['sagemaker', 'CreateEndpointConfig'],
  describeEndpoint: ['sagemaker', 'DescribeEndpoint'],
  createEndpoint: ['sagemaker', 'CreateEndpoint'],
  updateEndpoint: ['sagemaker', 'UpdateEndpoint'],
  updateEndpointWeightsAndCapacities: ['sagemaker', 'UpdateEndpointWeightsAndCapacities'],
  deleteEndpoint: ['sagemaker', 'DeleteEndpoint'],
  describeDataQualityJobDefinition: ['sagemaker', 'DescribeDataQualityJobDefinition'],
  createDataQualityJobDefinition: ['sagemaker', 'CreateDataQualityJobDefinition'],
  describeMonitoringSchedule: ['sagemaker', 'DescribeMonitoringSchedule'],
  createMonitoringSchedule: ['sagemaker', 'CreateMonitoringSchedule'],
  updateMonitoringSchedule: ['sagemaker', 'UpdateMonitoringSchedule'],
  describePipeline: ['sagemaker', 'DescribePipeline'],
  createPipeline: ['sagemaker', 'CreatePipeline'],
  updatePipeline: ['sagemaker', 'UpdatePipeline'],
  startPipelineExecution: ['sagemaker', 'StartPipelineExecution'],
  describePipelineExecution: ['sagemaker', 'DescribePipelineExecution'],
  invokeEndpoint: ['sagemaker-runtime', 'InvokeEndpoint'],
  invokeEndpointWithResponseStream: ['sagemaker-runtime', 'InvokeEndpointWithResponseStream'],
  registerScalableTarget: ['application-autoscaling', 'RegisterScalableTarget'],
  deregisterScalableTarget: ['application-autoscaling', 'DeregisterScalableTarget'],
  putScalingPolicy: ['application-autoscaling', 'PutScalingPolicy'],
  describeScalableTargets: ['application-autoscaling', 'DescribeScalableTargets'],
  getMetricData: ['monitoring', 'GetMetricData'],
  putMetricAlarm: ['monitoring', 'PutMetricAlarm'],
  describeAlarms: ['monitoring', 'DescribeAlarms'],
  createTopic: ['sns', 'CreateTopic'],
  listSubscriptionsByTopic: ['sns', 'ListSubscriptionsByTopic'],
  subscribe: ['sns', 'Subscribe'],
  getSchedule: ['scheduler', 'GetSchedule'],
  createSchedule: ['scheduler', 'CreateSchedule'],
  updateSchedule: ['scheduler', 'UpdateSchedule'],
} as const satisfies Record<Exclude<keyof AwsApi, 'region'>, readonly [string, string]>;

export type CallName = keyof typeof CALLS;

/** The IAM action of a call, e.g. `sagemaker:CreateEndpoint` (named in access-denied messages). */
export function iamAction(call: CallName): string {
  const [service, op] = CALLS[call];
  const prefix = service === 'monitoring' ? 'cloudwatch' : service === 'sagemaker-runtime' ? 'sagemaker' : service;
  // HeadBucket/HeadObject are authorised as ListBucket/GetObject.
  if (op === 'HeadBucket') return 's3:ListBucket';
  if (op === 'HeadObject') return 's3:GetObject';
  if (op === 'ListObjectsV2') return 's3:ListBucket';
  return `${prefix}:${op}`;
}
