/**
 * Names and places of one project in an Azure ML workspace, derived once from the manifest and the
 * environment: the subscription (`targets.azure.subscription`, else `AZURE_SUBSCRIPTION_ID`), the
 * online endpoint (one per project, its name made unique per workspace because endpoint names are
 * unique per region), the model, environment and code asset names, schedules, and where mlship keeps its
 * files in the datastore (`mlship/<name>/…`).
 */
import { createHash } from 'node:crypto';
import { UsageError } from '../../util/errors.js';
import type { Manifest } from '../../manifest/types.js';

export const DEFAULT_ARM_ENDPOINT = 'https://management.azure.com';

export interface AzureResources {
  subscription: string;
  resourceGroup: string;
  workspace: string;
  /** Where the endpoint lives (the workspace's region); needed only to create it. */
  region?: string;
  armEndpoint: string;
  /** Datastore name, or undefined for the workspace default. */
  datastore?: string;
  authMode: 'Key' | 'AADToken';
  name: string;
  endpoint: string;
  /** Model and environment asset names (versions are mlship's N of vN). */
  model: string;
  environment: string;
  /** Code asset of the project source a retraining job runs in (versions named by content). */
  code: string;
  monitorSchedule: string;
  retrainSchedule: string;
  /** Blob prefix of mlship's own files in the datastore. */
  prefix: string;
}

export function resolveResources(manifest: Manifest, env: NodeJS.ProcessEnv): AzureResources {
  const az = manifest.targets.azure ?? {};
  const subscription = az.subscription ?? env.AZURE_SUBSCRIPTION_ID;
  if (!subscription) {
    throw new UsageError('no Azure subscription: targets.azure.subscription is not set and AZURE_SUBSCRIPTION_ID is empty', {
      code: 'azure_subscription_missing',
      hint: 'Set AZURE_SUBSCRIPTION_ID (e.g. `export AZURE_SUBSCRIPTION_ID=$(az account show --query id -o tsv)`) or add subscription: <id> to targets.azure in mlship.yaml.',
    });
  }
  if (!az.resource_group || !az.workspace) {
    throw new UsageError('targets.azure needs resource_group and workspace', {
      code: 'azure_workspace_missing',
      hint: 'Add resource_group: <group> and workspace: <Azure ML workspace> to targets.azure in mlship.yaml.',
    });
  }
  const suffix = createHash('sha256').update(`${subscription}/${az.resource_group}/${az.workspace}`.toLowerCase()).digest('hex').slice(0, 6);
  return {
    subscription,
    resourceGroup: az.resource_group,
    workspace: az.workspace,
    ...(az.region !== undefined && { region: az.region }),
    armEndpoint: (az.arm_endpoint ?? DEFAULT_ARM_ENDPOINT).replace(/\/$/, ''),
    ...(az.datastore !== undefined && { datastore: az.datastore }),
    authMode: az.auth_mode === 'aad_token' ? 'AADToken' : 'Key',
    name: manifest.name,
    // Endpoint names: 3-32 letters, digits and '-', unique in the region.
    endpoint: `${manifest.name.slice(0, 25)}-${suffix}`,
    model: manifest.name,
    environment: `${manifest.name}-serving`,
    code: `${manifest.name}-source`,
    monitorSchedule: `${manifest.name}-drift-monitor`,
    retrainSchedule: `${manifest.name}-retrain`,
    prefix: `mlship/${manifest.name}`,
  };
}

/** ARM id of a workspace child (`models/churn/versions/3`). */
export function workspaceChildId(r: AzureResources, child: string): string {
  return `/subscriptions/${r.subscription}/resourceGroups/${r.resourceGroup}/providers/Microsoft.MachineLearningServices/workspaces/${r.workspace}/${child}`;
}

/** `v3` → `3` (Azure asset versions are mlship's version numbers). */
export function versionNumber(version: string): number {
  return Number(version.replace(/^v/, ''));
}

/** The deployment that serves a version (deployment names: a letter, then letters, digits and '-'). */
export function deploymentName(version: string): string {
  return version;
}
