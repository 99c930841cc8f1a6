/**
 * Every Google Cloud call the Vertex target makes, in one narrow interface: the target depends on
 * this, `client.ts` implements it over the official SDKs (loaded lazily), and tests run the real
 * implementation against the doubles in test/doubles/vertex/. Requests are typed with the SDK's own
 * `protos.google.cloud.aiplatform.v1.I*` interfaces (type-only imports: nothing loads at run time),
 * so a misspelt field or enum name is a compile error — the client itself would drop it silently.
 */
import type { protos } from '@google-cloud/aiplatform';
import { CloudError, translatingCalls } from '../../deploy/cloud-errors.js';
import { translateGoogleError, type CallName } from './errors.js';

export type V1 = typeof protos.google.cloud.aiplatform.v1;
/** The aiplatform v1 message interfaces, for request builders. */
export type IModel = protos.google.cloud.aiplatform.v1.IModel;
export type IModelContainerSpec = protos.google.cloud.aiplatform.v1.IModelContainerSpec;
export type IEndpoint = protos.google.cloud.aiplatform.v1.IEndpoint;
export type IDeployedModel = protos.google.cloud.aiplatform.v1.IDeployedModel;
export type IUploadModelRequest = protos.google.cloud.aiplatform.v1.IUploadModelRequest;
export type ICreateEndpointRequest = protos.google.cloud.aiplatform.v1.ICreateEndpointRequest;
export type IDeployModelRequest = protos.google.cloud.aiplatform.v1.IDeployModelRequest;
export type IUndeployModelRequest = protos.google.cloud.aiplatform.v1.IUndeployModelRequest;
export type IUpdateEndpointRequest = protos.google.cloud.aiplatform.v1.IUpdateEndpointRequest;
export type IMergeVersionAliasesRequest = protos.google.cloud.aiplatform.v1.IMergeVersionAliasesRequest;
export type IModelDeploymentMonitoringJob = protos.google.cloud.aiplatform.v1.IModelDeploymentMonitoringJob;
export type ICreateModelDeploymentMonitoringJobRequest = protos.google.cloud.aiplatform.v1.ICreateModelDeploymentMonitoringJobRequest;
export type IUpdateModelDeploymentMonitoringJobRequest = protos.google.cloud.aiplatform.v1.IUpdateModelDeploymentMonitoringJobRequest;
export type IPipelineJob = protos.google.cloud.aiplatform.v1.IPipelineJob;
export type ICreatePipelineJobRequest = protos.google.cloud.aiplatform.v1.ICreatePipelineJobRequest;
export type ISchedule = protos.google.cloud.aiplatform.v1.ISchedule;
export type ICreateScheduleRequest = protos.google.cloud.aiplatform.v1.ICreateScheduleRequest;
export type IUpdateScheduleRequest = protos.google.cloud.aiplatform.v1.IUpdateScheduleRequest;

/** A Cloud Storage object as mlship reads it. */
export interface StoredObject {
  name: string;
  size: number;
  updated?: string;
}

/** One point of a Cloud Monitoring time series (a DELTA count or a latency distribution). */
export interface MetricPoint {
  end: string;
  int64?: number;
  distribution?: { count: number; bounds: number[]; bucketCounts: number[] };
}

/** The calls, grouped by service. Each long-running call returns once its operation is done. */
export interface VertexApi {
  readonly project: string;
  readonly region: string;
  /** ModelService */
  uploadModel(req: IUploadModelRequest): Promise<{ model: string; versionId: string }>;
  /** `…/models/M[@version|@alias]`; undefined when it does not exist. */
  getModel(name: string): Promise<IModel | undefined>;
  listModelVersions(name: string): Promise<IModel[]>;
  mergeVersionAliases(req: IMergeVersionAliasesRequest): Promise<IModel>;
  /** EndpointService */
  createEndpoint(req: ICreateEndpointRequest): Promise<IEndpoint>;
  getEndpoint(name: string): Promise<IEndpoint | undefined>;
  updateEndpoint(req: IUpdateEndpointRequest): Promise<IEndpoint>;
  deployModel(req: IDeployModelRequest): Promise<IDeployedModel>;
  undeployModel(req: IUndeployModelRequest): Promise<void>;
  deleteEndpoint(name: string): Promise<void>;
  /** JobService (model deployment monitoring, v1 GA) */
  findMonitoringJob(displayName: string): Promise<IModelDeploymentMonitoringJob | undefined>;
  createMonitoringJob(req: ICreateModelDeploymentMonitoringJobRequest): Promise<IModelDeploymentMonitoringJob>;
  updateMonitoringJob(req: IUpdateModelDeploymentMonitoringJobRequest): Promise<void>;
  pauseMonitoringJob(name: string): Promise<void>;
  /** PipelineService and ScheduleService */
  createPipelineJob(req: ICreatePipelineJobRequest): Promise<IPipelineJob>;
  getPipelineJob(name: string): Promise<IPipelineJob>;
  findSchedule(displayName: string): Promise<ISchedule | undefined>;
  createSchedule(req: ICreateScheduleRequest): Promise<ISchedule>;
  updateSchedule(req: IUpdateScheduleRequest): Promise<ISchedule>;
  pauseSchedule(name: string): Promise<void>;
  /** Cloud Storage */
  bucketLocation(bucket: string): Promise<string | undefined>;
  createBucket(bucket: string, location: string): Promise<void>;
  uploadFile(bucket: string, name: string, file: string): Promise<void>;
  /** Write an object; `ifAbsent` makes it fail with `gcs_exists` when the name is taken (append-only). */
  putObject(bucket: string, name: string, data: string | Buffer, options?: { ifAbsent?: boolean; contentType?: string }): Promise<void>;
  getObject(bucket: string, name: string): Promise<Buffer | undefined>;
  listObjects(bucket: string, prefix: string): Promise<StoredObject[]>;
  /** BigQuery */
  ensureDataset(project: string, dataset: string, location: string): Promise<boolean>;
  /** Rows of a standard-SQL query with named STRING/TIMESTAMP parameters, page by page. */
  queryRows(sql: string, params: Record<string, string>): AsyncIterable<Record<string, unknown>>;
  /** Cloud Monitoring timeSeries.list (raw points, no aggregation). */
  timeSeries(filter: string, from: Date, to: Date): Promise<{ labels: Record<string, string>; points: MetricPoint[] }[]>;
  /** An OAuth access token of the ADC identity (docker login to Artifact Registry, on stdin only). */
  accessToken(): Promise<string>;
  /** The headers of a call to the endpoint's own routes (predict, rawPredict): the ADC identity's bearer token (none against an emulator). */
  predictHeaders(): Promise<Record<string, string>>;
  close(): Promise<void>;
}

/**
 * The permission-style name of each call (what IAM checks), for the one error translation
 * (`withTranslation`). `queryRows` streams: it translates its own failures as rows are read.
 */
export const CALLS: Partial<Record<keyof VertexApi, CallName>> = {
  uploadModel: 'aiplatform.models.upload',
  mergeVersionAliases: 'aiplatform.models.update',
  createEndpoint: 'aiplatform.endpoints.create',
  updateEndpoint: 'aiplatform.endpoints.update',
  deployModel: 'aiplatform.endpoints.deploy',
  undeployModel: 'aiplatform.endpoints.undeploy',
  deleteEndpoint: 'aiplatform.endpoints.delete',
  findMonitoringJob: 'aiplatform.modelDeploymentMonitoringJobs.list',
  createMonitoringJob: 'aiplatform.modelDeploymentMonitoringJobs.create',
  updateMonitoringJob: 'aiplatform.modelDeploymentMonitoringJobs.update',
  pauseMonitoringJob: 'aiplatform.modelDeploymentMonitoringJobs.pause',
  createPipelineJob: 'aiplatform.pipelineJobs.create',
  getPipelineJob: 'aiplatform.pipelineJobs.get',
  findSchedule: 'aiplatform.schedules.list',
  createSchedule: 'aiplatform.schedules.create',
  updateSchedule: 'aiplatform.schedules.update',
  pauseSchedule: 'aiplatform.schedules.pause',
  createBucket: 'storage.buckets.create',
  uploadFile: 'storage.objects.create',
  putObject: 'storage.objects.create',
  ensureDataset: 'bigquery.datasets.create',
  timeSeries: 'monitoring.timeSeries.list',
  accessToken: 'auth.token',
  predictHeaders: 'auth.token',
  getModel: 'aiplatform.models.get',
  getEndpoint: 'aiplatform.endpoints.get',
  bucketLocation: 'storage.buckets.get',
  getObject: 'storage.objects.get',
  listObjects: 'storage.objects.list',
  listModelVersions: 'aiplatform.models.list',
};

/** Every call's failures through the one translation (src/targets/vertex/errors.ts), real client and doubles alike. */
export function withTranslation(api: VertexApi): VertexApi {
  const context = { project: api.project, region: api.region };
  return translatingCalls(api, (error, call) => {
    const name = CALLS[call as keyof VertexApi];
    return name && !(error instanceof CloudError) ? translateGoogleError(error, name, context) : (error as Error);
  });
}
