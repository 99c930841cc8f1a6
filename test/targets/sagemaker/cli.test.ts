/**
 * The spawned CLI with `--target sagemaker` against moto behind the contract fake (AWS_ENDPOINT_URL,
 * static test credentials), as a user runs it: build → push → deploy --plan → deploy → a second
 * version → status → rollback, and drift-check over SageMaker Data Capture files written to moto's S3
 * in SageMaker's own layout and format. UpdateEndpoint and the Model Monitor calls are answered by
 * the contract fake; everything else by moto.
 */
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { readCsvFile } from '../../../src/util/csv.js';
import { SageMakerTarget } from '../../../src/targets/sagemaker/sagemaker-target.js';
import { cachedBuild } from '../../helpers/build-cache.js';
import { json, python, runCli } from '../../helpers/cli.js';
import type { ContractFake } from '../../doubles/sagemaker/contract-fake.js';
import { awsTestEnv, useAwsDoubles, type Moto } from '../../doubles/sagemaker/moto.js';
import { sagemakerProject } from './project.js';
import { makeBuild, targetContext } from '../../helpers/build.js';

let moto: Moto;
let fake: ContractFake;
let project: ReturnType<typeof sagemakerProject>;

useAwsDoubles((d) => ({ moto, fake } = d));
beforeEach(async () => {
  project = sagemakerProject();
});
afterEach(() => {
  expect(fake.violations).toEqual([]);
  project.cleanup();
});

/** Push and deploy v1 in-process, so the CLI finds a live endpoint and its baseline. */
async function deployed(): Promise<void> {
  const { ctx } = targetContext(project.manifestFile, 'push');
  await new SageMakerTarget(ctx).push(makeBuild(ctx.manifest), { image: 'img:1' });
  const { ctx: deployCtx } = targetContext(project.manifestFile, 'deploy');
  await new SageMakerTarget(deployCtx, { sleep: async () => undefined }).deploy({});
}

/** SageMaker Data Capture lines (JSON encoding) for request records. */
function captureLines(records: Record<string, unknown>[], hour: string): string {
  return records
    .map((input, i) =>
      JSON.stringify({
        captureData: {
          endpointInput: { observedContentType: 'application/json', mode: 'INPUT', data: JSON.stringify(input), encoding: 'JSON' },
          endpointOutput: { observedContentType: 'application/json', mode: 'OUTPUT', data: JSON.stringify({ prediction: 0.2 }), encoding: 'JSON' },
        },
        eventMetadata: { eventId: `id-${i}`, inferenceTime: `${hour}:${String(i % 60).padStart(2, '0')}:00Z` },
        eventVersion: '0',
      }),
    )
    .join('\n');
}

function trainingRecords(n: number): Record<string, unknown>[] {
  const table = readCsvFile(`${project.dir}/data/train.csv`);
  const idx = (c: string) => table.columns.indexOf(c);
  return table.rows.slice(0, n).map((row) => ({
    tenure_months: Number(row[idx('tenure_months')]),
    monthly_charges: Number(row[idx('monthly_charges')]),
    support_calls: Number(row[idx('support_calls')]),
    plan: row[idx('plan')],
    payment_method: row[idx('payment_method')],
  }));
}

describe('mlship --target sagemaker (spawned CLI)', () => {
  it('drift-check reads Data Capture files from S3: traffic like training passes, shifted traffic fails with exit 3', async () => {
    await deployed();
    const s3 = new S3Client({});
    const put = (key: string, body: string) => s3.send(new PutObjectCommand({ Bucket: 'mlship-test-bucket', Key: key, Body: body }));
    const like = trainingRecords(400);
    await put('models/churn/capture/churn/AllTraffic/2026/11/27/10/00-00-000-a.jsonl', captureLines(like.slice(0, 200), '2026-11-27T10'));
    await put('models/churn/capture/churn/AllTraffic/2026/11/27/11/00-00-000-b.jsonl', captureLines(like.slice(200), '2026-11-27T11'));
    const env = awsTestEnv(fake.url);
    const window = ['--from', '2026-11-27T00:00:00Z', '--to', '2026-11-28T00:00:00Z'];

    const ok = await runCli(['drift-check', '--target', 'sagemaker', ...window, '--json'], { cwd: project.dir, env, timeoutMs: 180_000 });
    expect(ok.stderr).not.toMatch(/\n\s+at /);
    const okDoc = json<{ drift: boolean; rows: number; sources: string[] }>(ok);
    expect(ok.code).toBe(0);
    expect(okDoc.drift).toBe(false);
    expect(okDoc.rows).toBe(400);
    expect(okDoc.sources.every((s) => s.startsWith('s3://mlship-test-bucket/models/churn/capture/churn/AllTraffic/2026/11/27/'))).toBe(true);

    const shifted = like.map((r) => ({ ...r, tenure_months: 70, monthly_charges: 130, support_calls: 8, plan: 'enterprise' }));
    await put('models/churn/capture/churn/AllTraffic/2026/11/26/09/00-00-000-c.jsonl', captureLines(shifted, '2026-11-26T09'));
    const bad = await runCli(['drift-check', '--target', 'sagemaker', '--from', '2026-11-26T00:00:00Z', '--to', '2026-11-27T00:00:00Z', '--json'], {
      cwd: project.dir,
      env,
      timeoutMs: 180_000,
    });
    const badDoc = json<{ drift: boolean; drifted: string[] }>(bad);
    expect(bad.code).toBe(3);
    expect(badDoc.drift).toBe(true);
    expect(badDoc.drifted).toEqual(expect.arrayContaining(['tenure_months', 'monthly_charges', 'support_calls']));
  }, 240_000);

  it('build → push → deploy --plan → deploy → v2 → status → rollback', async () => {
    const env = awsTestEnv(fake.url);
    const cli = (args: string[], extra: Record<string, string> = {}) =>
      runCli([...args, '--json'], { cwd: project.dir, env: { ...env, MLSHIP_PYTHON: python, ...extra }, timeoutMs: 180_000 });
    const image = '123456789012.dkr.ecr.us-east-1.amazonaws.com/mlship/churn:ci';

    // Drift alerts by e-mail: an SNS topic, a subscription and CloudWatch alarms in the plan below.
    writeFileSync(
      project.manifestFile,
      readFileSync(project.manifestFile, 'utf8').replace(/^monitoring:\n/m, 'monitoring:\n  alerts: { email: ml-team@example.com }\n'),
    );
    expect((await cachedBuild(project.dir, () => cli(['build', '--no-image']))).code).toBe(0);
    // No container engine and no --image: a usage error naming the flag, before anything is uploaded.
    // A PATH with node alone: node's own folder may hold buildah or docker too (/usr/bin on Debian).
    const nodeOnly = path.join(project.dir, 'node-only');
    mkdirSync(nodeOnly);
    symlinkSync(process.execPath, path.join(nodeOnly, 'node'));
    const noImage = await cli(['push'], { PATH: nodeOnly });
    expect(noImage.code).toBe(2);
    expect(json<{ error: { code: string; hint: string } }>(noImage).error).toMatchObject({ code: 'image_required', hint: expect.stringContaining('--image') });

    const pushed = await cli(['push', '--image', image]);
    expect(pushed.code).toBe(0);
    expect(json<{ version: { version: string }; created: boolean }>(pushed)).toMatchObject({ version: { version: 'v1' }, created: true });

    const planned = await cli(['deploy', '--plan']);
    expect(planned.code).toBe(0);
    const plan = json<{ plan: { to: string; steps: { action: string }[]; warnings?: string[] } }>(planned).plan;
    expect(plan.to).toBe('v1');
    expect(plan.warnings).toBeUndefined();
    expect(plan.steps.map((s) => s.action)).toEqual(expect.arrayContaining(['sns:CreateTopic', 'sns:Subscribe', 'cloudwatch:PutMetricAlarm']));
    expect(plan.steps.map((s) => s.action)).toContain('sagemaker:CreateEndpoint');
    expect(fake.operations().filter((o) => /^(Create|Update)/.test(o) && o !== 'CreateModelPackage' && o !== 'CreateModelPackageGroup')).toEqual([]);

    const first = await cli(['deploy']);
    expect(first.code).toBe(0);
    expect(json<{ live: { version: string } }>(first).live.version).toBe('v1');

    // A changed manifest is a new build and a new version with the same model.
    writeFileSync(project.manifestFile, readFileSync(project.manifestFile, 'utf8').replace('expected_rps: 50', 'expected_rps: 80'));
    expect((await cachedBuild(project.dir, () => cli(['build', '--no-image']))).code).toBe(0);
    expect(json<{ version: { version: string } }>(await cli(['push', '--image', image])).version.version).toBe('v2');
    const second = await cli(['deploy', '--timeout', '120']);
    expect(second.code).toBe(0);
    expect(json<{ live: { version: string }; previous: string }>(second)).toMatchObject({ live: { version: 'v2' }, previous: 'v1' });
    expect(fake.calls.filter((c) => c.operation === 'UpdateEndpoint')).toHaveLength(1);

    const status = json<{ target: string; live: { version: string; url: string; healthy: boolean }; history: { action: string; version: string }[] }>(
      await cli(['status']),
    );
    expect(status.target).toBe('sagemaker');
    expect(status.live).toMatchObject({ version: 'v2', healthy: true, url: 'https://runtime.sagemaker.us-east-1.amazonaws.com/endpoints/churn/invocations' });
    expect(status.history.map((h) => `${h.action} ${h.version}`)).toEqual(['deploy v1', 'deploy v2']);

    const back = await cli(['rollback']);
    expect(back.code).toBe(0);
    expect(json<{ live: { version: string } }>(back).live.version).toBe('v1');
    const after = json<{ live: { version: string }; versions: { version: string; location: { approval: string } }[] }>(await cli(['status']));
    expect(after.live.version).toBe('v1');
    expect(after.versions.find((v) => v.version === 'v2')?.location.approval).toBe('Rejected');
  }, 300_000);
});
