/**
 * An LLM on Azure ML end to end, through the spawned CLI against the Azure doubles (zero contract
 * violations), with the real gateway (python/mlship_serving/llm/) in front of a real llama-server on
 * CPU (one thread) in place of the GPU container: push v1 (the model's size kept on the model
 * version) → deploy on the selection's GPU instance type with a startup probe sized for the model's
 * load → chat through the scoring URL (`/score`, the OpenAI body; whole, and streamed event by event)
 * → the model data collector's lines (the ARM fake collects the scoring call's bodies; a stream as
 * its events) → status → those lines read back as LLM records with their facts (what drift-check
 * reads) → drift-check on shifted traffic against the manifest's reference (exit 3) → v2 by a canary
 * through the shared rollout controller → rollback to v1. The project is the one `mlship init` writes
 * for the tiny model; every version is a real `mlship build`.
 *
 * Doubles (test/doubles/azure/): the ARM fake (contract-checked control plane, Azure Monitor metrics,
 * managed-identity tokens, the scoring URL and the data collector, a deployment run from the build
 * its model version records with AZUREML_MODEL_DIR) and Azurite (the datastore).
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelLoadSeconds } from '../../../src/compute/load-time.js';
import { LOG_FORMATS } from '../../../src/logs/formats/index.js';
import type { PredictionRecord } from '../../../src/logs/format.js';
import { MemoryObjectStore, splitLines } from '../../../src/deploy/object-store.js';
import type { BlobStore } from '../../../src/targets/azure/blob-store.js';
import { collectorSources } from '../../../src/targets/azure/data-collector.js';
import { json, python, runCli } from '../../helpers/cli.js';
import { startAzureDoubles, type AzureDoubles } from '../../doubles/azure/index.js';
import { shifted } from '../../monitoring/drift/llm-traffic.js';
import { addTargets, CHAT, changeContext, cloudLlmProject, DRIFT_N, sseEvents } from '../llm-cloud.js';
import { expectLlmBudget } from '../cloud-budget.js';

let doubles: AzureDoubles;
let project: { dir: string; cleanup: () => void };
let env: NodeJS.ProcessEnv;
const cli = (...args: string[]) => runCli(args, { cwd: project.dir, env, timeoutMs: 300_000 });

interface Live {
  url: string;
  key: string;
  endpoint: string;
}

async function live(): Promise<Live> {
  const status = json<{ live: { url: string; details: { endpoint: string } } }>(await cli('status', '--json'));
  const endpoint = status.live.details.endpoint;
  return { url: status.live.url, key: doubles.arm.endpointKey(endpoint)!, endpoint };
}

async function score(to: Live, body: unknown): Promise<{ status: number; type: string; deployment: string | null; text: string }> {
  const res = await fetch(to.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${to.key}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, type: res.headers.get('content-type') ?? '', deployment: res.headers.get('azureml-model-deployment'), text: await res.text() };
}

/** Build the project as it is now (the gateway's serve.py, the runtime, the model) and push it. */
async function buildAndPush(expected: string): Promise<void> {
  const built = await cli('build', '--json', '--no-image');
  expect(built.code, built.stderr).toBe(0);
  const id = json<{ build: { id: string } }>(built).build.id;
  const pushed = await cli('push', '--json', '--image', `mlshipfake.azurecr.io/tiny:${id}`);
  expect(pushed.code, pushed.stderr).toBe(0);
  expect(json(pushed)).toMatchObject({ version: { version: expected }, created: true });
}

beforeAll(async () => {
  project = await cloudLlmProject('azure');
  // The ARM fake runs a deployment from the build its model version records, under the project's builds.
  doubles = await startAzureDoubles({ buildsDir: path.join(project.dir, '.mlship', 'build') });
  addTargets(
    project.dir,
    `  azure:\n${Object.entries(doubles.arm.manifestBlock())
      .map(([k, v]) => `    ${k}: ${v}\n`)
      .join('')}`,
  );
  env = { ...doubles.env, MLSHIP_PYTHON: python };
}, 120_000);

afterAll(async () => {
  await doubles?.stop();
  project?.cleanup();
});

describe('an LLM on Azure ML (init → build → push → deploy → chat → status → drift-check → budget → rollback)', () => {
  it('pushes v1, deploys it on a GPU instance type with a load-sized startup probe, and chats whole and streamed', async () => {
    await buildAndPush('v1');
    const planned = json<{ plan: { steps: { action: string; details: Record<string, unknown> }[] } }>(await cli('deploy', '--plan', '--json'));
    expect(planned.plan.steps.find((s) => s.action === 'azureml:OnlineDeployments_CreateOrUpdate')?.details).toMatchObject({
      startupProbe: `${Math.max(60, modelLoadSeconds(572_128, true) / 10) * 10} s for the model to load`,
    });
    const deployed = await cli('deploy', '--json');
    expect(deployed.code, deployed.stderr).toBe(0);
    expect(json(deployed)).toMatchObject({ live: { version: 'v1' }, changed: true });
    const to = await live();
    const dep = doubles.arm.list(`onlineEndpoints/${to.endpoint}/deployments/`)[0]!;
    expect(String(dep.properties.instanceType)).toMatch(/^Standard_N/);
    expect(dep.properties).toMatchObject({
      startupProbe: { period: 'PT10S', failureThreshold: Math.max(60, modelLoadSeconds(572_128, true) / 10) },
      requestSettings: { requestTimeout: 'PT3M' },
    });
    expect(doubles.arm.list('models/tiny/versions/')[0]?.properties.tags).toMatchObject({ 'mlship.model_bytes': '572128' });
    // No Azure drift monitor: it compares tabular features with a training sample, which an LLM has not.
    expect(doubles.arm.list('schedules/')).toEqual([]);

    const whole = await score(to, CHAT);
    expect(whole.status, whole.text).toBe(200);
    expect(whole.deployment).toBe('v1');
    expect(JSON.parse(whole.text)).toMatchObject({ object: 'chat.completion', usage: { completion_tokens: expect.any(Number) } });

    const streamed = await score(to, { ...CHAT, stream: true, stream_options: { include_usage: true } });
    expect(streamed.status, streamed.text).toBe(200);
    expect(streamed.type).toMatch(/^text\/event-stream/);
    const sse = sseEvents(streamed.text);
    expect(sse.done).toBe(true);
    expect(sse.events.at(-1)).toMatchObject({ usage: { completion_tokens: expect.any(Number) } });

    const bad = await score(to, { messages: 'not a list' });
    expect(bad.status).toBe(400);

    // The data collector: the two answered requests, each an input row and an output row.
    const lines = await doubles.arm.collectedLines(to.endpoint);
    expect(lines.model_inputs).toHaveLength(2);
    expect(lines.model_outputs).toHaveLength(2);
    expect(doubles.arm.violations).toEqual([]);
  }, 600_000);

  it('status shows the live version and where the data collector writes', async () => {
    const status = json<{ live: { version: string }; details: Record<string, unknown> }>(await cli('status', '--json'));
    expect(status.live.version).toBe('v1');
    expect(JSON.stringify(status.details)).toMatch(/modelDataCollector/);
  }, 300_000);

  it("the collector's lines are read back as LLM records with their facts (what drift-check reads)", async () => {
    // The target's reader (collectorSources over the datastore) on a copy of the datastore's blobs:
    // this process cannot trust the doubles' certificate (NODE_EXTRA_CA_CERTS is read at start-up).
    const { endpoint } = await live();
    const store = new MemoryObjectStore('https://fake.blob/c') as MemoryObjectStore & BlobStore;
    store.listDetailed = async function* (prefix) {
      for (const name of await store.list(prefix)) yield { name };
    };
    store.lines = async function* (key) {
      const s = await store.getStream(key);
      if (s) yield* splitLines(s);
    };
    store.assetUri = (k) => `azureml://datastores/workspaceblobstore/paths/${k}`;
    for (const name of await doubles.arm.blobNames(`modelDataCollector/${endpoint}/`)) await store.put(name, await doubles.arm.blob(name));
    const records: PredictionRecord[] = [];
    for (const source of await collectorSources(store, endpoint, {})) {
      const parse = LOG_FORMATS.get(source.format)!.parser({ csvFields: [] });
      for await (const line of source.lines()) expect(parse(line, (r) => records.push({ ...r }))).toBeUndefined();
    }
    expect(records.map((r) => [r.version, r.input.endpoint, r.llm?.stream])).toEqual([
      ['v1', 'chat', false],
      ['v1', 'chat', true],
    ]);
    for (const r of records) {
      expect(r.input.messages).toEqual(CHAT.messages);
      expect(typeof r.output).toBe('string');
      expect(r.llm).toMatchObject({
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
    }
  }, 300_000);

  it('drift-check reads the collected requests and finds shifted traffic against the reference (exit 3)', async () => {
    // Long prompts, half of them Russian, cut at 4 tokens; every other one streamed.
    const to = await live();
    for (let i = 0; i < DRIFT_N; i++) {
      const answer = await score(to, shifted(i));
      expect(answer.status, answer.text).toBe(200);
    }
    const drift = await cli('drift-check', '--json');
    expect(drift.code, drift.stderr).toBe(3);
    const doc = json<{ drift: boolean; rows: number; drifted: string[]; baseline: { source: string; rows: number } }>(drift);
    expect(doc).toMatchObject({ drift: true, baseline: { source: path.join('data', 'reference.jsonl'), rows: DRIFT_N } });
    expect(doc.rows).toBe(DRIFT_N + 2);
    expect(doc.drifted).toEqual(expect.arrayContaining(['prompt_chars', 'prompt_script']));
  }, 600_000);

  it('budget streams through the scoring URI with the endpoint key and judges the deployment per token', async () => {
    const to = await live();
    await expectLlmBudget(cli, 'azure', to.url);
  }, 300_000);

  it('rolls v2 out by a canary through the shared rollout controller, then rolls back to v1', async () => {
    changeContext(project.dir, 2048);
    await buildAndPush('v2');
    const to = await live();
    let finished = false;
    const answers: (string | null)[] = [];
    const loop = (async () => {
      while (!finished) {
        answers.push((await score(to, CHAT).catch(() => ({ deployment: null }))).deployment);
        await new Promise((r) => setTimeout(r, 40));
      }
    })();
    const canary = await cli('deploy', '--json', '--strategy', 'canary', '--canary-percent', '50', '--bake-minutes', '0.1', '--min-requests', '3');
    finished = true;
    await loop;
    expect(canary.code, canary.stderr).toBe(0);
    expect(json(canary)).toMatchObject({ live: { version: 'v2' }, previous: 'v1' });
    expect(new Set(answers)).toEqual(new Set(['v1', 'v2']));

    const rollback = await cli('rollback', '--json');
    expect(rollback.code, rollback.stderr).toBe(0);
    expect(json(rollback)).toMatchObject({ live: { version: 'v1' }, previous: 'v2' });
    expect((await score(await live(), CHAT)).deployment).toBe('v1');
    expect(doubles.arm.violations).toEqual([]);
  }, 900_000);
});
