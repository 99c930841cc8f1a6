/**
 * The `VertexApi` over the official SDKs, each imported only here and only when the Vertex target
 * runs: `@google-cloud/aiplatform` 6.x (gRPC, its default transport), `@google-cloud/storage` 7.x,
 * `@google-cloud/bigquery` 8.x, and Cloud Monitoring's REST `timeSeries.list` through the
 * google-auth-library client the SDKs already bring. Credentials come only from Application Default
 * Credentials; mlship never writes one anywhere.
 *
 * Endpoints: `api_endpoint` (manifest) replaces `<region>-aiplatform.googleapis.com` — a regional or
 * Private Service Connect host; `http://host:port` means plaintext gRPC without credentials (an
 * emulator such as `npm run fake -- vertex`). Storage and BigQuery honour their SDKs' standard
 * `STORAGE_EMULATOR_HOST` / `BIGQUERY_EMULATOR_HOST`; `MONITORING_EMULATOR_HOST` does the same for
 * Cloud Monitoring (mlship's own variable: that API has no emulator convention).
 */
import { readFileSync } from 'node:fs';
import { OperationError } from '../../util/errors.js';
import type { MetricPoint, StoredObject, VertexApi } from './api.js';
import { ifFound } from '../../deploy/cloud-errors.js';
import { isNotFound, translateGoogleError } from './errors.js';

export interface ClientSettings {
  project: string;
  region: string;
  apiEndpoint?: string;
  env: NodeJS.ProcessEnv;
  /** Longest pause between polls of a long-running operation, and the overall limit. */
  maxPollMs?: number;
  timeoutMs?: number;
}

const SCOPES = ['https://www.googleapis.com/auth/cloud-platform'];

/**
 * Load the SDKs and open clients. aiplatform: only the v1 clients mlship calls (its root module also
 * loads every API version's static protobuf module, 61 MB of JavaScript and about 2 s).
 */
export async function createVertexApi(settings: ClientSettings): Promise<VertexApi> {
  const [
    { ModelServiceClient },
    { EndpointServiceClient },
    { JobServiceClient },
    { PipelineServiceClient },
    { ScheduleServiceClient },
    gax,
    { Storage },
    { BigQuery },
  ] = await Promise.all([
    import('@google-cloud/aiplatform/build/src/v1/model_service_client.js'),
    import('@google-cloud/aiplatform/build/src/v1/endpoint_service_client.js'),
    import('@google-cloud/aiplatform/build/src/v1/job_service_client.js'),
    import('@google-cloud/aiplatform/build/src/v1/pipeline_service_client.js'),
    import('@google-cloud/aiplatform/build/src/v1/schedule_service_client.js'),
    import('google-gax'),
    import('@google-cloud/storage'),
    import('@google-cloud/bigquery'),
  ]);
  const env = settings.env;
  // grpc-js reads only the lower-case proxy variables; people set the upper-case ones.
  if (env.HTTPS_PROXY && !env.https_proxy) process.env.https_proxy = env.HTTPS_PROXY;
  const endpoint = settings.apiEndpoint ?? `${settings.region}-aiplatform.googleapis.com`;
  const plain = /^http:\/\/([^/:]+)(?::(\d+))?\/?$/.exec(endpoint);
  const hostPort = /^(?:https:\/\/)?([^/:]+)(?::(\d+))?\/?$/.exec(endpoint);
  const clientOptions: import('google-gax').ClientOptions = plain
    ? {
        apiEndpoint: plain[1],
        port: Number(plain[2] ?? 80),
        sslCreds: gax.grpc.credentials.createInsecure(),
        authClient: new gax.googleAuthLibrary.PassThroughClient(),
        'grpc.enable_http_proxy': 0,
      }
    : { apiEndpoint: hostPort?.[1] ?? endpoint, ...(hostPort?.[2] && { port: Number(hostPort[2]) }) };
  const models = new ModelServiceClient(clientOptions);
  const endpoints = new EndpointServiceClient(clientOptions);
  const jobs = new JobServiceClient(clientOptions);
  const pipelines = new PipelineServiceClient(clientOptions);
  const schedules = new ScheduleServiceClient(clientOptions);
  // Against an emulator no credentials are looked up at all (ADC would be read, or the metadata server asked).
  const noAuth = () => ({ authClient: new gax.googleAuthLibrary.PassThroughClient() as never });
  const storage = new Storage({ projectId: settings.project, ...(env.STORAGE_EMULATOR_HOST && noAuth()) });
  const bigquery = new BigQuery({ projectId: settings.project, ...(env.BIGQUERY_EMULATOR_HOST && noAuth()) });
  const auth = new gax.googleAuthLibrary.GoogleAuth({ scopes: SCOPES });
  const parent = `projects/${settings.project}/locations/${settings.region}`;
  const maxPoll = settings.maxPollMs ?? 10_000;
  const lro = { longrunning: gax.createBackoffSettings(Math.min(200, maxPoll), 1.5, maxPoll, null, null, null, settings.timeoutMs ?? 3_600_000) };
  const context = { project: settings.project, region: settings.region };

  if (!plain) {
    // Credentials first, once: without them every client would fail on its own, and google-auth-library
    // rejects a promise nobody awaits (a Node stack trace after mlship's message).
    // Off a Google Cloud machine its metadata-server probe fails, which it reports as a Node warning: the error below says it.
    const emitWarning = process.emitWarning;
    process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
      if (rest[0] === 'MetadataLookupWarning' || (rest[0] as { type?: string } | undefined)?.type === 'MetadataLookupWarning') return;
      (emitWarning as (...a: unknown[]) => void).call(process, warning, ...rest);
    }) as typeof process.emitWarning;
    try {
      await auth.getClient();
    } catch (error) {
      throw translateGoogleError(error, 'auth.token', context);
    } finally {
      process.emitWarning = emitWarning;
    }
  }
  // Failures are translated by the one seam (`withTranslation`); here only absence is read.
  const absent = <T>(fn: () => Promise<T>): Promise<T | undefined> => ifFound(fn, isNotFound);
  const monitoringBase = env.MONITORING_EMULATOR_HOST?.replace(/\/$/, '');
  const accessToken = async (): Promise<string> => {
    const token = await auth.getAccessToken();
    if (!token) throw new OperationError('gcp_no_credentials', 'Application Default Credentials returned no access token');
    return token;
  };

  return {
    project: settings.project,
    region: settings.region,
    uploadModel: async (req) => {
      const [op] = await models.uploadModel(req, lro);
      const [res] = await op.promise();
      return { model: res.model ?? '', versionId: res.modelVersionId ?? '' };
    },
    getModel: (name) => absent(async () => (await models.getModel({ name }))[0]),
    listModelVersions: async (name) => (await absent(async () => (await models.listModelVersions({ name }))[0])) ?? [],
    mergeVersionAliases: async (req) => (await models.mergeVersionAliases(req))[0],
    createEndpoint: async (req) => {
      const [op] = await endpoints.createEndpoint(req, lro);
      return (await op.promise())[0];
    },
    getEndpoint: (name) => absent(async () => (await endpoints.getEndpoint({ name }))[0]),
    updateEndpoint: async (req) => (await endpoints.updateEndpoint(req))[0],
    deployModel: async (req) => {
      const [op] = await endpoints.deployModel(req, lro);
      const [res] = await op.promise();
      return res.deployedModel ?? {};
    },
    undeployModel: async (req) => {
      const [op] = await endpoints.undeployModel(req, lro);
      await op.promise();
    },
    deleteEndpoint: async (name) => {
      const [op] = await endpoints.deleteEndpoint({ name }, lro);
      await op.promise();
    },
    findMonitoringJob: async (displayName) => (await jobs.listModelDeploymentMonitoringJobs({ parent, filter: `display_name="${displayName}"` }))[0][0],
    createMonitoringJob: async (req) => (await jobs.createModelDeploymentMonitoringJob(req))[0],
    updateMonitoringJob: async (req) => {
      const [op] = await jobs.updateModelDeploymentMonitoringJob(req, lro);
      await op.promise();
    },
    pauseMonitoringJob: async (name) => void (await jobs.pauseModelDeploymentMonitoringJob({ name })),
    createPipelineJob: async (req) => (await pipelines.createPipelineJob(req))[0],
    getPipelineJob: async (name) => (await pipelines.getPipelineJob({ name }))[0],
    findSchedule: async (displayName) => (await schedules.listSchedules({ parent, filter: `display_name="${displayName}"` }))[0][0],
    createSchedule: async (req) => (await schedules.createSchedule(req))[0],
    updateSchedule: async (req) => (await schedules.updateSchedule(req))[0],
    pauseSchedule: async (name) => void (await schedules.pauseSchedule({ name })),

    bucketLocation: async (bucket) => {
      const meta = await absent(async () => (await storage.bucket(bucket).getMetadata())[0]);
      return meta?.location?.toLowerCase();
    },
    createBucket: async (bucket, location) => {
      await storage.createBucket(bucket, { location, iamConfiguration: { uniformBucketLevelAccess: { enabled: true }, publicAccessPrevention: 'enforced' } });
    },
    uploadFile: async (bucket, name, file) => {
      await storage.bucket(bucket).file(name).save(readFileSync(file), { resumable: false, validation: 'crc32c' });
    },
    putObject: async (bucket, name, data, options = {}) => {
      await storage
        .bucket(bucket)
        .file(name)
        .save(data, {
          resumable: false,
          validation: 'crc32c',
          ...(options.contentType && { contentType: options.contentType }),
          ...(options.ifAbsent && { preconditionOpts: { ifGenerationMatch: 0 } }),
        });
    },
    getObject: (bucket, name) => absent(async () => (await storage.bucket(bucket).file(name).download())[0]),
    // A bucket that does not exist yet holds nothing (the first push creates it).
    listObjects: async (bucket, prefix) =>
      (await absent(async () => {
        const [files] = await storage.bucket(bucket).getFiles({ prefix, autoPaginate: true });
        return files.map(
          (f): StoredObject => ({ name: f.name, size: Number(f.metadata.size ?? 0), ...(f.metadata.updated && { updated: String(f.metadata.updated) }) }),
        );
      })) ?? [],
    ensureDataset: async (project, dataset, location) => {
      const ds = bigquery.dataset(dataset, { projectId: project });
      const [exists] = await ds.exists();
      if (exists) return false;
      await bigquery.createDataset(dataset, { location, projectId: project } as never);
      return true;
    },
    queryRows: (sql, params) => queryRows(bigquery, sql, params, context),
    timeSeries: async (filter, from, to) => {
      const out: { labels: Record<string, string>; points: MetricPoint[] }[] = [];
      let token: string | undefined;
      do {
        const query = new URLSearchParams({
          filter,
          'interval.startTime': from.toISOString(),
          'interval.endTime': to.toISOString(),
          view: 'FULL',
          ...(token && { pageToken: token }),
        });
        const url = `${monitoringBase ?? 'https://monitoring.googleapis.com'}/v3/projects/${settings.project}/timeSeries?${query}`;
        const body = monitoringBase ? await plainGet(url) : ((await (await auth.getClient()).request({ url })).data as MonitoringPage);
        for (const s of body.timeSeries ?? []) out.push({ labels: { ...s.resource?.labels, ...s.metric?.labels }, points: (s.points ?? []).map(point) });
        token = body.nextPageToken || undefined;
      } while (token);
      return out;
    },
    accessToken,
    predictHeaders: async (): Promise<Record<string, string>> => (plain ? {} : { authorization: `Bearer ${await accessToken()}` }),
    async close() {
      await Promise.all([models.close(), endpoints.close(), jobs.close(), pipelines.close(), schedules.close()]);
    },
  };
}

interface MonitoringPage {
  timeSeries?: { metric?: { labels?: Record<string, string> }; resource?: { labels?: Record<string, string> }; points?: RawPoint[] }[];
  nextPageToken?: string;
}
interface RawPoint {
  interval?: { endTime?: string };
  value?: {
    int64Value?: string;
    doubleValue?: number;
    distributionValue?: { count?: string; bucketOptions?: { explicitBuckets?: { bounds?: number[] } }; bucketCounts?: string[] };
  };
}

function point(p: RawPoint): MetricPoint {
  const d = p.value?.distributionValue;
  return {
    end: p.interval?.endTime ?? '',
    ...(p.value?.int64Value !== undefined && { int64: Number(p.value.int64Value) }),
    ...(d && {
      distribution: { count: Number(d.count ?? 0), bounds: d.bucketOptions?.explicitBuckets?.bounds ?? [], bucketCounts: (d.bucketCounts ?? []).map(Number) },
    }),
  };
}

async function plainGet(url: string): Promise<MonitoringPage> {
  const res = await fetch(url);
  const body = (await res.json()) as MonitoringPage & { error?: { code: number; message: string } };
  if (!res.ok) throw Object.assign(new Error(body.error?.message ?? `HTTP ${res.status}`), { code: res.status });
  return body;
}

/** Stream a query's rows page by page (memory does not grow with the table). */
async function* queryRows(
  bigquery: import('@google-cloud/bigquery').BigQuery,
  sql: string,
  params: Record<string, string>,
  context: { project: string; region: string },
): AsyncIterable<Record<string, unknown>> {
  const stream = bigquery.createQueryStream({ query: sql, params, useLegacySql: false, maxResults: 2000 } as never);
  try {
    for await (const row of stream as AsyncIterable<Record<string, unknown>>) yield row;
  } catch (error) {
    throw translateGoogleError(error, 'bigquery.jobs.query', context);
  }
}
