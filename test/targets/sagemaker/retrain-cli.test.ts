/**
 * `mlship retrain` and `drift-check --on-drift retrain` on a target with its own retraining pipeline
 * both run that pipeline (spawned CLI against moto), never a training run on this machine: first its
 * absence is reported by SageMaker itself, then, once the pipeline exists, both commands start an
 * execution of it and follow it to its end.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { CreatePipelineCommand, ListPipelineExecutionsCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, runCli } from '../../helpers/cli.js';
import { awsTestEnv, startMoto, type Moto } from '../../doubles/sagemaker/moto.js';
import { ROLE, sagemakerProject } from './project.js';

let moto: Moto;
let project: ReturnType<typeof sagemakerProject>;

beforeAll(async () => {
  moto = await startMoto();
  project = sagemakerProject();
});
afterAll(async () => {
  await moto?.stop();
  project?.cleanup();
});

const env = () => awsTestEnv(moto.url);
const mlship = (...args: string[]) => runCli(args, { cwd: project.dir, env: env(), timeoutMs: 180_000 });

async function executions(): Promise<number> {
  const sm = new SageMakerClient({ region: 'us-east-1', endpoint: moto.url, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  const listed = await sm.send(new ListPipelineExecutionsCommand({ PipelineName: 'churn-retrain' }));
  return (listed.PipelineExecutionSummaries ?? []).length;
}

describe('mlship retrain on SageMaker', () => {
  it('reports a missing pipeline from SageMaker instead of training here', async () => {
    const r = await mlship('retrain', '--json');
    expect(r.code).toBe(1);
    expect(json<{ error: { code: string; message: string } }>(r).error).toMatchObject({ code: 'pipeline_missing' });
  });

  it('says what it would run with --dry-run and refuses --from-logs without --local', async () => {
    const dry = await mlship('retrain', '--dry-run', '--json');
    expect(dry.code, dry.stderr).toBe(0);
    expect(json(dry)).toEqual({ dryRun: true, remote: 'sagemaker' });
    const fromLogs = await mlship('retrain', '--from-logs');
    expect(fromLogs.code).toBe(2);
    expect(fromLogs.stderr).toMatch(/Add --local/);
  });

  it('starts the SageMaker pipeline and follows it; drift-check --on-drift retrain takes the same path', async () => {
    // The pipeline as `deploy` leaves it (its definition is golden-tested in requests.test.ts).
    const sm = new SageMakerClient({ region: 'us-east-1', endpoint: moto.url, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
    await sm.send(
      new CreatePipelineCommand({ PipelineName: 'churn-retrain', RoleArn: ROLE, PipelineDefinition: JSON.stringify({ Version: '2020-12-01', Steps: [] }) }),
    );

    const r = await mlship('retrain', '--json');
    expect(r.code, r.stderr).toBe(0);
    const { remote } = json<{ remote: { pipeline: string; executionId: string; status: string } }>(r);
    expect(remote).toMatchObject({ pipeline: 'churn-retrain', status: 'Succeeded' });
    expect(remote.executionId).toContain('pipeline/churn-retrain/execution/');
    expect(await executions()).toBe(1);

    // Traffic far outside the training data: drift, and the trigger starts the pipeline again.
    const logs = path.join(project.dir, 'drifted.jsonl');
    const line = (i: number) =>
      JSON.stringify({
        ts: '2026-11-27T10:00:00Z',
        id: `r${i}`,
        version: 'v1',
        input: { tenure_months: 500 + i, monthly_charges: 900.5, support_calls: 40, plan: 'enterprise', payment_method: 'crypto' },
        output: 0.99,
      });
    writeFileSync(logs, `${Array.from({ length: 200 }, (_, i) => line(i)).join('\n')}\n`);
    const drift = await mlship('drift-check', '--logs', logs, '--baseline', 'data/train.csv', '--on-drift', 'retrain', '--json');
    expect(drift.code, drift.stderr).toBe(3);
    const trigger = json<{
      drift: boolean;
      trigger: { command: string; exit_code: number; retrain: { pipeline: string; executionId: string; status: string } };
    }>(drift).trigger;
    expect(trigger).toMatchObject({ command: 'mlship retrain', exit_code: 0, retrain: { pipeline: 'churn-retrain', status: 'Succeeded' } });
    expect(trigger.retrain.executionId).toContain('pipeline/churn-retrain/execution/');
    expect(await executions()).toBe(2);
    // Nothing was trained on this machine.
    expect(drift.stderr).not.toMatch(/retrain: training|python train\.py/);
  });
});
