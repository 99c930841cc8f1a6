/**
 * What mlship knows about the Vertex AI target without loading it or a Google SDK (see
 * shared/descriptor.ts): its manifest block, what `init` writes, the CI login (Workload Identity
 * Federation), the catalog, its capabilities (canary by traffic split through the shared rollout
 * controller, Vertex Pipelines retraining, Model Monitoring v1) and the request-response logging
 * format. Environment-dependent defaults (project, bucket) are resolved in resources.ts.
 */
import type { TargetDescriptor } from '../../deploy/descriptor.js';
import { vertexLoggingFormat } from '../../logs/formats/vertex.js';

export const vertexDescriptor: TargetDescriptor = {
  name: 'vertex',
  title: 'Google Vertex AI',
  manifestBlock: 'targets.vertex',
  defaults: { region: 'us-central1', prefix: 'mlship', bucket: 'mlship-<project>-<region>', project: '$GOOGLE_CLOUD_PROJECT or the gcloud configuration' },
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
  capabilities: { strategies: ['all-at-once', 'canary'], approval: false, managedRetraining: true, managedMonitoring: true, alertEmail: true, stop: true },
  logFormats: [vertexLoggingFormat],
};
