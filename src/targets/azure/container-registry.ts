/**
 * The workspace's Azure Container Registry as the shared image flow (`../shared/image.ts`) needs it:
 * the registry the workspace names (`Workspaces_Get` → `containerRegistry`, an ARM id; Azure creates
 * it lazily, so a young workspace may have none), its login server (`Registries_Get`: never assumed
 * to be `<name>.azurecr.io`, sovereign clouds differ), the repository `<login server>/<project>`
 * (ACR creates repositories on the first push) and a login: username
 * `00000000-0000-0000-0000-000000000000` and an ACR refresh token from the AAD exchange as the
 * password, which the builder reads on stdin.
 */
import { UsageError } from '../../util/errors.js';
import type { ImageRegistry } from '../../deploy/image.js';
import { ACR_TOKEN_USERNAME, type AzureMl } from './client.js';
import type { AzureResources } from './resources.js';

/** The workspace's registry, looked up once (before anything is uploaded); usable for hints when the workspace has none. */
export async function workspaceRegistry(api: AzureMl, r: AzureResources): Promise<ImageRegistry> {
  const id = await api.workspaceRegistryId();
  const loginServer = id ? await api.registryLoginServer(id) : undefined;
  const server = (): string => {
    if (!loginServer) throw noRegistry(r);
    return loginServer;
  };
  return {
    description: loginServer ? `container registry ${loginServer} of workspace ${r.workspace}` : `the container registry of workspace ${r.workspace}`,
    ensureRepository: async () => `${server()}/${r.name}`,
    credentials: async () => ({ server: server(), username: ACR_TOKEN_USERNAME, password: await api.registryRefreshToken(server()) }),
    exampleUri: (buildId) => `${loginServer ?? '<registry>.azurecr.io'}/${r.name}:${buildId}`,
    pushPermission:
      'your identity needs the AcrPush role on that registry (az role assignment create --role AcrPush --assignee <you> --scope <registry ARM id>), or push the image yourself and pass --image.',
  };
}

function noRegistry(r: AzureResources): UsageError {
  return new UsageError(
    `workspace ${r.workspace} has no container registry yet (Azure creates one only when the workspace first needs it), so mlship has nowhere to push the serving image`,
    {
      code: 'azure_no_registry',
      hint: `Attach a registry to the workspace (az ml workspace update --name ${r.workspace} --resource-group ${r.resourceGroup} --container-registry <registry ARM id>), or push the image yourself and pass it: mlship push --target azure --image <registry>/${r.name}:<build id>`,
    },
  );
}
