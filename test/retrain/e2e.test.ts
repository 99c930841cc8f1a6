/**
 * Retraining end to end on the example, through the spawned CLI and the real serving app:
 *
 *   deploy v1 → predictions (the training population, and a shifted segment: long-tenure customers
 *   on the basic plan paying by invoice) → feedback whose labels in the segment are the opposite of
 *   what v1 answered → `mlship quality` exits 3 naming accuracy and both values → `mlship retrain
 *   --from-logs --deploy` trains on the logged inputs + labels and the gate makes v2 live (its score
 *   on the holdout above v1's) → a worse training set (`train.py --sample 12`) is held back: exit 3,
 *   v3 registered but not live, v2 still serving.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCsvFile } from '../../src/util/csv.js';
import { freePort } from '../../src/targets/local/processes.js';
import { cachedBuild } from '../helpers/build-cache.js';
import { copyExample, json, python, runCli } from '../helpers/cli.js';
import { seededRandom as rng } from '../helpers/random.js';

let dir: string;
let cleanup: () => void;
let port: number;
let url: string;
const env = { MLSHIP_PYTHON: python };
const cli = (...args: string[]) => runCli(args, { cwd: dir, env, timeoutMs: 540_000 });

interface VersionDoc {
  version: string;
  live: boolean;
  parent?: string;
  data?: { path: string; sha256: string }[];
  gitCommit?: string;
  metrics?: Record<string, unknown>;
  gate?: { promoted: boolean; metric: string; candidate: number; live?: number; liveVersion?: string };
}

async function post(route: string, body: unknown): Promise<any> {
  const r = await fetch(`${url}${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(r.status, await r.clone().text()).toBe(200);
  return r.json();
}

beforeAll(async () => {
  ({ dir, cleanup } = copyExample());
  port = await freePort();
  url = `http://127.0.0.1:${port}`;
  const manifest = path.join(dir, 'mlship.yaml');
  // Live quality on accuracy; retrain with the test's interpreter.
  writeFileSync(
    manifest,
    `${readFileSync(manifest, 'utf8').replace('command: python train.py', `command: ${python} train.py`)}quality: { metric: accuracy, max_drop: 0.05, min_labels: 50 }\n`,
  );
});

afterAll(async () => {
  await cli('stop');
  cleanup();
});

describe('retraining on the local target', () => {
  it('deploys v1', async () => {
    expect((await cachedBuild(dir, () => cli('build', '--no-image', '--json'))).code).toBe(0);
    expect((await cli('push', '--json')).code).toBe(0);
    const deployed = await cli('deploy', '--port', String(port), '--json');
    expect(deployed.code, deployed.stderr).toBe(0);
    expect(json(deployed)).toMatchObject({ live: { version: 'v1' } });
  }, 600_000);

  it('logs predictions and feedback whose labels in a shifted segment contradict v1', async () => {
    const r = rng(11);
    const train = readCsvFile(path.join(dir, 'data', 'train.csv'));
    const col = (name: string) => train.columns.indexOf(name);
    const usual = train.rows.slice(0, 240).map((row) => ({
      record: {
        tenure_months: Number(row[col('tenure_months')]),
        monthly_charges: Number(row[col('monthly_charges')]),
        support_calls: Number(row[col('support_calls')]),
        plan: row[col('plan')]!,
        payment_method: row[col('payment_method')]!,
      },
      truth: Number(row[col('churned')]),
    }));
    const shifted = Array.from({ length: 240 }, () => ({
      record: {
        tenure_months: 40 + Math.floor(r() * 33),
        monthly_charges: Math.round((20 + r() * 40) * 100) / 100,
        support_calls: Math.floor(r() * 2),
        plan: 'basic',
        payment_method: 'invoice',
      },
      truth: -1,
    }));
    const all = [...usual, ...shifted].sort(() => r() - 0.5);
    const feedback: { id: string; label: number }[] = [];
    for (let start = 0; start < all.length; start += 120) {
      const chunk = all.slice(start, start + 120);
      const answer = await post(
        '/predict',
        chunk.map((c) => c.record),
      );
      chunk.forEach((c, i) => {
        const predicted = answer.predictions[i] > 0.5 ? 1 : 0;
        // The segment's truth is the opposite of what v1 says; the rest keeps its recorded outcome.
        feedback.push({ id: `${answer.id}-${i}`, label: c.truth === -1 ? 1 - predicted : c.truth });
      });
    }
    // A wrong label first, corrected later (last wins), and a label for an id nobody predicted.
    await post('/feedback', { id: feedback[0]!.id, label: 1 - feedback[0]!.label });
    await post('/feedback', [...feedback, { id: 'not-a-prediction', label: 1 }]);
  }, 120_000);

  it('the quality check exits 3 naming the metric and both values', async () => {
    const r = await cli('quality');
    expect(r.code, r.stderr).toBe(3);
    const doc = json<any>(await cli('quality', '--json'));
    expect(doc).toMatchObject({
      metric: 'accuracy',
      version: 'v1',
      verdict: 'degraded',
      alert: true,
      labels: { matched: 480, unknownIds: 1, duplicateLabels: 1 },
    });
    expect(doc.validation).toBeCloseTo(0.7233, 3);
    expect(doc.live).toBeLessThan(doc.validation - 0.05);
    process.stderr.write(`retrain e2e: live accuracy ${doc.live} vs validation ${doc.validation}\n`);
    expect(r.stdout).toContain(`accuracy ${doc.live.toFixed(4)} live vs ${doc.validation.toFixed(4)} in validation`);
  }, 120_000);

  it('retrain --from-logs --deploy makes a better model live through the gate', async () => {
    const dry = await cli('retrain', '--from-logs', '--deploy', '--dry-run', '--json');
    expect(dry.code, dry.stderr).toBe(0);
    expect(json(dry)).toMatchObject({ dryRun: true, fromLogs: { rows: 480 }, parent: 'v1' });

    const r = await cli('retrain', '--from-logs', '--deploy', '--json');
    expect(r.code, r.stderr).toBe(0);
    const doc = json<any>(r);
    expect(doc).toMatchObject({ version: 'v2', parent: 'v1', deployed: true, live: 'v2', gate: { promoted: true, metric: 'auc', liveVersion: 'v1' } });
    expect(doc.gate.rows).toBe(96); // 20% of the 480 labelled predictions
    expect(doc.gate.candidate).toBeGreaterThan(doc.gate.live);
    process.stderr.write(`retrain e2e: promoted v2, auc ${doc.gate.candidate} vs v1 ${doc.gate.live} on ${doc.gate.rows} rows\n`);

    const status = json<{ live: { version: string }; versions: VersionDoc[] }>(await cli('status', '--json'));
    expect(status.live.version).toBe('v2');
    const v2 = status.versions.find((v) => v.version === 'v2')!;
    expect(v2).toMatchObject({ live: true, parent: 'v1', gate: { promoted: true, metric: 'auc' } });
    expect(v2.gate!.candidate).toBeGreaterThan(v2.gate!.live!);
    expect(v2.data).toEqual([{ path: expect.stringMatching(/^\.mlship\/retrain\/.+\/from-logs\.csv$/), sha256: expect.stringMatching(/^[0-9a-f]{64}$/) }]);
    expect(readCsvFile(path.join(dir, v2.data![0]!.path)).rows).toHaveLength(480);
    expect(v2.metrics).toMatchObject({ rows: { train: 384, holdout: 96 } });
    // Trained on the logged traffic, v2 measures drift against it: the shifted segment is its baseline now.
    const baseline = JSON.parse(readFileSync(path.join(dir, '.mlship', 'registry', 'versions', 'v2', 'context', 'baseline.json'), 'utf8'));
    expect(baseline.rows).toBe(480);
    // The serving app answers as v2.
    expect((await post('/predict', { tenure_months: 50, monthly_charges: 30, support_calls: 0, plan: 'basic', payment_method: 'invoice' })).version).toBe('v2');
  }, 600_000);

  it('a worse training set is held back by the gate: exit 3, the live version unchanged', async () => {
    const manifest = path.join(dir, 'mlship.yaml');
    writeFileSync(manifest, readFileSync(manifest, 'utf8').replace(`command: ${python} train.py`, `command: ${python} train.py --sample 12`));
    const modelBefore = readFileSync(path.join(dir, 'model', 'model.joblib'));
    const r = await cli('retrain', '--from-logs', '--deploy');
    expect(r.code, r.stderr).toBe(3);
    expect(r.stdout).toMatch(/v3: HELD BACK by the gate/);
    expect(r.stdout).toMatch(/auc candidate \d\.\d{4} vs live v2 \d\.\d{4} on 96 holdout rows/);

    const status = json<{ live: { version: string }; versions: VersionDoc[] }>(await cli('status', '--json'));
    expect(status.live.version).toBe('v2');
    const v3 = status.versions.find((v) => v.version === 'v3')!;
    expect(v3).toMatchObject({ live: false, parent: 'v2', gate: { promoted: false, metric: 'auc', liveVersion: 'v2' } });
    expect(v3.gate!.candidate).toBeLessThan(v3.gate!.live!);
    process.stderr.write(`retrain e2e: held back v3, auc ${v3.gate!.candidate} vs v2 ${v3.gate!.live}\n`);
    // The project's model file is v2's again (the held-back candidate lives in the registry only).
    expect(readFileSync(path.join(dir, 'model', 'model.joblib')).equals(modelBefore)).toBe(true);
    const text = await cli('status');
    expect(text.stdout).toMatch(/v3 .*held back auc/);
    expect(text.stdout).toMatch(/v2 .*promoted auc/);
  }, 600_000);
});
