/**
 * The spawned CLI with `--target azure` end to end, against the Azure doubles (`doubles/`), with zero
 * contract violations: build → push v1 → deploy → predictions through the endpoint's scoring URL →
 * data-collector lines in Azurite → push v2 → canary promoted → v3 with injected 5xx reverted →
 * rollback → status → drift-check on shifted traffic exits 3.
 *
 * Which double answers what:
 * - ARM fake (HTTPS, contract-checked): OnlineEndpoints_{Get,CreateOrUpdate,ListKeys} and
 *   OnlineDeployments_Delete / Datastores_List / ModelVersions_{List,CreateOrUpdate} /
 *   EnvironmentVersions_CreateOrUpdate (SDK 2022-10-01); OnlineDeployments_{Get,List,CreateOrUpdate}
 *   and Schedules_{Get,CreateOrUpdate} (raw 2026-07-01); the long-running operation status URLs.
 * - ARM fake, Microsoft.Insights: metrics (2023-10-01) read by the canary bake, autoscalesettings (2022-10-01).
 * - ARM fake data plane: the managed-identity token endpoint DefaultAzureCredential uses; the scoring
 *   URL, forwarded to the real serving app (run from the build its image names, AZUREML_MODEL_DIR set
 *   to the model folder downloaded from Azurite, probed on inferenceConfig's readiness route), which
 *   also writes the data collector's model_inputs / model_outputs lines to Azurite.
 * - Azurite (HTTPS, OAuth): the datastore: model folders, baselines, version records, history,
 *   data-collector files.
 * The manifest sets `monitoring.alerts.email`: the monitor schedule carries the addresses, and a new
 * list re-puts that schedule alone, once.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCsvFile } from '../../../src/util/csv.js';
import { cachedBuild, trainWithSeed } from '../../helpers/build-cache.js';
import { expectTabularBudget } from '../cloud-budget.js';
import { copyExample, json, python, runCli, type RunResult } from '../../helpers/cli.js';
import { expectGolden } from '../../helpers/golden.js';
import { pointProjectAt, startAzureDoubles, type AzureDoubles } from '../../doubles/azure/index.js';

let doubles: AzureDoubles;
let project: { dir: string; cleanup: () => void };
let env: NodeJS.ProcessEnv;

const cli = (...args: string[]): Promise<RunResult> => runCli(args, { cwd: project.dir, env, timeoutMs: 300_000 });

beforeAll(async () => {
  project = copyExample();
  doubles = await startAzureDoubles({ buildsDir: path.join(project.dir, '.mlship', 'build') });
  env = { ...doubles.env, MLSHIP_PYTHON: python };
  const manifest = pointProjectAt(project.dir, doubles.arm);
  writeFileSync(manifest, readFileSync(manifest, 'utf8').replace(/^monitoring:\n/m, 'monitoring:\n  alerts: { email: ml-team@example.com }\n'));
}, 120_000);

afterAll(async () => {
  await doubles?.stop();
  project?.cleanup();
});

async function buildAndPush(expected: string, seed?: number): Promise<string> {
  // Each later version is a model retrained with another seed (another digest).
  if (seed !== undefined) trainWithSeed(project.dir, seed);
  const built = await cachedBuild(project.dir, () => cli('build', '--json', '--no-image'));
  expect(built.code, built.stderr).toBe(0);
  const id = json<{ id?: string; build?: { id: string } }>(built);
  const buildId = id.build?.id ?? id.id!;
  const pushed = await cli('push', '--json', '--image', `mlshipfake.azurecr.io/churn:${buildId}`);
  expect(pushed.code, pushed.stderr).toBe(0);
  expect(json(pushed)).toMatchObject({ version: { version: expected }, created: true });
  return buildId;
}

function records(n: number, shift = false): Record<string, unknown>[] {
  const table = readCsvFile(path.join(project.dir, 'data', 'train.csv'));
  const idx = (c: string) => table.columns.indexOf(c);
  return table.rows.slice(0, n).map((row) => ({
    tenure_months: shift ? 70 : Number(row[idx('tenure_months')]),
    monthly_charges: shift ? 130 : Number(row[idx('monthly_charges')]),
    support_calls: shift ? 8 : Number(row[idx('support_calls')]),
    plan: shift ? 'enterprise' : row[idx('plan')],
    payment_method: shift ? 'invoice' : row[idx('payment_method')],
  }));
}

interface Live {
  url: string;
  key: string;
}

async function live(): Promise<Live> {
  const status = json<{ live: { url: string; details: { endpoint: string } } }>(await cli('status', '--json'));
  return { url: status.live.url, key: doubles.arm.endpointKey(status.live.details.endpoint)! };
}

async function score(endpoint: Live, body: unknown): Promise<{ status: number; deployment: string | null; body: unknown }> {
  const res = await fetch(endpoint.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${endpoint.key}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, deployment: res.headers.get('azureml-model-deployment'), body: await res.json() };
}

/** Send predictions until `done` settles (traffic during a canary bake). */
async function trafficWhile<T>(endpoint: Live, done: Promise<T>): Promise<{ result: T; answers: { status: number; deployment: string | null }[] }> {
  let finished = false;
  const answers: { status: number; deployment: string | null }[] = [];
  const rows = records(50);
  const loop = (async () => {
    for (let i = 0; !finished; i++) {
      answers.push(await score(endpoint, rows[i % rows.length]).catch(() => ({ status: 0, deployment: null, body: null })));
      await new Promise((r) => setTimeout(r, 40));
    }
  })();
  const result = await done;
  finished = true;
  await loop;
  return { result, answers };
}

/** `deploy --plan --json` against a golden file; the plan only reads. */
async function planGolden(name: string, extra: string[] = []): Promise<void> {
  const before = doubles.arm.calls.length;
  const planned = await cli('deploy', '--plan', '--json', ...extra);
  expect(planned.code, planned.stderr).toBe(0);
  expect(doubles.arm.calls.slice(before).filter((c) => c.method !== 'GET')).toEqual([]);
  const doc = json<{ plan: { compute: { instanceType: string; replicas: unknown; gpu: boolean } } }>(planned);
  const { instanceType, replicas, gpu } = doc.plan.compute;
  // Build ids and ports vary from run to run; the selection's reasoning belongs to the budget tests.
  const text = `${JSON.stringify({ ...doc.plan, compute: { instanceType, replicas, gpu } }, null, 2)}\n`
    .replace(/[0-9a-f]{64}/g, '<sha256>')
    .replace(/churn:[0-9a-f]{12,}/g, 'churn:<build>')
    // The source's code asset version is its content digest (the manifest holds the fake's port).
    .replace(/(churn-source:|versions\/)[0-9a-f]{12}\b/g, '$1<source>')
    .replace(/"files": \d+/g, '"files": "<n>"')
    .replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:<port>');
  expectGolden(path.join(path.dirname(new URL(import.meta.url).pathname), 'golden'), name, text);
}

describe('mlship --target azure (spawned CLI against the Azure doubles)', () => {
  it('pushes v1, deploys it, scores through the endpoint and collects every prediction in blob storage', async () => {
    await buildAndPush('v1');
    await planGolden('plan-fresh.json');
    const deployed = await cli('deploy', '--json');
    expect(deployed.code, deployed.stderr).toBe(0);
    expect(json(deployed)).toMatchObject({ live: { version: 'v1', healthy: true }, changed: true });

    const endpoint = await live();
    const one = await score(endpoint, records(1)[0]);
    expect(one.status).toBe(200);
    expect(one.deployment).toBe('v1');
    expect(one.body).toMatchObject({ version: 'v1' });
    const batch = await score(endpoint, records(3));
    expect((batch.body as { predictions: unknown[] }).predictions).toHaveLength(3);

    const lines = await doubles.arm.collectedLines(doubles.arm.list('onlineEndpoints/')[0]!.name);
    expect(lines.model_inputs).toHaveLength(2);
    expect(lines.model_outputs).toHaveLength(2);
    expect(JSON.parse(lines.model_inputs![1]!)).toMatchObject({ type: 'azureml.inference.model_inputs', data: records(3) });

    // What mlship asked for: the data collector on, probes, the chosen instance type, one replica.
    const dep = doubles.arm.list(`onlineEndpoints/${doubles.arm.list('onlineEndpoints/')[0]!.name}/deployments/`)[0]!;
    expect(dep.properties).toMatchObject({
      endpointComputeType: 'Managed',
      dataCollector: { collections: { model_inputs: { dataCollectionMode: 'Enabled', samplingRate: 1 }, model_outputs: { dataCollectionMode: 'Enabled' } } },
      readinessProbe: { period: 'PT10S' },
    });
    expect(dep.sku).toMatchObject({ name: 'Default', capacity: 1 });

    const again = await cli('deploy', '--json');
    expect(json(again)).toMatchObject({ live: { version: 'v1' }, changed: false });

    // Who is mailed is part of the monitor schedule: a new list re-puts that schedule, once. (The
    // changed manifest is also new project source for the retraining schedule: not this test's concern.)
    const monitorSteps = async () =>
      json<{ plan: { steps: { action: string; resource: string; details: Record<string, unknown> }[] } }>(
        await cli('deploy', '--plan', '--json'),
      ).plan.steps.filter((s) => s.resource === 'churn-drift-monitor');
    const monitor = () =>
      doubles.arm.resource('schedules/churn-drift-monitor')!.properties.action as { monitorDefinition: { alertNotificationSettings?: unknown } };
    expect(monitor().monitorDefinition.alertNotificationSettings).toEqual({ emailNotificationSettings: { emails: ['ml-team@example.com'] } });
    const file = path.join(project.dir, 'mlship.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('email: ml-team@example.com', 'email: [ml-team@example.com, oncall@example.com]'));
    expect(await monitorSteps()).toEqual([
      {
        action: 'azureml:Schedules_CreateOrUpdate',
        resource: 'churn-drift-monitor',
        details: { api: 'raw 2026-07-01', action: 'CreateMonitor', alertEmails: ['ml-team@example.com', 'oncall@example.com'], cron: '0 2 * * *' },
      },
    ]);
    expect((await cli('deploy', '--json')).code).toBe(0);
    expect(monitor().monitorDefinition.alertNotificationSettings).toEqual({
      emailNotificationSettings: { emails: ['ml-team@example.com', 'oncall@example.com'] },
    });
    expect(await monitorSteps()).toEqual([]);
  }, 900_000);

  it('promotes a healthy canary (v2) and reverts a failing one (v3), leaving v2 serving', async () => {
    await buildAndPush('v2', 2);
    await planGolden('plan-update.json', ['--strategy', 'canary', '--canary-percent', '50', '--bake-minutes', '0.1', '--min-requests', '3']);
    const endpoint = await live();
    const canary = await trafficWhile(
      endpoint,
      cli('deploy', '--json', '--strategy', 'canary', '--canary-percent', '50', '--bake-minutes', '0.1', '--min-requests', '3'),
    );
    expect(canary.result.code, canary.result.stderr).toBe(0);
    expect(json(canary.result)).toMatchObject({ live: { version: 'v2' }, previous: 'v1' });
    expect(new Set(canary.answers.map((a) => a.deployment))).toEqual(new Set(['v1', 'v2']));
    expect(canary.answers.every((a) => a.status === 200)).toBe(true);
    const endpointName = doubles.arm.list('onlineEndpoints/')[0]!.name;
    expect(doubles.arm.list(`onlineEndpoints/${endpointName}/deployments/`).map((d) => d.name)).toEqual(['v2']);

    await buildAndPush('v3', 3);
    doubles.arm.failingDeployments.add('v3');
    const bad = await trafficWhile(
      endpoint,
      cli('deploy', '--json', '--strategy', 'canary', '--canary-percent', '50', '--bake-minutes', '0.1', '--min-requests', '3'),
    );
    expect(bad.result.code, bad.result.stderr).toBe(3);
    expect(json<{ error: { code: string; message: string } }>(bad.result).error).toMatchObject({
      code: 'canary_reverted',
      message: expect.stringMatching(/canary of v3 was reverted: .* 5xx/),
    });
    expect(bad.result.stderr).not.toMatch(/\n\s+at /);
    expect(doubles.arm.list(`onlineEndpoints/${endpointName}/deployments/`).map((d) => d.name)).toEqual(['v2']);
    expect(doubles.arm.resource(`onlineEndpoints/${endpointName}`)!.properties.traffic).toEqual({ v2: 100 });
  }, 900_000);

  it('rolls back to v1 (recreating its deployment), shows status, and finds drift in shifted traffic (exit 3)', async () => {
    const back = await cli('rollback', '--json');
    expect(back.code, back.stderr).toBe(0);
    expect(json(back)).toMatchObject({ live: { version: 'v1', healthy: true }, previous: 'v2' });

    const status = json<{
      live: { version: string };
      history: { action: string; version: string }[];
      details: { deployments: { name: string; traffic: number; instanceType: string; dataCollection: string }[]; monitor: { cron: string } };
    }>(await cli('status', '--json'));
    expect(status.live.version).toBe('v1');
    expect(status.history.map((h) => `${h.action} ${h.version}`)).toEqual(['deploy v1', 'deploy v2', 'rollback v1']);
    expect(status.details.deployments).toEqual([
      expect.objectContaining({
        name: 'v1',
        traffic: 100,
        dataCollection: expect.stringMatching(/^azureml:\/\/datastores\/workspaceblobstore\/paths\/modelDataCollector\//),
      }),
    ]);
    expect(status.details.monitor.cron).toBe('0 2 * * *');

    const from = new Date().toISOString();
    const endpoint = await live();
    for (const row of records(300, true)) expect((await score(endpoint, row)).status).toBe(200);
    const drift = await cli('drift-check', '--json', '--from', from);
    expect(drift.code, drift.stderr).toBe(3);
    expect(drift.stderr).not.toMatch(/\n\s+at /);
  }, 900_000);

  it('budget load-tests the live version through the scoring URI with its key', async () => {
    await expectTabularBudget(cli, (await live()).url);
  }, 300_000);

  it('sent nothing the published contract refuses', () => {
    expect(doubles.arm.violations).toEqual([]);
  });
});
