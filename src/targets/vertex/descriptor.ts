/**
 * What mlship knows about the Vertex AI target without loading it or a Google SDK (see
 * shared/descriptor.ts). Written by the deploy core as a starting point; the Vertex lane owns it.
 */
import type { TargetDescriptor } from '../shared/descriptor.js';

export const vertexDescriptor: TargetDescriptor = {
  name: 'vertex',
  title: 'Google Vertex AI',
  manifestBlock: 'targets.vertex',
  defaults: { region: 'us-central1' },
  initSnippet: ['vertex:', '  region: us-central1', '  # project: my-gcp-project  # your Google Cloud project id (needed to deploy)'],
  ciLogin: [
    '- uses: google-github-actions/auth@v2',
    '  with:',
    '    workload_identity_provider: ${{ secrets.GCP_WORKLOAD_IDENTITY_PROVIDER }}',
    '    service_account: ${{ secrets.GCP_SERVICE_ACCOUNT }}',
  ],
  catalog: 'vertex',
  capabilities: { strategies: ['all-at-once', 'canary'], approval: false, managedRetraining: false, managedMonitoring: false, stop: true },
  logFormats: [],
};
