/**
 * First contact with a cloud without credentials (issue 25 item 6): a project with a valid
 * `targets.<cloud>` block, a machine with no credentials of any kind (empty HOME, no cloud
 * variables), and `mlship status --target <cloud>` as a user runs it. Each cloud answers one
 * paragraph naming its fix, kind `credentials`, exit 1, and no Node stack trace or warning. Expired
 * credentials and a credential of the wrong tenant / project / account go through the same
 * translation (each cloud's errors.ts), checked here with the errors its SDK raises.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { translateAwsError } from '../../src/targets/sagemaker/errors.js';
import { translateGoogleError } from '../../src/targets/vertex/errors.js';
import { translateAzureError } from '../../src/targets/azure/errors.js';
import { AzureCallError } from '../../src/targets/azure/client.js';
import { copyExample, runCli } from '../helpers/cli.js';

const BLOCKS = {
  sagemaker: '  sagemaker: { region: us-east-1, role: "arn:aws:iam::123456789012:role/mlship" }',
  vertex: '  vertex: { project: mlship-demo, region: us-central1 }',
  azure: '  azure: { subscription: "00000000-0000-0000-0000-000000000000", resource_group: ml-rg, workspace: ml-ws, region: westeurope }',
} as const;

const FIX = {
  sagemaker: /aws configure.*aws sso login/s,
  vertex: /gcloud auth application-default login.*GOOGLE_APPLICATION_CREDENTIALS/s,
  azure: /az login.*AZURE_CLIENT_ID.*managed identity/s,
} as const;

/** The environment of a machine that never signed in anywhere: no cloud variables, an empty HOME. */
function bareEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!/^(AWS_|GOOGLE_|GCLOUD|CLOUDSDK_|AZURE_|MSI_|IDENTITY_|STORAGE_EMULATOR|BIGQUERY_EMULATOR)/.test(k)) env[k] = v;
  for (const k of Object.keys(process.env)) if (!(k in env)) env[k] = undefined;
  return { ...env, HOME: home, USERPROFILE: home, XDG_CONFIG_HOME: path.join(home, '.config') };
}

describe.each(Object.keys(BLOCKS) as (keyof typeof BLOCKS)[])('%s without credentials', { timeout: 120_000 }, (cloud) => {
  const project = copyExample();
  afterAll(() => project.cleanup());
  const home = path.join(project.dir, '.home');
  mkdirSync(home, { recursive: true });
  const manifest = path.join(project.dir, 'mlship.yaml');
  writeFileSync(manifest, `${readFileSync(manifest, 'utf8')}targets:\n${BLOCKS[cloud]}\n`);

  it('status: one paragraph with the fix, kind credentials, exit 1, no stack trace', async () => {
    const text = await runCli(['status', '--target', cloud], { cwd: project.dir, env: bareEnv(home), timeoutMs: 110_000 });
    expect(text.code).toBe(1);
    expect(text.stderr).toMatch(FIX[cloud]);
    expect(text.stderr).not.toMatch(/^\s+at |Node\.js v\d|Warning|Unhandled|\(node:\d+\)/m);
    // One paragraph: the error line and its hint, nothing after.
    expect(text.stderr.trim().split('\n')).toHaveLength(2);
    const json = await runCli(['status', '--target', cloud, '--json'], { cwd: project.dir, env: bareEnv(home), timeoutMs: 110_000 });
    expect(json.code).toBe(1);
    expect((JSON.parse(json.stdout) as { error: Record<string, unknown> }).error).toMatchObject({ kind: 'credentials', exitCode: 1 });
  });
});

describe('expired credentials and the wrong tenant, project or account: kind credentials, with the fix', () => {
  const kinds = (e: { kind?: string; exitCode?: number; message: string; hint?: string }) => ({
    kind: e.kind,
    exitCode: e.exitCode,
    text: `${e.message} ${e.hint}`,
  });

  it('AWS', () => {
    const region = { region: 'us-east-1' };
    const expired = translateAwsError(
      Object.assign(new Error('The security token included in the request is expired'), { name: 'ExpiredTokenException' }),
      'getCallerIdentity',
      region,
    );
    expect(kinds(expired)).toMatchObject({ kind: 'credentials', exitCode: 1, text: expect.stringMatching(/aws sso login/) });
    const wrongAccount = translateAwsError(
      Object.assign(new Error('The security token included in the request is invalid.'), { name: 'InvalidClientTokenId' }),
      'getCallerIdentity',
      region,
    );
    expect(kinds(wrongAccount)).toMatchObject({ kind: 'credentials', exitCode: 1, text: expect.stringMatching(/aws configure|AWS_PROFILE/) });
  });

  it('Google Cloud', () => {
    const ctx = { project: 'mlship-demo', region: 'us-central1' };
    const expired = translateGoogleError(new Error('invalid_grant: reauth related error (invalid_rapt)'), 'auth.token', ctx);
    expect(kinds(expired)).toMatchObject({ kind: 'credentials', exitCode: 1, text: expect.stringMatching(/gcloud auth application-default login/) });
    const project = translateGoogleError(
      Object.assign(new Error('7 PERMISSION_DENIED: Permission denied on resource project mlship-demo. CONSUMER_INVALID'), { code: 7 }),
      'aiplatform.endpoints.get',
      ctx,
    );
    expect(kinds(project)).toMatchObject({ kind: 'credentials', exitCode: 1, text: expect.stringMatching(/targets\.vertex\.project.*gcloud projects list/s) });
  });

  it('Azure', () => {
    const r = { subscription: '00000000-0000-0000-0000-000000000000', resourceGroup: 'ml-rg', workspace: 'ml-ws' };
    const expired = translateAzureError(
      Object.assign(new Error('AzureCliCredential: ERROR: AADSTS700082: The refresh token has expired due to inactivity.'), {
        name: 'CredentialUnavailableError',
      }),
      r,
    );
    expect(kinds(expired)).toMatchObject({ kind: 'credentials', exitCode: 1, text: expect.stringMatching(/az login/) });
    expect(expired.code).toBe('azure_credentials_expired');
    const tenant = translateAzureError(
      new AzureCallError('Datastores_List', 401, 'InvalidAuthenticationTokenTenant', "The access token is from the wrong issuer 'https://sts.windows.net/x/'."),
      r,
    );
    expect(kinds(tenant)).toMatchObject({ kind: 'credentials', exitCode: 1, text: expect.stringMatching(/az login --tenant/) });
    expect(tenant.code).toBe('azure_wrong_tenant');
  });
});
