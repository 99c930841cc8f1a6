/**
 * The AWS failures people meet, end to end through the real SDK clients: missing credentials and an
 * SSO profile without a session (the SDK's own credential chain), and AWS error responses injected
 * by the contract fake (AccessDenied, expired token, throttling, quota, unknown instance type) — each
 * becomes one CloudError of the shared categories (exit 1; an invalid request exit 2) with the fix.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CloudError } from '../../../src/deploy/cloud-errors.js';
import { SageMakerTarget } from '../../../src/targets/sagemaker/sagemaker-target.js';
import { runCli } from '../../helpers/cli.js';
import type { ContractFake } from '../../doubles/sagemaker/contract-fake.js';
import { awsTestEnv, useAwsDoubles, type Moto } from '../../doubles/sagemaker/moto.js';
import { sagemakerProject } from './project.js';
import { makeBuild, targetContext } from '../../helpers/build.js';

let moto: Moto;
let fake: ContractFake;
let project: ReturnType<typeof sagemakerProject>;
const instant = { sleep: async () => undefined };

useAwsDoubles((d) => ({ moto, fake } = d));
beforeEach(async () => {
  project = sagemakerProject();
});
afterEach(() => project.cleanup());

function target(command = 'push') {
  const { ctx } = targetContext(project.manifestFile, command);
  return { t: new SageMakerTarget(ctx, instant), ctx };
}

async function failure(promise: Promise<unknown>): Promise<CloudError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(CloudError);
    return error as CloudError;
  }
  throw new Error('expected the call to fail');
}

/** Run with some environment variables replaced (the SDK reads process.env when it resolves credentials). */
async function withEnv<T>(vars: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(vars)) {
    saved[k] = process.env[k];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

describe('AWS errors people meet', { timeout: 180_000 }, () => {
  it('no credentials anywhere in the chain', async () => {
    const e = await withEnv(
      {
        AWS_ACCESS_KEY_ID: undefined,
        AWS_SECRET_ACCESS_KEY: undefined,
        AWS_PROFILE: undefined,
        AWS_CONFIG_FILE: path.join(project.dir, 'none'),
        AWS_SHARED_CREDENTIALS_FILE: path.join(project.dir, 'none'),
        AWS_EC2_METADATA_DISABLED: 'true',
        AWS_CONTAINER_CREDENTIALS_FULL_URI: undefined,
        AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: undefined,
        AWS_WEB_IDENTITY_TOKEN_FILE: undefined,
      },
      () => failure(target('status').t.status()),
    );
    expect(e.code).toBe('aws_no_credentials');
    expect(e.exitCode).toBe(1);
    expect(e.message).toContain('sts:GetCallerIdentity');
    expect(e.hint).toMatch(/aws configure|aws sso login/);
  });

  it('an SSO profile whose session was never started or has expired', async () => {
    const home = path.join(project.dir, 'home');
    mkdirSync(path.join(home, '.aws'), { recursive: true });
    const config = path.join(home, '.aws', 'config');
    writeFileSync(
      config,
      '[profile dev]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Admin\nregion = us-east-1\n\n[sso-session corp]\nsso_start_url = https://example.awsapps.com/start\nsso_region = us-east-1\n',
    );
    const e = await withEnv(
      {
        AWS_ACCESS_KEY_ID: undefined,
        AWS_SECRET_ACCESS_KEY: undefined,
        AWS_PROFILE: 'dev',
        AWS_CONFIG_FILE: config,
        AWS_SHARED_CREDENTIALS_FILE: path.join(home, 'none'),
        HOME: home,
        AWS_EC2_METADATA_DISABLED: 'true',
      },
      () => failure(target('status').t.status()),
    );
    expect(e.code).toBe('aws_sso_expired');
    expect(e.hint).toContain('aws sso login');
  });

  it('AccessDenied names the IAM action and the principal', async () => {
    fake.injected.push({
      operation: 'ListModelPackages',
      status: 400,
      type: 'AccessDeniedException',
      message:
        'User: arn:aws:sts::123456789012:assumed-role/dev/alice is not authorized to perform: sagemaker:ListModelPackages because no identity-based policy allows the sagemaker:ListModelPackages action',
      times: 1,
    });
    const { t, ctx } = target();
    const e = await failure(t.push(makeBuild(ctx.manifest), { image: 'img:1' }));
    expect(e.code).toBe('aws_access_denied');
    expect(e.message).toContain('sagemaker:ListModelPackages');
    expect(e.message).toContain('arn:aws:sts::123456789012:assumed-role/dev/alice');
    expect(e.message).toContain('arn:aws:iam::123456789012:role/mlship-sagemaker');
    expect(e.hint).toContain('"sagemaker:ListModelPackages"');
  });

  it('an expired session token', async () => {
    fake.injected.push({
      operation: 'ListModelPackages',
      status: 400,
      type: 'ExpiredTokenException',
      message: 'The security token included in the request is expired',
      times: 1,
    });
    const { t, ctx } = target();
    const e = await failure(t.push(makeBuild(ctx.manifest), { image: 'img:1' }));
    expect(e.code).toBe('aws_credentials_expired');
  });

  it('throttling: the SDK retries with backoff, mlship adds no retries of its own', async () => {
    fake.injected.push({ operation: 'ListModelPackages', status: 400, type: 'ThrottlingException', message: 'Rate exceeded', times: 100 });
    const { t, ctx } = target();
    const e = await failure(t.push(makeBuild(ctx.manifest), { image: 'img:1' }));
    expect(e.code).toBe('aws_throttled');
    // The SDK's standard retry strategy: 3 attempts.
    expect(fake.operations().filter((o) => o === 'ListModelPackages')).toHaveLength(3);
  });

  it('quota exceeded and an instance type the region does not offer', async () => {
    const { t, ctx } = target();
    await t.push(makeBuild(ctx.manifest), { image: 'img:1' });
    fake.injected.push({
      operation: 'CreateEndpointConfig',
      status: 400,
      type: 'ValidationException',
      message:
        "1 validation error detected: Value 'ml.c5.large' at 'productionVariants.1.member.instanceType' failed to satisfy constraint: Member must satisfy enum value set",
      times: 1,
    });
    const unavailable = await failure(target('deploy').t.deploy({}));
    expect(unavailable).toMatchObject({ code: 'aws_instance_unavailable', kind: 'invalid_request', provider: 'aws', exitCode: 2 });
    expect(unavailable.hint).toContain('serving.compute');

    fake.injected.push({
      operation: 'CreateEndpoint',
      status: 400,
      type: 'ResourceLimitExceeded',
      message:
        "The account-level service limit 'ml.c5.large for endpoint usage' is 0 Instances, with current utilization of 0 Instances and a request delta of 1 Instances.",
      times: 1,
    });
    const quota = await failure(target('deploy').t.deploy({}));
    expect(quota).toMatchObject({ code: 'aws_quota_exceeded', kind: 'quota', exitCode: 1 });
    expect(quota.hint).toContain('Service Quotas');
  });

  it('the spawned CLI prints one paragraph and exits 1, no stack trace', async () => {
    const r = await runCli(['drift-check', '--target', 'sagemaker', '--since', '24h'], {
      cwd: project.dir,
      env: {
        ...awsTestEnv(fake.url),
        AWS_ACCESS_KEY_ID: undefined,
        AWS_SECRET_ACCESS_KEY: undefined,
        AWS_PROFILE: undefined,
        AWS_CONFIG_FILE: path.join(project.dir, 'none'),
        AWS_SHARED_CREDENTIALS_FILE: path.join(project.dir, 'none'),
        AWS_EC2_METADATA_DISABLED: 'true',
      },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('No AWS credentials were found');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
