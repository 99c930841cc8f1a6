/**
 * `deploy --plan --json` on Vertex, golden-tested for a fresh project and for an update (v1 live, v2
 * pushed), and the retraining pipeline's compiled KFP spec, golden-tested whole. In process, with the
 * real `@google-cloud/aiplatform`, storage and bigquery clients against the doubles:
 * - gRPC fake: ModelService UploadModel/ListModelVersions/MergeVersionAliases, EndpointService
 *   Create/GetEndpoint, DeployModel, UpdateEndpoint, JobService List/Create monitoring job,
 *   ScheduleService List/CreateSchedule, Operations GetOperation;
 * - HTTP fake: GCS (bucket get/insert, objects list/get/upload), BigQuery datasets get/insert.
 * Deployed models are not started (serve: false): the plan is about the control plane.
 * Set UPDATE_GOLDEN=1 to rewrite the golden files.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectGolden } from '../../helpers/golden.js';
import { VertexTarget } from '../../../src/targets/vertex/vertex-target.js';
import { pipelineSpec } from '../../../src/targets/vertex/pipeline.js';
import { resolveResources } from '../../../src/targets/vertex/resources.js';
import { makeBuild, targetContext } from '../../helpers/build.js';
import { vertexProject, type VertexProject } from './project.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const IMAGE = 'us-central1-docker.pkg.dev/mlship-demo/mlship/churn';

function golden(name: string, value: unknown): void {
  // The doubles listen on a free port: the address is not part of the plan's contract.
  const text = `${JSON.stringify(value, null, 2)}\n`.replace(/http:\/\/127\.0\.0\.1:\d+/g, 'http://127.0.0.1:PORT');
  expectGolden(path.join(here, 'golden'), name, text);
}

let project: VertexProject;
const saved = { ...process.env };

beforeAll(async () => {
  project = await vertexProject({ serve: false, pollsUntilDone: 1 });
  // The SDKs read their emulator variables from this process's environment.
  Object.assign(process.env, project.fakes.env);
});

afterAll(async () => {
  process.env = saved;
  await project?.cleanup();
});

function target(command: string): VertexTarget {
  const { ctx } = targetContext(project.manifestFile, command);
  return new VertexTarget({ ...ctx, env: { ...process.env } }, { maxPollMs: 20 });
}

describe('vertex deploy --plan', () => {
  it('plans a fresh project: dataset, endpoint with logging, DeployModel, aliases, monitoring, schedule', async () => {
    const t = target('push');
    const { ctx } = targetContext(project.manifestFile);
    const pushed = await t.push(makeBuild(ctx.manifest), { image: `${IMAGE}:v1` });
    expect(pushed.version.version).toBe('v1');
    const plan = await t.plan({});
    golden('plan-fresh.json', plan);
    expect(plan.steps.map((s) => s.action)).toEqual([
      'bigquery:EnsureDataset',
      'aiplatform:CreateEndpoint',
      'aiplatform:DeployModel',
      'rollout:AllAtOnce',
      'aiplatform:MergeVersionAliases',
      'aiplatform:CreateModelDeploymentMonitoringJob',
      'aiplatform:CreateSchedule',
    ]);
    await t.close();
  }, 300_000);

  it('plans an update: v2 beside v1 at 0%, canary, then v1 undeployed; monitoring follows', async () => {
    const t = target('deploy');
    await t.deploy({});
    const { ctx } = targetContext(project.manifestFile);
    await t.push(makeBuild(ctx.manifest, 1), { image: `${IMAGE}:v2` });
    const plan = await t.plan({ strategy: { kind: 'canary', percent: 10, bakeMinutes: 10 } });
    golden('plan-update.json', plan);
    expect(plan).toMatchObject({ from: 'v1', to: 'v2', noop: false });
    const deploy = plan.steps.find((s) => s.action === 'aiplatform:DeployModel');
    expect(deploy?.details?.trafficSplit).toMatchObject({ '0': 0 });
    await t.close();
  }, 300_000);

  it('renders the retraining pipeline as a compiled KFP spec', () => {
    const { ctx } = targetContext(project.manifestFile);
    const r = resolveResources(ctx.manifest, { GOOGLE_CLOUD_PROJECT: 'mlship-demo' });
    const spec = pipelineSpec(
      ctx.manifest,
      r,
      { version: 'v1', versionId: '1', buildId: 'b1', createdAt: '', digest: 'x', image: `${IMAGE}:v1`, artifactUri: 'gs://b/m/' },
      { instanceType: 'e2-standard-4', replicas: { min: 1, max: 1 }, gpu: false, reasons: [] },
    );
    golden('pipeline-spec.json', spec);
  });
});
