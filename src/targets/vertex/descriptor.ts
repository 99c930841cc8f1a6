/**
 * What mlship knows about the Vertex AI target without loading it or a Google SDK (see
 * deploy/descriptor.ts): its manifest block (schema, defaults, the typed settings), what `init` writes, the CI login (Workload Identity
 * Federation), the catalog, its capabilities (canary by traffic split through the shared rollout
 * controller, Vertex Pipelines retraining, Model Monitoring v1) and the request-response logging
 * format. Environment-dependent defaults (project, bucket) are resolved in resources.ts.
 */
import type { TargetDescriptor } from '../../deploy/descriptor.js';

/** `targets.vertex` as the loader resolves it (defaults applied). */
export interface VertexSettings {
  /** Project id; absent = GOOGLE_CLOUD_PROJECT or the gcloud configuration (resolved by the target). */
  project?: string;
  region: string;
  /** Absent = `mlship-<project>-<region>`. */
  bucket?: string;
  prefix: string;
  service_account?: string;
  api_endpoint?: string;
  network?: string;
}

declare module '../../manifest/types.js' {
  interface TargetSettings {
    vertex?: VertexSettings;
  }
}

export const vertexDescriptor: TargetDescriptor = {
  name: 'vertex',
  title: 'Google Vertex AI',
  provider: 'gcp',
  settings: {
    description: 'Google Cloud settings ([Vertex AI](vertex.md))',
    properties: {
      project: {
        type: 'string',
        pattern: '^[a-z][a-z0-9-]{4,28}[a-z0-9]$',
        'x-expected': 'a Google Cloud project id (6-30 lowercase letters, digits and -)',
        'x-default': '`GOOGLE_CLOUD_PROJECT` / `CLOUDSDK_CORE_PROJECT` / the active gcloud configuration',
        description: 'the Google Cloud project',
      },
      region: {
        type: 'string',
        pattern: '^[a-z]+-[a-z]+[0-9]$',
        'x-expected': 'a Google Cloud region such as us-central1',
        default: 'us-central1',
        description: 'the Vertex AI region',
      },
      bucket: {
        type: 'string',
        pattern: '^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$',
        'x-expected': 'a Cloud Storage bucket name (3-63 lowercase letters, digits, . _ and -)',
        'x-default': '`mlship-<project>-<region>`, created in the region (uniform access, no public access)',
        description: 'artifacts, training data and history',
      },
      prefix: {
        type: 'string',
        pattern: '^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$',
        'x-expected': 'a Cloud Storage object prefix (letters, digits, _ . - separated by /)',
        default: 'mlship',
        description: 'objects live under `gs://<bucket>/<prefix>/<name>/`',
      },
      service_account: {
        type: 'string',
        pattern: '^[a-z][a-z0-9-]{4,28}[a-z0-9]@[a-z0-9.-]+\\.iam\\.gserviceaccount\\.com$|^[0-9]+-compute@developer\\.gserviceaccount\\.com$',
        'x-expected': 'a service account email such as mlship-serving@my-project.iam.gserviceaccount.com',
        description: 'what the endpoint, monitoring job and pipeline run as',
      },
      api_endpoint: {
        type: 'string',
        pattern: '^(https?://)?[a-z0-9.-]+(:[0-9]{1,5})?/?$',
        'x-expected': 'a host[:port] such as us-central1-aiplatform.googleapis.com (http://host:port for an emulator)',
        description: 'Vertex AI API host: regional, Private Service Connect, or an emulator (`http://host:port`)',
      },
      network: {
        type: 'string',
        pattern: '^projects/[0-9]+/global/networks/[a-z][a-z0-9-]{0,61}[a-z0-9]$',
        'x-expected': 'a VPC network such as projects/123456789/global/networks/default',
        description: 'VPC peered with Vertex AI for a private endpoint',
      },
    },
  },
  requiresSettings: {},
  initSnippet: [
    'vertex:',
    '  region: us-central1',
    '  # project: my-gcp-project  # your Google Cloud project id (default: GOOGLE_CLOUD_PROJECT / gcloud config)',
    '  # service_account: mlship-serving@my-gcp-project.iam.gserviceaccount.com',
  ],
  ciLogin: [
    '- uses: google-github-actions/auth@v2',
    '  with:',
    '    workload_identity_provider: ${{ secrets.GCP_WORKLOAD_IDENTITY_PROVIDER }}',
    '    service_account: ${{ secrets.GCP_SERVICE_ACCOUNT }}',
  ],
  catalog: 'vertex',
  deploysImages: true,
  create: async (ctx) => new (await import('./vertex-target.js')).VertexTarget(ctx),
  capabilities: { strategies: ['all-at-once', 'canary'], approval: false, alertEmail: true },
};
