/**
 * The SageMaker Runtime double (runtime.ts) through the real `@aws-sdk/client-sagemaker-runtime`: an
 * endpoint created with the real SageMaker SDK (through the contract fake, in moto) runs its variants'
 * builds for real — an LLM build (the gateway in front of llama-server, one thread, on the tiny model)
 * and the example's tabular build as `mlship push`/`deploy` leave it — routes by the variants' weights,
 * answers whole and streamed (AWS event-stream framing, decoded by the SDK), turns a model's 4xx into
 * a ModelError, and writes Data Capture that mlship's reader turns into records.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  type CreateEndpointConfigCommandInput,
  CreateModelCommand,
  DescribeEndpointCommand,
  SageMakerClient,
  UpdateEndpointCommand,
  UpdateEndpointWeightsAndCapacitiesCommand,
} from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, InvokeEndpointWithResponseStreamCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { PredictionRecord } from '../../../src/logs/format.js';
import { sagemakerCaptureFormat } from '../../../src/logs/formats/sagemaker.js';
import { readSource, ReadStats } from '../../../src/logs/readers.js';
import { SageMakerTarget } from '../../../src/targets/sagemaker/sagemaker-target.js';
import { cachedBuild } from '../../helpers/build-cache.js';
import { targetContext } from '../../helpers/build.js';
import { python, repoRoot, runCli, tempDir } from '../../helpers/cli.js';
import { expectTabularBudget } from '../../targets/cloud-budget.js';
import { sagemakerProject } from '../../targets/sagemaker/project.js';
import type { ContractFake } from './contract-fake.js';
import { awsTestEnv, useAwsDoubles } from './moto.js';
import { checkRuntimeRequest, OPERATIONS, SageMakerRuntimeFake } from './runtime.js';

const BUCKET = 'mlship-test-bucket';
const ROLE = 'arn:aws:iam::123456789012:role/mlship-sagemaker';
const REPO = '123456789012.dkr.ecr.us-east-1.amazonaws.com/mlship/tiny';
const MESSAGES = [{ role: 'user', content: 'Say hello.' }];

let fake: ContractFake;
let runtime: SageMakerRuntimeFake;
const tmp = tempDir('sagemaker-runtime-');
const builds = path.join(tmp.dir, 'builds');
let pick = 0;

useAwsDoubles((d) => {
  fake = d.fake;
  runtime = new SageMakerRuntimeFake({ awsUrl: fake.url, buildsDirs: [builds], random: () => pick });
  fake.runtime = runtime;
});
afterEach(async () => {
  expect(runtime.violations).toEqual([]);
  expect(fake.violations).toEqual([]);
  await runtime.reset();
});
afterAll(() => tmp.cleanup());

const sm = () => new SageMakerClient({});
const s3 = () => new S3Client({ forcePathStyle: true });

/** An LLM build folder as python/tests/llm_support.py lays it out (an LlmSpec serve.py), under `builds/<id>`, and its model.tar.gz in S3. */
function llmBuild(id: string): { modelDataUrl: () => Promise<string> } {
  const dir = path.join(builds, id);
  const model = path.join(tmp.dir, `${id}-model`);
  mkdirSync(model, { recursive: true });
  execFileSync(python, [
    '-c',
    'import sys; sys.path.insert(0, sys.argv[1]); from llm_support import make_build, make_model; make_build(sys.argv[3], make_model(sys.argv[2]), context=512)',
    path.join(repoRoot, 'python', 'tests'),
    model,
    dir,
  ]);
  return {
    async modelDataUrl() {
      const tarball = path.join(tmp.dir, `${id}.tar.gz`);
      execFileSync('tar', ['-czf', tarball, '-C', path.join(dir, 'model'), 'tiny.gguf']);
      const key = `models/tiny/artifacts/${id}/model.tar.gz`;
      await s3().send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: readFileSync(tarball) }));
      return `s3://${BUCKET}/${key}`;
    },
  };
}

function config(name: string, variants: { version: string; weight: number }[]): CreateEndpointConfigCommandInput {
  return {
    EndpointConfigName: name,
    ProductionVariants: variants.map((v) => ({
      VariantName: v.version,
      ModelName: `tiny-${v.version}`,
      InstanceType: 'ml.g5.xlarge',
      InitialInstanceCount: 1,
      InitialVariantWeight: v.weight,
      ContainerStartupHealthCheckTimeoutInSeconds: 600,
    })),
    DataCaptureConfig: {
      EnableCapture: true,
      InitialSamplingPercentage: 100,
      DestinationS3Uri: `s3://${BUCKET}/models/tiny/capture`,
      CaptureOptions: [{ CaptureMode: 'Input' }, { CaptureMode: 'Output' }],
      CaptureContentTypeHeader: { JsonContentTypes: ['application/json'] },
    },
  };
}

/** The tiny LLM's endpoint: builds llm-a (v1) and llm-b (v2), each a Model; the endpoint on `variants`. */
async function llmEndpoint(variants: { version: string; weight: number }[]): Promise<void> {
  await s3().send(new CreateBucketCommand({ Bucket: BUCKET }));
  for (const [version, id] of [
    ['v1', 'llm-a'],
    ['v2', 'llm-b'],
  ] as const) {
    const modelDataUrl = await llmBuild(id).modelDataUrl();
    await sm().send(
      new CreateModelCommand({
        ModelName: `tiny-${version}`,
        ExecutionRoleArn: ROLE,
        PrimaryContainer: { Image: `${REPO}:${id}`, ModelDataUrl: modelDataUrl, Environment: { MLSHIP_MODEL_NAME: 'tiny', MLSHIP_VERSION: version } },
      }),
    );
  }
  await sm().send(new CreateEndpointConfigCommand(config('tiny-1', variants)));
  await sm().send(new CreateEndpointCommand({ EndpointName: 'tiny', EndpointConfigName: 'tiny-1' }));
}

/** The capture lines under an endpoint's variant, read from S3, and the records mlship's reader makes of them. */
async function captured(variant: string): Promise<{ keys: string[]; records: PredictionRecord[] }> {
  const listed = await s3().send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `models/tiny/capture/tiny/${variant}/` }));
  const keys = (listed.Contents ?? []).map((o) => o.Key!);
  const parse = sagemakerCaptureFormat.parser({ csvFields: [] });
  const records: PredictionRecord[] = [];
  for (const key of keys) {
    const text = await (await s3().send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body!.transformToString();
    for (const line of text.split('\n').filter(Boolean)) expect(parse(line, (r) => records.push(structuredClone(r)))).toBeUndefined();
  }
  return { keys, records };
}

const client = () => new SageMakerRuntimeClient({});
const invoke = (body: unknown, extra: Record<string, string> = {}) =>
  client().send(new InvokeEndpointCommand({ EndpointName: 'tiny', ContentType: 'application/json', Body: JSON.stringify(body), ...extra }));

describe('the runtime double checks requests against the SDK model', () => {
  it('knows both operations by their routes; refuses undeclared X-Amzn-SageMaker-* headers, an empty body, a bad endpoint name', () => {
    const [invoke, stream] = OPERATIONS;
    expect([invoke!.name, stream!.name]).toEqual(['InvokeEndpoint', 'InvokeEndpointWithResponseStream']);
    expect(invoke!.pattern.exec('/endpoints/tiny/invocations')?.[1]).toBe('tiny');
    expect(stream!.pattern.exec('/endpoints/tiny/invocations-response-stream')?.[1]).toBe('tiny');
    const body = Buffer.from('{}');
    expect(checkRuntimeRequest(invoke!, { 'x-amzn-sagemaker-target-variant': 'v1', 'content-type': 'application/json' }, body, 'tiny')).toEqual([]);
    // Accept travels as X-Amzn-SageMaker-Accept on the stream only.
    expect(checkRuntimeRequest(stream!, { 'x-amzn-sagemaker-accept': 'text/event-stream' }, body, 'tiny')).toEqual([]);
    expect(checkRuntimeRequest(invoke!, { 'x-amzn-sagemaker-accept': 'application/json' }, body, 'tiny')).toEqual([
      'InvokeEndpoint: InvokeEndpointInput declares no header x-amzn-sagemaker-accept',
    ]);
    expect(checkRuntimeRequest(invoke!, {}, Buffer.alloc(0), 'bad_name')).toEqual([
      'InvokeEndpoint: EndpointName "bad_name" is not a valid endpoint name',
      'InvokeEndpoint: InvokeEndpointInput.Body is required',
    ]);
  });
});

describe('the SageMaker runtime double with an LLM build (gateway + llama-server)', () => {
  it('answers InvokeEndpoint and the response stream, turns a 4xx into a ModelError, and captures both answers with their facts', async () => {
    await llmEndpoint([{ version: 'v1', weight: 1 }]);

    const whole = await invoke({ messages: MESSAGES, max_tokens: 6, temperature: 0 });
    expect(whole.InvokedProductionVariant).toBe('v1');
    expect(whole.ContentType).toBe('application/json');
    const answer = JSON.parse(Buffer.from(whole.Body!).toString('utf8'));
    expect(answer.choices[0].message.content.length).toBeGreaterThan(0);
    expect(answer.usage.completion_tokens).toBe(6);
    expect(answer.mlship).toMatchObject({ version: 'v1', llm: { stream: false, completion_tokens: 6, finish_reason: 'length', status: 200 } });
    expect(answer.mlship.llm.ttft_ms).toBeGreaterThanOrEqual(0);

    const streamed = await client().send(
      new InvokeEndpointWithResponseStreamCommand({
        EndpointName: 'tiny',
        ContentType: 'application/json',
        Body: JSON.stringify({ messages: MESSAGES, max_tokens: 8, temperature: 0, stream: true }),
      }),
    );
    expect(streamed.ContentType).toBe('text/event-stream');
    expect(streamed.InvokedProductionVariant).toBe('v1');
    const parts: string[] = [];
    for await (const event of streamed.Body!) if (event.PayloadPart?.Bytes) parts.push(Buffer.from(event.PayloadPart.Bytes).toString('utf8'));
    const sse = parts.join('');
    expect(parts.length).toBeGreaterThan(1);
    expect(sse.trimEnd().endsWith('data: [DONE]')).toBe(true);
    const comment = sse.split('\n').find((l) => l.startsWith(': mlship '));
    const streamFacts = JSON.parse(comment!.slice(': mlship '.length));
    expect(streamFacts).toMatchObject({ version: 'v1', llm: { stream: true, completion_tokens: 8, finish_reason: 'length' } });
    const text = sse
      .split('\n')
      .filter((l) => l.startsWith('data: {'))
      .map((l) => JSON.parse(l.slice(6)).choices?.[0]?.delta?.content ?? '')
      .join('');
    expect(text.length).toBeGreaterThan(0);

    // The model's own 400 (not a chat body) is SageMaker's ModelError 424 carrying it.
    const bad = await invoke({ inputs: 'hi' }).catch((e) => e);
    expect(bad).toMatchObject({ name: 'ModelError', OriginalStatusCode: 400, $metadata: { httpStatusCode: 424 } });
    expect(bad.OriginalMessage).toContain('messages');
    const missing = await client()
      .send(new InvokeEndpointCommand({ EndpointName: 'nope', ContentType: 'application/json', Body: '{}' }))
      .catch((e) => e);
    expect(missing).toMatchObject({ name: 'ValidationError', message: 'Endpoint nope of account 123456789012 not found.' });

    // Data Capture, as SageMaker lays it out, read by mlship's SageMaker format: the two answers, the LLM's facts with them.
    const { keys, records } = await captured('v1');
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(/^models\/tiny\/capture\/tiny\/v1\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/\d{2}-\d{2}-\d{3}-[0-9a-f-]{36}\.jsonl$/);
    expect(records).toEqual([
      expect.objectContaining({
        input: { endpoint: 'chat', messages: MESSAGES },
        output: answer.choices[0].message.content,
        version: 'v1',
        llm: answer.mlship.llm,
      }),
      expect.objectContaining({ input: { endpoint: 'chat', messages: MESSAGES }, output: text, version: 'v1', llm: streamFacts.llm }),
    ]);
    const running = await runtime.containers();
    expect(Object.keys(running)).toEqual(['tiny/v1']);
    await runtime.reset();
    expect(() => process.kill(running['tiny/v1']!.pid, 0)).toThrow();
  }, 240_000);

  it("routes by the variants' current weights, and stops a variant's container when it leaves the endpoint", async () => {
    await llmEndpoint([
      { version: 'v1', weight: 1 },
      { version: 'v2', weight: 1 },
    ]);
    const versionOf = async () => JSON.parse(Buffer.from((await invoke({ messages: MESSAGES, max_tokens: 2 })).Body!).toString('utf8')).mlship.version;
    pick = 0.25; // the first half of the weight: v1
    expect(await versionOf()).toBe('v1');
    pick = 0.75;
    expect(await versionOf()).toBe('v2');
    // The canary's move: all traffic to v2 (v1's fleet stays, at weight 0).
    await sm().send(
      new UpdateEndpointWeightsAndCapacitiesCommand({
        EndpointName: 'tiny',
        DesiredWeightsAndCapacities: [
          { VariantName: 'v1', DesiredWeight: 0 },
          { VariantName: 'v2', DesiredWeight: 1 },
        ],
      }),
    );
    pick = 0.1;
    // The first Describe finishes the weight update (the contract fake's one poll), then routing follows it.
    await sm().send(new DescribeEndpointCommand({ EndpointName: 'tiny' }));
    expect(await versionOf()).toBe('v2');
    expect(Object.keys(await runtime.containers()).sort()).toEqual(['tiny/v1', 'tiny/v2']);
    // Promoted: a configuration with v2 alone; v1's container stops.
    await sm().send(new CreateEndpointConfigCommand(config('tiny-2', [{ version: 'v2', weight: 1 }])));
    await sm().send(new UpdateEndpointCommand({ EndpointName: 'tiny', EndpointConfigName: 'tiny-2' }));
    await sm().send(new DescribeEndpointCommand({ EndpointName: 'tiny' }));
    const v1 = (await runtime.containers())['tiny/v1']!;
    expect(await versionOf()).toBe('v2');
    expect(Object.keys(await runtime.containers())).toEqual(['tiny/v2']);
    expect(() => process.kill(v1.pid, 0)).toThrow();
    expect((await captured('v2')).records.map((r) => r.version)).toEqual(['v2', 'v2', 'v2']);
    pick = 0;
  }, 240_000);
});

describe('the SageMaker runtime double with a tabular build that mlship pushed and deployed', () => {
  it("runs the build the image's tag names, with the Model's environment, and mlship reads its capture", async () => {
    const project = sagemakerProject();
    try {
      const env = { ...awsTestEnv(fake.url), MLSHIP_PYTHON: python };
      const built = await cachedBuild(project.dir, () => runCli(['build', '--no-image', '--json'], { cwd: project.dir, env, timeoutMs: 180_000 }));
      expect(built.code).toBe(0);
      const buildsDir = path.join(project.dir, '.mlship', 'build');
      const id = readdirSync(buildsDir).find((d) => !d.startsWith('.'))!;
      const tabular = new SageMakerRuntimeFake({ awsUrl: fake.url, buildsDirs: [buildsDir] });
      fake.runtime = tabular;
      try {
        const { ctx } = targetContext(project.manifestFile, 'push');
        await new SageMakerTarget(ctx).push(
          { id, dir: path.join(buildsDir, id) },
          { image: `123456789012.dkr.ecr.us-east-1.amazonaws.com/mlship/churn:${id}` },
        );
        const { ctx: deployCtx } = targetContext(project.manifestFile, 'deploy');
        await new SageMakerTarget(deployCtx, { sleep: async () => undefined }).deploy({});
        const record = { tenure_months: 3, monthly_charges: 80.5, support_calls: 4, plan: 'basic', payment_method: 'card' };
        const out = await client().send(
          new InvokeEndpointCommand({ EndpointName: 'churn', ContentType: 'application/json', Accept: 'application/json', Body: JSON.stringify(record) }),
        );
        expect(out.InvokedProductionVariant).toBe('v1');
        const prediction = JSON.parse(Buffer.from(out.Body!).toString('utf8'));
        expect(prediction).toMatchObject({ version: 'v1' });
        // drift-check's own path: the target's capture sources, read by the shared reader.
        const sources = await new SageMakerTarget(targetContext(project.manifestFile, 'drift-check').ctx).predictionLogs({});
        expect(sources).toHaveLength(1);
        const stats = new ReadStats();
        const values: unknown[][] = [];
        await readSource(sources[0]!, (r) => void values.push([...r.values]), {
          fields: ['tenure_months', 'plan'],
          csvFields: [],
          stats,
        });
        expect(values).toEqual([[3, 'basic']]);
        expect(stats.malformed).toBe(0);
        // `mlship budget` through InvokeEndpoint (the SDK signs it), as the spawned CLI runs it.
        const before = tabular.invocations.length;
        const budget = await expectTabularBudget(
          (...args) => runCli(args, { cwd: project.dir, env, timeoutMs: 120_000 }),
          'https://runtime.sagemaker.us-east-1.amazonaws.com/endpoints/churn/invocations',
        );
        expect(tabular.invocations.length - before).toBeGreaterThanOrEqual(budget.load.responses);
        expect(tabular.violations).toEqual([]);
      } finally {
        await tabular.stop();
        fake.runtime = runtime;
      }
    } finally {
      project.cleanup();
    }
  }, 300_000);
});
