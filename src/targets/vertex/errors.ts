/**
 * Google Cloud failures people meet on Vertex AI, each turned into one paragraph that says what went
 * wrong and how to fix it: no Application Default Credentials, the API not enabled, a permission
 * missing (naming the role that grants it), a quota (GPU quota is per region), a machine or
 * accelerator not offered in the region, a bucket in another region than the endpoint. gRPC errors
 * carry a status code (`code`), Storage/BigQuery errors an HTTP status; both are read, never the
 * message alone, except to pick the hint.
 */
import { vertexDescriptor } from './descriptor.js';
import { CloudError, type CloudErrorKind } from '../../deploy/cloud-errors.js';

/** The permission-style name of each call mlship makes (what IAM checks). */
export type CallName =
  | 'aiplatform.models.upload'
  | 'aiplatform.models.get'
  | 'aiplatform.models.list'
  | 'aiplatform.models.update'
  | 'aiplatform.endpoints.create'
  | 'aiplatform.endpoints.get'
  | 'aiplatform.endpoints.update'
  | 'aiplatform.endpoints.deploy'
  | 'aiplatform.endpoints.undeploy'
  | 'aiplatform.endpoints.delete'
  | 'aiplatform.modelDeploymentMonitoringJobs.list'
  | 'aiplatform.modelDeploymentMonitoringJobs.create'
  | 'aiplatform.modelDeploymentMonitoringJobs.update'
  | 'aiplatform.modelDeploymentMonitoringJobs.pause'
  | 'aiplatform.pipelineJobs.create'
  | 'aiplatform.pipelineJobs.get'
  | 'aiplatform.schedules.list'
  | 'aiplatform.schedules.create'
  | 'aiplatform.schedules.update'
  | 'aiplatform.schedules.pause'
  | 'storage.buckets.get'
  | 'storage.buckets.create'
  | 'storage.objects.create'
  | 'storage.objects.get'
  | 'storage.objects.list'
  | 'bigquery.datasets.create'
  | 'bigquery.jobs.query'
  | 'monitoring.timeSeries.list'
  | 'auth.token';

/** The predefined role that grants a call's permission (the narrowest usual one). */
export function roleFor(call: CallName): string {
  if (call.startsWith('aiplatform.')) return 'roles/aiplatform.user';
  if (call === 'storage.buckets.create') return 'roles/storage.admin';
  if (call.startsWith('storage.')) return 'roles/storage.objectAdmin';
  if (call === 'bigquery.jobs.query') return 'roles/bigquery.jobUser (and roles/bigquery.dataViewer on the logging dataset)';
  if (call.startsWith('bigquery.')) return 'roles/bigquery.dataEditor';
  if (call.startsWith('monitoring.')) return 'roles/monitoring.viewer';
  return 'roles/aiplatform.user';
}

/** The API a call belongs to (for "enable the API" hints). */
function apiOf(call: CallName): string {
  const service = call.split('.')[0]!;
  return (
    {
      aiplatform: 'aiplatform.googleapis.com',
      storage: 'storage.googleapis.com',
      bigquery: 'bigquery.googleapis.com',
      monitoring: 'monitoring.googleapis.com',
    }[service] ?? 'aiplatform.googleapis.com'
  );
}

interface GoogleErrorLike {
  code?: number | string;
  details?: string;
  message?: string;
  reason?: string;
  errors?: { reason?: string }[];
}

const GRPC = {
  INVALID_ARGUMENT: 3,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  UNAUTHENTICATED: 16,
  UNAVAILABLE: 14,
};

/** Whether an error says the thing does not exist (gRPC NOT_FOUND, HTTP 404, or its translation). */
export function isNotFound(error: unknown): boolean {
  if (error instanceof CloudError) return error.kind === 'not_found';
  const code = (error as GoogleErrorLike)?.code;
  return code === GRPC.NOT_FOUND || code === 404;
}

/** Whether an error says an append-only object already exists (a precondition on generation 0). */
export function isAlreadyExists(error: unknown): boolean {
  if (error instanceof CloudError) return error.code === 'gcp_exists';
  const code = (error as GoogleErrorLike)?.code;
  return code === 412 || code === GRPC.ALREADY_EXISTS || code === 409;
}

/** Translate an SDK error from `call` into a CloudError with a fix; the raw error is the cause. */
export function translateGoogleError(error: unknown, call: CallName, context: { project: string; region: string }): CloudError {
  if (error instanceof CloudError) return error;
  const e = (error ?? {}) as GoogleErrorLike;
  const code = typeof e.code === 'number' ? e.code : Number(e.code);
  const text = (e.details || e.message || String(error)).trim().replace(/^\d+ [A-Z_]+: /, '');
  const details = { call, code: Number.isFinite(code) ? code : undefined, project: context.project, region: context.region };
  const fail = (kind: CloudErrorKind, code: string, message: string, hint: string) =>
    new CloudError(kind, vertexDescriptor.provider!, message, { code, hint, details, cause: error });
  const where = `in project ${context.project} (${context.region})`;

  if (/could not load the default credentials|default credentials|ADC/i.test(text) && !/permission/i.test(text)) {
    return fail(
      'credentials',
      'gcp_no_credentials',
      `No Google Cloud credentials were found, so mlship could not ${call === 'auth.token' ? 'get an access token' : `call ${call}`}. mlship reads them only from Application Default Credentials: GOOGLE_APPLICATION_CREDENTIALS, the gcloud ADC file, or the metadata server of a Google Cloud machine.`,
      'Run `gcloud auth application-default login` (or point GOOGLE_APPLICATION_CREDENTIALS at a service-account key file, or run where a service account is attached), then run the command again.',
    );
  }
  if (/invalid_grant|reauth|invalid_rapt|expired or (been )?revoked|has expired/i.test(text)) {
    return fail(
      'credentials',
      'gcp_credentials_expired',
      `Your Google Cloud sign-in has expired or was revoked, so mlship could not ${call === 'auth.token' ? 'get an access token' : `call ${call}`}: ${text}`,
      'Sign in again: `gcloud auth application-default login` (a service-account key: point GOOGLE_APPLICATION_CREDENTIALS at a valid key file), then run the command again.',
    );
  }
  if (
    (code === GRPC.PERMISSION_DENIED || code === 403 || code === GRPC.NOT_FOUND || code === 404 || code === GRPC.INVALID_ARGUMENT || code === 400) &&
    /CONSUMER_INVALID|USER_PROJECT_DENIED|project .{0,80}(not found|has been deleted|does not exist)|unknown project|invalid project/i.test(text)
  ) {
    return fail(
      'credentials',
      'gcp_wrong_project',
      `Project ${context.project} does not exist or your Google Cloud account cannot use it (${call}): ${text}`,
      `Check targets.vertex.project in mlship.yaml (\`gcloud projects list\` shows the projects your account sees), or sign in with the account that has it: \`gcloud auth application-default login\`; then run the command again.`,
    );
  }
  if (code === GRPC.UNAUTHENTICATED || code === 401) {
    return fail(
      'credentials',
      'gcp_credentials_expired',
      `Google Cloud rejected the credentials when mlship called ${call}: ${text}`,
      'Refresh them with `gcloud auth application-default login` and run the command again.',
    );
  }
  if (isNotFound(error)) {
    return fail(
      'not_found',
      'gcp_not_found',
      `${call} found nothing ${where}: ${text}`,
      'Something mlship expected was deleted outside mlship; run the command again, or push and deploy again.',
    );
  }
  if (isAlreadyExists(error)) {
    return fail(
      'conflict',
      'gcp_exists',
      `${call}: it already exists ${where}: ${text}`,
      'Another mlship run wrote it at the same moment; run the command again.',
    );
  }
  if ((code === GRPC.PERMISSION_DENIED || code === 403) && /SERVICE_DISABLED|has not been used in project|is disabled|not enabled/i.test(text)) {
    const api = /([a-z]+\.googleapis\.com)/.exec(text)?.[1] ?? apiOf(call);
    return fail(
      'permission',
      'gcp_api_disabled',
      `The ${api} API is not enabled ${where}, so mlship could not call ${call}.`,
      `Enable it: \`gcloud services enable ${api} --project ${context.project}\` (a few minutes to take effect), then run the command again.`,
    );
  }
  if (code === GRPC.PERMISSION_DENIED || code === 403) {
    const permission = /Permission '?([a-zA-Z.]+)'? denied/i.exec(text)?.[1] ?? call;
    const role = permission.startsWith('iam.serviceAccounts.actAs')
      ? 'roles/iam.serviceAccountUser on the serving service account (targets.vertex.service_account)'
      : roleFor(call);
    return fail(
      'permission',
      'gcp_permission_denied',
      `Permission denied: your identity may not ${permission} ${where} (${text}).`,
      `Grant it ${role} (\`gcloud projects add-iam-policy-binding ${context.project} --member user:<you> --role ${role.split(' ')[0]}\`), then run the command again.`,
    );
  }
  if ((code === GRPC.RESOURCE_EXHAUSTED || code === 429) && /rate limit|too many requests|per minute/i.test(text) && !/quota metrics/i.test(text)) {
    return fail(
      'throttled',
      'gcp_throttled',
      `Google Cloud kept throttling ${call} ${where}: ${text}`,
      'Wait a minute and run the command again; it picks up where it stopped.',
    );
  }
  if (code === GRPC.RESOURCE_EXHAUSTED || code === 429 || /quota/i.test(text)) {
    const gpu = /gpu|nvidia|accelerator/i.test(text);
    return fail(
      'quota',
      'gcp_quota_exceeded',
      `A Google Cloud quota stopped ${call} ${where}: ${text}`,
      gpu
        ? `GPU quota is per region: request more in the console (IAM & Admin → Quotas, "Custom model serving … GPUs per region" for ${context.region}), pick a region that has it (targets.vertex.region), or serve on CPU (serving.compute: cpu).`
        : `Request a higher quota in the console (IAM & Admin → Quotas, Vertex AI API, ${context.region}), or free capacity by undeploying unused models.`,
    );
  }
  if ((code === GRPC.INVALID_ARGUMENT || code === 400) && /machine type|accelerator|not supported|not available|not offered/i.test(text)) {
    return fail(
      'invalid_request',
      'gcp_machine_unavailable',
      `The machine or accelerator is not offered for Vertex AI online prediction in ${context.region}: ${text}`,
      'Pick a machine type from `mlship budget --target vertex` (serving.compute), or deploy in a region that offers it (targets.vertex.region).',
    );
  }
  if ((code === GRPC.FAILED_PRECONDITION || code === 400) && /bucket/i.test(text) && /region|location/i.test(text)) {
    return fail(
      'invalid_request',
      'gcp_bucket_region',
      `The Cloud Storage bucket is in another region than the Vertex AI endpoint: ${text}`,
      `Use a bucket in ${context.region} (targets.vertex.bucket; the default mlship-<project>-<region> is created there), then push again.`,
    );
  }
  if (code === GRPC.UNAVAILABLE) {
    return fail(
      'service',
      'gcp_unavailable',
      `Vertex AI could not be reached for ${call}: ${text}`,
      'Check the network (and targets.vertex.api_endpoint if set), then run the command again: it picks up where it stopped.',
    );
  }
  if (code === GRPC.INVALID_ARGUMENT || code === 400) {
    return fail(
      'invalid_request',
      'gcp_invalid_request',
      `Vertex AI refused ${call} ${where}: ${text}`,
      'Check the values mlship.yaml sets for this call (serving, targets.vertex); run with --verbose for the request.',
    );
  }
  if (code === GRPC.FAILED_PRECONDITION) {
    return fail(
      'conflict',
      'gcp_failed_precondition',
      `Vertex AI cannot ${call} ${where} in the resource's current state: ${text}`,
      'Wait for operations on the endpoint to finish (`mlship status`), then run the command again.',
    );
  }
  return fail('service', 'gcp_error', `${call} failed ${where}: ${text}`, 'Check the message above; run with --verbose for the full Google Cloud error.');
}
