/**
 * The Vertex target's settings and resource names, SDK-free and pure: the manifest's `targets.vertex`
 * block with its environment-dependent defaults applied here (project from GOOGLE_CLOUD_PROJECT,
 * CLOUDSDK_CORE_PROJECT or the active gcloud configuration; bucket `mlship-<project>-<region>`), and
 * every name mlship gives a Google Cloud resource of the project.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { UsageError } from '../../util/errors.js';
import type { Manifest } from '../../manifest/types.js';

export interface VertexResources {
  project: string;
  region: string;
  bucket: string;
  /** Key prefix of the project in the bucket: `<prefix>/<name>` (no trailing slash). */
  root: string;
  serviceAccount?: string;
  apiEndpoint?: string;
  network?: string;
  /** `projects/P/locations/R` */
  parent: string;
  /** The one Vertex model whose versions are mlship's versions. */
  model: string;
  modelId: string;
  /** One endpoint per project name. */
  endpoint: string;
  endpointId: string;
  displayName: string;
  /** Request-response logging: `bq://P.mlship_<name>.request_response_logging`. */
  loggingDataset: string;
  loggingTable: string;
  loggingUri: string;
  /** Artifact Registry repository (no tag). */
  imageRepository: string;
  monitoringJob: string;
  pipeline: string;
  /** The REST predict URL users call. */
  predictUrl: string;
}

/** The project id from the environment or the active gcloud configuration, as gcloud itself resolves it. */
export function defaultProject(env: NodeJS.ProcessEnv): string | undefined {
  const fromEnv = env.GOOGLE_CLOUD_PROJECT || env.CLOUDSDK_CORE_PROJECT || env.GCLOUD_PROJECT;
  if (fromEnv) return fromEnv;
  const dir = env.CLOUDSDK_CONFIG || path.join(homedir(), '.config', 'gcloud');
  try {
    const active = readFileSync(path.join(dir, 'active_config'), 'utf8').trim() || 'default';
    const file = path.join(dir, 'configurations', `config_${active}`);
    if (!existsSync(file)) return undefined;
    let section = '';
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const head = /^\s*\[([^\]]+)\]/.exec(line);
      if (head) section = head[1]!.trim();
      const kv = /^\s*project\s*=\s*(\S+)/.exec(line);
      if (section === 'core' && kv) return kv[1];
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/** Settings and names for a manifest; a usage error when no project can be found. */
export function resolveResources(manifest: Manifest, env: NodeJS.ProcessEnv): VertexResources {
  const block = manifest.targets.vertex ?? { region: 'us-central1', prefix: 'mlship' };
  const project = block.project ?? defaultProject(env);
  if (!project) {
    throw new UsageError('the Vertex target needs a Google Cloud project, and none is set', {
      code: 'vertex_project_missing',
      hint: 'Add `targets: { vertex: { project: my-project } }` to mlship.yaml, export GOOGLE_CLOUD_PROJECT, or run `gcloud config set project my-project`.',
    });
  }
  const region = block.region;
  const name = manifest.name;
  const parent = `projects/${project}/locations/${region}`;
  const id = `mlship-${name}`;
  const dataset = `mlship_${name.replace(/-/g, '_')}`;
  const host = block.api_endpoint ?? `${region}-aiplatform.googleapis.com`;
  const base = /^https?:\/\//.test(host) ? host.replace(/\/$/, '') : `https://${host}`;
  return {
    project,
    region,
    bucket: block.bucket ?? `mlship-${project}-${region}`,
    root: `${block.prefix}/${name}`,
    ...(block.service_account && { serviceAccount: block.service_account }),
    ...(block.api_endpoint && { apiEndpoint: block.api_endpoint }),
    ...(block.network && { network: block.network }),
    parent,
    modelId: id,
    model: `${parent}/models/${id}`,
    endpointId: id,
    endpoint: `${parent}/endpoints/${id}`,
    displayName: name,
    loggingDataset: dataset,
    loggingTable: `${project}.${dataset}.request_response_logging`,
    loggingUri: `bq://${project}.${dataset}.request_response_logging`,
    imageRepository: `${region}-docker.pkg.dev/${project}/mlship/${name}`,
    monitoringJob: `mlship-${name}-monitoring`,
    pipeline: `mlship-${name}-retrain`,
    predictUrl: `${base}/v1/${parent}/endpoints/${id}:predict`,
  };
}

/** Keys under the project's root: the build contexts (artifactUri is `<build>/model/`). */
export const keys = {
  build: (r: VertexResources, buildId: string) => `${r.root}/builds/${buildId}/`,
  artifact: (r: VertexResources, buildId: string) => `${r.root}/builds/${buildId}/model/`,
  trainingData: (r: VertexResources, buildId: string) => `${r.root}/builds/${buildId}/training.csv`,
  pipelineRoot: (r: VertexResources) => `${r.root}/pipeline-runs/`,
};

export function gcsUri(r: VertexResources, key: string): string {
  return `gs://${r.bucket}/${key}`;
}
