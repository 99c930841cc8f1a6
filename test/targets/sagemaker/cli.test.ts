/**
 * The spawned CLI with `--target sagemaker` against moto behind the contract fake (AWS_ENDPOINT_URL,
 * static test credentials). Calls covered: S3 (capture files, baseline), STS, SageMaker
 * DescribeEndpoint (moto, overlaid by the fake) — drift-check reads SageMaker Data Capture files
 * written to moto's S3 in SageMaker's own layout and format.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { readCsvFile } from '../../../src/core/csv.js';
import { SageMakerTarget } from '../../../src/targets/sagemaker/sagemaker-target.js';
import { json, runCli } from '../../helpers/cli.js';
import { ContractFake } from './contract-fake.js';
import { awsTestEnv, startMoto, type Moto } from './moto.js';
import { makeBuild, sagemakerProject, targetContext } from './project.js';

let moto: Moto;
let fake: ContractFake;
let project: ReturnType<typeof sagemakerProject>;

beforeAll(async () => {
  moto = await startMoto();
  fake = new ContractFake(moto.url);
  await fake.start();
  Object.assign(process.env, awsTestEnv(fake.url));
});
afterAll(async () => {
  await fake?.stop();
  await moto?.stop();
});
beforeEach(async () => {
  await moto.reset();
  fake.reset();
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

    const ok = await runCli(['drift-check', '--target', 'sagemaker', ...window, '--json'], { cwd: project.dir, env });
    expect(ok.stderr).not.toMatch(/\n\s+at /);
    const okDoc = json<{ drift: boolean; rows: number; sources: string[] }>(ok);
    expect(ok.code).toBe(0);
    expect(okDoc.drift).toBe(false);
    expect(okDoc.rows).toBe(400);
    expect(okDoc.sources.every((s) => s.startsWith('s3://mlship-test-bucket/models/churn/capture/churn/AllTraffic/2026/11/27/'))).toBe(true);

    const shifted = like.map((r) => ({ ...r, tenure_months: 70, monthly_charges: 130, support_calls: 8, plan: 'enterprise' }));
    await put('models/churn/capture/churn/AllTraffic/2026/11/26/09/00-00-000-c.jsonl', captureLines(shifted, '2026-11-26T09'));
    const bad = await runCli(['drift-check', '--target', 'sagemaker', '--from', '2026-11-26T00:00:00Z', '--to', '2026-11-27T00:00:00Z', '--json'], { cwd: project.dir, env });
    const badDoc = json<{ drift: boolean; drifted: string[] }>(bad);
    expect(bad.code).toBe(3);
    expect(badDoc.drift).toBe(true);
    expect(badDoc.drifted).toEqual(expect.arrayContaining(['tenure_months', 'monthly_charges', 'support_calls']));
  });
});
