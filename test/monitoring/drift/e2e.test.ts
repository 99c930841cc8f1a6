/**
 * drift-check end to end on the local target: build → push → deploy the example, send predictions
 * drawn from the training data (no drift, exit 0), then predictions with monthly_charges shifted and
 * the "enterprise" plan far more frequent (exit 3, exactly those two features flagged), with the
 * baseline and logs coming from the target (no --logs, no --baseline).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../src/targets/local/processes.js';
import { cachedBuild } from '../../helpers/build-cache.js';
import { copyExample, json, python, runCli } from '../../helpers/cli.js';
import { postJson } from '../../helpers/http.js';
import { sampleRecords } from './logs.js';

let dir: string;
let cleanup: () => void;
let url: string;
const env = { MLSHIP_PYTHON: python };
const cli = (...args: string[]) => runCli(args, { cwd: dir, env });

async function send(records: Record<string, unknown>[]): Promise<void> {
  for (let i = 0; i < records.length; i += 200) {
    const r = await postJson(`${url}/predict`, records.slice(i, i + 200));
    expect(r.status, r.body).toBe(200);
  }
}

interface Result {
  drift: boolean;
  rows: number;
  malformed: number;
  drifted: string[];
  baseline: { source: string };
  output: { supported: boolean; kind?: string };
  features: { name: string; drift: boolean; method: string }[];
}

beforeAll(async () => {
  ({ dir, cleanup } = copyExample());
  const manifest = path.join(dir, 'mlship.yaml');
  // Two drifted features of five flag the data set; drift must not start a real retraining here.
  writeFileSync(manifest, readFileSync(manifest, 'utf8').replace('share: 0.5', 'share: 0.3').replace('on_drift: true', 'on_drift: false'));
  const port = await freePort();
  for (const step of [
    ['build', '--no-image', '--json'],
    ['push', '--json'],
    ['deploy', '--port', String(port), '--json'],
  ]) {
    const r = step[0] === 'build' ? await cachedBuild(dir, () => cli(...step)) : await cli(...step);
    expect(r.code, `${step[0]}: ${r.stderr}`).toBe(0);
  }
  url = `http://127.0.0.1:${port}`;
}, 600_000);

afterAll(async () => {
  await cli('stop');
  cleanup();
});

describe('drift-check on the deployed local target', () => {
  let secondPhase: string;

  it('finds no drift in predictions drawn from the training distribution (exit 0)', async () => {
    await send(sampleRecords({ rows: 2000, seed: 101 }));
    const r = await cli('drift-check', '--json');
    expect(r.code, r.stderr).toBe(0);
    const doc = json<Result>(r);
    expect(doc).toMatchObject({ drift: false, rows: 2000, malformed: 0, drifted: [] });
    expect(doc.baseline.source).toMatch(/live version/);
    expect(doc.output).toMatchObject({ supported: true, kind: 'numeric' });
    secondPhase = new Date().toISOString();
  }, 300_000);

  it('flags exactly the shifted numeric feature and the changed category (exit 3)', async () => {
    await send(sampleRecords({ rows: 2000, seed: 202, shiftCharges: 25, enterpriseShare: 0.45 }));
    const r = await cli('drift-check', '--from', secondPhase, '--json', '--report', 'drift.html');
    expect(r.code, r.stderr).toBe(3);
    const doc = json<Result>(r);
    expect(doc.rows).toBe(2000);
    expect(doc.drift).toBe(true);
    expect(doc.drifted).toEqual(['monthly_charges', 'plan']);
    expect(readFileSync(path.join(dir, 'drift.html'), 'utf8')).toContain('data-feature="monthly_charges"');
    const table = await cli('drift-check', '--since', '1h');
    expect(table.code).toBe(3);
    expect(table.stdout).toMatch(/monthly_charges\s+numeric\s+wasserstein/);
  }, 300_000);
});
