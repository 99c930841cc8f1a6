/**
 * Every flavor the generated app serves, for real, on small models the test set-up made
 * (test/fixtures/flavors/make_models.py): `mlship build` (feature parity, baseline profile, the CPU
 * cost calibration) → the app serving on loopback → one prediction → a batch → bad input → the
 * prediction log → drift-check against the build's baseline. xgboost is not installable here: its
 * rendering is golden-tested only (test/packaging/render.test.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cachedBuild } from '../helpers/build-cache.js';
import { json, python, runCli } from '../helpers/cli.js';
import { copyFlavorProject, type FlavorProject } from '../helpers/flavors.js';
import { postJson } from '../helpers/http.js';
import { startApp, type RunningApp } from '../serving/app-helpers.js';

const churn = { tenure_months: 12, monthly_charges: 59.5, support_calls: 2, plan: 'pro', payment_method: 'card' };
const churn2 = { tenure_months: 2, monthly_charges: 99.9, support_calls: 6, plan: 'basic', payment_method: 'invoice' };
const review = { text: 'The app was great' };
const review2 = { text: 'Billing has been slow and rude again and the router is broken after the update for weeks' };

interface Case {
  project: FlavorProject;
  records: [Record<string, unknown>, Record<string, unknown>];
  badField: { record: Record<string, unknown>; field: string };
  /** Checks one prediction's shape. */
  expectPrediction: (p: unknown) => void;
}

const probability = (p: unknown) => {
  expect(typeof p).toBe('number');
  expect(p as number).toBeGreaterThanOrEqual(0);
  expect(p as number).toBeLessThanOrEqual(1);
};
const tabular = { records: [churn, churn2] as Case['records'], badField: { record: { ...churn, plan: 'gold' }, field: 'plan' }, expectPrediction: probability };
const text = { records: [review, review2] as Case['records'], badField: { record: { text: 42 }, field: 'text' } };

const CASES: Case[] = [
  { project: 'lightgbm', ...tabular },
  { project: 'onnx', ...tabular },
  { project: 'pytorch', ...tabular },
  { project: 'transformers-classify', ...text, expectPrediction: probability },
  {
    project: 'transformers-embed',
    ...text,
    expectPrediction: (p) => {
      expect(Array.isArray(p)).toBe(true);
      expect((p as number[]).length).toBe(32); // the tiny BERT's hidden size
      for (const v of p as number[]) expect(Number.isFinite(v)).toBe(true);
    },
  },
];

/** Single predictions of each project, to compare flavors that serve the same weights. */
const singles = new Map<FlavorProject, unknown>();

describe.each(CASES)('the $project flavor, end to end', ({ project, records, badField, expectPrediction }) => {
  let dir: string;
  let cleanup: () => void;
  let build: Record<string, any>;
  let buildDir: string;
  let app: RunningApp | undefined;
  let logDir: string;

  beforeAll(async () => {
    ({ dir, cleanup } = copyFlavorProject(project));
    logDir = path.join(dir, 'logs');
    // Through the shared cache (helpers/build-cache.ts): a flavor's parity check and calibration run
    // once per inputs, code and interpreter, not once per run.
    const r = await cachedBuild(dir, () => runCli(['build', '--no-image', '--json'], { cwd: dir, env: { MLSHIP_PYTHON: python }, timeoutMs: 600_000 }));
    if (r.code !== 0) throw new Error(`mlship build failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
    const doc = json<{ dir: string; build: Record<string, any> }>(r);
    build = doc.build;
    buildDir = doc.dir;
    app = await startApp(buildDir, { MLSHIP_LOG_DIR: logDir, MLSHIP_WORKERS: '1' });
  }, 900_000);

  afterAll(async () => {
    await app?.stop();
    cleanup?.();
  });

  it('builds: feature parity on the baseline, a baseline profile, and the measured CPU cost', () => {
    expect(build.model.flavor).toBe(project.startsWith('transformers') ? 'transformers' : project);
    expect(build.parity).toMatchObject({ ok: true, mismatches: [], errors: [] });
    expect(build.parity.compared).toBeGreaterThanOrEqual(200);
    expect(build.baseline).toBe('baseline.json');
    expect(build.cost).toMatchObject({ threads: 1, perRequest: { cpuMs: expect.any(Number) }, perBatch: { size: 16, cpuMs: expect.any(Number) } });
    expect(build.cost.perRequest.cpuMs).toBeGreaterThan(0);
    const requirements = readFileSync(path.join(buildDir, 'requirements.txt'), 'utf8');
    const pinned = {
      lightgbm: 'lightgbm==',
      onnx: 'onnxruntime==',
      pytorch: 'torch==',
      'transformers-classify': 'transformers==',
      'transformers-embed': 'transformers==',
    }[project];
    expect(requirements).toContain(pinned);
  });

  it('predicts one record, and the same in a batch', async () => {
    const one = await postJson(`${app!.url}/predict`, records[0]);
    expect(one.status, one.body).toBe(200);
    const prediction = JSON.parse(one.body).prediction;
    expectPrediction(prediction);
    singles.set(project, prediction);

    const batch = await postJson(`${app!.url}/predict`, [records[1], records[0]]);
    expect(batch.status, batch.body).toBe(200);
    const predictions = JSON.parse(batch.body).predictions as unknown[];
    expect(predictions).toHaveLength(2);
    predictions.forEach(expectPrediction);
    // Batched with a different record (for text: a longer one, so this one is padded) it is the same.
    const close = (a: unknown, b: unknown) =>
      Array.isArray(a) ? (a as number[]).forEach((v, i) => expect(v).toBeCloseTo((b as number[])[i]!, 4)) : expect(a as number).toBeCloseTo(b as number, 5);
    close(predictions[1], prediction);
  });

  it('answers bad input with 400/422 naming the field, and keeps serving', async () => {
    const bad = await postJson(`${app!.url}/predict`, badField.record);
    expect(bad.status).toBe(422);
    expect(JSON.parse(bad.body).error.field).toBe(badField.field);
    const malformed = await postJson(`${app!.url}/predict`, '{"oops": ');
    expect(malformed.status).toBe(400);
    const after = await postJson(`${app!.url}/predict`, records[0]);
    expect(after.status).toBe(200);
  });

  it('logs every prediction, and drift-check reads the log against the build’s baseline', async () => {
    const files = readdirSync(logDir).filter((f) => f.startsWith('predictions-'));
    const lines = files.flatMap((f) => readFileSync(path.join(logDir, f), 'utf8').trim().split('\n')).map((l) => JSON.parse(l));
    expect(lines).toHaveLength(4); // one, a batch of two, one after the bad input
    expect(lines[0]).toMatchObject({ input: records[0], version: 'dev' });
    expect(lines.map((l) => l.id)).toEqual([expect.any(String), expect.stringMatching(/-0$/), expect.stringMatching(/-1$/), expect.any(String)]);

    const r = await runCli(['drift-check', '--logs', logDir, '--baseline', path.join(buildDir, 'baseline.json'), '--json'], { cwd: dir, timeoutMs: 60_000 });
    expect([0, 3], r.stderr).toContain(r.code);
    const report = json<{ rows: number; features: { name: string }[] }>(r);
    expect(report.rows).toBe(4);
    expect(report.features.map((f) => f.name)).toEqual(expect.arrayContaining(Object.keys(records[0])));
  });
});

describe('flavors serving the same weights', () => {
  it('answer the same: the ONNX export and the PyTorch state dict of one MLP', () => {
    expect(singles.get('onnx')).toBeCloseTo(singles.get('pytorch') as number, 5);
  });
});
