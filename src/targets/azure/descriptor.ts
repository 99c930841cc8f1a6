/**
 * What mlship knows about the Azure ML target without loading it or an Azure SDK (see
 * shared/descriptor.ts): the manifest block, its defaults, the catalog (src/instances/catalogs/azure.json,
 * prices with date and source), capabilities and the data collector's log format. Imports no SDK.
 */
import type { TargetDescriptor } from '../../deploy/descriptor.js';
import { azureCollectorFormat } from '../../logs/formats/azure.js';

export const azureDescriptor: TargetDescriptor = {
  name: 'azure',
  title: 'Azure Machine Learning',
  manifestBlock: 'targets.azure',
  defaults: { arm_endpoint: 'https://management.azure.com', auth_mode: 'key' },
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
  deploysImages: true,
  capabilities: { strategies: ['all-at-once', 'canary'], approval: false, managedRetraining: true, managedMonitoring: true, alertEmail: true, stop: true },
  logFormats: [azureCollectorFormat],
};
