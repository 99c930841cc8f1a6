/**
 * Where everything of one project lives on AWS: resource names derived from the manifest's `name`,
 * and the S3 layout under `s3://<bucket>/<prefix>/<name>/`. One place, so push, deploy, status and
 * drift-check on any machine find the same things.
 */
import type { Manifest } from '../../manifest/types.js';

/** Names and S3 locations of one project's SageMaker resources. */
export interface Resources {
  region: string;
  account: string;
  bucket: string;
  /** Key prefix of everything mlship stores for this project, without a trailing slash. */
  root: string;
  endpoint: string;
  packageGroup: string;
  repository: string;
  /** SNS topic that mails `monitoring.alerts.email` when a drift alarm fires. */
  alertTopic: string;
  scalingPolicy: string;
  monitoringSchedule: string;
  pipeline: string;
  schedule: string;
  /** Execution role SageMaker assumes (targets.sagemaker.role). */
  role?: string;
}

/** The resource names for a manifest in an account and region. */
export function resolveResources(manifest: Manifest, account: string, region: string): Resources {
  const sm = manifest.targets.sagemaker;
  const name = manifest.name;
  const prefix = (sm?.prefix ?? 'mlship').replace(/^\/+|\/+$/g, '');
  return {
    region,
    account,
    bucket: sm?.bucket ?? `mlship-${region}-${account}`,
    root: prefix ? `${prefix}/${name}` : name,
    endpoint: name,
    packageGroup: name,
    repository: `mlship/${name}`,
    alertTopic: `${name}-drift-alerts`,
    scalingPolicy: `${name}-invocations-per-instance`,
    monitoringSchedule: `${name}-data-quality`,
    pipeline: `${name}-retrain`,
    schedule: `${name}-retrain`,
    ...(sm?.role && { role: sm.role }),
  };
}

/** S3 keys and URIs under the project root. */
export const keys = {
  artifact: (r: Resources, sha256: string) => `${r.root}/artifacts/${sha256}/model.tar.gz`,
  versionDir: (r: Resources, version: string) => `${r.root}/versions/${version}`,
  versionRecord: (r: Resources, version: string) => `${r.root}/versions/${version}/version.json`,
  baseline: (r: Resources, version: string) => `${r.root}/versions/${version}/baseline.json`,
  statistics: (r: Resources, version: string) => `${r.root}/versions/${version}/statistics.json`,
  constraints: (r: Resources, version: string) => `${r.root}/versions/${version}/constraints.json`,
  historyDir: (r: Resources) => `${r.root}/history/`,
  capture: (r: Resources) => `${r.root}/capture`,
  monitoringReports: (r: Resources) => `${r.root}/monitoring/reports`,
  pipelineSource: (r: Resources) => `${r.root}/pipeline/source.tar.gz`,
  trainingData: (r: Resources) => `${r.root}/data`,
  trainingOutput: (r: Resources) => `${r.root}/pipeline/output`,
};

/** `s3://bucket/key`. */
export function s3Uri(r: Resources, key: string): string {
  return `s3://${r.bucket}/${key}`;
}

/** The runtime URL a client invokes (SigV4-signed POST). */
export function invokeUrl(r: Resources): string {
  return `https://runtime.sagemaker.${r.region}.amazonaws.com/endpoints/${r.endpoint}/invocations`;
}
