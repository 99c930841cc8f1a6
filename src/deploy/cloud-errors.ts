/**
 * Cloud error categories, the same on every cloud. Each target translates its SDK's errors in ONE
 * place (src/targets/<cloud>/errors.ts) into a `CloudError` of one of these kinds; the kind fixes the
 * exit code and the default hint, the translation adds what the cloud knows (the IAM action, the
 * role, the quota's name). Code that expects absence tests `isCloudNotFound`, never message text.
 */
import { ExitCode, MlshipError, type ErrorOptions } from '../util/errors.js';

export const CLOUD_ERROR_KINDS = ['credentials', 'permission', 'quota', 'not_found', 'invalid_request', 'throttled', 'conflict', 'service'] as const;
export type CloudErrorKind = (typeof CLOUD_ERROR_KINDS)[number];

/** The cloud's name in messages and `details.provider`: its target descriptor's `provider`. */
export type CloudProvider = string;

/** What each kind means for the user: its exit code and the fix when the translation knows no better. */
export const CLOUD_ERROR_CATEGORIES: Record<CloudErrorKind, { exitCode: ExitCode; title: string; hint: string }> = {
  credentials: {
    exitCode: ExitCode.failed,
    title: 'no usable credentials',
    hint: "Sign in with the cloud's CLI (or export its credential variables) and run the command again; mlship reads credentials only from the SDK's standard chain.",
  },
  permission: {
    exitCode: ExitCode.failed,
    title: 'permission denied',
    hint: 'Grant the identity named above the permission named above (or ask your administrator to), then run the command again.',
  },
  quota: {
    exitCode: ExitCode.failed,
    title: 'quota exceeded',
    hint: 'Request a higher quota, choose another instance type with serving.compute, or free capacity by deleting unused deployments.',
  },
  not_found: {
    exitCode: ExitCode.failed,
    title: 'not found',
    hint: 'Something mlship expected was deleted outside mlship; run the command again, or push and deploy again.',
  },
  invalid_request: {
    exitCode: ExitCode.usage,
    title: 'request refused as invalid',
    hint: 'The manifest asks for something the cloud refuses here (an instance type, a region…): fix it in mlship.yaml and run the command again.',
  },
  throttled: {
    exitCode: ExitCode.failed,
    title: 'throttled',
    hint: 'Wait a minute and run the command again; it picks up where it stopped.',
  },
  conflict: {
    exitCode: ExitCode.failed,
    title: 'conflicting operation in progress',
    hint: 'Another operation is changing the same resource; wait for it to finish and run the command again.',
  },
  service: {
    exitCode: ExitCode.failed,
    title: 'service error',
    hint: 'The cloud failed on its side or answered unexpectedly; run the command again, with --verbose for the full error.',
  },
};

/** A cloud call failed. `kind` decides the exit code; `code` stays provider-specific (`aws_access_denied`). */
export class CloudError extends MlshipError {
  readonly exitCode: ExitCode;
  readonly kind: CloudErrorKind;
  readonly provider: CloudProvider;

  constructor(kind: CloudErrorKind, provider: CloudProvider, message: string, options: ErrorOptions & { code?: string } = {}) {
    const category = CLOUD_ERROR_CATEGORIES[kind];
    super(options.code ?? `${provider}_${kind}`, message, {
      ...options,
      hint: options.hint ?? category.hint,
      details: { kind, provider, ...options.details },
    });
    this.exitCode = category.exitCode;
    this.kind = kind;
    this.provider = provider;
  }
}

/** Whether an error is a translated "not found" (callers that expect absence: describe → create). */
export function isCloudNotFound(error: unknown): boolean {
  return error instanceof CloudError && error.kind === 'not_found';
}

/**
 * Run a describe/get call; `undefined` when the resource does not exist (a translated `not_found`,
 * or what `notFound` recognises for a cloud whose raw errors may reach here).
 */
export async function ifFound<T>(fn: () => Promise<T>, notFound: (error: unknown) => boolean = isCloudNotFound): Promise<T | undefined> {
  try {
    return await fn();
  } catch (error) {
    if (notFound(error)) return undefined;
    throw error;
  }
}

/**
 * The one error-translation seam: a cloud client whose every method's failure (a rejected promise,
 * or a throw) goes through the cloud's translation (`src/targets/<cloud>/errors.ts`) before anyone
 * sees it. Async iterables (listings, lines) and plain properties pass through as they are.
 */
export function translatingCalls<T extends object>(api: T, translate: (error: unknown, call: string) => Error): T {
  return new Proxy(api, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      const call = String(prop);
      return (...args: unknown[]) => {
        let result: unknown;
        try {
          result = (value as (...a: unknown[]) => unknown).apply(target, args);
        } catch (error) {
          throw translate(error, call);
        }
        return result instanceof Promise ? result.catch((error: unknown) => Promise.reject(translate(error, call))) : result;
      };
    },
  });
}
