/**
 * The narrow Azure client: every Azure call the target makes, behind one interface of plain JSON
 * shapes (no SDK type leaves this file). One credential (`DefaultAzureCredential`: environment,
 * workload identity, managed identity, Azure CLI…), one `@azure/arm-machinelearning` client whose
 * pipeline (bearer token, retries, logging) carries every Resource Manager call:
 *
 * - through the SDK (api-version 2022-10-01, what 2.1.1 speaks), where its models carry everything
 *   mlship sends: endpoints (get, create/update with traffic, delete, listKeys), deployment
 *   get/delete/getLogs, model versions, environment versions (inferenceConfig), code versions,
 *   datastores.
 * - raw, through the same client's `sendRequest` and `@azure/core-lro`'s poller (the SDK's own LRO
 *   engine), at a pinned api-version: deployment create/update and reads (2026-07-01: the SDK's
 *   serializer drops `dataCollector` and `startupProbe`, its deserializer drops them on read),
 *   schedules (2026-07-01: CreateMonitor has no SDK model; CreateJob schedules take the same path),
 *   jobs (2026-07-01: the SDK's job output model has no `assetName`, which registers the retrained
 *   model),
 *   Azure Monitor metrics (Microsoft.Insights 2023-10-01) and autoscale settings (2022-10-01): no
 *   SDK in package.json covers those two; the workspace's container registry, `Registries_Get`
 *   (Microsoft.ContainerRegistry 2023-07-01) for its login server.
 * - the ACR token exchange (`POST https://<login server>/oauth2/exchange`, form-encoded: an AAD token
 *   of the same credential and ARM audience for an ACR refresh token, the docker password), through
 *   a clone of the same pipeline without its ARM bearer policy: a data-plane call, not ARM.
 *
 * Workspaces_Get (the workspace's `containerRegistry`) goes through the SDK.
 *
 * Blobs (`@azure/storage-blob`, same credential) live in `blob-store.ts`. All three SDKs load
 * lazily, when the target first connects.
 */
import type { TokenCredential } from '@azure/core-auth';

/** Api-versions of the raw calls (the SDK's own calls use its 2022-10-01). */
export const API_VERSION = { ml: '2026-07-01', sdk: '2022-10-01', metrics: '2023-10-01', autoscale: '2022-10-01', registry: '2023-07-01' } as const;

/** The ACR data-plane operation (its REST spec's name) that trades an AAD token for a registry refresh token. */
export const EXCHANGE_OPERATION = 'Authentication_ExchangeAadAccessTokenForAcrRefreshToken';

/** The user name of an ACR login with a refresh token from the AAD exchange (what `az acr login --expose-token` tells docker). */
export const ACR_TOKEN_USERNAME = '00000000-0000-0000-0000-000000000000';

/** An ARM resource as JSON (`properties` as the API has it). */
export interface ArmResource {
  id?: string;
  name?: string;
  location?: string;
  tags?: Record<string, string>;
  sku?: { name: string; capacity?: number };
  properties: Record<string, unknown>;
}

/** A failed Azure call, with what ARM said (code, status, message). */
export class AzureCallError extends Error {
  constructor(
    readonly operation: string,
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Whether a failure came from getting a token (`@azure/identity`), before any call reached Azure. */
export function isCredentialError(error: unknown): boolean {
  const name = (error as { name?: string })?.name ?? '';
  return /^(CredentialUnavailableError|AggregateAuthenticationError|AuthenticationRequiredError|AuthenticationError)$/.test(name);
}

/** What an SDK call's failure (a core-client `RestError`: statusCode, code, details.error) becomes. */
export function sdkCallError(operation: string, error: unknown): AzureCallError {
  const e = error as { statusCode?: number; code?: string; message?: string; details?: { error?: { code?: string; message?: string } } };
  return new AzureCallError(
    operation,
    e.statusCode ?? 0,
    e.details?.error?.code ?? e.code ?? 'Unknown',
    e.details?.error?.message ?? e.message ?? String(error),
  );
}

/** Every Azure ML / Monitor call the target makes. */
export interface AzureMl {
  readonly scope: { subscription: string; resourceGroup: string; workspace: string; armEndpoint: string };
  readonly credential: TokenCredential;
  /** The workspace's default datastore, or the named one. */
  getDatastore(name?: string): Promise<ArmResource>;
  getModelVersion(name: string, version: string): Promise<ArmResource | undefined>;
  listModelVersions(name: string): Promise<ArmResource[]>;
  putModelVersion(name: string, version: string, body: ArmResource): Promise<void>;
  getEnvironmentVersion(name: string, version: string): Promise<ArmResource | undefined>;
  putEnvironmentVersion(name: string, version: string, body: ArmResource): Promise<void>;
  getEndpoint(name: string): Promise<ArmResource | undefined>;
  putEndpoint(name: string, body: ArmResource): Promise<ArmResource>;
  deleteEndpoint(name: string): Promise<void>;
  endpointKey(name: string): Promise<string>;
  /** The Authorization header of a call to an endpoint's scoring URI: its primary key (`Key` auth), or an AAD token for Azure ML (`AADToken`). */
  scoringAuthorization(endpoint: string, authMode: string): Promise<string>;
  getDeployment(endpoint: string, name: string): Promise<ArmResource | undefined>;
  listDeployments(endpoint: string): Promise<ArmResource[]>;
  putDeployment(endpoint: string, name: string, body: ArmResource): Promise<ArmResource>;
  deleteDeployment(endpoint: string, name: string): Promise<void>;
  deploymentLogs(endpoint: string, name: string, tail: number): Promise<string>;
  getSchedule(name: string): Promise<ArmResource | undefined>;
  putSchedule(name: string, body: ArmResource): Promise<void>;
  deleteSchedule(name: string): Promise<void>;
  getCodeVersion(name: string, version: string): Promise<ArmResource | undefined>;
  putCodeVersion(name: string, version: string, body: ArmResource): Promise<void>;
  putJob(name: string, body: ArmResource): Promise<ArmResource>;
  getJob(name: string): Promise<ArmResource | undefined>;
  putAutoscale(name: string, body: Record<string, unknown>): Promise<void>;
  /** The ARM id of the workspace's container registry; undefined while the workspace has none. */
  workspaceRegistryId(): Promise<string | undefined>;
  /** A container registry's login server (`myacr.azurecr.io`; other clouds have other suffixes). */
  registryLoginServer(registryId: string): Promise<string>;
  /** An ACR refresh token for the login server, from an AAD token of this credential (the docker password). */
  registryRefreshToken(loginServer: string): Promise<string>;
  /** Azure Monitor metric totals/averages of an endpoint over a window, split by status class. */
  metrics(resourceId: string, query: { names: string[]; from: Date; to: Date; filter?: string; aggregation: string }): Promise<MetricSeries[]>;
}

export interface MetricSeries {
  name: string;
  /** Dimension values of the series (`statusCodeClass` → `5xx`). */
  dimensions: Record<string, string>;
  /** Sum of `total` over the window (counts), or the mean of `average` (latencies). */
  total: number;
  average?: number;
}

export interface ConnectOptions {
  subscription: string;
  resourceGroup: string;
  workspace: string;
  armEndpoint: string;
  /** Longest pause between polls of a long-running operation. */
  pollMs?: number;
}

/** Connect: load the SDKs, build the credential and the one ARM client. */
export async function connectAzureMl(options: ConnectOptions): Promise<AzureMl> {
  const [
    { DefaultAzureCredential },
    { AzureMachineLearningWorkspaces },
    { createPipelineRequest, createDefaultHttpClient, bearerTokenAuthenticationPolicyName },
    { createHttpPoller },
  ] = await Promise.all([import('@azure/identity'), import('@azure/arm-machinelearning'), import('@azure/core-rest-pipeline'), import('@azure/core-lro')]);
  const credential = new DefaultAzureCredential();
  const endpoint = options.armEndpoint.replace(/\/$/, '');
  const client = new AzureMachineLearningWorkspaces(credential, options.subscription, { endpoint, $host: endpoint } as ConstructorParameters<
    typeof AzureMachineLearningWorkspaces
  >[2]);
  const { resourceGroup: rg, workspace: ws } = options;
  const wsPath = `/subscriptions/${options.subscription}/resourceGroups/${rg}/providers/Microsoft.MachineLearningServices/workspaces/${ws}`;
  const poll = { intervalInMs: options.pollMs ?? 2000 };

  /** Run an SDK call; a 404 is `undefined`, other failures become AzureCallError. */
  async function sdk<T>(operation: string, call: () => Promise<T>, opts: { missingOk?: boolean } = {}): Promise<T | undefined> {
    try {
      return await call();
    } catch (error) {
      if (opts.missingOk && (error as { statusCode?: number }).statusCode === 404) return undefined;
      // No token at all is not an ARM answer: it keeps its identity error for the translation (errors.ts).
      if (isCredentialError(error)) throw error;
      throw sdkCallError(operation, error);
    }
  }

  interface RawResponse {
    status: number;
    headers: Record<string, string>;
    body: unknown;
  }
  /** One request through the SDK client's pipeline (same credential, retry and logging policies). */
  async function send(
    operation: string,
    method: 'GET' | 'PUT' | 'DELETE' | 'POST',
    pathOrUrl: string,
    body?: unknown,
    apiVersion: string = API_VERSION.ml,
  ): Promise<RawResponse> {
    const url =
      pathOrUrl.startsWith('https://') || pathOrUrl.startsWith('http://')
        ? pathOrUrl
        : `${endpoint}${pathOrUrl}${pathOrUrl.includes('?') ? '&' : '?'}api-version=${apiVersion}`;
    const request = createPipelineRequest({ url, method, ...(body !== undefined && { body: JSON.stringify(body) }) });
    request.headers.set('Accept', 'application/json');
    if (body !== undefined) request.headers.set('Content-Type', 'application/json');
    return transmit(operation, () => client.sendRequest(request));
  }
  // The same pipeline (retries, logging) without the ARM bearer token, for a registry's token
  // endpoint: the AAD token travels in the form, and ARM's token has no business in a header there.
  const tokenless = client.pipeline.clone();
  tokenless.removePolicy({ name: bearerTokenAuthenticationPolicyName });
  const httpClient = createDefaultHttpClient();
  /** A form POST through the tokenless pipeline. */
  async function sendForm(operation: string, url: string, form: Record<string, string>): Promise<RawResponse> {
    const request = createPipelineRequest({ url, method: 'POST', body: new URLSearchParams(form).toString() });
    request.headers.set('Accept', 'application/json');
    request.headers.set('Content-Type', 'application/x-www-form-urlencoded');
    return transmit(operation, () => tokenless.sendRequest(httpClient, request));
  }
  /** Send, and read the answer as JSON (text when it is not); a transport failure is an AzureCallError. */
  async function transmit(
    operation: string,
    go: () => Promise<{ status: number; bodyAsText?: string | null; headers: { toJSON(): Record<string, string> } }>,
  ): Promise<RawResponse> {
    let response;
    try {
      response = await go();
    } catch (error) {
      throw new AzureCallError(operation, 0, (error as { code?: string }).code ?? 'RequestFailed', (error as Error).message);
    }
    let parsed: unknown;
    if (response.bodyAsText) {
      try {
        parsed = JSON.parse(response.bodyAsText);
      } catch {
        parsed = response.bodyAsText;
      }
    }
    return { status: response.status, headers: response.headers.toJSON(), body: parsed };
  }
  function check(operation: string, r: RawResponse, missingOk = false): RawResponse | undefined {
    if (r.status < 300) return r;
    if (missingOk && r.status === 404) return undefined;
    const err = (r.body as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw new AzureCallError(operation, r.status, err?.code ?? `Http${r.status}`, err?.message ?? `HTTP ${r.status}`);
  }
  /** A raw long-running operation, polled by core-lro the way the SDK polls its own. */
  async function longRunning(operation: string, method: 'PUT' | 'DELETE', path: string, body: unknown, via: 'original-uri' | 'location'): Promise<unknown> {
    const toLro = (r: RawResponse) => {
      check(operation, r);
      return { flatResponse: r.body, rawResponse: { statusCode: r.status, headers: r.headers, body: r.body } };
    };
    const poller = await createHttpPoller(
      {
        requestPath: `${endpoint}${path}?api-version=${API_VERSION.ml}`,
        requestMethod: method,
        sendInitialRequest: async () => toLro(await send(operation, method, path, body)),
        sendPollRequest: async (pollPath: string) => toLro(await send(operation, 'GET', pollPath)),
      },
      { ...poll, resourceLocationConfig: via },
    );
    try {
      return await poller.pollUntilDone();
    } catch (error) {
      if (error instanceof AzureCallError) throw error;
      const e = error as { code?: string; message?: string; statusCode?: number };
      throw new AzureCallError(operation, e.statusCode ?? 0, e.code ?? 'OperationFailed', e.message ?? String(error));
    }
  }
  const plain = <T>(v: T): ArmResource => JSON.parse(JSON.stringify(v)) as ArmResource;
  const collect = async <T>(it: AsyncIterable<T>): Promise<T[]> => {
    const out: T[] = [];
    for await (const x of it) out.push(x);
    return out;
  };
  const sdkPoll = { updateIntervalInMs: poll.intervalInMs };

  const api: AzureMl = {
    scope: { subscription: options.subscription, resourceGroup: rg, workspace: ws, armEndpoint: endpoint },
    credential,
    async getDatastore(name) {
      if (name) return plain(await sdk('Datastores_Get', () => client.datastores.get(rg, ws, name)));
      const all = await sdk('Datastores_List', () => collect(client.datastores.list(rg, ws, { isDefault: true })));
      if (!all?.[0]) throw new AzureCallError('Datastores_List', 404, 'NoDefaultDatastore', `workspace ${ws} has no default datastore`);
      return plain(all[0]);
    },
    async getModelVersion(name, version) {
      const r = await sdk('ModelVersions_Get', () => client.modelVersions.get(rg, ws, name, version), { missingOk: true });
      return r && plain(r);
    },
    async listModelVersions(name) {
      const r = await sdk('ModelVersions_List', () => collect(client.modelVersions.list(rg, ws, name)), { missingOk: true });
      return (r ?? []).map(plain);
    },
    async putModelVersion(name, version, body) {
      await sdk('ModelVersions_CreateOrUpdate', () => client.modelVersions.createOrUpdate(rg, ws, name, version, body as never));
    },
    async getEnvironmentVersion(name, version) {
      const r = await sdk('EnvironmentVersions_Get', () => client.environmentVersions.get(rg, ws, name, version), { missingOk: true });
      return r && plain(r);
    },
    async putEnvironmentVersion(name, version, body) {
      await sdk('EnvironmentVersions_CreateOrUpdate', () => client.environmentVersions.createOrUpdate(rg, ws, name, version, body as never));
    },
    async getEndpoint(name) {
      const r = await sdk('OnlineEndpoints_Get', () => client.onlineEndpoints.get(rg, ws, name), { missingOk: true });
      return r && plain(r);
    },
    async putEndpoint(name, body) {
      return plain(await sdk('OnlineEndpoints_CreateOrUpdate', () => client.onlineEndpoints.beginCreateOrUpdateAndWait(rg, ws, name, body as never, sdkPoll)));
    },
    async deleteEndpoint(name) {
      await sdk('OnlineEndpoints_Delete', () => client.onlineEndpoints.beginDeleteAndWait(rg, ws, name, sdkPoll));
    },
    async endpointKey(name) {
      const keys = await sdk('OnlineEndpoints_ListKeys', () => client.onlineEndpoints.listKeys(rg, ws, name));
      return keys?.primaryKey ?? '';
    },
    async scoringAuthorization(endpoint, authMode) {
      if (authMode !== 'AADToken') return `Bearer ${await this.endpointKey(endpoint)}`;
      const token = await credential.getToken('https://ml.azure.com/.default');
      if (!token) throw new AzureCallError('OnlineEndpoints_GetToken', 401, 'NoToken', 'the Azure credential returned no access token');
      return `Bearer ${token.token}`;
    },
    async getDeployment(ep, name) {
      const r = check('OnlineDeployments_Get', await send('OnlineDeployments_Get', 'GET', `${wsPath}/onlineEndpoints/${ep}/deployments/${name}`), true);
      return r?.body as ArmResource | undefined;
    },
    async listDeployments(ep) {
      const out: ArmResource[] = [];
      let next: string | undefined = `${wsPath}/onlineEndpoints/${ep}/deployments`;
      while (next) {
        const r = check('OnlineDeployments_List', await send('OnlineDeployments_List', 'GET', next), true);
        if (!r) break;
        const page = r.body as { value?: ArmResource[]; nextLink?: string };
        out.push(...(page.value ?? []));
        next = page.nextLink;
      }
      return out;
    },
    async putDeployment(ep, name, body) {
      await longRunning('OnlineDeployments_CreateOrUpdate', 'PUT', `${wsPath}/onlineEndpoints/${ep}/deployments/${name}`, body, 'original-uri');
      // core-lro returns the resource from the original URI; read it again for the final state.
      const d = await api.getDeployment(ep, name);
      if (!d) throw new AzureCallError('OnlineDeployments_Get', 404, 'ResourceNotFound', `deployment ${name} vanished after it was created`);
      return d;
    },
    async deleteDeployment(ep, name) {
      await sdk('OnlineDeployments_Delete', () => client.onlineDeployments.beginDeleteAndWait(rg, ws, ep, name, sdkPoll));
    },
    async deploymentLogs(ep, name, tail) {
      const r = await sdk('OnlineDeployments_GetLogs', () => client.onlineDeployments.getLogs(rg, ws, ep, name, { containerType: 'InferenceServer', tail }), {
        missingOk: true,
      });
      return r?.content ?? '';
    },
    async getSchedule(name) {
      const r = check('Schedules_Get', await send('Schedules_Get', 'GET', `${wsPath}/schedules/${name}`), true);
      return r?.body as ArmResource | undefined;
    },
    async putSchedule(name, body) {
      await longRunning('Schedules_CreateOrUpdate', 'PUT', `${wsPath}/schedules/${name}`, body, 'original-uri');
    },
    async deleteSchedule(name) {
      const r = await send('Schedules_Delete', 'DELETE', `${wsPath}/schedules/${name}`);
      if (r.status === 404 || r.status === 204) return;
      check('Schedules_Delete', r);
      if (r.status === 202) await longRunning('Schedules_Delete', 'DELETE', `${wsPath}/schedules/${name}`, undefined, 'location').catch(() => undefined);
    },
    async getCodeVersion(name, version) {
      const r = await sdk('CodeVersions_Get', () => client.codeVersions.get(rg, ws, name, version), { missingOk: true });
      return r && plain(r);
    },
    async putCodeVersion(name, version, body) {
      await sdk('CodeVersions_CreateOrUpdate', () => client.codeVersions.createOrUpdate(rg, ws, name, version, body as never));
    },
    async putJob(name, body) {
      return check('Jobs_CreateOrUpdate', await send('Jobs_CreateOrUpdate', 'PUT', `${wsPath}/jobs/${name}`, body))!.body as ArmResource;
    },
    async getJob(name) {
      const r = check('Jobs_Get', await send('Jobs_Get', 'GET', `${wsPath}/jobs/${name}`), true);
      return r?.body as ArmResource | undefined;
    },
    async putAutoscale(name, body) {
      const path = `/subscriptions/${options.subscription}/resourceGroups/${rg}/providers/Microsoft.Insights/autoscalesettings/${name}`;
      check('AutoscaleSettings_CreateOrUpdate', await send('AutoscaleSettings_CreateOrUpdate', 'PUT', path, body, API_VERSION.autoscale));
    },
    async workspaceRegistryId() {
      const workspace = await sdk('Workspaces_Get', () => client.workspaces.get(rg, ws));
      return workspace?.containerRegistry || undefined;
    },
    async registryLoginServer(registryId) {
      const r = check('Registries_Get', await send('Registries_Get', 'GET', registryId, undefined, API_VERSION.registry))!;
      const loginServer = (r.body as ArmResource).properties?.loginServer;
      if (typeof loginServer !== 'string' || !loginServer)
        throw new AzureCallError('Registries_Get', r.status, 'NoLoginServer', `container registry ${registryId} has no login server`);
      return loginServer;
    },
    async registryRefreshToken(loginServer) {
      const operation = EXCHANGE_OPERATION;
      // The AAD token the ARM calls use (same credential, same audience), as `az acr login` exchanges it.
      const aad = await credential.getToken(`${endpoint}/.default`);
      if (!aad) throw new AzureCallError(operation, 401, 'NoToken', 'the Azure credential returned no access token');
      const tenant = tokenTenant(aad.token);
      const r = await sendForm(operation, `https://${loginServer}/oauth2/exchange`, {
        grant_type: 'access_token',
        service: loginServer,
        ...(tenant && { tenant }),
        access_token: aad.token,
      });
      const body = r.body as { refresh_token?: string; errors?: { code?: string; message?: string }[] } | undefined;
      if (r.status >= 300 || !body?.refresh_token) {
        // ACR answers errors as `{errors: [{code, message}]}`, not ARM's `{error}`.
        const e = body?.errors?.[0];
        throw new AzureCallError(
          operation,
          r.status,
          e?.code ?? `Http${r.status}`,
          e?.message ?? (r.status < 300 ? 'the registry answered without a refresh token' : `HTTP ${r.status}`),
        );
      }
      return body.refresh_token;
    },
    async metrics(resourceId, q) {
      const params = new URLSearchParams({
        metricnames: q.names.join(','),
        timespan: `${q.from.toISOString()}/${q.to.toISOString()}`,
        interval: 'PT1M',
        aggregation: q.aggregation,
        ...(q.filter && { $filter: q.filter }),
      });
      const r = check(
        'Metrics_List',
        await send('Metrics_List', 'GET', `${resourceId}/providers/Microsoft.Insights/metrics?${params.toString()}`, undefined, API_VERSION.metrics),
      )!;
      const value =
        (
          r.body as {
            value?: {
              name: { value: string };
              timeseries?: { metadatavalues?: { name: { value: string }; value: string }[]; data?: { total?: number; average?: number }[] }[];
            }[];
          }
        ).value ?? [];
      return value.flatMap((m) =>
        (m.timeseries ?? []).map((s) => {
          const data = s.data ?? [];
          const averages = data.map((d) => d.average).filter((v): v is number => typeof v === 'number');
          return {
            name: m.name.value,
            dimensions: Object.fromEntries((s.metadatavalues ?? []).map((d) => [d.name.value, d.value])),
            total: data.reduce((a, d) => a + (d.total ?? 0), 0),
            ...(averages.length > 0 && { average: averages.reduce((a, b) => a + b, 0) / averages.length }),
          };
        }),
      );
    },
  };
  return api;
}

/** The tenant an AAD access token was issued in (its `tid` claim), which the ACR exchange takes; undefined when unreadable. */
function tokenTenant(token: string): string | undefined {
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { tid?: unknown };
    return typeof claims.tid === 'string' ? claims.tid : undefined;
  } catch {
    return undefined;
  }
}
