/**
 * What the Vertex target's parts share: an open session (the client, the project's resource names,
 * the shared registry over GCS), the version record mlship keeps beside the Vertex model version, and
 * the endpoint's state as mlship reads it (which version each deployed model serves, and its traffic).
 */
import type { ObjectRegistry, VersionRecordBase } from '../../deploy/registry.js';
import type { IDeployedModel, IEndpoint, VertexApi } from './api.js';
import type { VertexResources } from './resources.js';

/** mlship's record of a version, beside the Vertex model version it describes. */
export interface VertexRecord extends VersionRecordBase {
  image: string;
  artifactUri: string;
  /** The Vertex model version id (`3` for v3). */
  versionId: string;
  /** The training data in GCS (monitoring's skew baseline). */
  trainingData?: string;
}

export interface VertexSession {
  api: VertexApi;
  r: VertexResources;
  registry: ObjectRegistry<VertexRecord>;
}

/** One model deployed on the endpoint. */
export interface Deployed {
  id: string;
  version: string;
  versionId: string;
  traffic: number;
  machineType: string;
  acceleratorType?: string;
  acceleratorCount?: number;
  replicas: { min: number; max: number };
  raw: IDeployedModel;
}

export interface EndpointState {
  endpoint: IEndpoint;
  deployed: Deployed[];
  /** The deployed model with the most traffic (all of it, outside a canary). */
  live?: Deployed;
  loggingUri?: string;
}

/** The endpoint and its deployed models; undefined when the endpoint does not exist. */
export async function readEndpoint(session: VertexSession): Promise<EndpointState | undefined> {
  const endpoint = await session.api.getEndpoint(session.r.endpoint);
  if (!endpoint) return undefined;
  const split = (endpoint.trafficSplit ?? {}) as Record<string, number>;
  const deployed = (endpoint.deployedModels ?? []).map((d): Deployed => {
    const spec = d.dedicatedResources?.machineSpec;
    const accelerator = spec?.acceleratorType && spec.acceleratorType !== 'ACCELERATOR_TYPE_UNSPECIFIED' ? String(spec.acceleratorType) : undefined;
    return {
      id: d.id ?? '',
      version: `v${d.modelVersionId ?? '?'}`,
      versionId: d.modelVersionId ?? '',
      traffic: Number(split[d.id ?? ''] ?? 0),
      machineType: spec?.machineType ?? '',
      ...(accelerator && { acceleratorType: accelerator, acceleratorCount: Number(spec?.acceleratorCount ?? 0) }),
      replicas: { min: Number(d.dedicatedResources?.minReplicaCount ?? 0), max: Number(d.dedicatedResources?.maxReplicaCount ?? 0) },
      raw: d,
    };
  });
  const live = [...deployed].sort((a, b) => b.traffic - a.traffic)[0];
  const logging = endpoint.predictRequestResponseLoggingConfig;
  return {
    endpoint,
    deployed,
    ...(live && live.traffic > 0 && { live }),
    ...(logging?.enabled && logging.bigqueryDestination?.outputUri && { loggingUri: logging.bigqueryDestination.outputUri }),
  };
}
