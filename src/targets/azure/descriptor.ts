/**
 * What mlship knows about the Azure ML target without loading it or an Azure SDK (see
 * deploy/descriptor.ts): the manifest block (schema, defaults, the typed settings, the fields a deploy
 * needs, the monitor's e-mail limit), the catalog (src/instances/catalogs/azure.json,
 * prices with date and source), and capabilities. Imports no SDK.
 */
import type { TargetDescriptor } from '../../deploy/descriptor.js';

/** `targets.azure` as the loader resolves it (defaults applied). */
export interface AzureSettings {
  subscription?: string;
  resource_group?: string;
  workspace?: string;
  region?: string;
  datastore?: string;
  arm_endpoint?: string;
  auth_mode?: 'key' | 'aad_token';
}

declare module '../../manifest/types.js' {
  interface TargetSettings {
    azure?: AzureSettings;
  }
}

export const azureDescriptor: TargetDescriptor = {
  name: 'azure',
  title: 'Azure Machine Learning',
  provider: 'azure',
  settings: {
    description: 'Azure settings ([Azure ML](azure.md))',
    properties: {
      subscription: {
        type: 'string',
        pattern: '^[0-9a-fA-F-]{36}$',
        'x-expected': 'an Azure subscription id (a GUID)',
        'x-default': '`AZURE_SUBSCRIPTION_ID`',
        description: 'the Azure subscription',
      },
      resource_group: {
        type: 'string',
        pattern: '^[A-Za-z0-9._()-]{1,90}$',
        'x-expected': 'an Azure resource group name (letters, digits and . _ ( ) -)',
        description: "the workspace's resource group",
      },
      workspace: {
        type: 'string',
        pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{2,32}$',
        'x-expected': 'an Azure ML workspace name (3-33 letters, digits, _ and -)',
        description: 'the Azure Machine Learning workspace',
      },
      region: {
        type: 'string',
        pattern: '^[a-z0-9]+$',
        'x-expected': 'an Azure region such as westeurope',
        description: "the workspace's region; needed to create the endpoint",
      },
      datastore: {
        type: 'string',
        pattern: '^[A-Za-z0-9_]{1,255}$',
        'x-expected': 'an Azure ML datastore name (letters, digits and _)',
        'x-default': "the workspace's default blob datastore",
        description: 'blob datastore for artifacts, history and data collection',
      },
      arm_endpoint: {
        type: 'string',
        pattern: '^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?/?$',
        'x-expected': 'an https Azure Resource Manager endpoint such as https://management.usgovcloudapi.net',
        default: 'https://management.azure.com',
        description: 'Resource Manager endpoint (sovereign clouds, and the fake)',
      },
      auth_mode: {
        enum: ['key', 'aad_token'],
        default: 'key',
        description: 'how clients authenticate to the online endpoint',
      },
    },
  },
  requiresSettings: {},
  // The subscription may come from AZURE_SUBSCRIPTION_ID (checked when the target connects); these must be written.
  requiredWhenSelected: ['resource_group', 'workspace'],
  // Azure ML's limit on a monitor's recipient list: the addresses joined with commas.
  alertEmailsMaxChars: 499,
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
  create: async (ctx) => new (await import('./azure-target.js')).AzureTarget(ctx),
  capabilities: { strategies: ['all-at-once', 'canary'], approval: false, alertEmail: true },
};
