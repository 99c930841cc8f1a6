/**
 * What the SageMaker target's parts share: an open session (the AWS client, the project's resource
 * names, the S3 registry) and the endpoint's state as mlship reads it.
 */
import type { AwsApi } from './api.js';
import { ifExists } from './aws-client.js';
import type { S3Registry } from './registry.js';
import type { Resources } from './resources.js';

/** The AWS client, resource names and registry of one project in one account and region. */
export interface Session {
  api: AwsApi;
  r: Resources;
  registry: S3Registry;
}

/** A planned step (the shared step runner's, src/deploy/steps.ts). */
export type { Step } from '../../deploy/steps.js';

/** Endpoint statuses that end on their own; a deploy waits for them rather than stacking an update. */
export const TRANSITIONAL = new Set(['Creating', 'Updating', 'SystemUpdating', 'RollingBack', 'Deleting']);

/** A production variant of the endpoint as it runs: its name (a version, `v3`) and its traffic weight. */
export interface RunningVariant {
  name: string;
  weight: number;
}

/**
 * The endpoint: its status, configuration, running variants, the version serving (the variant with the
 * largest weight; variants are named after versions) and the raw description.
 */
export async function endpointState(session: Session) {
  const ep = await ifExists(() => session.api.describeEndpoint({ EndpointName: session.r.endpoint }));
  if (!ep) return undefined;
  const config = ep.EndpointConfigName ?? '';
  const variants: RunningVariant[] = (ep.ProductionVariants ?? []).map((v) => ({
    name: v.VariantName ?? '',
    weight: v.CurrentWeight ?? v.DesiredWeight ?? 0,
  }));
  const heaviest = [...variants].sort((a, b) => b.weight - a.weight)[0]?.name;
  // A configuration of mlship before variants were named after versions (`AllTraffic`) names its version.
  const version = heaviest && /^v\d+$/.test(heaviest) ? heaviest : new RegExp(`^${session.r.endpoint}-(v\\d+)-`).exec(config)?.[1];
  return { status: ep.EndpointStatus ?? 'Unknown', config, variants, version, failureReason: ep.FailureReason, raw: ep };
}
