/**
 * Retraining on Azure ML end to end, the spawned CLI against the Azure doubles, zero contract
 * violations: push v1 → deploy → `mlship retrain` (the project source as a code asset, a command job
 * run for real, its model output registered as v2) → v2 listed as pending and not taken by a plain
 * deploy → `deploy --version v2` promotes it and serves the retrained model → `quality` joins the
 * collected predictions with labels uploaded to the datastore → a failing training command ends the
 * run with exit 1.
 *
 * Which double answers what:
 * - ARM fake (HTTPS, contract-checked): CodeVersions_{Get,CreateOrUpdate}, ModelVersions_{List,
 *   CreateOrUpdate}, EnvironmentVersions_{Get,CreateOrUpdate} (SDK 2022-10-01); Jobs_{CreateOrUpdate,Get}
 *   (raw 2026-07-01). The fake runs the job as Azure ML compute would: the code asset downloaded as the
 *   working folder, `${{outputs.model}}` replaced, the command run with the serving build's Python, the
 *   output uploaded to the datastore and registered as the next model version with its `jobName`.
 * - Azurite: the source files, the job's output folder (model + mlship.json marker), version records,
 *   the data collector's lines and the uploaded feedback file.
 * - ARM fake data plane: the scoring URL forwarding to the real serving app (the retrained artifact
 *   checked against the digest mlship registered).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cachedBuild } from '../../helpers/build-cache.js';
import { readCsvFile } from '../../../src/util/csv.js';
import { copyExample, json, python, runCli, tempDir, type RunResult } from '../../helpers/cli.js';
import { startAzureDoubles, type AzureDoubles } from '../../doubles/azure/index.js';

let doubles: AzureDoubles;
let project: { dir: string; cleanup: () => void };
let env: NodeJS.ProcessEnv;
let manifest: string;
let bare: { dir: string; cleanup: () => void };
const savedPath = process.env.PATH;

const cli = (...args: string[]): Promise<RunResult> => runCli(args, { cwd: project.dir, env, timeoutMs: 300_000 });

interface Version {
  version: string;
  digest: string;
  parent?: string;
  live: boolean;
  pending?: boolean;
  location: Record<string, string>;
  metrics?: Record<string, number>;
}

beforeAll(async () => {
  // A fresh machine: the `python` first on PATH is a bare one without the test requirements (the suite
  // prepared its own, MLSHIP_PYTHON). The job's `python train.py` must still run under the suite's.
  bare = tempDir('mlship-bare-python-');
  execFileSync(python, ['-m', 'venv', '--without-pip', bare.dir]);
  process.env.PATH = `${path.join(bare.dir, 'bin')}${path.delimiter}${savedPath}`;
  project = copyExample();
  doubles = await startAzureDoubles({ buildsDir: path.join(project.dir, '.mlship', 'build') });
  env = { ...doubles.env, MLSHIP_PYTHON: python };
  manifest = path.join(project.dir, 'mlship.yaml');
  const block = doubles.arm.manifestBlock();
  // Another seed: the retrained model differs from the pushed one.
  const text = readFileSync(manifest, 'utf8')
    .replace(/^target: local$/m, 'target: azure')
    .replace('on_drift: true', 'on_drift: false')
    .replace('command: python train.py', 'command: python train.py --seed 7');
  writeFileSync(
    manifest,
    `${text}targets:\n  azure:\n${Object.entries(block)
      .map(([k, v]) => `    ${k}: ${v}\n`)
      .join('')}`,
  );
}, 120_000);

afterAll(async () => {
  await doubles?.stop();
  project?.cleanup();
  process.env.PATH = savedPath;
  bare?.cleanup();
});

function firstRecord(): Record<string, unknown> {
  const table = readCsvFile(path.join(project.dir, 'data', 'train.csv'));
  const row = table.rows[0]!;
  const col = (c: string) => row[table.columns.indexOf(c)];
  return {
    tenure_months: Number(col('tenure_months')),
    monthly_charges: Number(col('monthly_charges')),
    support_calls: Number(col('support_calls')),
    plan: col('plan'),
    payment_method: col('payment_method'),
  };
}

describe('mlship retrain --target azure (a real command job in the ARM fake)', () => {
  it('retrains as a command job on the project source and registers the result as pending v2', async () => {
    const built = await cachedBuild(project.dir, () => cli('build', '--json', '--no-image'));
    expect(built.code, built.stderr).toBe(0);
    const buildId = json<{ build?: { id: string }; id?: string }>(built).build?.id ?? json<{ id: string }>(built).id;
    expect((await cli('push', '--json', '--image', `mlshipfake.azurecr.io/churn:${buildId}`)).code).toBe(0);
    const deployed = await cli('deploy', '--json');
    expect(deployed.code, `${deployed.stderr}\n${deployed.stdout}`).toBe(0);

    const run = await cli('retrain', '--json');
    expect(run.code, run.stderr).toBe(0);
    expect(json(run)).toMatchObject({ remote: { status: 'Completed', version: 'v2', executionId: expect.stringMatching(/^churn-retrain-/) } });

    // The job: the training command on the code asset, the model output registered as the model.
    const [job] = doubles.arm.list('jobs/');
    expect(job!.properties).toMatchObject({
      jobType: 'Command',
      codeId: expect.stringMatching(/\/codes\/churn-source\/versions\/[0-9a-f]{12}$/),
      environmentId: expect.stringMatching(/environments\/churn-serving\/versions\/1$/),
      outputs: { model: { jobOutputType: 'custom_model', assetName: 'churn' } },
      status: 'Completed',
    });
    expect(String(job!.properties.command)).toContain('python train.py --seed 7');
    expect(doubles.arm.calls.filter((c) => c.operation === 'Jobs_CreateOrUpdate').map((c) => c.apiVersion)).toEqual(['2026-07-01']);
    const code = doubles.arm.resource(String(job!.properties.codeId).split('/workspaces/mlship-ws/')[1]!);
    expect(String(code!.properties.codeUri)).toMatch(/\/mlship\/churn\/source\/[0-9a-f]{64}\/$/);

    // v2: registered by the job, untagged; mlship lists it as pending, with the job's marker digest.
    const model = doubles.arm.resource('models/churn/versions/2')!;
    expect(model.properties).toMatchObject({ jobName: job!.name, tags: {} });
    const status = json<{ live: { version: string }; versions: Version[] }>(await cli('status', '--json'));
    expect(status.live.version).toBe('v1');
    const v2 = status.versions.find((v) => v.version === 'v2')!;
    expect(v2).toMatchObject({ parent: 'v1', live: false, pending: true, location: { job: job!.name } });
    expect(v2.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(v2.digest).not.toBe(status.versions.find((v) => v.version === 'v1')!.digest);
    const text = await cli('status');
    expect(text.stdout).toMatch(/v2 .* pending/);
  }, 900_000);

  it('a plain deploy keeps v1; deploy --version v2 promotes the retrained model and serves it', async () => {
    const plain = await cli('deploy', '--plan', '--json');
    expect(plain.code, plain.stderr).toBe(0);
    expect(json(plain)).toMatchObject({ plan: { to: 'v1', noop: true } });

    const planned = await cli('deploy', '--plan', '--json', '--version', 'v2');
    const actions = json<{ plan: { steps: { action: string; resource: string }[] } }>(planned).plan.steps.map((s) => `${s.action} ${s.resource}`);
    expect(actions.slice(0, 3)).toEqual([
      'azureml:EnvironmentVersions_CreateOrUpdate churn-serving:2',
      'azureml:ModelVersions_CreateOrUpdate churn:2',
      expect.stringMatching(/^azureml:OnlineDeployments_CreateOrUpdate .*\/v2$/),
    ]);

    const deployed = await cli('deploy', '--json', '--version', 'v2');
    expect(deployed.code, `${deployed.stderr}\n${deployed.stdout}`).toBe(0);
    expect(json(deployed)).toMatchObject({ live: { version: 'v2', healthy: true }, previous: 'v1' });

    // Promoted: tagged like a pushed version, the digest that of the artifact the job wrote.
    const model = doubles.arm.resource('models/churn/versions/2')!;
    const tags = model.properties.tags as Record<string, string>;
    const key = String(model.properties.modelUri).split('/paths/')[1]!;
    const artifact = await doubles.arm.blob(`${key}model.joblib`);
    expect(tags).toMatchObject({
      'mlship.parent': 'v1',
      'mlship.job': doubles.arm.list('jobs/')[0]!.name,
      'mlship.sha256': createHash('sha256').update(artifact).digest('hex'),
    });
    expect(doubles.arm.resource('environments/churn-serving/versions/2')!.properties.image).toBe(
      doubles.arm.resource('environments/churn-serving/versions/1')!.properties.image,
    );

    const status = json<{ live: { url: string; details: { endpoint: string } }; versions: Version[] }>(await cli('status', '--json'));
    expect(status.versions.find((v) => v.version === 'v2')).toMatchObject({ live: true });
    expect(status.versions.find((v) => v.version === 'v2')!.pending).toBeUndefined();
    const res = await fetch(status.live.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${doubles.arm.endpointKey(status.live.details.endpoint)!}` },
      body: JSON.stringify(firstRecord()),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ version: 'v2' });
  }, 900_000);

  it("quality joins the data collector's predictions with labels uploaded to the datastore", async () => {
    const status = json<{ live: { url: string; details: { endpoint: string } }; versions: Version[] }>(await cli('status', '--json'));
    expect(status.versions.find((v) => v.version === 'v2')).toMatchObject({ metrics: { auc: expect.any(Number) } });
    const table = readCsvFile(path.join(project.dir, 'data', 'train.csv'));
    const labels: string[] = [];
    for (const [i, row] of table.rows.slice(0, 30).entries()) {
      const record = Object.fromEntries(
        table.columns
          .filter((c) => c !== 'churned')
          .map((c) => [c, ['plan', 'payment_method'].includes(c) ? row[table.columns.indexOf(c)] : Number(row[table.columns.indexOf(c)])]),
      );
      const res = await fetch(status.live.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-request-id': `q-${i}`,
          authorization: `Bearer ${doubles.arm.endpointKey(status.live.details.endpoint)!}`,
        },
        body: JSON.stringify(record),
      });
      expect(res.status).toBe(200);
      labels.push(JSON.stringify({ ts: new Date().toISOString(), id: `q-${i}`, label: Number(row[table.columns.indexOf('churned')]) }));
    }
    labels.push(JSON.stringify({ ts: new Date().toISOString(), id: 'no-such-request', label: 1 }));
    await doubles.arm.putBlob(`mlship/churn/feedback/feedback-${new Date().toISOString().slice(0, 10)}.jsonl`, `${labels.join('\n')}\n`);

    const q = await cli('quality', '--json', '--since', '1h');
    expect([0, 3], q.stderr).toContain(q.code);
    const result = json<{ version: string; live: number; validation: number; verdict: string; labels: { matched: number; unknownIds: number } }>(q);
    expect(result).toMatchObject({ version: 'v2', verdict: expect.stringMatching(/^(ok|degraded)$/), labels: { matched: 30, unknownIds: 1 } });
    expect(result.live).toBeGreaterThan(0);
    expect(result.validation).toBe(status.versions.find((v) => v.version === 'v2')!.metrics!.auc);
  }, 300_000);

  it('a training command that fails ends the run: exit 1, the job named, nothing registered', async () => {
    writeFileSync(manifest, readFileSync(manifest, 'utf8').replace('command: python train.py --seed 7', 'command: python -c "raise SystemExit(4)"'));
    const before = doubles.arm.list('models/churn/versions/').length;
    const run = await cli('retrain');
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toMatch(/retraining job churn-retrain-\d+ ended Failed/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(doubles.arm.list('models/churn/versions/')).toHaveLength(before);
  }, 600_000);

  it('sent nothing the published contract refuses', () => {
    expect(doubles.arm.violations).toEqual([]);
  });
});
