/**
 * An LLM on Vertex AI end to end, through the spawned CLI against the Vertex doubles, with the real
 * gateway (python/mlship_serving/llm/) in front of a real llama-server on CPU (one thread) in place
 * of the GPU container: push v1 (probes sized for the model's load) → deploy on the selection's GPU
 * machine → chat through `:predict` ({"instances": [chat]} → {"predictions": [completion]}, logged
 * to BigQuery), `:rawPredict` and `:streamRawPredict` (the OpenAI body and its event stream as they
 * are) → status → the logged rows read back as LLM records (prompt, completion, LlmFacts) →
 * drift-check on shifted traffic against the manifest's reference (exit 3) → v2 by a canary through
 * the shared rollout controller → rollback to v1. The project is the one `mlship init` writes for the
 * tiny model; every version is a real `mlship build`.
 *
 * Doubles (test/doubles/vertex/): the gRPC control plane with the real `@google-cloud/aiplatform`
 * client; the HTTP fake (GCS, BigQuery, Cloud Monitoring, predict/rawPredict/streamRawPredict);
 * container.ts runs the pushed build with Vertex's AIP_* environment.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelLoadSeconds } from '../../../src/compute/load-time.js';
import { LOG_FORMATS } from '../../../src/logs/formats/index.js';
import type { PredictionRecord } from '../../../src/logs/format.js';
import { VertexTarget } from '../../../src/targets/vertex/vertex-target.js';
import { targetContext } from '../../helpers/build.js';
import { json, python, runCli } from '../../helpers/cli.js';
import { startVertexFakes, type VertexFakes } from '../../doubles/vertex/run-fake.js';
import { shifted } from '../../monitoring/drift/llm-traffic.js';
import { CHAT, changeContext, cloudLlmProject, DRIFT_N, sseEvents } from '../llm-cloud.js';
import { expectLlmBudget } from '../cloud-budget.js';

const IMAGE = 'us-central1-docker.pkg.dev/mlship-demo/mlship/tiny';
let fakes: VertexFakes;
let project: { dir: string; cleanup: () => void };
let env: NodeJS.ProcessEnv;
const saved = { ...process.env };
const cli = (...args: string[]) => runCli(args, { cwd: project.dir, env, timeoutMs: 300_000 });

async function post(url: string, body: unknown): Promise<{ status: number; type: string; text: string }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
}

/** Build the project as it is now (the gateway's serve.py, the runtime, the model) and push it. */
async function buildAndPush(tag: string): Promise<string> {
  const built = await cli('build', '--json', '--no-image');
  expect(built.code, built.stderr).toBe(0);
  const pushed = await cli('push', '--json', '--image', `${IMAGE}:${tag}`);
  expect(pushed.code, pushed.stderr).toBe(0);
  expect(pushed.stderr).toContain(`health checks allow the model ${modelLoadSeconds(572_128, true)} s to load (0.6 MB; startupProbe on /health)`);
  return json<{ version: { version: string } }>(pushed).version.version;
}

/** Chats through `:predict` until `until` settles (traffic for a canary's bake). */
async function traffic<T>(url: string, until: Promise<T>): Promise<T> {
  let done = false;
  void until.finally(() => (done = true));
  while (!done) {
    await post(url, { instances: [CHAT] }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 50));
  }
  return until;
}

beforeAll(async () => {
  fakes = await startVertexFakes();
  const block = fakes.targets.vertex as Record<string, string>;
  project = await cloudLlmProject(
    'vertex',
    `  vertex: { ${Object.entries(block)
      .map(([k, v]) => `${k}: "${v}"`)
      .join(', ')} }\n`,
  );
  env = { ...fakes.env, MLSHIP_PYTHON: python, GOOGLE_APPLICATION_CREDENTIALS: path.join(project.dir, 'no-such-credentials.json') };
  // The in-process reader below uses the SDKs, which read their emulator variables from this process.
  Object.assign(process.env, fakes.env);
}, 120_000);

afterAll(async () => {
  process.env = saved;
  await fakes?.stop();
  project?.cleanup();
});

describe('an LLM on Vertex AI (init → build → push → deploy → chat → status → drift-check → budget → rollback)', () => {
  let url = '';

  it('pushes v1 with probes sized for the model load, deploys it on a GPU machine and chats (whole and streamed)', async () => {
    expect(await buildAndPush('v1')).toBe('v1');
    const spec = [...fakes.grpc.models.values()][0]![0]!.model.containerSpec;
    expect(spec.startupProbe).toMatchObject({
      httpGet: { path: '/health', port: 8080 },
      periodSeconds: 10,
      timeoutSeconds: 10,
      failureThreshold: modelLoadSeconds(572_128, true) / 10,
    });
    expect(spec.healthProbe).toMatchObject({ httpGet: { path: '/health' }, failureThreshold: 3 });

    const deploy = await cli('deploy', '--json');
    expect(deploy.code, deploy.stderr).toBe(0);
    const live = json<{ live: { version: string; url: string; details: { machineType: string } } }>(deploy).live;
    expect(live.version).toBe('v1');
    url = live.url;
    const dm = [...fakes.grpc.endpoints.values()][0]!.deployed[0]!;
    expect(dm.dedicatedResources.machineSpec.acceleratorCount).toBeGreaterThan(0);

    // :predict — the instances shape, answered exactly {"predictions": [...]}, each an OpenAI completion.
    const whole = await post(url, { instances: [CHAT, { prompt: 'Once upon', max_tokens: 4 }] });
    expect(whole.status, whole.text).toBe(200);
    const predictions = (JSON.parse(whole.text) as { predictions: { object: string; choices: unknown[]; usage: { completion_tokens: number } }[] }).predictions;
    expect(predictions.map((p) => p.object)).toEqual(['chat.completion', 'text_completion']);
    expect(predictions[0]!.usage.completion_tokens).toBeGreaterThan(0);

    // :rawPredict — the OpenAI body as it is; :streamRawPredict — the event stream, ending [DONE].
    const raw = await post(url.replace(/:predict$/, ':rawPredict'), CHAT);
    expect(raw.status, raw.text).toBe(200);
    expect(JSON.parse(raw.text)).toMatchObject({ object: 'chat.completion', usage: { prompt_tokens: expect.any(Number) } });
    const streamed = await post(url.replace(/:predict$/, ':streamRawPredict'), { ...CHAT, stream: true, stream_options: { include_usage: true } });
    expect(streamed.status, streamed.text).toBe(200);
    expect(streamed.type).toMatch(/^text\/event-stream/);
    const sse = sseEvents(streamed.text);
    expect(sse.done).toBe(true);
    expect(sse.events.at(-1)).toMatchObject({ usage: { completion_tokens: expect.any(Number) } });
  }, 600_000);

  it('status shows the live version on its GPU machine and the BigQuery logging table', async () => {
    const status = json<{ live: { version: string }; details: Record<string, unknown> }>(await cli('status', '--json'));
    expect(status.live.version).toBe('v1');
    expect(status.details).toMatchObject({
      machine: expect.stringMatching(/ \+ 1 x NVIDIA_/),
      logging: 'bq://mlship-demo.mlship_tiny.request_response_logging',
    });
  }, 300_000);

  it('the logged predict rows are read back as LLM records with their facts (what drift-check reads)', async () => {
    const { ctx } = targetContext(path.join(project.dir, 'mlship.yaml'), 'drift-check');
    const target = new VertexTarget({ ...ctx, env: { ...process.env } }, { maxPollMs: 20 });
    try {
      const sources = await target.predictionLogs({});
      const records: PredictionRecord[] = [];
      for (const source of sources) {
        const parse = LOG_FORMATS.get(source.format)!.parser({ csvFields: [] });
        for await (const line of source.lines()) expect(parse(line, (r) => records.push({ ...r }))).toBeUndefined();
      }
      // The one :predict request of two instances; raw and streamed predicts are not in Vertex's logging.
      expect(records.map((r) => [r.version, r.input.endpoint])).toEqual([
        ['v1', 'chat'],
        ['v1', 'completions'],
      ]);
      const chat = records[0]!;
      expect(chat.input.messages).toEqual(CHAT.messages);
      expect(typeof chat.output).toBe('string');
      expect(chat.llm).toMatchObject({
        stream: false,
        status: 200,
        prompt_tokens: expect.any(Number),
        completion_tokens: expect.any(Number),
        finish_reason: expect.stringMatching(/^(stop|length)$/),
        ttft_ms: expect.any(Number),
        itl_ms: expect.any(Number),
        // The gateway's own facts, carried in its answer (its `mlship` block), not re-derived from timings.
        e2e_ms: expect.any(Number),
        usage_source: 'backend',
      });
    } finally {
      await target.close();
    }
  }, 300_000);

  it('drift-check reads the logged rows and finds shifted traffic against the reference (exit 3)', async () => {
    // Long prompts, half of them Russian, cut at 4 tokens: one predict request of DRIFT_N instances.
    const answer = await post(url, { instances: Array.from({ length: DRIFT_N }, (_, i) => ({ ...shifted(i), stream: undefined })) });
    expect(answer.status, answer.text).toBe(200);
    const drift = await cli('drift-check', '--json');
    expect(drift.code, drift.stderr).toBe(3);
    const doc = json<{ drift: boolean; rows: number; drifted: string[]; baseline: { source: string; rows: number } }>(drift);
    expect(doc).toMatchObject({ drift: true, baseline: { source: path.join('data', 'reference.jsonl'), rows: DRIFT_N } });
    expect(doc.rows).toBe(DRIFT_N + 2);
    expect(doc.drifted).toEqual(expect.arrayContaining(['prompt_chars', 'prompt_script']));
  }, 600_000);

  it('budget streams through :streamRawPredict and judges the deployment per token', async () => {
    await expectLlmBudget(cli, 'vertex', url.replace(/:predict$/, ':streamRawPredict'));
  }, 300_000);

  it('rolls v2 out by a canary through the shared rollout controller, then rolls back to v1', async () => {
    changeContext(project.dir, 2048);
    expect(await buildAndPush('v2')).toBe('v2');
    const deploy = await traffic(
      url,
      cli('deploy', '--json', '--strategy', 'canary', '--canary-percent', '50', '--bake-minutes', '0.1', '--min-requests', '3'),
    );
    expect(deploy.code, deploy.stderr).toBe(0);
    expect(json(deploy)).toMatchObject({ live: { version: 'v2' }, previous: 'v1', changed: true });
    const splits = fakes.grpc.calls
      .filter((c) => c.method === 'UpdateEndpoint')
      .map((c) => Object.values((c.request.endpoint.trafficSplit ?? {}) as Record<string, number>).sort());
    expect(splits).toContainEqual([50, 50]);
    expect((await post(url, { instances: [CHAT] })).status).toBe(200);

    const rollback = await cli('rollback', '--json');
    expect(rollback.code, rollback.stderr).toBe(0);
    expect(json(rollback)).toMatchObject({ live: { version: 'v1' }, previous: 'v2' });
    const answer = await post(url, { instances: [CHAT] });
    expect(answer.status, answer.text).toBe(200);
    expect(JSON.parse(answer.text)).toMatchObject({ modelVersionId: '1' });
  }, 900_000);
});
