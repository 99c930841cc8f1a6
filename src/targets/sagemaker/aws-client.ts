/**
 * The real `AwsApi`: each call goes through the @aws-sdk v3 client of its service, loaded lazily the
 * first time that service is used (so `mlship --help` and local commands never load an AWS SDK).
 * Credentials and region come only from the SDK's default chain (environment, shared config and
 * credentials files, SSO, instance or container role); `AWS_ENDPOINT_URL` and the per-service
 * `AWS_ENDPOINT_URL_<SERVICE>` variables are honoured by the SDK itself.
 */
import { OperationError } from '../../util/errors.js';
import { CALLS, type AwsApi, type CallName, type InvokeAnswer, type S3Body } from './api.js';
import { ifFound, translatingCalls } from '../../deploy/cloud-errors.js';
import { isNotFound, translateAwsError } from './errors.js';

type Service = (typeof CALLS)[CallName][0];

interface SdkClient {
  send(command: unknown, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
  config: { region: () => Promise<string> };
}
type SdkModule = Record<string, unknown>;

/** Each service's SDK package and client class, imported only when first used. */
const SDK: Record<Service, { load: () => Promise<SdkModule>; client: string }> = {
  sts: { load: () => import('@aws-sdk/client-sts') as Promise<SdkModule>, client: 'STSClient' },
  s3: { load: () => import('@aws-sdk/client-s3') as Promise<SdkModule>, client: 'S3Client' },
  ecr: { load: () => import('@aws-sdk/client-ecr') as Promise<SdkModule>, client: 'ECRClient' },
  sagemaker: { load: () => import('@aws-sdk/client-sagemaker') as Promise<SdkModule>, client: 'SageMakerClient' },
  'sagemaker-runtime': { load: () => import('@aws-sdk/client-sagemaker-runtime') as Promise<SdkModule>, client: 'SageMakerRuntimeClient' },
  'application-autoscaling': { load: () => import('@aws-sdk/client-application-auto-scaling') as Promise<SdkModule>, client: 'ApplicationAutoScalingClient' },
  monitoring: { load: () => import('@aws-sdk/client-cloudwatch') as Promise<SdkModule>, client: 'CloudWatchClient' },
  scheduler: { load: () => import('@aws-sdk/client-scheduler') as Promise<SdkModule>, client: 'SchedulerClient' },
  sns: { load: () => import('@aws-sdk/client-sns') as Promise<SdkModule>, client: 'SNSClient' },
};

export interface AwsClientOptions {
  /** `targets.sagemaker.region`; otherwise the SDK's chain (AWS_REGION, the profile's region). */
  region?: string;
}

/** Build the real client. Resolves the region up front so names and messages can use it. */
export async function createAwsApi(options: AwsClientOptions = {}): Promise<AwsApi> {
  // mlship pins its SDK versions; the SDK's notice about future Node versions is not the user's concern.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const clients = new Map<Service, Promise<{ client: SdkClient; mod: SdkModule }>>();
  let region = options.region;

  const clientFor = (service: Service) => {
    let entry = clients.get(service);
    if (!entry) {
      entry = SDK[service].load().then((mod) => {
        const Ctor = mod[SDK[service].client] as new (config: Record<string, unknown>) => SdkClient;
        return { client: new Ctor(region ? { region } : {}), mod };
      });
      clients.set(service, entry);
    }
    return entry;
  };

  if (!region) {
    try {
      region = await (await clientFor('sts')).client.config.region();
    } catch {
      region = undefined;
    }
    clients.clear();
    if (!region) {
      throw new OperationError('aws_no_region', 'No AWS region is set for the SageMaker target.', {
        hint: 'Set targets.sagemaker.region in mlship.yaml, or export AWS_REGION (or set region in your AWS profile).',
      });
    }
  }

  const send = async (call: CallName, input: unknown, options?: { abortSignal?: AbortSignal }): Promise<unknown> => {
    const [service, op] = CALLS[call];
    const { client, mod } = await clientFor(service);
    const Command = mod[`${op}Command`] as new (input: unknown) => unknown;
    return client.send(new Command(input ?? {}), options);
  };

  const api: Record<string, unknown> = { region };
  for (const call of Object.keys(CALLS) as CallName[]) {
    api[call] = (input: unknown) => send(call, input);
  }
  api.getObject = async (input: unknown): Promise<S3Body> => {
    const out = (await send('getObject', input)) as { Body?: AsyncIterable<Uint8Array> & { transformToString(): Promise<string> } };
    const body = out.Body;
    if (!body) throw new OperationError('aws_error', 'S3 returned an object without a body.');
    return { stream: () => body, text: () => body.transformToString() };
  };
  api.invokeEndpoint = (input: unknown, options?: { abortSignal?: AbortSignal }): Promise<InvokeAnswer> =>
    answered(async () => {
      const out = (await send('invokeEndpoint', input, options)) as { Body?: Uint8Array; ContentType?: string };
      return { status: 200, ...(out.ContentType && { contentType: out.ContentType }), body: once(out.Body ?? new Uint8Array()) };
    });
  api.invokeEndpointWithResponseStream = (input: unknown, options?: { abortSignal?: AbortSignal }): Promise<InvokeAnswer> =>
    answered(async () => {
      const out = (await send('invokeEndpointWithResponseStream', input, options)) as { Body?: AsyncIterable<RuntimeEvent>; ContentType?: string };
      return { status: 200, ...(out.ContentType && { contentType: out.ContentType }), body: payloadParts(out.Body) };
    });
  return api as unknown as AwsApi;
}

/** A runtime response stream's events, as the SDK yields them. */
interface RuntimeEvent {
  PayloadPart?: { Bytes?: Uint8Array };
  ModelStreamError?: { Message?: string; ErrorCode?: string };
  InternalStreamFailure?: { Message?: string };
}

/** The bytes of each PayloadPart as it arrives; an error event ends the stream with its message. */
async function* payloadParts(events: AsyncIterable<RuntimeEvent> | undefined): AsyncIterable<Uint8Array> {
  if (!events) return;
  for await (const event of events) {
    if (event.PayloadPart?.Bytes) yield event.PayloadPart.Bytes;
    const failure = event.ModelStreamError ?? event.InternalStreamFailure;
    if (failure) throw new Error(`the endpoint's stream failed: ${failure.Message ?? 'no message'}`);
  }
}

async function* once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

/** The container's own error status (a ModelError: `OriginalStatusCode`, `OriginalMessage`) is an answer; anything else is a failure. */
async function answered(call: () => Promise<InvokeAnswer>): Promise<InvokeAnswer> {
  try {
    return await call();
  } catch (error) {
    const e = error as { name?: string; OriginalStatusCode?: number; OriginalMessage?: string };
    if (e.name !== 'ModelError' || e.OriginalStatusCode === undefined) throw error;
    return { status: e.OriginalStatusCode, body: once(new TextEncoder().encode(e.OriginalMessage ?? '')) };
  }
}

/**
 * Wrap an `AwsApi` so every failure becomes a one-paragraph `OperationError` naming the IAM action
 * ("not found" as `aws_not_found`, which callers that expect absence test with `isNotFound`).
 * Applied to the real client and to test doubles alike.
 */
export function withErrorTranslation(api: AwsApi, context: { role?: string }): AwsApi {
  return translatingCalls(api, (error, call) =>
    call in CALLS ? translateAwsError(error, call as CallName, { role: context.role, region: api.region }) : (error as Error),
  );
}

/** Run a describe/head call; `undefined` when the resource does not exist (raw or translated AWS "not found"). */
export function ifExists<T>(fn: () => Promise<T>): Promise<T | undefined> {
  return ifFound(fn, isNotFound);
}
