/**
 * The one place AWS failures are translated: each SDK error becomes a `CloudError` of one of the
 * shared categories (src/deploy/cloud-errors.ts, which fix the exit code), with a
 * one-paragraph message that names the IAM action and how to fix it. The SDK's own retries (with
 * backoff, for throttling) run before anything reaches here; mlship adds no retry loop that would
 * defeat them.
 */
import { CloudError, isCloudNotFound } from '../../deploy/cloud-errors.js';
import { iamAction, type CallName } from './api.js';
import { sagemakerDescriptor } from './descriptor.js';

const PROVIDER = sagemakerDescriptor.provider!;

/** The parts of an SDK error we read: its name (the AWS error code) and HTTP status. */
interface AwsErrorLike {
  name?: string;
  Code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $fault?: string;
}

/** Whether an error says the resource does not exist: an SDK 404, SageMaker's "Could not find", or its translation. */
export function isNotFound(error: unknown): boolean {
  if (error instanceof CloudError) return isCloudNotFound(error);
  const e = error as AwsErrorLike;
  const name = e?.name ?? e?.Code ?? '';
  if (['NotFound', 'NoSuchKey', 'NoSuchBucket', 'ResourceNotFound', 'ResourceNotFoundException', 'RepositoryNotFoundException'].includes(name)) return true;
  if (e?.$metadata?.httpStatusCode === 404) return true;
  // SageMaker answers Describe* of a missing resource with ValidationException "Could not find …".
  return name === 'ValidationException' && /could not find|does not exist|not found/i.test(e.message ?? '');
}

const CREDENTIAL_ERRORS = new Set(['CredentialsProviderError', 'ProviderError']);
const EXPIRED = new Set(['ExpiredToken', 'ExpiredTokenException', 'TokenRefreshRequired']);
/** AWS does not know the key (another account's, deleted, mistyped) or the secret does not match it. */
const UNKNOWN_KEY = new Set([
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'InvalidAccessKeyId',
]);
const DENIED = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'AuthorizationError']);
const THROTTLED = new Set(['ThrottlingException', 'Throttling', 'TooManyRequestsException', 'SlowDown', 'RequestLimitExceeded']);

const CONFLICT = new Set(['ConflictException', 'ResourceInUse', 'ResourceInUseException', 'OperationAbortedException', 'BucketAlreadyExists']);

/** Translate an SDK error from `call` into a `CloudError` with a fix; the raw error is the cause. */
export function translateAwsError(error: unknown, call: CallName, context: { role?: string; region: string }): CloudError {
  if (error instanceof CloudError) return error;
  const e = (error ?? {}) as AwsErrorLike;
  const name = e.name ?? e.Code ?? 'Error';
  const message = (e.message ?? String(error)).trim();
  const action = iamAction(call);
  const details = { awsError: name, action, region: context.region };
  const opts = (hint: string, code: string) => ({ hint, details, cause: error, code });

  if (isNotFound(error)) {
    // Callers that expect absence (describe → create) test for this code with `isNotFound`.
    return new CloudError(
      'not_found',
      PROVIDER,
      `AWS call ${action} found nothing: ${message}`,
      opts('Something mlship expected was deleted outside mlship; run the command again, or push and deploy again.', 'aws_not_found'),
    );
  }
  if (CREDENTIAL_ERRORS.has(name) || /could not load credentials|credential/i.test(name)) {
    if (/sso|token/i.test(message)) {
      return new CloudError(
        'credentials',
        PROVIDER,
        `Your AWS SSO session has expired or was never started (${message}), so mlship could not call ${action}.`,
        opts('Run `aws sso login` (with `--profile NAME` if you use AWS_PROFILE) and run the command again.', 'aws_sso_expired'),
      );
    }
    return new CloudError(
      'credentials',
      PROVIDER,
      `No AWS credentials were found, so mlship could not call ${action}. mlship reads them only from the AWS SDK's standard chain: environment variables, the shared config and credentials files (AWS_PROFILE), SSO, or an instance/container role.`,
      opts(
        'Run `aws configure` or `aws sso login`, or export AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), then run the command again.',
        'aws_no_credentials',
      ),
    );
  }
  if (EXPIRED.has(name)) {
    return new CloudError(
      'credentials',
      PROVIDER,
      `Your AWS credentials have expired, so AWS refused ${action}: ${name} (${message}).`,
      opts(
        'Sign in again with `aws sso login` (or get a new session token; long-lived keys: `aws configure`), then run the command again.',
        'aws_credentials_expired',
      ),
    );
  }
  if (UNKNOWN_KEY.has(name)) {
    return new CloudError(
      'credentials',
      PROVIDER,
      `AWS does not accept the credentials mlship found when it called ${action}: ${name} (${message}). The access key belongs to no account AWS knows (deleted, mistyped, or from another partition), or its secret does not match.`,
      opts(
        'Check which credentials are used (`aws sts get-caller-identity`, AWS_PROFILE); set the right ones with `aws configure` or `aws sso login`, then run the command again.',
        'aws_credentials_invalid',
      ),
    );
  }
  if (DENIED.has(name) || e.$metadata?.httpStatusCode === 403) {
    const who = /arn:aws[a-z-]*:(?:iam|sts)::\d{12}:[^\s]+/.exec(message)?.[0];
    const principal = who ? who.replace(/[.,]$/, '') : 'your AWS identity';
    const roleNote = context.role ? ` SageMaker itself acts as ${context.role} (targets.sagemaker.role) for what runs inside the endpoint and jobs.` : '';
    return new CloudError(
      'permission',
      PROVIDER,
      `Access denied: ${principal} is not allowed to call ${action} in ${context.region}.${roleNote}`,
      opts(`Add "${action}" to the IAM policy of ${principal} (or ask your AWS administrator to), then run the command again.`, 'aws_access_denied'),
    );
  }
  if (THROTTLED.has(name)) {
    return new CloudError(
      'throttled',
      PROVIDER,
      `AWS kept throttling ${action} after the SDK's own retries (${name}).`,
      opts(
        'Wait a minute and run the command again; it picks up where it stopped. If it persists, ask AWS for a higher request rate for this API.',
        'aws_throttled',
      ),
    );
  }
  if (name === 'ResourceLimitExceeded' || name === 'LimitExceededException' || name === 'ServiceQuotaExceededException') {
    return new CloudError(
      'quota',
      PROVIDER,
      `An AWS quota stopped ${action} in ${context.region}: ${message}`,
      opts(
        'Request a higher limit in the Service Quotas console (SageMaker, "… for endpoint usage" of the instance type), choose another instance type with serving.compute, or free capacity by deleting unused endpoints.',
        'aws_quota_exceeded',
      ),
    );
  }
  if (
    name === 'ValidationException' &&
    /instance ?type|InstanceType/i.test(message) &&
    /(not supported|not available|invalid|failed to satisfy)/i.test(message)
  ) {
    return new CloudError(
      'invalid_request',
      PROVIDER,
      `The instance type is not available for SageMaker endpoints in ${context.region}: ${message}`,
      opts(
        'Pick an instance type offered in this region (serving.compute in mlship.yaml), or deploy to a region that has it (targets.sagemaker.region).',
        'aws_instance_unavailable',
      ),
    );
  }
  if (CONFLICT.has(name) || e.$metadata?.httpStatusCode === 409) {
    return new CloudError(
      'conflict',
      PROVIDER,
      `AWS refused ${action} because another operation is changing the same resource: ${name} (${message}).`,
      opts('Wait for the running operation to finish (`mlship status` shows it) and run the command again.', 'aws_conflict'),
    );
  }
  if (name === 'ValidationException' || name === 'InvalidParameterValue' || name === 'InvalidParameterException') {
    return new CloudError(
      'invalid_request',
      PROVIDER,
      `AWS refused ${action} as invalid: ${message}`,
      opts(
        'Check the values mlship.yaml gives for this call (instance type, names, region); run with --verbose for the full AWS error.',
        'aws_invalid_request',
      ),
    );
  }
  return new CloudError(
    'service',
    PROVIDER,
    `AWS call ${action} failed: ${name}: ${message}`,
    opts('Check the message above; run with --verbose for the full AWS error.', 'aws_error'),
  );
}
