/**
 * `mlship retrain` on the Vertex AI target, through the spawned CLI on a private copy of the example:
 * one build + push (v1) shared by every case, then a pipeline run that succeeds, one that fails, and
 * `--local` (dry run) that stays off Vertex Pipelines.
 *
 * Doubles (test/doubles/vertex/, started in this process, the CLI talks to them over the wire):
 * - gRPC fake (grpc-fake.ts) with the real `@google-cloud/aiplatform` client: PipelineService
 *   CreatePipelineJob (its recorded request is checked: display name, compiled pipeline spec, the
 *   train step's image and command) and GetPipelineJob (PENDING → RUNNING → SUCCEEDED, or FAILED with
 *   an error through the fake's `pipelineFailure` lever); ModelService (push's UploadModel) and
 *   EndpointService GetEndpoint (which version is live: none, so the newest one's image is used).
 * - HTTP fake (http-fake.ts): GCS JSON API (bucket, the version records push writes, and the upload
 *   of the project source the train step reads).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cachedBuild } from '../../helpers/build-cache.js';
import { json, runCli } from '../../helpers/cli.js';
import { fromStruct } from '../../doubles/vertex/checks.js';
import { vertexProject, type VertexProject } from './project.js';

let project: VertexProject;
const IMAGE = 'us-central1-docker.pkg.dev/mlship-demo/mlship/churn';
const cli = (...args: string[]) => runCli(args, { cwd: project.dir, env: project.env, timeoutMs: 300_000 });
const pipelineCalls = () => project.fakes.grpc.calls.filter((c) => c.service === 'PipelineService');

beforeAll(async () => {
  project = await vertexProject({ serve: false, pollsUntilDone: 1 });
  const build = await cachedBuild(project.dir, () => cli('build', '--json', '--no-image'));
  expect(build.code, build.stderr).toBe(0);
  const push = await cli('push', '--json', '--image', `${IMAGE}:v1`);
  expect(push.code, push.stderr).toBe(0);
}, 600_000);

afterAll(async () => {
  await project?.cleanup();
});

describe('mlship retrain --target vertex', () => {
  it('creates a PipelineJob from the rendered template and follows it to success', async () => {
    const before = pipelineCalls().length;
    const run = await cli('retrain', '--target', 'vertex', '--json');
    expect(run.code, run.stderr).toBe(0);
    const out = json<{ remote: { pipeline: string; executionId: string; status: string } }>(run);
    expect(out.remote.status).toBe('PIPELINE_STATE_SUCCEEDED');
    expect(out.remote.executionId).toMatch(/^projects\/mlship-demo\/locations\/us-central1\/pipelineJobs\/.+/);

    const calls = pipelineCalls().slice(before);
    const create = calls.find((c) => c.method === 'CreatePipelineJob');
    expect(create, JSON.stringify(calls.map((c) => c.method))).toBeDefined();
    expect(calls.some((c) => c.method === 'GetPipelineJob' && c.request.name === out.remote.executionId)).toBe(true);
    const job = create!.request.pipelineJob;
    expect(job.displayName).toBe(out.remote.pipeline);
    expect(job.runtimeConfig.gcsOutputDirectory).toMatch(/^gs:\/\//);
    const spec = fromStruct(job.pipelineSpec) as any;
    expect(spec.pipelineInfo.name).toBe(out.remote.pipeline);
    expect(Object.keys(spec.deploymentSpec.executors).sort()).toEqual(['exec-register', 'exec-train']);
    const train = spec.deploymentSpec.executors['exec-train'].container;
    expect(train.image).toBe(`${IMAGE}:v1`);
    expect(train.command).toEqual(['/bin/sh', '-c']);
    expect(train.args[0]).toContain('\npython train.py\n'); // retraining.command of the example
    expect(project.fakes.grpc.pipelineJobs.get(out.remote.executionId)?.job.state).toBe('PIPELINE_STATE_SUCCEEDED');
  }, 300_000);

  it('a pipeline job that fails: exit 1 with the job’s error message, no stack trace', async () => {
    project.fakes.grpc.pipelineFailure = 'The replica workerpool0-0 exited with a non-zero status of 1';
    try {
      const run = await cli('retrain', '--target', 'vertex', '--json');
      expect(run.code, run.stdout + run.stderr).toBe(1);
      const all = run.stdout + run.stderr;
      expect(all).toContain('PIPELINE_STATE_FAILED: The replica workerpool0-0 exited with a non-zero status of 1');
      expect(all).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
      expect(json(run)).toMatchObject({ error: { code: 'pipeline_failed', exitCode: 1, status: 'PIPELINE_STATE_FAILED' } });
    } finally {
      project.fakes.grpc.pipelineFailure = undefined;
    }
  }, 300_000);

  it('--local does not call PipelineService', async () => {
    const before = pipelineCalls().length;
    const run = await cli('retrain', '--target', 'vertex', '--local', '--dry-run', '--json');
    expect(run.code, run.stderr).toBe(0);
    expect(json(run)).not.toHaveProperty('remote');
    expect(pipelineCalls().length).toBe(before);
  }, 300_000);
});
