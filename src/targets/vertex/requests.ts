/**
 * Pure request builders: manifest + resource names + facts → the exact Vertex AI requests, typed with
 * the SDK's `protos.google.cloud.aiplatform.v1.I*` interfaces (a misspelt field or enum is a compile
 * error). Golden tests compare what these produce; the target only sends them.
 */
import { vertexDescriptor } from './descriptor.js';
import type { ComputeChoice } from '../../compute/types.js';
import { loadCatalog, findInstance } from '../../instances/catalog.js';
import { mlshipVersion } from '../../util/version.js';
import { probeFailures } from '../../compute/load-time.js';
import type { Manifest } from '../../manifest/types.js';
import type {
  ICreateEndpointRequest,
  ICreateModelDeploymentMonitoringJobRequest,
  IDeployModelRequest,
  IEndpoint,
  IModelContainerSpec,
  IModelDeploymentMonitoringJob,
  IUploadModelRequest,
} from './api.js';
import type { VertexResources } from './resources.js';

/** The port and routes the serving app answers (it also answers AIP_PREDICT_ROUTE / AIP_HEALTH_ROUTE, set to these). */
export const CONTAINER = { port: 8080, predictRoute: '/predict', healthRoute: '/health' } as const;

/** A label value: lowercase letters, digits, _ and -, at most 63 characters. */
export function labelValue(value: string): string {
  return value
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '-')
    .slice(0, 63);
}

export interface UploadFacts {
  image: string;
  artifactUri: string;
  digest: string;
  buildId: string;
  /** The mlship version this upload becomes (`v3`), set as MLSHIP_VERSION and alias. */
  version: string;
  gitCommit?: string;
  /** Absent for the first version (it creates the model). */
  parentModel?: string;
  /**
   * Seconds the container may take to load its model (`modelLoadSeconds`, src/compute/load-time.ts):
   * set for an LLM, whose weights take minutes, it sizes the startup probe and the deployment timeout.
   */
  loadSeconds?: number;
}

/** Seconds between health probes. */
export const PROBE_PERIOD_S = 10;
/** Vertex's limit on a deployment's timeout. */
const MAX_DEPLOYMENT_TIMEOUT_S = 7200;
/** What a deployment takes besides loading the model: a GPU node, and pulling a CUDA image of gigabytes. */
const PROVISIONING_S = 1800;

/**
 * The probes of a container that loads its model for `loadSeconds`: the startup probe on the health
 * route allows that long (failures × period), then the health probe takes over (3 failures), and the
 * deployment may take provisioning time on top (at most Vertex's 2 hours).
 */
export function loadProbes(loadSeconds: number): Pick<IModelContainerSpec, 'startupProbe' | 'healthProbe' | 'deploymentTimeout'> {
  const httpGet = { path: CONTAINER.healthRoute, port: CONTAINER.port };
  return {
    startupProbe: { httpGet, periodSeconds: PROBE_PERIOD_S, timeoutSeconds: PROBE_PERIOD_S, failureThreshold: probeFailures(loadSeconds, PROBE_PERIOD_S) },
    healthProbe: { httpGet, periodSeconds: PROBE_PERIOD_S, timeoutSeconds: PROBE_PERIOD_S, failureThreshold: 3 },
    deploymentTimeout: { seconds: Math.min(MAX_DEPLOYMENT_TIMEOUT_S, loadSeconds + PROVISIONING_S) },
  };
}

/** UploadModel: a new version of the project's one model (or the model itself, the first time). */
export function uploadModelRequest(manifest: Manifest, r: VertexResources, f: UploadFacts): IUploadModelRequest {
  return {
    parent: r.parent,
    ...(f.parentModel ? { parentModel: f.parentModel } : { modelId: r.modelId }),
    ...(r.serviceAccount && { serviceAccount: r.serviceAccount }),
    model: {
      displayName: manifest.name,
      description: `mlship model ${manifest.name} (${manifest.model.flavor})`,
      versionDescription: `mlship build ${f.buildId}`,
      versionAliases: [f.version],
      artifactUri: f.artifactUri,
      containerSpec: {
        imageUri: f.image,
        ports: [{ containerPort: CONTAINER.port }],
        predictRoute: CONTAINER.predictRoute,
        healthRoute: CONTAINER.healthRoute,
        env: [
          { name: 'MLSHIP_MODEL_SHA256', value: f.digest },
          { name: 'MLSHIP_VERSION', value: f.version },
        ],
        ...(f.loadSeconds !== undefined && loadProbes(f.loadSeconds)),
      },
      labels: {
        'mlship-version': labelValue(mlshipVersion()),
        'mlship-build': labelValue(f.buildId),
        'mlship-project': labelValue(manifest.name),
        ...(f.gitCommit && { 'git-commit': labelValue(f.gitCommit.slice(0, 12)) }),
      },
    },
  };
}

/** The endpoint's logging configuration: every request and response to BigQuery, from day one. */
export function loggingConfig(r: VertexResources): NonNullable<IEndpoint['predictRequestResponseLoggingConfig']> {
  return { enabled: true, samplingRate: 1, bigqueryDestination: { outputUri: r.loggingUri } };
}

/** CreateEndpoint: one endpoint per project name, with request-response logging at 100%. */
export function createEndpointRequest(manifest: Manifest, r: VertexResources): ICreateEndpointRequest {
  return {
    parent: r.parent,
    endpointId: r.endpointId,
    endpoint: {
      displayName: manifest.name,
      description: `mlship endpoint of ${manifest.name}`,
      labels: { 'mlship-project': labelValue(manifest.name) },
      predictRequestResponseLoggingConfig: loggingConfig(r),
      ...(r.network && { network: r.network }),
    },
  };
}

/** The machine spec of a compute choice, from the Vertex catalog (`machine+accelerator` types). */
export function machineSpec(compute: ComputeChoice): { machineType: string; acceleratorType?: string; acceleratorCount?: number } {
  const entry = findInstance(loadCatalog(vertexDescriptor.catalog), compute.instanceType);
  return entry?.vertex ?? { machineType: compute.instanceType };
}

/**
 * DeployModel of `versionId` with dedicated resources from the shared compute selection; the new
 * deployed model takes `trafficSplit` (`"0"` = itself; existing ids keep theirs).
 */
export function deployModelRequest(
  manifest: Manifest,
  r: VertexResources,
  versionId: string,
  version: string,
  compute: ComputeChoice,
  trafficSplit: Record<string, number>,
): IDeployModelRequest {
  const spec = machineSpec(compute);
  const gpu = spec.acceleratorType !== undefined && (spec.acceleratorCount ?? 0) > 0;
  return {
    endpoint: r.endpoint,
    deployedModel: {
      model: `${r.model}@${versionId}`,
      displayName: `${manifest.name}-${version}`,
      ...(r.serviceAccount && { serviceAccount: r.serviceAccount }),
      dedicatedResources: {
        machineSpec: {
          machineType: spec.machineType,
          ...(gpu && { acceleratorType: spec.acceleratorType as never, acceleratorCount: spec.acceleratorCount }),
        },
        minReplicaCount: compute.replicas.min,
        maxReplicaCount: compute.replicas.max,
        autoscalingMetricSpecs: [
          {
            metricName: gpu
              ? 'aiplatform.googleapis.com/prediction/online/accelerator/duty_cycle'
              : 'aiplatform.googleapis.com/prediction/online/cpu/utilization',
            target: 60,
          },
        ],
      },
    },
    trafficSplit,
  };
}

/**
 * `monitoring.drift` → Vertex's thresholds. Vertex measures numeric features with Jensen–Shannon
 * divergence and categorical ones with L-infinity distance (its own methods, not mlship's PSI/KS);
 * mlship passes the manifest's threshold (per feature when set, else the drift threshold, else 0.3)
 * as that distance's limit. The monitor interval is the drift schedule's period rounded up to whole
 * hours (Vertex's granularity; at least 1 h).
 */
export function monitoringThresholds(manifest: Manifest): { thresholds: Record<string, { value: number }>; default: number } {
  const drift = manifest.monitoring.drift;
  const fallback = drift.threshold ?? 0.3;
  const thresholds: Record<string, { value: number }> = {};
  for (const name of Object.keys(manifest.features.schema)) {
    const t = drift.features[name]?.threshold ?? fallback;
    thresholds[name] = { value: Math.min(1, Math.max(0.001, t)) };
  }
  return { thresholds, default: Math.min(1, Math.max(0.001, fallback)) };
}

/** Hours between monitoring runs from a five-field cron: daily = 24, hourly = 1, weekly = 168 (rounded up). */
export function monitorIntervalHours(cron: string): number {
  const [minute, hour, dom, , dow] = cron.trim().split(/\s+/);
  if (dow && dow !== '*') return 168;
  if (dom && dom !== '*') return 24 * 30;
  if (hour === '*') return 1;
  const step = /^\*\/(\d+)$/.exec(hour ?? '');
  if (step) return Math.max(1, Number(step[1]));
  if (hour && hour.includes(',')) return Math.ceil(24 / hour.split(',').length);
  return minute === '*' ? 1 : 24;
}

/** The monitoring job of the endpoint: drift and training-serving skew of the deployed model. */
export function monitoringJob(
  manifest: Manifest,
  r: VertexResources,
  deployedModelId: string,
  trainingDataUri: string,
  alertEmails: string[] = [],
): IModelDeploymentMonitoringJob {
  const { thresholds, default: def } = monitoringThresholds(manifest);
  const hours = monitorIntervalHours(manifest.monitoring.drift.schedule);
  return {
    displayName: r.monitoringJob,
    endpoint: r.endpoint,
    modelDeploymentMonitoringObjectiveConfigs: [
      {
        deployedModelId,
        objectiveConfig: {
          trainingDataset: {
            dataFormat: 'csv',
            gcsSource: { uris: [trainingDataUri] },
            ...(manifest.features.label && { targetField: manifest.features.label }),
          },
          trainingPredictionSkewDetectionConfig: { skewThresholds: thresholds, defaultSkewThreshold: { value: def } },
          predictionDriftDetectionConfig: { driftThresholds: thresholds, defaultDriftThreshold: { value: def } },
        },
      },
    ],
    modelDeploymentMonitoringScheduleConfig: { monitorInterval: { seconds: hours * 3600 }, monitorWindow: { seconds: hours * 3600 } },
    loggingSamplingStrategy: { randomSampleConfig: { sampleRate: 1 } },
    ...(alertEmails.length > 0 && { modelMonitoringAlertConfig: { emailAlertConfig: { userEmails: alertEmails } } }),
    labels: { 'mlship-project': labelValue(manifest.name) },
  };
}

export function createMonitoringJobRequest(r: VertexResources, job: IModelDeploymentMonitoringJob): ICreateModelDeploymentMonitoringJobRequest {
  return { parent: r.parent, modelDeploymentMonitoringJob: job };
}
