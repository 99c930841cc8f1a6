/**
 * `mlship push --target azure` without `--image`, as a spawned CLI: the build's image goes to the
 * workspace's container registry through the shared push flow, with a stand-in docker CLI on the PATH
 * that records its arguments and stdin (the engine is not what is under test; the real tools are
 * exercised by test/packaging/image.test.ts).
 *
 * Which double answers what:
 * - ARM fake (HTTPS): Workspaces_Get (SDK 2022-10-01; the workspace with `containerRegistry`, or
 *   without one), Registries_Get (raw 2023-07-01; `loginServer` = the fake's own host), and, acting
 *   as that login server, ACR's `POST /oauth2/exchange` (form fields, an ARM-audience AAD token and
 *   the tenant checked; answers a refresh token, or the injected 401); Datastores_List,
 *   ModelVersions_{List,CreateOrUpdate} and EnvironmentVersions_CreateOrUpdate (SDK, contract-checked).
 * - ARM fake data plane: the managed-identity token endpoint DefaultAzureCredential uses.
 * - Azurite: the datastore (model folder, version record).
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cachedBuild } from '../../helpers/build-cache.js';
import { copyExample, json, python, runCli, type RunResult } from '../../helpers/cli.js';
import { REGISTRY_ID, TENANT } from '../../doubles/azure/arm-fake.js';
import { pointProjectAt, startAzureDoubles, type AzureDoubles } from '../../doubles/azure/index.js';

let doubles: AzureDoubles;
let project: { dir: string; cleanup: () => void };
let env: NodeJS.ProcessEnv;
let bin: string;
let log: string;
let buildId: string;

const cli = (args: string[], extra: NodeJS.ProcessEnv = {}): Promise<RunResult> =>
  runCli(args, { cwd: project.dir, env: { ...env, ...extra }, timeoutMs: 300_000 });
/** The stand-in docker first on the PATH. */
const withDocker = () => ({ PATH: `${bin}:${process.env.PATH}` });
const ACR_USER = '00000000-0000-0000-0000-000000000000';

interface ErrorDoc {
  error: { code: string; message: string; hint?: string };
}

beforeAll(async () => {
  project = copyExample();
  doubles = await startAzureDoubles({ buildsDir: path.join(project.dir, '.mlship', 'build') });
  env = { ...doubles.env, MLSHIP_PYTHON: python };
  pointProjectAt(project.dir, doubles.arm);

  // A stand-in docker CLI that records its arguments, and the stdin of `login`.
  bin = path.join(project.dir, 'fake-bin');
  mkdirSync(bin);
  log = path.join(project.dir, 'docker.log');
  writeFileSync(
    path.join(bin, 'docker'),
    `#!/bin/sh
echo "ARGS $*" >> "${log}"
case "$1" in
  login) echo "STDIN $(cat)" >> "${log}" ;;
  image) echo "sha256:$(printf '%064d' 5) 123456" ;;
  push) if [ -n "$FAKE_PUSH_DENIED" ]; then echo "denied: requested access to the resource is denied" >&2; exit 1; fi
        echo "digest: sha256:$(printf '%064d' 9) size: 1" ;;
esac
exit 0
`,
  );
  chmodSync(path.join(bin, 'docker'), 0o755);

  const built = await cachedBuild(project.dir, () => cli(['build', '--json', '--no-image']));
  expect(built.code, built.stderr).toBe(0);
  const doc = json<{ id?: string; build?: { id: string } }>(built);
  buildId = doc.build?.id ?? doc.id!;
}, 300_000);

afterAll(async () => {
  await doubles?.stop();
  project?.cleanup();
});

beforeEach(() => {
  writeFileSync(log, '');
  doubles.arm.workspaceRegistry = REGISTRY_ID;
  doubles.arm.exchangeRefusal = undefined;
});

/** Nothing was registered: no model or environment version. */
function nothingRegistered(): void {
  expect(doubles.arm.list('models/churn/versions/')).toEqual([]);
  expect(doubles.arm.list('environments/churn-serving/versions/')).toEqual([]);
}

describe('mlship push --target azure without --image (spawned CLI, stand-in docker)', () => {
  it('a workspace without a container registry: exit 2 saying so and how to fix it, before anything is pushed', async () => {
    doubles.arm.workspaceRegistry = undefined;
    const r = await cli(['push', '--json'], withDocker());
    expect(r.code, r.stderr).toBe(2);
    const { error } = json<ErrorDoc>(r);
    expect(error.code).toBe('azure_no_registry');
    expect(error.message).toMatch(/workspace mlship-ws has no container registry/);
    expect(error.hint).toMatch(/az ml workspace update .*--container-registry/);
    expect(error.hint).toMatch(/--image/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(readFileSync(log, 'utf8')).not.toMatch(/ARGS (login|push|build)/);
    nothingRegistered();
  }, 300_000);

  it("no builder works here: the --image usage error, its example on the workspace registry's login server", async () => {
    const empty = path.join(project.dir, 'empty-bin');
    mkdirSync(empty, { recursive: true });
    const r = await cli(['push', '--json'], { PATH: empty });
    expect(r.code, r.stderr).toBe(2);
    const { error } = json<ErrorDoc>(r);
    expect(error.code).toBe('image_required');
    expect(error.hint).toContain(`--image ${doubles.arm.loginServer}/churn:${buildId}`);
    nothingRegistered();
  }, 300_000);

  it('the registry refuses the token exchange: exit 1 naming the AcrPush role; no login, nothing registered', async () => {
    doubles.arm.exchangeRefusal = {
      status: 401,
      code: 'UNAUTHORIZED',
      message: 'authentication required, visit https://aka.ms/acr/authorization for more information.',
    };
    const r = await cli(['push', '--json'], withDocker());
    expect(r.code, r.stderr).toBe(1);
    const { error } = json<ErrorDoc>(r);
    expect(error.code).toBe('azure_registry_access_denied');
    expect(error.message).toMatch(/refused .*UNAUTHORIZED: authentication required/);
    expect(error.hint).toMatch(/AcrPush/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(readFileSync(log, 'utf8')).not.toMatch(/ARGS (login|push)/);
    nothingRegistered();
  }, 300_000);

  it('the registry lets the login in but refuses the push: exit 1, the hint names AcrPush, nothing registered', async () => {
    const r = await cli(['push', '--json'], { ...withDocker(), FAKE_PUSH_DENIED: '1' });
    expect(r.code, r.stderr).toBe(1);
    const { error } = json<ErrorDoc>(r);
    expect(error.code).toBe('image_push_failed');
    expect(error.message).toMatch(/denied: requested access to the resource is denied/);
    expect(error.hint).toMatch(/refused the push: .*AcrPush role/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    nothingRegistered();
  }, 300_000);

  it('logs in with the exchanged refresh token on stdin, pushes <login server>/churn:<build>, and registers that image', async () => {
    const exchangesBefore = doubles.arm.exchanges.length;
    const r = await cli(['push', '--json'], withDocker());
    expect(r.code, r.stderr).toBe(0);
    const uri = `${doubles.arm.loginServer}/churn:${buildId}`;
    expect(json(r)).toMatchObject({ version: { version: 'v1', location: { image: uri } }, created: true });

    // The exchange: the login server as service, the token's tenant, the AAD token in the form only.
    const exchanges = doubles.arm.exchanges.slice(exchangesBefore);
    expect(exchanges).toEqual([{ service: doubles.arm.loginServer, tenant: TENANT, authorization: false, refreshToken: expect.any(String) }]);

    const calls = readFileSync(log, 'utf8');
    const login = /ARGS (login .*)\nSTDIN (.*)\n/.exec(calls);
    expect(login?.[1]).toBe(`login --username ${ACR_USER} --password-stdin ${doubles.arm.loginServer}`);
    // The password is the exchanged refresh token, on stdin and never in the arguments.
    expect(login?.[2]).toBe(exchanges[0]!.refreshToken);
    expect(calls).toContain(`ARGS build --platform linux/amd64 -t ${uri}`);
    expect(calls).toContain(`ARGS push ${uri}`);

    expect(doubles.arm.resource('environments/churn-serving/versions/1')?.properties.image).toBe(uri);
    expect(doubles.arm.resource('models/churn/versions/1')?.properties).toBeDefined();
    const looked = doubles.arm.calls.filter((c) => c.operation === 'Workspaces_Get' || c.operation === 'Registries_Get');
    expect(looked).toContainEqual({ method: 'GET', operation: 'Workspaces_Get', apiVersion: '2022-10-01' });
    expect(looked).toContainEqual({ method: 'GET', operation: 'Registries_Get', apiVersion: '2023-07-01' });

    // The same build again is the same version: nothing pushed twice.
    writeFileSync(log, '');
    const again = await cli(['push', '--json'], withDocker());
    expect(json(again)).toMatchObject({ version: { version: 'v1' }, created: false });
    expect(readFileSync(log, 'utf8')).not.toMatch(/ARGS push/);
  }, 300_000);

  it('sent nothing the contract or the registry would refuse', () => {
    expect(doubles.arm.violations).toEqual([]);
  });
});
