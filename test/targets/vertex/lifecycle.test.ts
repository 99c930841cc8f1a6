/**
 * The Vertex AI target end to end, through the spawned CLI on a private copy of the example:
 * build → push v1 → deploy → predictions through the REST predict route → rows in the BigQuery
 * logging table → push v2 → canary promoted → v3 with failing predictions: canary reverted → rollback
 * → status → drift-check on shifted rows exits 3.
 *
 * Doubles (test/doubles/vertex/, started in this process, the CLI talks to them over the wire):
 * - gRPC fake (grpc-fake.ts) with the real `@google-cloud/aiplatform` client: ModelService
 *   UploadModel/GetModel/ListModelVersions/MergeVersionAliases; EndpointService Create/GetEndpoint,
 *   UpdateEndpoint (traffic split), Deploy/UndeployModel; JobService Create/List/Update
 *   ModelDeploymentMonitoringJob; ScheduleService List/CreateSchedule; Operations GetOperation.
 * - HTTP fake (http-fake.ts): GCS JSON API (`@google-cloud/storage`: bucket get/insert, objects
 *   list/get/multipart upload), BigQuery (`@google-cloud/bigquery`: datasets get/insert, jobs.query,
 *   getQueryResults), Cloud Monitoring timeSeries.list (REST), and the REST predict route.
 * - container.ts: the real serving app (Python, FastAPI) started from the pushed build context for
 *   every DeployModel, with Vertex's AIP_* environment.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { churnRecord, postJson } from '../../helpers/http.js';
import { cachedBuild, trainWithSeed } from '../../helpers/build-cache.js';
import { json, runCli } from '../../helpers/cli.js';
import { expectTabularBudget } from '../cloud-budget.js';
import { vertexProject, type VertexProject } from './project.js';

let project: VertexProject;
const IMAGE = 'us-central1-docker.pkg.dev/mlship-demo/mlship/churn';
const cli = (...args: string[]) => runCli(args, { cwd: project.dir, env: project.env, timeoutMs: 300_000 });

interface Live {
  version: string;
  url: string;
}

/** Build and push the project as it is now; returns the version. */
async function buildAndPush(tag: string): Promise<string> {
  const build = await cachedBuild(project.dir, () => cli('build', '--json', '--no-image'));
  expect(build.code, build.stderr).toBe(0);
  const push = await cli('push', '--json', '--image', `${IMAGE}:${tag}`);
  expect(push.code, push.stderr).toBe(0);
  return json<{ version: { version: string } }>(push).version.version;
}

/** Send predictions until `until` settles (traffic during a canary bake). */
async function traffic<T>(url: string, until: Promise<T>): Promise<T> {
  let done = false;
  void until.finally(() => (done = true));
  while (!done) {
    await postJson(url, { instances: [churnRecord] }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 50));
  }
  return until;
}

beforeAll(async () => {
  project = await vertexProject();
});

afterAll(async () => {
  await project?.cleanup();
});

describe('vertex lifecycle against the fakes', () => {
  let url = '';

  it('pushes v1 as the first version of one Vertex model, deduplicating an identical push', async () => {
    expect(await buildAndPush('v1')).toBe('v1');
    const again = await cli('push', '--json', '--image', `${IMAGE}:v1`);
    expect(json(again)).toMatchObject({ version: { version: 'v1' }, created: false });
    const versions = [...project.fakes.grpc.models.values()][0]!;
    expect(versions.map((v) => v.aliases)).toEqual([['default', 'v1']]);
    expect(versions[0]!.model.containerSpec).toMatchObject({ imageUri: `${IMAGE}:v1`, predictRoute: '/predict', healthRoute: '/health' });
  }, 600_000);

  it('deploys v1, serves predictions through the predict route and logs every one to BigQuery', async () => {
    const deploy = await cli('deploy', '--json');
    expect(deploy.code, deploy.stderr).toBe(0);
    const live = json<{ live: Live; changed: boolean }>(deploy);
    expect(live).toMatchObject({ live: { version: 'v1' }, changed: true });
    url = live.live.url;
    const answer = await postJson(url, { instances: [churnRecord, { ...churnRecord, plan: 'basic' }] });
    expect(answer.status, answer.body).toBe(200);
    const body = JSON.parse(answer.body) as { predictions: number[]; modelVersionId: string };
    expect(body.predictions).toHaveLength(2);
    expect(body.modelVersionId).toBe('1');
    const table = project.fakes.http.tables.get('mlship-demo.mlship_churn.request_response_logging');
    expect(table?.rows).toHaveLength(1);
    expect(JSON.parse((table!.rows[0]!.request_payload as string[])[1]!)).toMatchObject({ plan: 'basic' });

    // Re-running converges: nothing changes.
    const again = await cli('deploy', '--json');
    expect(json(again)).toMatchObject({ changed: false, live: { version: 'v1' } });
  }, 600_000);

  it('promotes a healthy canary of v2 and undeploys v1', async () => {
    trainWithSeed(project.dir, 1);
    expect(await buildAndPush('v2')).toBe('v2');
    const deploy = await traffic(
      url,
      cli('deploy', '--json', '--strategy', 'canary', '--canary-percent', '50', '--bake-minutes', '0.1', '--min-requests', '3'),
    );
    expect(deploy.code, deploy.stderr).toBe(0);
    expect(json(deploy)).toMatchObject({ live: { version: 'v2' }, previous: 'v1', changed: true });
    const ep = [...project.fakes.grpc.endpoints.values()][0]!;
    expect(ep.deployed.map((d) => d.modelVersionId)).toEqual(['2']);
    expect(Object.values(ep.split)).toEqual([100]);
    const splits = project.fakes.grpc.calls
      .filter((c) => c.method === 'UpdateEndpoint')
      .map((c) => Object.values(c.request.endpoint.trafficSplit as Record<string, number>).sort());
    expect(splits).toContainEqual([50, 50]);
  }, 600_000);

  it('reverts a canary of v3 whose predictions fail, and v2 keeps serving', async () => {
    trainWithSeed(project.dir, 2);
    expect(await buildAndPush('v3')).toBe('v3');
    project.fakes.http.failing.add('projects/mlship-demo/locations/us-central1/models/mlship-churn@3');
    const deploy = await traffic(
      url,
      cli('deploy', '--json', '--strategy', 'canary', '--canary-percent', '50', '--bake-minutes', '0.1', '--min-requests', '3'),
    );
    expect(deploy.code, deploy.stderr).toBe(3);
    expect(JSON.parse(deploy.stdout)).toMatchObject({ error: { code: 'canary_reverted' } });
    const ep = [...project.fakes.grpc.endpoints.values()][0]!;
    expect(ep.deployed.map((d) => d.modelVersionId)).toEqual(['2']);
    expect((await postJson(url, { instances: [churnRecord] })).status).toBe(200);
  }, 600_000);

  it('rolls back to v1 (redeployed) and status shows it with the endpoint facts', async () => {
    const rollback = await cli('rollback', '--json');
    expect(rollback.code, rollback.stderr).toBe(0);
    expect(json(rollback)).toMatchObject({ live: { version: 'v1' }, previous: 'v2' });
    const status = json<{ live: Live; details: Record<string, unknown>; history: { action: string; version: string }[] }>(await cli('status', '--json'));
    expect(status.live.version).toBe('v1');
    expect(status.details).toMatchObject({
      trafficSplit: { v1: 100 },
      logging: 'bq://mlship-demo.mlship_churn.request_response_logging',
      machine: 'e2-standard-2',
      monitoringJob: expect.stringContaining('JOB_STATE_RUNNING'),
    });
    expect(status.history.map((h) => `${h.action} ${h.version}`)).toEqual(['deploy v1', 'deploy v2', 'rollback v2', 'rollback v1']);
    const model = [...project.fakes.grpc.models.values()][0]!;
    expect(model.find((v) => v.aliases.includes('default'))?.versionId).toBe('1');
  }, 600_000);

  it('drift-check reads the logged rows from BigQuery and finds drift in shifted traffic (exit 3)', async () => {
    const from = new Date().toISOString();
    for (let i = 0; i < 40; i++) {
      const shifted = Array.from({ length: 10 }, (_, j) => ({ ...churnRecord, tenure_months: 60 + ((i + j) % 12), support_calls: 7, plan: 'enterprise' }));
      expect((await postJson(url, { instances: shifted })).status).toBe(200);
    }
    const drift = await cli('drift-check', '--json', '--from', from);
    expect(drift.code, drift.stderr).toBe(3);
    const result = JSON.parse(drift.stdout) as { drift: boolean; records?: number; rows?: number };
    expect(result.drift).toBe(true);
  }, 600_000);

  it('budget load-tests the live version through :predict, one record per {"instances": [...]}', async () => {
    await expectTabularBudget(cli, url);
  }, 300_000);
});
