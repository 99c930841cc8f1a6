/**
 * A GGUF model on SageMaker end to end, through the spawned CLI as a user runs it, against moto
 * behind the contract fake with the runtime double (test/doubles/sagemaker/runtime.ts) in place of
 * SageMaker's instances: init → build → push → deploy → chat through InvokeEndpoint with an OpenAI
 * body (whole, and streamed through InvokeEndpointWithResponseStream) → status → the Data Capture
 * read back as LLM records → drift-check → `mlship budget` through the runtime's response stream → a
 * second version by a canary (evidence from CloudWatch as the double publishes it) → rollback. The endpoint's variant runs the real build:
 * mlship's gateway in front of a real llama-server (one thread) on the tiny model, in place of the GPU
 * container.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  InvokeEndpointCommand,
  type InvokeEndpointCommandOutput,
  InvokeEndpointWithResponseStreamCommand,
  SageMakerRuntimeClient,
} from '@aws-sdk/client-sagemaker-runtime';
import type { PredictionRecord } from '../../../src/logs/format.js';
import { sagemakerCaptureFormat } from '../../../src/logs/formats/sagemaker.js';
import { startupTimeouts } from '../../../src/targets/sagemaker/requests.js';
import { SageMakerTarget } from '../../../src/targets/sagemaker/sagemaker-target.js';
import { targetContext } from '../../helpers/build.js';
import { json, python, runCli } from '../../helpers/cli.js';
import { tinyLlmProject } from '../../helpers/llm.js';
import type { ContractFake } from '../../doubles/sagemaker/contract-fake.js';
import { awsTestEnv, useAwsDoubles } from '../../doubles/sagemaker/moto.js';
import { SageMakerRuntimeFake } from '../../doubles/sagemaker/runtime.js';
import { ROLE } from './project.js';
import { expectLlmBudget } from '../cloud-budget.js';

const REPO = '123456789012.dkr.ecr.us-east-1.amazonaws.com/mlship/tiny';
let fake: ContractFake;
let runtime: SageMakerRuntimeFake;
let dir: string;
let cleanup: () => void;

useAwsDoubles((d) => (fake = d.fake));
beforeAll(async () => {
  ({ dir, cleanup } = await tinyLlmProject('mlship-sagemaker-llm-'));
  const manifest = path.join(dir, 'mlship.yaml');
  writeFileSync(
    manifest,
    `${readFileSync(manifest, 'utf8').replace(/^target: local$/m, 'target: sagemaker')}targets:\n  sagemaker: { region: us-east-1, role: ${ROLE}, bucket: mlship-test-bucket, prefix: models }\n`,
  );
  runtime = new SageMakerRuntimeFake({ awsUrl: fake.url, buildsDirs: [path.join(dir, '.mlship', 'build')] });
  fake.runtime = runtime;
});
afterEach(() => {
  expect(fake.violations).toEqual([]);
  expect(runtime.violations).toEqual([]);
});
afterAll(async () => {
  await runtime?.stop();
  cleanup?.();
});

const cli = (...args: string[]) => runCli([...args, '--json'], { cwd: dir, env: { ...awsTestEnv(fake.url), MLSHIP_PYTHON: python }, timeoutMs: 240_000 });
const messages = (content: string) => [{ role: 'user', content }];

/** One chat through InvokeEndpoint: the OpenAI answer (with the gateway's facts) and the variant that answered. */
async function invoke(content: string): Promise<{ variant?: string; answer: Record<string, any> }> {
  const out: InvokeEndpointCommandOutput = await new SageMakerRuntimeClient({}).send(
    new InvokeEndpointCommand({
      EndpointName: 'tiny',
      ContentType: 'application/json',
      Accept: 'application/json',
      Body: JSON.stringify({ messages: messages(content), max_tokens: 6 }),
    }),
  );
  return { variant: out.InvokedProductionVariant, answer: JSON.parse(Buffer.from(out.Body!).toString('utf8')) };
}

/** The records mlship reads from the endpoint's Data Capture (what drift-check reads), through the target's own sources. */
async function capturedRecords(): Promise<PredictionRecord[]> {
  const target = new SageMakerTarget(targetContext(path.join(dir, 'mlship.yaml'), 'drift-check').ctx);
  const parse = sagemakerCaptureFormat.parser({ csvFields: [] });
  const records: PredictionRecord[] = [];
  for (const source of await target.predictionLogs({})) {
    expect(source.format).toBe(sagemakerCaptureFormat.name);
    for await (const line of source.lines()) if (line.trim()) expect(parse(line, (r) => records.push(structuredClone(r)))).toBeUndefined();
  }
  return records;
}

describe('an LLM on SageMaker (spawned CLI, runtime double)', () => {
  it('build → push → deploy → chat (whole and streamed) → status → capture → drift-check → budget → v2 by canary → rollback', async () => {
    const build = await cli('build', '--no-image');
    expect(build.code, build.stderr).toBe(0);
    const built = json<{ dir: string; build: Record<string, any> }>(build);
    expect(built.build).toMatchObject({ llm: { server: 'llama.cpp' }, model: { flavor: 'llm' } });
    const v1Build = path.basename(built.dir);
    const push = await cli('push', '--image', `${REPO}:${v1Build}`);
    expect(push.code, push.stderr).toBe(0);
    expect(json(push)).toMatchObject({ version: { version: 'v1' } });

    // The plan: the selection's instance, and a health check sized for loading this model.
    const planned = json<{ plan: { compute: { instanceType: string; gpu: boolean }; steps: { action: string; details?: Record<string, unknown> }[] } }>(
      await cli('deploy', '--plan'),
    ).plan;
    const config = planned.steps.find((s) => s.action === 'sagemaker:CreateEndpointConfig');
    const timeouts = startupTimeouts(built.build.model.bytes, planned.compute.gpu);
    expect(config?.details).toMatchObject({
      instanceType: planned.compute.instanceType,
      modelDataDownloadTimeoutSeconds: timeouts.download,
      containerStartupHealthCheckTimeoutSeconds: timeouts.startup,
    });

    const deploy = await cli('deploy');
    expect(deploy.code, deploy.stderr).toBe(0);
    expect(json(deploy)).toMatchObject({ live: { version: 'v1', url: 'https://runtime.sagemaker.us-east-1.amazonaws.com/endpoints/tiny/invocations' } });

    // Chat through SageMaker's runtime with an OpenAI body: the gateway answers, its facts travel with the answer.
    const whole = await invoke('hello');
    expect(whole.variant).toBe('v1');
    expect(whole.answer).toMatchObject({ object: 'chat.completion', model: 'tiny', usage: { completion_tokens: 6 } });
    expect(whole.answer.mlship).toMatchObject({ version: 'v1', llm: { stream: false, status: 200, completion_tokens: 6 } });

    const streamed = await new SageMakerRuntimeClient({}).send(
      new InvokeEndpointWithResponseStreamCommand({
        EndpointName: 'tiny',
        ContentType: 'application/json',
        Body: JSON.stringify({ messages: messages('hello again'), max_tokens: 5, stream: true }),
      }),
    );
    let sse = '';
    for await (const event of streamed.Body!) if (event.PayloadPart?.Bytes) sse += Buffer.from(event.PayloadPart.Bytes).toString('utf8');
    const events = sse.split('\n').filter((l) => l.startsWith('data: '));
    expect(events.at(-1)).toBe('data: [DONE]');
    const text = events
      .slice(0, -1)
      .map((e) => JSON.parse(e.slice(6)).choices?.[0]?.delta?.content ?? '')
      .join('');
    expect(text.length).toBeGreaterThan(0);

    const status = json<{ live: Record<string, unknown>; details: Record<string, unknown> }>(await cli('status'));
    expect(status.live).toMatchObject({ version: 'v1', healthy: true });
    expect(status.details).toMatchObject({ endpointStatus: 'InService', capture: 's3://mlship-test-bucket/models/tiny/capture', trafficSplit: { v1: 100 } });

    // What drift-check reads: SageMaker's Data Capture in S3, as LLM records with the gateway's facts.
    const records = await capturedRecords();
    expect(records).toEqual([
      expect.objectContaining({
        version: 'v1',
        input: { endpoint: 'chat', messages: messages('hello') },
        output: whole.answer.choices[0].message.content,
        llm: whole.answer.mlship.llm,
      }),
      expect.objectContaining({
        version: 'v1',
        input: { endpoint: 'chat', messages: messages('hello again') },
        output: text,
        llm: expect.objectContaining({ stream: true, completion_tokens: 5 }),
      }),
    ]);
    for (const r of records) {
      expect(r.llm!.prompt_tokens).toBeGreaterThan(0);
      expect(r.llm!.ttft_ms).toBeGreaterThanOrEqual(0);
      expect(r.llm!.e2e_ms).toBeGreaterThan(0);
    }

    // drift-check reads the capture: reference traffic in English, live traffic in Russian.
    writeFileSync(
      path.join(dir, 'reference.jsonl'),
      `${Array.from({ length: 40 }, (_, i) => JSON.stringify({ messages: messages(`hello number ${i}, how are you today?`) })).join('\n')}\n`,
    );
    const manifestFile = path.join(dir, 'mlship.yaml');
    writeFileSync(
      manifestFile,
      readFileSync(manifestFile, 'utf8').replace('drift: { schedule: "0 2 * * *" }', 'drift: { schedule: "0 2 * * *", reference: reference.jsonl }'),
    );
    const ru = 'быстрая коричневая лиса прыгает через ленивую собаку пока семь весёлых котов смотрят из окна';
    for (let i = 0; i < 40; i++) await invoke(`${ru} ${i} ${ru}?`);
    const drift = await cli('drift-check');
    expect(drift.code, drift.stderr).toBe(3);
    expect(json<{ drift: boolean; drifted: string[] }>(drift)).toMatchObject({
      drift: true,
      drifted: expect.arrayContaining(['prompt_chars', 'prompt_script']),
    });

    // budget: streams through InvokeEndpointWithResponseStream (signed by the SDK), judged per token.
    await expectLlmBudget(cli, 'sagemaker', 'https://runtime.sagemaker.us-east-1.amazonaws.com/endpoints/tiny/invocations-response-stream');
    expect(runtime.invocations.filter((i) => i.operation === 'InvokeEndpointWithResponseStream' && i.status === 200).length).toBeGreaterThanOrEqual(3);
    // The container's own 4xx (a ModelError on SageMaker) is the answer the user sees, not an AWS failure.
    const withBudget = readFileSync(manifestFile, 'utf8');
    writeFileSync(manifestFile, withBudget.replace(/^budget:\n/m, `budget:\n  request: { prompt: "${'word '.repeat(5000).trim()}", max_tokens: 8 }\n`));
    const rejected = await cli('budget', '--duration', '1');
    writeFileSync(manifestFile, withBudget);
    expect(rejected.code, rejected.stdout + rejected.stderr).toBe(1);
    expect(rejected.stdout + rejected.stderr).toMatch(/invocations-response-stream answered 400 to a test request: .*context/);
    expect(rejected.stderr).not.toMatch(/\n\s+at /);

    // A second version (a shorter context), deployed by a canary; then rolled back.
    const manifest = path.join(dir, 'mlship.yaml');
    writeFileSync(manifest, readFileSync(manifest, 'utf8').replace('context: 4096', 'context: 2048'));
    const build2 = await cli('build', '--no-image');
    expect(build2.code, build2.stderr).toBe(0);
    const v2Build = path.basename(json<{ dir: string }>(build2).dir);
    expect(v2Build).not.toBe(v1Build);
    expect(json(await cli('push', '--image', `${REPO}:${v2Build}`))).toMatchObject({ version: { version: 'v2' } });
    // By a canary through the shared rollout controller: half the traffic to v2 while chats keep coming,
    // its 5xx and invocations read from what SageMaker publishes to CloudWatch for each variant.
    let deploying = true;
    const chats = (async () => {
      let n = 0;
      while (deploying) {
        await invoke(`canary ${n++}`).catch(() => undefined);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const second = await cli('deploy', '--strategy', 'canary', '--canary-percent', '50', '--bake-minutes', '0.1', '--min-requests', '3').finally(
      () => (deploying = false),
    );
    await chats;
    expect(second.code, second.stdout + second.stderr).toBe(0);
    expect(json(second)).toMatchObject({ live: { version: 'v2' }, previous: 'v1' });
    expect(runtime.invocations.filter((i) => i.variant === 'v2' && i.status === 200).length).toBeGreaterThanOrEqual(3);
    expect(fake.operations()).toContain('UpdateEndpointWeightsAndCapacities');
    expect(fake.operations('GraniteServiceVersion20100801')).toContain('GetMetricData');
    expect(await invoke('v2?')).toMatchObject({ variant: 'v2', answer: { mlship: { version: 'v2' } } });

    const back = await cli('rollback');
    expect(back.code, back.stderr).toBe(0);
    expect(json(back)).toMatchObject({ live: { version: 'v1' } });
    expect(await invoke('v1 again')).toMatchObject({ variant: 'v1', answer: { mlship: { version: 'v1' } } });
    expect(Object.keys(await runtime.containers())).toEqual(['tiny/v1']);
    const after = json<{ live: { version: string }; history: { action: string; version: string }[] }>(await cli('status'));
    expect(after.live.version).toBe('v1');
    expect(after.history.map((h) => `${h.action} ${h.version}`)).toEqual(['deploy v1', 'deploy v2', 'rollback v1']);
  }, 600_000);
});
