/**
 * What mlship knows about the Azure ML target without loading it or an Azure SDK (see
 * shared/descriptor.ts). Written by the deploy core as a starting point; the Azure lane owns it.
 */
import type { TargetDescriptor } from '../shared/descriptor.js';

export const azureDescriptor: TargetDescriptor = {
  name: 'azure',
  title: 'Azure Machine Learning',
  manifestBlock: 'targets.azure',
  defaults: {},
  initSnippet: [
    'azure:',
    '  region: westeurope',
    '  # subscription: 00000000-0000-0000-0000-000000000000  # needed to deploy',
    '  # resource_group: my-resource-group',
    '  # workspace: my-workspace',
  ],
  ciLogin: [
    '- uses: azure/login@v2',
    '  with:',
    '    client-id: ${{ secrets.AZURE_CLIENT_ID }}',
    '    tenant-id: ${{ secrets.AZURE_TENANT_ID }}',
    '    subscription-id: ${{ secrets.AZURE_SUBSCRIPTION_ID }}',
  ],
  catalog: 'azure',
  capabilities: { strategies: ['all-at-once', 'canary'], approval: false, managedRetraining: false, managedMonitoring: false, stop: true },
  logFormats: [],
};
