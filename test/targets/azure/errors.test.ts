/**
 * Azure failures people meet, as the user sees them: a translated message naming what and where, the
 * shared CloudError category and its exit code, never a stack trace.
 * - unit: `translateAzureError` on the errors ARM returns (codes as the real service spells them),
 *   and ACR's token exchange (its `{errors: [{code}]}` codes).
 * - spawned CLI against the doubles (ARM fake + Azurite): a workspace that does not exist (the fake's
 *   404 for Datastores_List), and a deployment whose provisioning fails (injected in the fake's
 *   OnlineDeployments_CreateOrUpdate long-running operation), which leaves traffic unchanged and prints
 *   the error and the container log tail (OnlineDeployments_GetLogs).
 * (Retraining jobs and their failures: retraining.test.ts.)
 */
import path from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AzureCallError, EXCHANGE_OPERATION } from '../../../src/targets/azure/client.js';
import { translateAzureError } from '../../../src/targets/azure/errors.js';
import { CloudError } from '../../../src/deploy/cloud-errors.js';
import { copyExample, runCli } from '../../helpers/cli.js';
import { makeBuild, targetContext } from '../../helpers/build.js';
import { pointProjectAt, startAzureDoubles, type AzureDoubles } from '../../doubles/azure/index.js';

const r = { subscription: '00000000-0000-4000-8000-000000000001', resourceGroup: 'rg', workspace: 'ws1' };

describe('translateAzureError', () => {
  const cases: [AzureCallError | Error, string, string, RegExp][] = [
    [
      new AzureCallError('Datastores_List', 404, 'SubscriptionNotFound', "The subscription 'x' could not be found."),
      'not_found',
      'azure_subscription_not_found',
      /subscription 0000/,
    ],
    [
      new AzureCallError('Datastores_List', 404, 'ResourceGroupNotFound', "Resource group 'rg' could not be found."),
      'not_found',
      'azure_resource_group_not_found',
      /Resource group rg/,
    ],
    [
      new AzureCallError(
        'Datastores_List',
        404,
        'ResourceNotFound',
        "The Resource 'Microsoft.MachineLearningServices/workspaces/ws1' under resource group 'rg' was not found.",
      ),
      'not_found',
      'azure_workspace_not_found',
      /workspace ws1/,
    ],
    [
      new AzureCallError(
        'OnlineEndpoints_CreateOrUpdate',
        403,
        'AuthorizationFailed',
        "The client 'abc' does not have authorization to perform action 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints/write' over scope '/subscriptions/x'.",
      ),
      'permission',
      'azure_access_denied',
      /onlineEndpoints\/write/,
    ],
    [
      new AzureCallError(
        'OnlineDeployments_CreateOrUpdate',
        400,
        'QuotaExceeded',
        'Not enough quota available for Standard_NC4as_T4_v3 in StandardNCASv3_T4Family.',
      ),
      'quota',
      'azure_quota_exceeded',
      /StandardNCASv3_T4Family/,
    ],
    [
      new AzureCallError('OnlineDeployments_CreateOrUpdate', 400, 'BadArgument', 'The VM size Standard_NC24ads_A100_v4 is not available in this region.'),
      'invalid_request',
      'azure_sku_unavailable',
      /not available/,
    ],
    [
      Object.assign(new Error('DefaultAzureCredential failed to retrieve a token'), { name: 'AggregateAuthenticationError' }),
      'credentials',
      'azure_no_credentials',
      /No Azure credential/,
    ],
    // The workspace's container registry (push without --image): possibly in another resource group, with ACR's roles.
    [
      new AzureCallError(
        'Registries_Get',
        404,
        'ResourceNotFound',
        "The Resource 'Microsoft.ContainerRegistry/registries/acr1' under resource group 'shared' was not found.",
      ),
      'not_found',
      'azure_registry_not_found',
      /registry that workspace ws1 names was not found: .*acr1/,
    ],
    [
      new AzureCallError(
        'Registries_Get',
        403,
        'AuthorizationFailed',
        "The client 'abc' does not have authorization to perform action 'Microsoft.ContainerRegistry/registries/read' over scope '/subscriptions/x'.",
      ),
      'permission',
      'azure_registry_access_denied',
      /registries\/read/,
    ],
    [
      new AzureCallError(EXCHANGE_OPERATION, 401, 'UNAUTHORIZED', 'authentication required'),
      'permission',
      'azure_registry_access_denied',
      /refused to exchange your Azure token/,
    ],
  ];
  for (const [error, kind, code, message] of cases) {
    it(`${code}`, () => {
      const e = translateAzureError(error, r);
      expect(e).toBeInstanceOf(CloudError);
      expect(e).toMatchObject({ kind, code });
      expect(e.message).toMatch(message);
      expect(e.hint).toBeTruthy();
      if (code.startsWith('azure_registry')) expect(e.hint).toMatch(code === 'azure_registry_not_found' ? /--container-registry/ : /AcrPush/);
    });
  }
});

describe('Azure errors through the CLI', () => {
  let doubles: AzureDoubles;
  let project: { dir: string; cleanup: () => void };
  let manifest: string;

  beforeAll(async () => {
    project = copyExample();
    doubles = await startAzureDoubles({ buildsDir: path.join(project.dir, '.mlship', 'build') });
    manifest = pointProjectAt(project.dir, doubles.arm);
  }, 120_000);
  afterAll(async () => {
    await doubles?.stop();
    project?.cleanup();
  });

  it('a workspace that does not exist: exit 1, named, no stack', async () => {
    const wrong = path.join(project.dir, 'wrong.yaml');
    writeFileSync(wrong, readFileSync(manifest, 'utf8').replace(/workspace: mlship-ws/, 'workspace: no-such-ws'));
    const r = await runCli(['status', '-f', wrong], { cwd: project.dir, env: doubles.env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/workspace no-such-ws was not found in resource group mlship-rg/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }, 120_000);

  it('a deployment that fails to provision: exit 1 with its error and log tail, traffic unchanged', async () => {
    const { ctx } = targetContext(manifest, 'push');
    const build = makeBuild(ctx.manifest);
    const pushed = await runCli(['push', '--build', build.id, '--image', `mlshipfake.azurecr.io/churn:${build.id}`, '--json'], {
      cwd: project.dir,
      env: doubles.env,
    });
    expect(pushed.code, pushed.stderr).toBe(0);
    doubles.arm.provisioningFailures.set('v1', { code: 'ImagePullFailure', message: 'Failed to pull image mlshipfake.azurecr.io/churn: unauthorized' });
    const r = await runCli(['deploy'], { cwd: project.dir, env: doubles.env, timeoutMs: 180_000 });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/deployment v1 of .* failed: .*Failed to pull image/);
    expect(r.stderr).toMatch(/traffic is unchanged/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const endpoint = doubles.arm.list('onlineEndpoints/')[0]!;
    expect(endpoint.properties.traffic ?? {}).toEqual({});
    expect(doubles.arm.violations).toEqual([]);
  }, 240_000);
});
