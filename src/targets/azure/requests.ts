/**
 * Pure request builders: a version record and the manifest in, Azure ML / Azure Monitor request
 * bodies out (golden-tested). Shapes follow the 2026-07-01 contract (and the SDK's 2022-10-01
 * models for the bodies the SDK sends).
 */
import type { ComputeChoice } from '../../compute/types.js';
import { modelLoadSeconds, probeFailures } from '../../compute/load-time.js';
import type { Manifest } from '../../manifest/types.js';
import type { VersionRecordBase } from '../../deploy/versions.js';
import type { ArmResource } from './client.js';
import { workspaceChildId, type AzureResources } from './resources.js';

/** What mlship records about a version on its Azure ML model version (tags) and datastore. */
export interface AzureVersionRecord extends VersionRecordBase {
  image: string;
  mlshipVersion?: string;
  /** Datastore folder of the model files (`azureml://datastores/…/paths/…/`). */
  modelUri: string;
  /** The retraining job that produced the model. */
  job?: string;
  /** Size of the model artifact (sizes an LLM's startup probe; absent on versions pushed before it was recorded). */
  modelBytes?: number;
}

/** The serving app's routes, which the managed endpoint probes and scores (port 8080: the app's default). */
export const INFERENCE_ROUTES = {
  livenessRoute: { path: '/live', port: 8080 },
  readinessRoute: { path: '/ready', port: 8080 },
  scoringRoute: { path: '/score', port: 8080 },
} as const;

const TAG = {
  build: 'mlship.build',
  digest: 'mlship.sha256',
  git: 'mlship.git_commit',
  mlship: 'mlship.version',
  image: 'mlship.image',
  created: 'mlship.created',
  parent: 'mlship.parent',
  job: 'mlship.job',
  bytes: 'mlship.model_bytes',
} as const;

/** Tags `mlship.metric.<name>` hold the training scores (Azure ML studio shows tags beside the version). */
const METRIC_TAG = 'mlship.metric.';

export function modelVersionBody(rec: AzureVersionRecord): ArmResource {
  const tags: Record<string, string> = {
    [TAG.build]: rec.buildId,
    [TAG.digest]: rec.digest,
    [TAG.image]: rec.image,
    [TAG.created]: rec.createdAt,
    ...(rec.gitCommit && { [TAG.git]: rec.gitCommit }),
    ...(rec.mlshipVersion && { [TAG.mlship]: rec.mlshipVersion }),
    ...(rec.parent && { [TAG.parent]: rec.parent }),
    ...(rec.job && { [TAG.job]: rec.job }),
    ...(rec.modelBytes !== undefined && { [TAG.bytes]: String(rec.modelBytes) }),
    ...Object.fromEntries(Object.entries(numericMetrics(rec.metrics) ?? {}).map(([k, v]) => [`${METRIC_TAG}${k}`, String(v)])),
  };
  return {
    properties: {
      modelUri: rec.modelUri,
      modelType: 'custom_model',
      description: `mlship ${rec.version} (build ${rec.buildId})`,
      tags,
      isAnonymous: false,
      isArchived: false,
    },
  };
}

/** The record a model version carries (undefined: not pushed by mlship). */
export function recordFromModelVersion(m: ArmResource): AzureVersionRecord | undefined {
  const tags = (m.properties.tags ?? {}) as Record<string, string>;
  const digest = tags[TAG.digest];
  if (!digest || !m.name) return undefined;
  const metrics = numericMetrics(
    Object.fromEntries(
      Object.entries(tags)
        .filter(([k]) => k.startsWith(METRIC_TAG))
        .map(([k, v]) => [k.slice(METRIC_TAG.length), Number(v)]),
    ),
  );
  return {
    version: `v${m.name}`,
    buildId: tags[TAG.build] ?? 'unknown',
    createdAt: tags[TAG.created] ?? '',
    digest,
    image: tags[TAG.image] ?? '',
    modelUri: String(m.properties.modelUri ?? ''),
    ...(tags[TAG.git] && { gitCommit: tags[TAG.git] }),
    ...(tags[TAG.mlship] && { mlshipVersion: tags[TAG.mlship] }),
    ...(tags[TAG.parent] && { parent: tags[TAG.parent] }),
    ...(tags[TAG.job] && { job: tags[TAG.job] }),
    ...(Number(tags[TAG.bytes]) > 0 && { modelBytes: Number(tags[TAG.bytes]) }),
    ...(metrics && { metrics }),
  };
}

/** The numbers of a metrics.json (what the training code wrote), for the model version's tags. */
export function numericMetrics(value: unknown): Record<string, number> | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const out = Object.fromEntries(Object.entries(value).filter((e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1])));
  return Object.keys(out).length > 0 ? out : undefined;
}

export function environmentVersionBody(rec: AzureVersionRecord): ArmResource {
  return {
    properties: {
      image: rec.image,
      osType: 'Linux',
      description: `mlship serving image of ${rec.version}`,
      inferenceConfig: INFERENCE_ROUTES,
      tags: { [TAG.build]: rec.buildId },
    },
  };
}

export function endpointBody(r: AzureResources, location: string, traffic: Record<string, number>): ArmResource {
  return {
    location,
    tags: { 'mlship.project': r.name },
    properties: { authMode: r.authMode, description: `mlship endpoint of ${r.name}`, publicNetworkAccess: 'Enabled', traffic },
  };
}

/** Seconds between probes of a deployment. */
export const PROBE_PERIOD_S = 10;
/** A deployment's startup probe allows this many failures (10 minutes) at least. */
const STARTUP_FAILURES = 60;
/** Azure's longest request timeout of a managed online deployment (request_timeout_ms ≤ 180000). */
const LLM_REQUEST_TIMEOUT = 'PT3M';

/**
 * A managed online deployment of one version: the instance type from the shared selection,
 * `instanceCount` (sku capacity) from serving.replicas.min, probes on the app's routes, request
 * settings, and the model data collector on for inputs and outputs (every prediction in blob storage).
 */
export function deploymentBody(r: AzureResources, manifest: Manifest, rec: AzureVersionRecord, compute: ComputeChoice, location: string): ArmResource {
  const probe = (failureThreshold: number) => ({
    initialDelay: `PT${PROBE_PERIOD_S}S`,
    period: `PT${PROBE_PERIOD_S}S`,
    timeout: 'PT2S',
    failureThreshold,
    successThreshold: 1,
  });
  const llm = manifest.model.flavor === 'llm';
  // An LLM loads gigabytes before its first answer and generates for seconds per request: its
  // startup probe allows modelLoadSeconds (never less than a tabular app's), its requests Azure's 3-minute limit.
  const startupFailures = llm
    ? Math.max(STARTUP_FAILURES, probeFailures(modelLoadSeconds(rec.modelBytes ?? 0, compute.gpu), PROBE_PERIOD_S))
    : STARTUP_FAILURES;
  const collection = { dataCollectionMode: 'Enabled', samplingRate: 1.0 };
  const n = rec.version.replace(/^v/, '');
  return {
    location,
    sku: { name: 'Default', capacity: compute.replicas.min },
    tags: { 'mlship.version': rec.version, 'mlship.sha256': rec.digest },
    properties: {
      endpointComputeType: 'Managed',
      description: `${manifest.name} ${rec.version}`,
      model: workspaceChildId(r, `models/${r.model}/versions/${n}`),
      environmentId: workspaceChildId(r, `environments/${r.environment}/versions/${n}`),
      environmentVariables: { MLSHIP_VERSION: rec.version, MLSHIP_MODEL_SHA256: rec.digest },
      instanceType: compute.instanceType,
      appInsightsEnabled: false,
      egressPublicNetworkAccess: 'Enabled',
      requestSettings: { maxConcurrentRequestsPerInstance: 8, requestTimeout: llm ? LLM_REQUEST_TIMEOUT : 'PT5S', maxQueueWait: 'PT0.5S' },
      livenessProbe: probe(30),
      readinessProbe: probe(3),
      startupProbe: probe(startupFailures),
      scaleSettings: { scaleType: 'Default' },
      dataCollector: {
        collections: { model_inputs: collection, model_outputs: collection },
        requestLogging: { captureHeaders: ['x-request-id'] },
        rollingRate: 'Hour',
      },
    },
  };
}

/** Azure Monitor autoscale between serving.replicas on CPU utilisation of the deployment. */
export function autoscaleBody(r: AzureResources, deploymentId: string, compute: ComputeChoice, location: string): Record<string, unknown> {
  const trigger = (operator: string, threshold: number) => ({
    metricName: 'CpuUtilizationPercentage',
    metricResourceUri: deploymentId,
    timeGrain: 'PT1M',
    statistic: 'Average',
    timeWindow: 'PT5M',
    timeAggregation: 'Average',
    operator,
    threshold,
  });
  return {
    location,
    tags: { 'mlship.project': r.name },
    properties: {
      name: autoscaleName(r),
      enabled: true,
      targetResourceUri: deploymentId,
      profiles: [
        {
          name: 'mlship',
          capacity: { minimum: String(compute.replicas.min), maximum: String(compute.replicas.max), default: String(compute.replicas.min) },
          rules: [
            { metricTrigger: trigger('GreaterThan', 70), scaleAction: { direction: 'Increase', type: 'ChangeCount', value: '1', cooldown: 'PT5M' } },
            { metricTrigger: trigger('LessThan', 25), scaleAction: { direction: 'Decrease', type: 'ChangeCount', value: '1', cooldown: 'PT10M' } },
          ],
        },
      ],
    },
  };
}

export function autoscaleName(r: AzureResources): string {
  return `${r.endpoint}-autoscale`;
}
