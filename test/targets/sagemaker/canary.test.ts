/**
 * SageMaker's canary through the shared rollout controller, looked at from inside the fake: both
 * versions as variants of one endpoint configuration, the split by UpdateEndpointWeightsAndCapacities,
 * the bake reading CloudWatch numbers that the requests sent during it produced (the conformance
 * suite checks the outcomes on every target). Also the CloudWatch reader on its own: microseconds to
 * ms, and a window without datapoints is no data, not zero errors.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cloudWatchReader } from '../../../src/targets/sagemaker/metrics.js';
import { memorySageMaker } from '../../doubles/sagemaker/memory.js';
import { startSageMaker } from '../conformance/sagemaker.js';
import { variantTimeouts } from '../../../src/targets/sagemaker/instance.js';
import { startupTimeouts } from '../../../src/targets/sagemaker/requests.js';
import { sagemakerLlmProject } from './project.js';

const canary = { kind: 'canary' as const, percent: 10, bakeMinutes: 2, minRequests: 5 };

/** A world with v1 live and v2 pushed (of the example, or of another project). */
async function twoVersions(project?: Parameters<typeof startSageMaker>[0]) {
  const started = await startSageMaker(project);
  const w = started.world;
  await w.target.push(await w.build(1), w.pushOptions);
  await w.target.deploy({ timeoutSeconds: w.timeoutSeconds });
  await w.target.push(await w.build(2), w.pushOptions);
  return started;
}

describe('SageMaker canary', () => {
  it('the plan: a configuration with both variants, the split and bake of the shared controller with its minimum, then the candidate alone', async () => {
    const { world: w, fake } = await twoVersions();
    try {
      const before = fake.mutations();
      const plan = await w.target.plan({ version: 'v2', strategy: { ...canary, minRequests: 40 } });
      expect(fake.mutations()).toBe(before);
      expect(plan.warnings).toBeUndefined();
      const endpointSteps = plan.steps.filter((s) => /EndpointConfig|UpdateEndpoint|rollout:/.test(s.action));
      expect(endpointSteps.map((s) => s.action)).toEqual([
        'sagemaker:CreateEndpointConfig',
        'sagemaker:CreateEndpointConfig',
        'sagemaker:UpdateEndpoint',
        'rollout:Canary',
        'sagemaker:UpdateEndpoint',
      ]);
      expect(endpointSteps[1]?.details?.variants).toMatchObject({ v1: { weight: 1 }, v2: { weight: 0 } });
      expect(endpointSteps[3]?.details).toMatchObject({ from: 'v1', to: 'v2', percent: 10, bakeMinutes: 2, minRequests: 40 });
      expect(endpointSteps[4]?.details).toMatchObject({ variants: ['v2'] });
      // Without a canary: one configuration, one update, no rollout step.
      const plain = (await w.target.plan({ version: 'v2' })).steps.map((s) => s.action);
      expect(plain.filter((a) => /EndpointConfig|UpdateEndpoint|rollout:/.test(a))).toEqual(['sagemaker:CreateEndpointConfig', 'sagemaker:UpdateEndpoint']);
    } finally {
      await w.close();
    }
  });

  it('promoted: the bake read what the requests produced, the endpoint ends on the candidate alone, autoscaling follows it', async () => {
    const { world: w, fake } = await twoVersions();
    try {
      const result = await w.target.deploy({ version: 'v2', strategy: canary, timeoutSeconds: w.timeoutSeconds });
      expect(result).toMatchObject({ changed: true, previous: 'v1', live: { version: 'v2' } });
      expect(fake.calls.filter((c) => c === 'updateEndpointWeightsAndCapacities')).toHaveLength(2); // the split, then all to v2
      expect(fake.calls.filter((c) => c === 'getMetricData')).toHaveLength(2); // one read per one-minute period
      const status = await w.target.status();
      expect(status.details).toMatchObject({ trafficSplit: { v2: 100 } });
      expect(String(status.details?.endpointConfig)).toMatch(/^churn-v2-[0-9a-f]{8}$/);
      const last = status.history.at(-1);
      expect(last).toMatchObject({ action: 'deploy', version: 'v2', previous: 'v1', details: { strategy: 'canary' } });
      const scaling = await fake.api.describeScalableTargets({
        ServiceNamespace: 'sagemaker',
        ResourceIds: ['endpoint/churn/variant/v1', 'endpoint/churn/variant/v2'],
      });
      expect(scaling.ScalableTargets?.map((t) => t.ResourceId)).toEqual(['endpoint/churn/variant/v2']);
    } finally {
      await w.close();
    }
  });

  it('reverted: all traffic back to the stable variant, then the configuration that served before; history unchanged', async () => {
    const { world: w, fake, stderr } = await twoVersions();
    try {
      const before = (await w.target.status()).details?.endpointConfig;
      w.behave('v2', { errorRate: 0.5 });
      await expect(w.target.deploy({ version: 'v2', strategy: canary, timeoutSeconds: w.timeoutSeconds })).rejects.toMatchObject({
        code: 'canary_reverted',
        exitCode: 3,
        message: expect.stringMatching(/5 of 10 requests answered 5xx/),
      });
      const status = await w.target.status();
      expect(status.live?.version).toBe('v1');
      expect(status.details).toMatchObject({ endpointConfig: before, trafficSplit: { v1: 100 } });
      expect(status.history.map((h) => `${h.action} ${h.version}`)).toEqual(['deploy v1']);
      expect(stderr()).toMatch(/v1 is still live and serving all traffic/);
      expect(await w.serving()).toBe('v1');
      expect(fake.calls).toContain('getMetricData');
    } finally {
      await w.close();
    }
  });
});

describe('SageMaker canary of an LLM', () => {
  it('an LLM version rolls out like any other: GPU variants with start-up timeouts of its size, split, bake, promoted', async () => {
    const { world: w, fake } = await twoVersions(sagemakerLlmProject());
    try {
      const plan = await w.target.plan({ version: 'v2', strategy: canary });
      expect(plan.compute).toMatchObject({ gpu: true, runtime: 'llama.cpp' });
      const configs = plan.steps.filter((s) => s.action === 'sagemaker:CreateEndpointConfig');
      // These builds' build.json name no model size: sized by the 7 B parameters at int4 (3.5 GB) on a GPU.
      const timeouts = variantTimeouts(w.manifest, plan.compute!)!;
      expect(timeouts).toEqual(startupTimeouts(3.5e9, true));
      for (const step of configs)
        expect(step.details).toMatchObject({ modelDataDownloadTimeoutSeconds: timeouts.download, containerStartupHealthCheckTimeoutSeconds: timeouts.startup });
      expect(plan.steps.map((s) => s.action)).toContain('rollout:Canary');
      const result = await w.target.deploy({ version: 'v2', strategy: canary, timeoutSeconds: w.timeoutSeconds });
      expect(result).toMatchObject({ changed: true, previous: 'v1', live: { version: 'v2' } });
      expect(fake.calls.filter((c) => c === 'getMetricData')).toHaveLength(2);
      expect((await w.target.status()).details).toMatchObject({ trafficSplit: { v2: 100 } });
      expect(await w.serving()).toBe('v2');
    } finally {
      await w.close();
    }
  });

  it('prompts kept out of the log (log_content: hashed) are kept out of Data Capture too: capture off, and the plan says why', async () => {
    const project = sagemakerLlmProject();
    writeFileSync(
      project.manifestFile,
      readFileSync(project.manifestFile, 'utf8').replace(/^target: sagemaker$/m, 'target: sagemaker\nmonitoring:\n  log_content: hashed'),
    );
    const { world: w, fake, stderr } = await startSageMaker(project);
    try {
      await w.target.push(await w.build(1), w.pushOptions);
      const plan = await w.target.plan({});
      expect(plan.logging.enabled).toBe(false);
      expect(plan.warnings).toEqual([expect.stringMatching(/log_content is hashed, and SageMaker's Data Capture would store every prompt/)]);
      expect(plan.steps.find((s) => s.action === 'sagemaker:CreateEndpointConfig')?.details).toMatchObject({ dataCapture: 'off' });
      await w.target.deploy({ timeoutSeconds: w.timeoutSeconds });
      expect(stderr()).toMatch(/log_content is hashed.*capture is off for endpoint chat/);
      const config = String((await w.target.status()).details?.endpointConfig);
      expect((await fake.api.describeEndpointConfig({ EndpointConfigName: config })).DataCaptureConfig).toBeUndefined();
    } finally {
      await w.close();
    }
  });
});

describe('SageMaker CloudWatch reader', () => {
  it('sums invocations and 5xx of one variant, ModelLatency microseconds → ms; nothing published is no data', async () => {
    const fake = memorySageMaker();
    const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
    await fake.api.createEndpointConfig({
      EndpointConfigName: 'churn-v1-v2-00000000',
      ProductionVariants: [
        { VariantName: 'v1', ModelName: 'm1', InitialVariantWeight: 3 },
        { VariantName: 'v2', ModelName: 'm2', InitialVariantWeight: 1 },
      ],
    });
    await fake.api.createEndpoint({ EndpointName: 'churn', EndpointConfigName: 'churn-v1-v2-00000000' });
    while ((await fake.api.describeEndpoint({ EndpointName: 'churn' })).EndpointStatus !== 'InService');
    fake.behaviours.set('v2', { errorRate: 0.5, latencyMs: 250 });
    for (let i = 0; i < 40; i++) fake.invoke(at(i));
    const reader = cloudWatchReader(fake.api, 'churn');
    const minute = { from: at(0), to: at(60) };
    expect(await reader.read('v2', minute, 'p95')).toEqual({ requests: 10, errors5xx: 5, latencyMs: 250 });
    expect(await reader.read('v1', minute, 'p50')).toEqual({ requests: 30, errors5xx: 0, latencyMs: 5 });
    expect(await reader.read('v2', { from: at(60), to: at(120) }, 'p95')).toBeUndefined();
    expect(await reader.read('v9', minute, 'p95')).toBeUndefined();
  });
});
