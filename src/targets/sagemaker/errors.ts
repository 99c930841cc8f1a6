/**
 * AWS failures people actually meet, turned into one-paragraph `OperationError`s that say what went
 * wrong and how to fix it. The SDK's own retries (with backoff, for throttling) run before anything
 * reaches here; mlship adds no retry loop that would defeat them.
 */
import { OperationError } from '../../core/errors.js';
import { iamAction, type CallName } from './api.js';

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
  if (error instanceof OperationError) return error.code === 'aws_not_found';
  const e = error as AwsErrorLike;
  const name = e?.name ?? e?.Code ?? '';
  if (['NotFound', 'NoSuchKey', 'NoSuchBucket', 'ResourceNotFound', 'ResourceNotFoundException', 'RepositoryNotFoundException'].includes(name)) return true;
  if (e?.$metadata?.httpStatusCode === 404) return true;
  // SageMaker answers Describe* of a missing resource with ValidationException "Could not find …".
  return name === 'ValidationException' && /could not find|does not exist|not found/i.test(e.message ?? '');
}

const CREDENTIAL_ERRORS = new Set(['CredentialsProviderError', 'ProviderError']);
const EXPIRED = new Set(['ExpiredToken', 'ExpiredTokenException', 'TokenRefreshRequired', 'InvalidClientTokenId', 'UnrecognizedClientException', 'InvalidSignatureException', 'SignatureDoesNotMatch']);
const DENIED = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'AuthorizationError']);
const THROTTLED = new Set(['ThrottlingException', 'Throttling', 'TooManyRequestsException', 'SlowDown', 'RequestLimitExceeded']);

/** Translate an SDK error from `call` into an `OperationError` with a fix; the raw error is the cause. */
export function translateAwsError(error: unknown, call: CallName, context: { role?: string; region: string }): OperationError {
  if (error instanceof OperationError) return error;
  const e = (error ?? {}) as AwsErrorLike;
  const name = e.name ?? e.Code ?? 'Error';
  const message = (e.message ?? String(error)).trim();
  const action = iamAction(call);
  const details = { awsError: name, action, region: context.region };
  const opts = (hint: string) => ({ hint, details, cause: error });

  if (isNotFound(error)) {
    // Callers that expect absence (describe → create) test for this code with `isNotFound`.
    return new OperationError('aws_not_found', `AWS call ${action} found nothing: ${message}`, opts('Something mlship expected was deleted outside mlship; run the command again, or push and deploy again.'));
  }
  if (CREDENTIAL_ERRORS.has(name) || /could not load credentials|credential/i.test(name)) {
    if (/sso|token/i.test(message)) {
      return new OperationError('aws_sso_expired', `Your AWS SSO session has expired or was never started (${message}), so mlship could not call ${action}.`, opts('Run `aws sso login` (with `--profile NAME` if you use AWS_PROFILE) and run the command again.'));
    }
    return new OperationError('aws_no_credentials', `No AWS credentials were found, so mlship could not call ${action}. mlship reads them only from the AWS SDK's standard chain: environment variables, the shared config and credentials files (AWS_PROFILE), SSO, or an instance/container role.`, opts('Run `aws configure` or `aws sso login`, or export AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), then run the command again.'));
  }
  if (EXPIRED.has(name)) {
    return new OperationError('aws_credentials_expired', `AWS rejected the credentials when mlship called ${action}: ${name} (${message}). The session token has probably expired.`, opts('Refresh your credentials (`aws sso login`, or a new session token) and run the command again.'));
  }
  if (DENIED.has(name) || e.$metadata?.httpStatusCode === 403) {
    const who = /arn:aws[a-z-]*:(?:iam|sts)::\d{12}:[^\s]+/.exec(message)?.[0];
    const principal = who ? who.replace(/[.,]$/, '') : 'your AWS identity';
    const roleNote = context.role ? ` SageMaker itself acts as ${context.role} (targets.sagemaker.role) for what runs inside the endpoint and jobs.` : '';
    return new OperationError('aws_access_denied', `Access denied: ${principal} is not allowed to call ${action} in ${context.region}.${roleNote}`, opts(`Add "${action}" to the IAM policy of ${principal} (or ask your AWS administrator to), then run the command again.`));
  }
  if (THROTTLED.has(name)) {
    return new OperationError('aws_throttled', `AWS kept throttling ${action} after the SDK's own retries (${name}).`, opts('Wait a minute and run the command again; it picks up where it stopped. If it persists, ask AWS for a higher request rate for this API.'));
  }
  if (name === 'ResourceLimitExceeded' || name === 'LimitExceededException' || name === 'ServiceQuotaExceededException') {
    return new OperationError('aws_quota_exceeded', `An AWS quota stopped ${action} in ${context.region}: ${message}`, opts('Request a higher limit in the Service Quotas console (SageMaker, "… for endpoint usage" of the instance type), choose another instance type with serving.compute, or free capacity by deleting unused endpoints.'));
  }
  if (name === 'ValidationException' && /instance ?type|InstanceType/i.test(message) && /(not supported|not available|invalid|failed to satisfy)/i.test(message)) {
    return new OperationError('aws_instance_unavailable', `The instance type is not available for SageMaker endpoints in ${context.region}: ${message}`, opts('Pick an instance type offered in this region (serving.compute in mlship.yaml), or deploy to a region that has it (targets.sagemaker.region).'));
  }
  return new OperationError('aws_error', `AWS call ${action} failed: ${name}: ${message}`, opts('Check the message above; run with --verbose for the full AWS error.'));
}
