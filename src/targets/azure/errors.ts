/**
 * Azure failures people meet, as one-paragraph errors that say what went wrong, where, and how to
 * fix it: no credential, the wrong subscription / resource group / workspace (404 naming which),
 * AuthorizationFailed naming the role, quota per VM family, a VM size the region does not offer, an
 * endpoint name taken in the region, ARM throttling (429), a conflicting operation (409), a request
 * the service refused. The SDK pipeline's own retries run before anything reaches here. Each becomes
 * a `CloudError` of the shared categories (the kind fixes the exit code); a 404 of a resource mlship
 * looks for is `not_found` (`ifFound` tests it). The workspace's container registry has its own: a
 * registry that is gone, and a token exchange or registry read refused (the AcrPush / Reader roles).
 */
import { azureDescriptor } from './descriptor.js';
import { isMlshipError, type ErrorOptions, type MlshipError } from '../../util/errors.js';
import { CloudError, type CloudErrorKind } from '../../deploy/cloud-errors.js';
import { AzureCallError, EXCHANGE_OPERATION, isCredentialError } from './client.js';
import type { AzureResources } from './resources.js';

export function translateAzureError(error: unknown, r: Pick<AzureResources, 'subscription' | 'resourceGroup' | 'workspace'>): MlshipError {
  if (isMlshipError(error)) return error;
  const name = (error as { name?: string })?.name ?? '';
  const message = ((error as Error)?.message ?? String(error)).trim();
  if (isCredentialError(error)) return credentialError(error, name, message, r);
  if (!(error instanceof AzureCallError)) {
    return cloudError('service', 'azure_error', `Azure call failed: ${firstLine(message)}`, { hint: 'Run with --verbose for the full error.', cause: error });
  }
  const e = error;
  const details = { operation: e.operation, azureError: e.code, status: e.status };
  const opts = (hint: string) => ({ hint, details, cause: error });
  const ws = `workspace ${r.workspace} (resource group ${r.resourceGroup}, subscription ${r.subscription})`;
  const registry = registryError(e, r.workspace, opts);
  if (registry) return registry;
  if (e.code === 'SubscriptionNotFound') {
    return cloudError(
      'not_found',
      'azure_subscription_not_found',
      `Azure subscription ${r.subscription} was not found or your identity cannot see it (${e.operation}).`,
      opts('Check targets.azure.subscription / AZURE_SUBSCRIPTION_ID (`az account list -o table`).'),
    );
  }
  if (e.code === 'ResourceGroupNotFound') {
    return cloudError(
      'not_found',
      'azure_resource_group_not_found',
      `Resource group ${r.resourceGroup} was not found in subscription ${r.subscription}.`,
      opts('Fix targets.azure.resource_group in mlship.yaml (`az group list -o table`), or create the group and workspace.'),
    );
  }
  if (e.status === 404 && /workspaces\/[^']+' under resource group/i.test(e.message)) {
    return cloudError(
      'not_found',
      'azure_workspace_not_found',
      `Azure ML workspace ${r.workspace} was not found in resource group ${r.resourceGroup}.`,
      opts('Fix targets.azure.workspace in mlship.yaml (`az ml workspace list -g <group> -o table`), or create it (`az ml workspace create`).'),
    );
  }
  if (e.code === 'AuthorizationFailed' || e.status === 403) {
    const action = /action '([^']+)'/.exec(e.message)?.[1];
    return cloudError(
      'permission',
      'azure_access_denied',
      `Access denied on ${ws}${action ? `: your identity may not perform ${action}` : ''} (${e.operation}).`,
      opts(
        'Ask an owner to grant your identity the "AzureML Data Scientist" role on the workspace (and "Storage Blob Data Contributor" on its storage account), then run the command again.',
      ),
    );
  }
  if (e.status === 401 || /^(InvalidAuthenticationToken\w*|ExpiredAuthenticationToken)$/.test(e.code)) return credentialError(error, e.code, e.message, r);
  if (e.status === 429 || /TooManyRequests|Throttl/i.test(e.code)) {
    return cloudError(
      'throttled',
      'azure_throttled',
      `Azure Resource Manager throttled ${e.operation} (the SDK's retries did not get through): ${firstLine(e.message)}`,
      opts('Wait a minute and run the command again; it picks up where it stopped.'),
    );
  }
  if (/QuotaExceeded|NotEnoughQuota|OutOfQuota/i.test(e.code) || /quota/i.test(e.message)) {
    const family = /(standard\w*family)/i.exec(e.message)?.[1];
    return cloudError(
      'quota',
      'azure_quota_exceeded',
      `An Azure quota stopped ${e.operation}${family ? ` (VM family ${family})` : ''}: ${firstLine(e.message)}`,
      opts(
        'Request more quota for that VM family for Azure Machine Learning in the region (Azure portal → Azure ML → Quotas), or choose another instance type with serving.compute.',
      ),
    );
  }
  if (/SkuNotAvailable|SkuNotSupported|InvalidSku|NotSupportedInRegion/i.test(e.code) || /not (available|supported) in (this )?region/i.test(e.message)) {
    return cloudError(
      'invalid_request',
      'azure_sku_unavailable',
      `The instance type is not available in this region: ${firstLine(e.message)}`,
      opts('Pick an instance type the region offers (serving.compute in mlship.yaml), or use a workspace in another region.'),
    );
  }
  if (/EndpointNameAlreadyInUse|NameNotAvailable|Conflict/i.test(e.code) && e.operation.startsWith('OnlineEndpoints')) {
    return cloudError(
      'conflict',
      'azure_endpoint_name_taken',
      `The endpoint name is already taken in this region: ${firstLine(e.message)}`,
      opts('Endpoint names are unique per region; rename the project (name in mlship.yaml) or delete the other endpoint.'),
    );
  }
  if (e.status === 409) {
    return cloudError(
      'conflict',
      'azure_conflict',
      `Azure ML refused ${e.operation} because of a conflicting operation or state: ${e.code}: ${firstLine(e.message)}`,
      opts('Another operation is changing the same resource; wait for it to finish (`az ml online-endpoint show`) and run the command again.'),
    );
  }
  if (e.status === 400) {
    return cloudError(
      'invalid_request',
      'azure_request_rejected',
      `Azure ML refused ${e.operation}: ${e.code}: ${firstLine(e.message)}`,
      opts('This is likely a bug in mlship or an unsupported setting; run with --verbose and report it.'),
    );
  }
  return cloudError(
    'service',
    'azure_error',
    `Azure call ${e.operation} failed: ${e.code}: ${firstLine(e.message)}`,
    opts('Check the message above; run with --verbose for the full error.'),
  );
}

/** The workspace's container registry: it may sit in another resource group, and its roles are ACR's, not Azure ML's. */
function registryError(e: AzureCallError, workspace: string, opts: (hint: string) => ErrorOptions): CloudError | undefined {
  const roles =
    'Ask an owner of the registry to grant your identity "AcrPush" on it (az role assignment create --assignee <your identity> --role AcrPush --scope <registry ARM id>) and "Reader" to look it up, then run the command again; or push the image yourself and pass --image.';
  if (e.operation === EXCHANGE_OPERATION && (e.status === 401 || e.status === 403)) {
    return cloudError(
      'permission',
      'azure_registry_access_denied',
      `The container registry of workspace ${workspace} refused to exchange your Azure token for a registry login (${e.code}: ${firstLine(e.message)}).`,
      opts(`${roles} The identity must belong to the registry's tenant.`),
    );
  }
  if (e.operation !== 'Registries_Get') return undefined;
  if (e.status === 404) {
    return cloudError(
      'not_found',
      'azure_registry_not_found',
      `The container registry that workspace ${workspace} names was not found: ${firstLine(e.message)}`,
      opts('It was deleted or moved: attach a registry to the workspace (az ml workspace update --container-registry <registry ARM id>), or pass --image.'),
    );
  }
  if (e.status === 403 || e.code === 'AuthorizationFailed') {
    return cloudError(
      'permission',
      'azure_registry_access_denied',
      `Access denied reading the container registry of workspace ${workspace}: ${firstLine(e.message)}`,
      opts(roles),
    );
  }
  return undefined;
}

function cloudError(kind: CloudErrorKind, code: string, message: string, options: ErrorOptions): CloudError {
  return new CloudError(kind, azureDescriptor.provider!, message, { ...options, code });
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.slice(0, 500);
}

/** Where `DefaultAzureCredential` looks, and how to give it a credential: said in every credential paragraph. */
const AZURE_SIGN_IN =
  'Sign in with `az login` (then `az account set --subscription <id>`), or export AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_CLIENT_SECRET for a service principal, or run where a managed identity is attached; then run the command again.';

/**
 * No credential, an expired one, or one of another tenant: one paragraph each, kind `credentials`.
 * Read from the identity error's name and the AADSTS code Entra ID puts in its message.
 */
function credentialError(error: unknown, name: string, message: string, r: Pick<AzureResources, 'subscription'>): MlshipError {
  const first = firstLine(message);
  if (
    /AADSTS(90002|700016|50020|500011)\b|InvalidAuthenticationTokenTenant|wrong issuer|tenant .* not found/i.test(message) ||
    name === 'InvalidAuthenticationTokenTenant'
  ) {
    return cloudError(
      'credentials',
      'azure_wrong_tenant',
      `Your Azure credential belongs to another tenant (directory) than subscription ${r.subscription}, so Azure refused it: ${first}`,
      {
        hint: `Sign in to the subscription's tenant: \`az login --tenant <tenant id>\` (\`az account show --subscription ${r.subscription} --query tenantId\` names it), or set AZURE_TENANT_ID for the service principal; then run the command again.`,
        cause: error,
      },
    );
  }
  if (/AADSTS(700082|70043|50173|50133|70008)\b|expired|ExpiredAuthenticationToken|refresh token/i.test(`${name} ${message}`)) {
    return cloudError('credentials', 'azure_credentials_expired', `Your Azure sign-in has expired, so Azure refused the token: ${first}`, {
      hint: `Sign in again: \`az login\` (a service principal: a new AZURE_CLIENT_SECRET). ${AZURE_SIGN_IN}`,
      cause: error,
    });
  }
  if (name === 'CredentialUnavailableError' || name === 'AggregateAuthenticationError' || /ChainedTokenCredential|unavailable/i.test(message)) {
    return cloudError(
      'credentials',
      'azure_no_credentials',
      'No Azure credential was found: mlship signs in with DefaultAzureCredential, which tried environment variables (a service principal), workload identity, a managed identity and the Azure CLI, and none of them had one.',
      { hint: AZURE_SIGN_IN, cause: error },
    );
  }
  return cloudError('credentials', 'azure_credentials_rejected', `Azure rejected your credential: ${first}`, { hint: AZURE_SIGN_IN, cause: error });
}
