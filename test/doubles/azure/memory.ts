/**
 * An in-memory fake of the Azure target's narrow client (`AzureMl`, src/targets/azure/client.ts):
 * the calls push, deploy, rollback, status and stop make, over plain maps, with the online endpoint
 * driven by the shared endpoint-rollout state machine (ENDPOINT-ROLLOUT.md) in its controller-driven
 * mode: one deployment per version (`vN`) provisions, then is `Succeeded` or `Failed` by the version's
 * behaviour; the endpoint's `traffic` is the machine's split; Azure Monitor's `metrics()` answers
 * from the split and the behaviour (RequestsPerMinute by statusCodeClass, RequestLatency_Pxx).
 * Failures are what the real client throws: SDK errors (`RestError`: statusCode, code,
 * details.error) through the client's own `sdkCallError`, failed long-running operations as
 * core-lro words them, so the target's real translation (errors.ts) runs. `failNext(kind)` makes
 * the next call fail with the ARM error of that category. The datastore is a `MemoryObjectStore`
 * whose writes count as mutations. It is the fast tier under the wire-level doubles
 * (test/doubles/azure), not a replacement for them.
 */
import type { TokenCredential } from '@azure/core-auth';
import { AzureCallError, sdkCallError, type ArmResource, type AzureMl, type MetricSeries } from '../../../src/targets/azure/client.js';
import type { CloudErrorKind } from '../../../src/deploy/cloud-errors.js';
import { MemoryObjectStore } from '../../../src/deploy/object-store.js';
import { EndpointRollout, type Behaviour } from '../shared/endpoint-rollout.js';

const SUBSCRIPTION = '00000000-0000-4000-8000-000000000001';
const RESOURCE_GROUP = 'mlship-rg';
const WORKSPACE = 'mlship-ws';
const LOCATION = 'westeurope';
const WS_PATH = `/subscriptions/${SUBSCRIPTION}/resourceGroups/${RESOURCE_GROUP}/providers/Microsoft.MachineLearningServices/workspaces/${WORKSPACE}`;
const REGISTRY_ID = `/subscriptions/${SUBSCRIPTION}/resourceGroups/${RESOURCE_GROUP}/providers/Microsoft.ContainerRegistry/registries/mlshipfake`;
/** Requests per minute the fake's monitoring reports for the endpoint, until `traffic(n)` changes it. */
const RPM = 100;

/** An error shaped as `@azure/core-client` throws it for an ARM error response. */
function restError(statusCode: number, code: string, message: string): Error {
  return Object.assign(new Error(message), { name: 'RestError', statusCode, code, details: { error: { code, message } } });
}

/** The ARM error of each shared category, as the fake injects it. */
const INJECTED: Record<CloudErrorKind, () => Error> = {
  credentials: () => restError(401, 'ExpiredAuthenticationToken', 'The access token expiry UTC time is earlier than current UTC time.'),
  permission: () =>
    restError(
      403,
      'AuthorizationFailed',
      `The client 'ci@example.com' with object id '11111111-2222-3333-4444-555555555555' does not have authorization to perform action 'Microsoft.MachineLearningServices/workspaces/datastores/read' over scope '${WS_PATH}' or the scope is invalid.`,
    ),
  quota: () => restError(400, 'QuotaExceeded', 'Not enough quota available for Standard_DS3_v2 in StandardDSv2Family. Additional requested quota: 4 cores.'),
  not_found: () =>
    restError(
      404,
      'ResourceNotFound',
      `The Resource 'Microsoft.MachineLearningServices/workspaces/${WORKSPACE}' under resource group '${RESOURCE_GROUP}' was not found.`,
    ),
  invalid_request: () => restError(400, 'BadRequest', 'The request is invalid: properties.instanceType must be a supported VM size.'),
  throttled: () =>
    restError(429, 'TooManyRequests', "The request is being throttled as the limit has been reached for operation type - 'Read_ObservationWindow_00:05:00'."),
  conflict: () => restError(409, 'Conflict', 'There is already an operation in progress on the workspace; wait for it to finish and try again.'),
  service: () => restError(500, 'InternalServerError', 'An internal server error occurred. Please retry the request.'),
};

const MUTATING = /^(put|delete)/;

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** The datastore's objects; every write is counted. */
class CountingStore extends MemoryObjectStore {
  writes = 0;
  override async put(key: string, body: string | Uint8Array): Promise<void> {
    this.writes++;
    return super.put(key, body);
  }
  override async putFile(key: string, file: string): Promise<void> {
    this.writes++;
    return super.putFile(key, file);
  }
}

export interface MemoryAzure {
  api: AzureMl;
  /** The workspace datastore's container (pass as the target's `store`). */
  store: MemoryObjectStore;
  machine: EndpointRollout;
  /** Behaviour of a version (`v1`…) once it serves. */
  behaviours: Map<string, Partial<Behaviour>>;
  failNext(kind: CloudErrorKind): void;
  /** The version serving all traffic, as the endpoint says. */
  servingVersion(): string | undefined;
  /** Requests per minute that reach the endpoint from now on (split by its traffic); 0: none. */
  traffic(requestsPerMinute: number): void;
  /** Client calls, by method name. */
  calls: string[];
  mutations(): number;
  /** The `targets.azure` block that points a manifest at this workspace. */
  manifestBlock: Record<string, string>;
}

export function memoryAzure(): MemoryAzure {
  let rpm = RPM;
  const behaviours = new Map<string, Partial<Behaviour>>();
  const behaviour = (deployment: string): Behaviour => ({ healthy: true, errorRate: 0, latencyMs: 5, ...behaviours.get(deployment) });
  // Deployments are named after versions (`vN`).
  const machine = new EndpointRollout(behaviour, { provisionTicks: 2 });
  const store = new CountingStore(`https://mlshipfake.blob.core.windows.net/azureml-blobstore`);
  const models = new Map<string, Map<string, ArmResource>>();
  const environments = new Map<string, Map<string, ArmResource>>();
  const codes = new Map<string, Map<string, ArmResource>>();
  const schedules = new Map<string, ArmResource>();
  const jobs = new Map<string, ArmResource>();
  const autoscale = new Map<string, Record<string, unknown>>();
  const deployments = new Map<string, ArmResource>();
  let endpoint: ArmResource | undefined;
  const calls: string[] = [];
  let injected: CloudErrorKind | undefined;

  const id = (child: string) => `${WS_PATH}/${child}`;
  const provisioningState = (name: string) => {
    const state = machine.deployments.get(name)?.state;
    return state === 'Ready' ? 'Succeeded' : state === 'Failed' ? 'Failed' : 'Creating';
  };
  const endpointView = (): ArmResource | undefined => {
    if (!endpoint) return undefined;
    const state = machine.observe();
    if (!state) return undefined;
    return { ...clone(endpoint), properties: { ...clone(endpoint.properties), traffic: state.serving, provisioningState: 'Succeeded' } };
  };
  const deploymentView = (name: string): ArmResource | undefined => {
    const d = deployments.get(name);
    return d && { ...clone(d), properties: { ...clone(d.properties), provisioningState: provisioningState(name) } };
  };
  const missingEndpoint = (name: string) =>
    restError(
      404,
      'ResourceNotFound',
      `The Resource 'Microsoft.MachineLearningServices/workspaces/${WORKSPACE}/onlineEndpoints/${name}' under resource group '${RESOURCE_GROUP}' was not found.`,
    );

  /** One client method: records the call, fires an injected error, turns SDK errors into what the real client throws. */
  function call<A extends unknown[], R>(
    method: string,
    operation: string,
    fn: (...args: A) => R | Promise<R>,
    opts: { missingOk?: boolean; missing?: R } = {},
  ): (...args: A) => Promise<R | undefined> {
    return async (...args: A) => {
      calls.push(method);
      try {
        if (injected) {
          const kind = injected;
          injected = undefined;
          throw INJECTED[kind]();
        }
        return await fn(...args);
      } catch (error) {
        if (error instanceof AzureCallError) throw error;
        if (opts.missingOk && (error as { statusCode?: number }).statusCode === 404) return opts.missing;
        throw sdkCallError(operation, error);
      }
    };
  }

  const versions = (assets: Map<string, Map<string, ArmResource>>, kind: string, name: string, version: string, body: ArmResource) => {
    const all = assets.get(name) ?? assets.set(name, new Map()).get(name)!;
    // Asset versions are immutable apart from tags, description, stage and archive state.
    const existing = all.get(version);
    if (existing && changesContent(existing, body))
      throw restError(409, 'UserError', `Conflict: ${kind} version ${name}:${version} already exists and its content cannot change.`);
    all.set(version, {
      ...clone(body),
      id: id(`${kind}s/${name}/versions/${version}`),
      name: version,
      properties: { ...clone(existing?.properties ?? {}), ...clone(body.properties), provisioningState: 'Succeeded' },
    });
  };
  const getVersion = (assets: Map<string, Map<string, ArmResource>>, kind: string, name: string, version: string) => {
    const v = assets.get(name)?.get(version);
    if (!v) throw restError(404, 'ResourceNotFound', `${kind} ${name}:${version} was not found.`);
    return clone(v);
  };

  const api: AzureMl = {
    scope: { subscription: SUBSCRIPTION, resourceGroup: RESOURCE_GROUP, workspace: WORKSPACE, armEndpoint: 'https://management.azure.com' },
    credential: { getToken: async () => ({ token: 'fake-token', expiresOnTimestamp: Date.now() + 3_600_000 }) } satisfies TokenCredential,
    getDatastore: call('getDatastore', 'Datastores_List', (name?: string) => ({
      id: id(`datastores/${name ?? 'workspaceblobstore'}`),
      name: name ?? 'workspaceblobstore',
      properties: {
        datastoreType: 'AzureBlob',
        accountName: 'mlshipfake',
        containerName: 'azureml-blobstore',
        endpoint: 'core.windows.net',
        protocol: 'https',
        isDefault: true,
      },
    })) as AzureMl['getDatastore'],
    getModelVersion: call('getModelVersion', 'ModelVersions_Get', (name: string, version: string) => getVersion(models, 'model', name, version), {
      missingOk: true,
    }),
    listModelVersions: call(
      'listModelVersions',
      'ModelVersions_List',
      (name: string) => {
        const all = models.get(name);
        if (!all) throw restError(404, 'ResourceNotFound', `Model container ${name} was not found.`);
        return [...all.values()].map(clone);
      },
      { missingOk: true, missing: [] },
    ) as AzureMl['listModelVersions'],
    putModelVersion: call('putModelVersion', 'ModelVersions_CreateOrUpdate', (name: string, version: string, body: ArmResource) =>
      versions(models, 'model', name, version, body),
    ) as AzureMl['putModelVersion'],
    getEnvironmentVersion: call(
      'getEnvironmentVersion',
      'EnvironmentVersions_Get',
      (name: string, version: string) => getVersion(environments, 'environment', name, version),
      { missingOk: true },
    ),
    getCodeVersion: call('getCodeVersion', 'CodeVersions_Get', (name: string, version: string) => getVersion(codes, 'code', name, version), {
      missingOk: true,
    }),
    putCodeVersion: call('putCodeVersion', 'CodeVersions_CreateOrUpdate', (name: string, version: string, body: ArmResource) =>
      versions(codes, 'code', name, version, body),
    ) as AzureMl['putCodeVersion'],
    putEnvironmentVersion: call('putEnvironmentVersion', 'EnvironmentVersions_CreateOrUpdate', (name: string, version: string, body: ArmResource) =>
      versions(environments, 'environment', name, version, body),
    ) as AzureMl['putEnvironmentVersion'],
    getEndpoint: call(
      'getEndpoint',
      'OnlineEndpoints_Get',
      (name: string) => {
        const view = endpoint?.name === name ? endpointView() : undefined;
        if (!view) throw missingEndpoint(name);
        return view;
      },
      { missingOk: true },
    ),
    putEndpoint: call('putEndpoint', 'OnlineEndpoints_CreateOrUpdate', (name: string, body: ArmResource) => {
      const traffic = Object.fromEntries(Object.entries((body.properties.traffic ?? {}) as Record<string, number>));
      const sum = Object.values(traffic).reduce((a, b) => a + b, 0);
      if (Object.keys(traffic).length > 0) {
        if (sum !== 100) throw restError(400, 'BadArgument', `Traffic values sum to ${sum}; they must sum to 100.`);
        for (const [d, pct] of Object.entries(traffic)) {
          if (pct > 0 && !deployments.has(d))
            throw restError(400, 'BadArgument', `Deployment '${d}' does not exist in endpoint '${name}'; traffic can only go to existing deployments.`);
          if (pct > 0 && provisioningState(d) !== 'Succeeded')
            throw restError(400, 'BadArgument', `Deployment '${d}' is not in a Succeeded state; traffic cannot be routed to it.`);
        }
      }
      if (!endpoint) {
        endpoint = {
          ...clone(body),
          id: id(`onlineEndpoints/${name}`),
          name,
          properties: { ...clone(body.properties), scoringUri: `https://${name}.${LOCATION}.inference.ml.azure.com/score` },
          systemData: { lastModifiedAt: new Date().toISOString() },
        } as ArmResource;
        machine.status ??= 'InService';
      } else {
        endpoint = {
          ...endpoint,
          tags: body.tags ?? endpoint.tags,
          properties: { ...endpoint.properties, ...clone(body.properties), scoringUri: endpoint.properties.scoringUri },
        };
      }
      if (Object.keys(traffic).length > 0) machine.setTraffic(traffic);
      return endpointView()!;
    }) as AzureMl['putEndpoint'],
    deleteEndpoint: call('deleteEndpoint', 'OnlineEndpoints_Delete', (name: string) => {
      if (!endpoint || endpoint.name !== name) return;
      machine.serving = {};
      for (const d of [...deployments.keys()]) machine.undeploy(d);
      deployments.clear();
      machine.delete();
      machine.observe();
      endpoint = undefined;
    }) as AzureMl['deleteEndpoint'],
    endpointKey: call('endpointKey', 'OnlineEndpoints_ListKeys', () => 'fake-primary-key') as AzureMl['endpointKey'],
    scoringAuthorization: call('scoringAuthorization', 'OnlineEndpoints_ListKeys', () => 'Bearer fake-primary-key') as AzureMl['scoringAuthorization'],
    getDeployment: call(
      'getDeployment',
      'OnlineDeployments_Get',
      (ep: string, name: string) => {
        const view = endpoint?.name === ep ? deploymentView(name) : undefined;
        if (!view) throw restError(404, 'ResourceNotFound', `Deployment ${name} of endpoint ${ep} was not found.`);
        return view;
      },
      { missingOk: true },
    ),
    listDeployments: call(
      'listDeployments',
      'OnlineDeployments_List',
      (ep: string) => {
        if (endpoint?.name !== ep) throw missingEndpoint(ep);
        return [...deployments.keys()].map((d) => deploymentView(d)!);
      },
      { missingOk: true, missing: [] },
    ) as AzureMl['listDeployments'],
    putDeployment: call('putDeployment', 'OnlineDeployments_CreateOrUpdate', (ep: string, name: string, body: ArmResource) => {
      if (endpoint?.name !== ep) throw missingEndpoint(ep);
      deployments.set(name, { ...clone(body), id: id(`onlineEndpoints/${ep}/deployments/${name}`), name });
      machine.deploy(name);
      // The long-running operation, polled until it ends (each poll is one observation).
      while (machine.deployments.get(name)?.state === 'Provisioning') machine.observe();
      if (machine.deployments.get(name)?.state === 'Failed') {
        // core-lro's words for a failed operation; the client wraps them as OperationFailed.
        throw new AzureCallError(
          'OnlineDeployments_CreateOrUpdate',
          0,
          'OperationFailed',
          `The long-running operation has failed. ResourceNotReady. User container has crashed or terminated: the readiness probe of deployment ${name} never succeeded.`,
        );
      }
      return deploymentView(name)!;
    }) as AzureMl['putDeployment'],
    deleteDeployment: call('deleteDeployment', 'OnlineDeployments_Delete', (ep: string, name: string) => {
      if (endpoint?.name !== ep || !deployments.has(name)) return;
      if ((machine.serving[name] ?? 0) > 0) throw restError(400, 'BadArgument', `Deployment ${name} has traffic; set its traffic to 0 before deleting it.`);
      machine.undeploy(name);
      deployments.delete(name);
    }) as AzureMl['deleteDeployment'],
    deploymentLogs: call(
      'deploymentLogs',
      'OnlineDeployments_GetLogs',
      (_ep: string, name: string) =>
        provisioningState(name) === 'Failed'
          ? 'Readiness probe failed: GET /ready: connection refused\nUser container has crashed or terminated.\n'
          : 'Listening on 0.0.0.0:8080\n',
      { missingOk: true, missing: '' },
    ) as AzureMl['deploymentLogs'],
    getSchedule: call(
      'getSchedule',
      'Schedules_Get',
      (name: string) => {
        const s = schedules.get(name);
        if (!s) throw restError(404, 'ResourceNotFound', `Schedule ${name} was not found.`);
        return clone(s);
      },
      { missingOk: true },
    ),
    putSchedule: call(
      'putSchedule',
      'Schedules_CreateOrUpdate',
      (name: string, body: ArmResource) =>
        void schedules.set(name, {
          ...clone(body),
          id: id(`schedules/${name}`),
          name,
          properties: { ...clone(body.properties), provisioningState: 'Succeeded' },
        }),
    ) as AzureMl['putSchedule'],
    deleteSchedule: call('deleteSchedule', 'Schedules_Delete', (name: string) => void schedules.delete(name)) as AzureMl['deleteSchedule'],
    putJob: call('putJob', 'Jobs_CreateOrUpdate', (name: string, body: ArmResource) => {
      if (jobs.has(name)) throw restError(409, 'UserError', `A job with this name already exists: ${name}`);
      const job = { ...clone(body), id: id(`jobs/${name}`), name, properties: { ...clone(body.properties), status: 'Running' } };
      jobs.set(name, job);
      return clone(job);
    }) as AzureMl['putJob'],
    getJob: call(
      'getJob',
      'Jobs_Get',
      (name: string) => {
        const job = jobs.get(name);
        if (!job) throw restError(404, 'ResourceNotFound', `Job ${name} was not found.`);
        job.properties.status = 'Completed';
        return clone(job);
      },
      { missingOk: true },
    ),
    putAutoscale: call(
      'putAutoscale',
      'AutoscaleSettings_CreateOrUpdate',
      (name: string, body: Record<string, unknown>) => void autoscale.set(name, clone(body)),
    ) as AzureMl['putAutoscale'],
    // The workspace's container registry (push without --image): one registry, any token exchanges.
    workspaceRegistryId: call('workspaceRegistryId', 'Workspaces_Get', () => REGISTRY_ID) as AzureMl['workspaceRegistryId'],
    registryLoginServer: call('registryLoginServer', 'Registries_Get', () => 'mlshipfake.azurecr.io') as AzureMl['registryLoginServer'],
    registryRefreshToken: call(
      'registryRefreshToken',
      'Authentication_ExchangeAadAccessTokenForAcrRefreshToken',
      () => 'fake-acr-refresh-token',
    ) as AzureMl['registryRefreshToken'],
    metrics: call(
      'metrics',
      'Metrics_List',
      (_resourceId: string, q: { names: string[]; from: Date; to: Date; filter?: string; aggregation: string }): MetricSeries[] => {
        const deployment = /deployment eq '([^']+)'/.exec(q.filter ?? '')?.[1] ?? '';
        const minutes = Math.max(1, Math.round((q.to.getTime() - q.from.getTime()) / 60_000));
        const m = machine.metrics(deployment, rpm * minutes);
        return q.names.flatMap((name): MetricSeries[] =>
          name === 'RequestsPerMinute'
            ? [
                { name, dimensions: { statusCodeClass: '2xx' }, total: m.requests - m.errors5xx },
                { name, dimensions: { statusCodeClass: '4xx' }, total: 0 },
                { name, dimensions: { statusCodeClass: '5xx' }, total: m.errors5xx },
              ]
            : [{ name, dimensions: {}, total: 0, ...(m.latencyMs !== undefined && { average: m.latencyMs }) }],
        );
      },
    ) as AzureMl['metrics'],
  };

  return {
    api,
    store,
    machine,
    behaviours,
    failNext: (kind) => void (injected = kind),
    servingVersion: () => machine.servingAll(),
    traffic: (n) => void (rpm = n),
    calls,
    mutations: () => calls.filter((c) => MUTATING.test(c)).length + store.writes,
    manifestBlock: { subscription: SUBSCRIPTION, resource_group: RESOURCE_GROUP, workspace: WORKSPACE, region: LOCATION },
  };
}

/** The properties an asset version update may change (Azure: tags, description, stage, archive state). */
const MUTABLE = new Set(['tags', 'description', 'stage', 'isArchived', 'isAnonymous', 'provisioningState', 'jobName']);

/** Whether a PUT on an existing asset version changes more than what may change. */
export function changesContent(existing: { properties: Record<string, unknown> }, body: { properties: Record<string, unknown> }): boolean {
  return Object.entries(body.properties).some(([k, v]) => !MUTABLE.has(k) && v !== undefined && JSON.stringify(v) !== JSON.stringify(existing.properties[k]));
}
