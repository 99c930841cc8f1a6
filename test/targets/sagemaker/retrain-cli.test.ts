/**
 * `mlship retrain` on a target with its own retraining pipeline runs that pipeline (spawned CLI
 * against moto): the pipeline's absence is reported by SageMaker itself, not by a local training run.
 * The pipeline's full run is covered in lifecycle.test.ts (`startRetraining`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, runCli } from '../../helpers/cli.js';
import { awsTestEnv, startMoto, type Moto } from './moto.js';
import { sagemakerProject } from './project.js';

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

const retrain = (...args: string[]) => runCli(['retrain', ...args], { cwd: project.dir, env: awsTestEnv(moto.url) });

describe('mlship retrain on SageMaker', () => {
  it('starts the SageMaker pipeline instead of training here', async () => {
    const r = await retrain('--json');
    expect(r.code).toBe(1);
    expect(json<{ error: { code: string; message: string } }>(r).error).toMatchObject({ code: 'pipeline_missing' });
  });

  it('says what it would run with --dry-run and refuses --from-logs without --local', async () => {
    const dry = await retrain('--dry-run', '--json');
    expect(dry.code, dry.stderr).toBe(0);
    expect(json(dry)).toEqual({ dryRun: true, remote: 'sagemaker' });
    const fromLogs = await retrain('--from-logs');
    expect(fromLogs.code).toBe(2);
    expect(fromLogs.stderr).toMatch(/Add --local/);
  });
});
