/**
 * The generated app, run for real (Python, uvicorn, scikit-learn) on loopback, once per platform
 * contract with the environment that platform sets: routes, payload shapes, headers, Server-Timing,
 * /metrics, the prediction log, and the refusal to start on a wrong artifact digest.
 */
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildExample, goodRecord, logLines, postJson, runAppToExit, startApp, type BuiltExample } from './app-helpers.js';

let built: BuiltExample;
let scratch: string;

beforeAll(async () => {
  built = await buildExample();
  scratch = mkdtempSync(path.join(tmpdir(), 'mlship-contracts-'));
});

afterAll(() => built?.cleanup());

const STAGES = ['validate', 'queue', 'features', 'model', 'post', 'log'];

function serverTiming(header: string | null): Record<string, number> {
  expect(header).toBeTruthy();
  return Object.fromEntries(
    header!.split(',').map((part) => {
      const [name, dur] = part.trim().split(';dur=');
      return [name!, Number(dur)];
    }),
  );
}

describe('local contract (/health, /predict)', () => {
  it('answers one record, a list and {"instances"}, with ids, version, Server-Timing, metrics and log lines', async () => {
    const logDir = path.join(scratch, 'local-logs');
    const app = await startApp(built.buildDir, { MLSHIP_LOG_DIR: logDir, MLSHIP_VERSION: 'v7' }, { healthPath: '/health' });
    try {
      const health = await fetch(`${app.url}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: 'ok', model: 'churn', version: 'v7', build: built.build.id });

      const one = await postJson(`${app.url}/predict`, goodRecord);
      expect(one.status).toBe(200);
      const oneBody = (await one.json()) as { id: string; version: string; prediction: number };
      expect(one.headers.get('x-request-id')).toBe(oneBody.id);
      expect(one.headers.get('x-model-version')).toBe('v7');
      expect(oneBody.version).toBe('v7');
      expect(oneBody.prediction).toBeGreaterThan(0);
      expect(oneBody.prediction).toBeLessThan(1);
      const timing = serverTiming(one.headers.get('server-timing'));
      expect(Object.keys(timing)).toEqual(STAGES);
      for (const s of STAGES) expect(timing[s]).toBeGreaterThanOrEqual(0);

      const list = await postJson(`${app.url}/predict`, [goodRecord, { ...goodRecord, tenure_months: 60, plan: 'basic' }]);
      const listBody = (await list.json()) as { id: string; predictions: number[] };
      expect(list.status).toBe(200);
      expect(listBody.predictions).toHaveLength(2);

      const instances = await postJson(`${app.url}/predict`, { instances: [goodRecord] }, { 'x-request-id': 'client-chosen-1' });
      const instancesBody = (await instances.json()) as { id: string; predictions: number[] };
      expect(instancesBody.id).toBe('client-chosen-1');
      expect(instancesBody.predictions[0]).toBeCloseTo(oneBody.prediction, 12);

      const lines = logLines(logDir);
      expect(lines.map((l) => l.id)).toEqual([oneBody.id, `${listBody.id}-0`, `${listBody.id}-1`, 'client-chosen-1-0']);
      const first = lines[0]!;
      expect(Object.keys(first)).toEqual(['ts', 'id', 'model', 'version', 'input', 'output', 'latency_ms']);
      expect(first).toMatchObject({ model: 'churn', version: 'v7', input: goodRecord, output: oneBody.prediction });
      expect(Date.parse(first.ts)).not.toBeNaN();
      expect(first.latency_ms).toBeGreaterThan(0);

      await postJson(`${app.url}/predict`, { ...goodRecord, plan: 'gold' });
      const metrics = await (await fetch(`${app.url}/metrics`)).text();
      expect(metrics).toContain('mlship_model_info{model="churn",version="v7"');
      expect(metrics).toContain('mlship_requests_total{route="/predict",status="200"} 3');
      expect(metrics).toContain('mlship_errors_total{status="422"} 1');
      expect(metrics).toContain('mlship_predictions_total 4');
      expect(metrics).toMatch(/mlship_request_duration_seconds_bucket\{le="\+Inf"\} 3/);
      expect(metrics).toMatch(/mlship_stage_seconds_total\{stage="model"\} \d/);
    } finally {
      await app.stop();
    }
  });
});

describe('SageMaker contract', () => {
  it('listens on SAGEMAKER_BIND_TO_PORT and answers /ping and /invocations', async () => {
    const app = await startApp(built.buildDir, { MLSHIP_LOG_DIR: path.join(scratch, 'sm-logs'), PORT: '1' }, { portVar: 'SAGEMAKER_BIND_TO_PORT' });
    try {
      expect((await fetch(`${app.url}/ping`)).status).toBe(200);
      const r = await postJson(`${app.url}/invocations`, goodRecord);
      expect(r.status).toBe(200);
      expect(await r.json()).toHaveProperty('prediction');
      const batch = await postJson(`${app.url}/invocations`, [goodRecord, goodRecord]);
      expect(((await batch.json()) as { predictions: number[] }).predictions).toHaveLength(2);
      expect((await fetch(`${app.url}/invocations`)).status).toBe(405);
    } finally {
      await app.stop();
    }
  });
});

describe('Vertex AI contract', () => {
  it('uses AIP_HTTP_PORT, AIP_HEALTH_ROUTE, AIP_PREDICT_ROUTE and AIP_STORAGE_URI; answers exactly {"predictions"}', async () => {
    const storage = path.join(scratch, 'vertex-model');
    mkdirSync(storage, { recursive: true });
    cpSync(path.join(built.buildDir, 'model', 'model.joblib'), path.join(storage, 'model.joblib'));
    const env = {
      AIP_HEALTH_ROUTE: '/v1/endpoints/e1/deployedModels/m1',
      AIP_PREDICT_ROUTE: '/v1/endpoints/e1/deployedModels/m1:predict',
      AIP_STORAGE_URI: storage,
      MLSHIP_MODEL_DIR: path.join(scratch, 'nowhere'),
      MLSHIP_LOG_DIR: path.join(scratch, 'vertex-logs'),
    };
    const app = await startApp(built.buildDir, env, { portVar: 'AIP_HTTP_PORT', healthPath: env.AIP_HEALTH_ROUTE });
    try {
      const r = await postJson(`${app.url}${env.AIP_PREDICT_ROUTE}`, { instances: [goodRecord, { ...goodRecord, support_calls: 7 }] });
      expect(r.status).toBe(200);
      const body = (await r.json()) as { predictions: number[] };
      expect(Object.keys(body)).toEqual(['predictions']);
      expect(body.predictions).toHaveLength(2);
      expect(r.headers.get('x-request-id')).toBeTruthy();
    } finally {
      await app.stop();
    }
  });
});

describe('Azure ML contract', () => {
  it('finds the model under AZUREML_MODEL_DIR (nested as Azure mounts it) and answers /score, liveness and readiness', async () => {
    const azureDir = path.join(scratch, 'azureml-models');
    mkdirSync(path.join(azureDir, 'churn', '3'), { recursive: true });
    cpSync(path.join(built.buildDir, 'model', 'model.joblib'), path.join(azureDir, 'churn', '3', 'model.joblib'));
    const app = await startApp(built.buildDir, { AZUREML_MODEL_DIR: azureDir, MLSHIP_LOG_DIR: path.join(scratch, 'az-logs') }, { healthPath: '/live' });
    try {
      expect((await fetch(`${app.url}/ready`)).status).toBe(200);
      expect((await fetch(`${app.url}/`)).status).toBe(200);
      const r = await postJson(`${app.url}/score`, [goodRecord]);
      expect(r.status).toBe(200);
      expect(((await r.json()) as { predictions: number[] }).predictions).toHaveLength(1);
    } finally {
      await app.stop();
    }
  });
});

describe('artifact digest', () => {
  it('refuses to start when the artifact differs from build.json', async () => {
    const other = path.join(scratch, 'tampered');
    mkdirSync(other, { recursive: true });
    writeFileSync(path.join(other, 'model.joblib'), 'not the model that was built');
    const r = await runAppToExit(built.buildDir, { MLSHIP_MODEL_DIR: other, MLSHIP_LOG_DIR: path.join(scratch, 'x-logs') });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/refusing to start: the model artifact .*model\.joblib has sha256 [0-9a-f]{64}, but build\.json expects [0-9a-f]{64}/);
  });

  it('checks the registered digest a deployment names in MLSHIP_MODEL_SHA256 instead of build.json', async () => {
    const other = path.join(scratch, 'registered');
    mkdirSync(other, { recursive: true });
    writeFileSync(path.join(other, 'model.joblib'), 'an artifact registered after the image was built');
    const wrong = '0'.repeat(64);
    const r = await runAppToExit(built.buildDir, { MLSHIP_MODEL_DIR: other, MLSHIP_MODEL_SHA256: wrong, MLSHIP_LOG_DIR: path.join(scratch, 'y-logs') });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`but MLSHIP_MODEL_SHA256 expects ${wrong}`);
  });
});
