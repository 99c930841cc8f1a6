/**
 * The retraining commands on their own, spawned: `quality` on a log folder (verdicts without a live
 * version, too few labels, bad metric settings), `retrain --dry-run` (nothing runs or changes), and
 * the drift trigger: `drift-check --on-drift retrain` runs the retraining path, which registers a
 * version with its lineage and gate.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyExample, json, python, runCli } from '../helpers/cli.js';
import { writeLog } from '../monitoring/drift/logs.js';

let project: { dir: string; cleanup: () => void };
const env = { MLSHIP_PYTHON: python };
const cli = (...args: string[]) => runCli(args, { cwd: project.dir, env, timeoutMs: 400_000 });

beforeAll(() => {
  project = copyExample();
  const manifest = path.join(project.dir, 'mlship.yaml');
  writeFileSync(
    manifest,
    `${readFileSync(manifest, 'utf8').replace('command: python train.py', `command: ${python} train.py`).replace('share: 0.5', 'share: 0.3')}quality: { metric: accuracy, min_labels: 10 }\n`,
  );
  // 200 predictions (outputs: churn probability ~ support calls) and labels for the first 150.
  const logs = path.join(project.dir, 'logs');
  writeLog(logs, { rows: 200, output: (input) => ((input.support_calls as number) >= 2 ? 0.8 : 0.2) });
  const labels = Array.from({ length: 150 }, (_, i) =>
    JSON.stringify({ ts: `2026-11-28T09:00:${String(i % 60).padStart(2, '0')}Z`, id: `req-${i}`, label: i % 3 === 0 ? 1 : 0 }),
  );
  writeFileSync(path.join(logs, 'feedback-2026-11-28.jsonl'), `${labels.join('\n')}\n`);
});
afterAll(() => project.cleanup());

describe('mlship quality --logs', () => {
  it('reports the live metric and counts, with no reference when nothing is registered', async () => {
    const r = await cli('quality', '--logs', 'logs', '--json');
    expect(r.code, r.stderr).toBe(0);
    const doc = json<any>(r);
    expect(doc).toMatchObject({
      metric: 'accuracy',
      verdict: 'no_reference',
      alert: false,
      validation: null,
      labels: { predictions: 200, matched: 150, unlabelled: 50, unknownIds: 0 },
    });
    expect(doc.live).toBeGreaterThan(0);
    expect(doc.live).toBeLessThan(1);
  });

  it('gives no verdict on too few labels', async () => {
    const r = await cli('quality', '--logs', 'logs', '--since', '1h');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/not enough labels for a verdict: 0 labelled predictions, quality.min_labels is 10/);
  });

  it('refuses AUC when the model outputs labels', async () => {
    const manifest = path.join(project.dir, 'mlship.yaml');
    const before = readFileSync(manifest, 'utf8');
    writeFileSync(
      manifest,
      before.replace('flavor: sklearn', 'flavor: sklearn\n  output: label').replace('metric: accuracy, min_labels', 'metric: auc, min_labels'),
    );
    const r = await cli('quality', '--logs', 'logs');
    writeFileSync(manifest, before);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/AUC needs probabilities/);
  });
});

describe('mlship retrain --dry-run', () => {
  it('lists the steps and the data with digests, and changes nothing', async () => {
    const r = await cli('retrain', '--dry-run', '--json');
    expect(r.code, r.stderr).toBe(0);
    const doc = json<any>(r);
    expect(doc).toMatchObject({ dryRun: true, deployed: false, data: [{ path: 'data/train.csv', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) }] });
    expect(doc.steps[0]).toMatch(/^train: .*train\.py {2}\(MLSHIP_DATA=data\/train\.csv MLSHIP_HOLDOUT=\.mlship\/retrain\/.+\/holdout\.csv\)$/);
    expect(existsSync(path.join(project.dir, '.mlship', 'retrain'))).toBe(false);
    const text = await cli('retrain', '--dry-run', '--from-logs', '--logs', 'logs');
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/dry run: nothing was run or changed/);
    expect(text.stderr).toMatch(/training set: 150 logged predictions with feedback labels/);
  });

  it('--from-logs without labels in the window fails with a hint (exit 1)', async () => {
    const r = await cli('retrain', '--from-logs', '--logs', 'logs', '--since', '1h');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no logged prediction has a feedback label in the window/);
  });
});

describe('drift-check --on-drift retrain', () => {
  it('runs the retraining path when drift is found: a version with lineage and a gate, drift-check still exits 3', async () => {
    writeLog(path.join(project.dir, 'drifted'), { rows: 3000, seed: 11, shiftCharges: 20, enterpriseShare: 0.45 });
    const r = await cli('drift-check', '--logs', 'drifted', '--baseline', 'data/train.csv', '--on-drift', 'retrain', '--json');
    expect(r.code, r.stderr).toBe(3);
    const doc = json<any>(r);
    expect(doc.drift).toBe(true);
    expect(doc.trigger).toMatchObject({ command: 'mlship retrain', source: '--on-drift', exit_code: 0, retrain: { version: 'v1', promoted: true } });
    const status = json<any>(await cli('status', '--json'));
    expect(status.versions[0]).toMatchObject({ version: 'v1', live: false, gate: { promoted: true, metric: 'auc' }, data: [{ path: 'data/train.csv' }] });
    expect(status.versions[0].gate.live).toBeUndefined();
  }, 400_000);
});
