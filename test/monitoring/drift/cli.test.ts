/** `mlship drift-check` as a user runs it: spawned, on generated logs with an explicit baseline. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyExample, json, runCli } from '../../helpers/cli.js';
import { profileRows } from '../../../src/monitoring/drift/baseline.js';
import type { FieldSpec } from '../../../src/manifest/types.js';
import { exampleRows, logLines, writeLog } from './logs.js';

let project: { dir: string; cleanup: () => void };
let baseline: string;

beforeAll(() => {
  project = copyExample();
  const manifest = path.join(project.dir, 'mlship.yaml');
  // Two drifted features of five must flag the dataset, and drift must not start a real retraining.
  writeFileSync(manifest, readFileSync(manifest, 'utf8').replace('share: 0.5', 'share: 0.3').replace('on_drift: true', 'on_drift: false'));
  baseline = path.join(project.dir, 'data', 'train.csv');
  writeLog(path.join(project.dir, 'same'), { rows: 4000 });
  writeLog(path.join(project.dir, 'drifted'), { rows: 4000, seed: 11, shiftCharges: 20, enterpriseShare: 0.45 }, [
    '{"ts": "2026-11-27T10:00:00Z", "id": "x", "input": {"tenure_months": 3, "monthly_charg',
    '{"ts": "2026-11-27T10:00:01Z", "id": "y", "input": {"tenure_months": "twelve", "monthly_charges": 50, "support_calls": 1, "plan": "pro", "payment_method": "card"}, "output": 0.2}',
    '{"ts": "2026-11-27T10:00:02Z", "id": "z", "output": 0.2}',
    '[1, 2, 3]',
  ]);
});
afterAll(() => project.cleanup());

function drift(args: string[]) {
  return runCli(['drift-check', '--baseline', baseline, ...args], { cwd: project.dir });
}

describe('mlship drift-check (explicit --logs and --baseline)', () => {
  it('finds no drift when predictions follow the baseline (exit 0)', async () => {
    const r = await drift(['--logs', 'same', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = json<{ drift: boolean; rows: number; malformed: number; features: { name: string; drift: boolean }[] }>(r);
    expect(doc.drift).toBe(false);
    expect(doc.rows).toBe(4000);
    expect(doc.malformed).toBe(0);
    expect(doc.features.filter((f) => f.drift)).toEqual([]);
  });

  it('flags exactly the shifted numeric feature and the changed category (exit 3), counting malformed lines', async () => {
    const r = await drift(['--logs', 'drifted', '--json']);
    expect(r.code, r.stderr).toBe(3);
    const doc = json<{
      drift: boolean;
      share: number;
      rows: number;
      malformed: number;
      malformed_reasons: Record<string, number>;
      features: Record<string, unknown>[];
      output: Record<string, unknown>;
    }>(r);
    expect(doc.drift).toBe(true);
    expect(doc.features.filter((f) => f.drift).map((f) => f.name)).toEqual(['monthly_charges', 'plan']);
    expect(doc.share).toBeCloseTo(0.4);
    expect(doc.rows).toBe(4000);
    expect(doc.malformed).toBe(4);
    expect(doc.malformed_reasons).toEqual({ invalid_json: 1, wrong_type: 1, missing_input: 1, not_an_object: 1 });
    const charges = doc.features.find((f) => f.name === 'monthly_charges')!;
    expect(Object.keys(charges).slice(0, 6)).toEqual(['name', 'kind', 'method', 'score', 'threshold', 'drift']);
    expect(charges).toMatchObject({ kind: 'numeric', method: 'wasserstein', threshold: 0.1 });
    expect(doc.features.find((f) => f.name === 'plan')).toMatchObject({ kind: 'categorical', method: 'jensenshannon' });
    expect(doc.output).toMatchObject({ supported: false });
  });

  it('prints a table on stdout and the verdict', async () => {
    const r = await drift(['--logs', path.join('drifted', '*.jsonl')]);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/^feature\s+kind\s+method\s+score/);
    expect(r.stdout).toMatch(/monthly_charges\s+numeric\s+wasserstein\s+[\d.]+\s+>= 0\.1\s+DRIFT/);
    expect(r.stdout).toMatch(/DRIFT: 2 of 5 features drifted/);
    expect(r.stdout).toMatch(/malformed 4/);
  });

  it('runs --on-drift when drift is found, with its output kept off stdout', async () => {
    const marker = path.join(project.dir, 'retrained.txt');
    const r = await drift(['--logs', 'drifted', '--json', '--on-drift', `echo retraining && echo ran > ${JSON.stringify(marker)}`]);
    expect(r.code).toBe(3);
    expect(existsSync(marker)).toBe(true);
    expect(r.stderr).toContain('retraining');
    expect(json<{ trigger: unknown }>(r).trigger).toEqual({ command: expect.stringContaining('echo retraining'), source: '--on-drift', exit_code: 0 });
  });

  it('honours per-feature method, threshold and critical from the manifest', async () => {
    const alt = path.join(project.dir, 'critical.yaml');
    const text = readFileSync(path.join(project.dir, 'mlship.yaml'), 'utf8').replace(
      'drift: { schedule: "0 2 * * *", share: 0.3 }',
      'drift: { schedule: "0 2 * * *", share: 0.9, features: { monthly_charges: { method: ks, critical: true }, plan: { method: chi2, threshold: 0.01 } } }',
    );
    writeFileSync(alt, text);
    const r = await runCli(['drift-check', '-f', alt, '--baseline', baseline, '--logs', 'drifted', '--json'], { cwd: project.dir });
    expect(r.code, r.stderr).toBe(3);
    const doc = json<{ critical_drifted: string[]; features: Record<string, unknown>[] }>(r);
    expect(doc.critical_drifted).toEqual(['monthly_charges']);
    expect(doc.features.find((f) => f.name === 'monthly_charges')).toMatchObject({ method: 'ks', threshold: 0.05, score_kind: 'p_value', drift: true });
    expect(doc.features.find((f) => f.name === 'plan')).toMatchObject({ method: 'chi2', threshold: 0.01, drift: true });
  });

  it('exits 1 when there is nothing to check, and 2 on a bad window', async () => {
    const none = await drift(['--logs', 'no-such-folder', '--json']);
    expect(none.code).toBe(1);
    expect(json<{ error: { code: string } }>(none).error.code).toBe('logs_not_found');
    const empty = await drift(['--logs', 'same', '--from', '2030-01-01', '--json']);
    expect(empty.code).toBe(1);
    expect(json<{ error: { code: string } }>(empty).error.code).toBe('no_predictions');
    const bad = await drift(['--logs', 'same', '--since', 'yesterday']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--since "yesterday" is not a duration/);
  });

  it('reads a time window from the daily file names and the line timestamps', async () => {
    writeLog(path.join(project.dir, 'days'), { rows: 300, day: '2026-11-20' });
    writeLog(path.join(project.dir, 'days'), { rows: 200, day: '2026-11-21' });
    const r = await drift(['--logs', 'days', '--from', '2026-11-21T00:00:00Z', '--to', '2026-11-21T12:00:00Z', '--json']);
    expect([0, 3], r.stderr).toContain(r.code);
    // The generator spreads 200 predictions over 00:00:00–23:59:59: rows 0…100 fall before noon.
    expect(json<{ rows: number; outside_window: number; sources: string[] }>(r)).toMatchObject({
      rows: 101,
      outside_window: 99,
      sources: [expect.stringContaining('predictions-2026-11-21.jsonl')],
    });
  });

  it('compares against the first week of logs with --reference first-week', async () => {
    const dir = path.join(project.dir, 'weeks');
    for (let d = 1; d <= 7; d++) writeLog(dir, { rows: 400, seed: d, day: `2026-11-0${d}` });
    writeLog(dir, { rows: 2000, seed: 42, day: '2026-11-20', shiftCharges: 20, enterpriseShare: 0.45 });
    const r = await runCli(['drift-check', '--logs', 'weeks', '--reference', 'first-week', '--json'], { cwd: project.dir });
    expect(r.code, r.stderr).toBe(3);
    const doc = json<{ rows: number; baseline: { source: string; rows: number }; drifted: string[] }>(r);
    expect(doc.baseline.rows).toBe(2800);
    expect(doc.baseline.source).toMatch(/^first week of logs \(2026-11-01T00:00:00.000Z/);
    expect(doc.rows).toBe(2000);
    expect(doc.drifted).toEqual(['monthly_charges', 'plan']);
  });

  it('compares the model output when the baseline profile has outputs (number or label)', async () => {
    const num: FieldSpec = { type: 'number', nullable: false };
    const cat: FieldSpec = { type: 'category', nullable: false };
    const schema: Record<string, FieldSpec> = { tenure_months: num, monthly_charges: num, support_calls: num, plan: cat, payment_method: cat };
    const score = (i: Record<string, unknown>) => Math.round(Math.min(1, (i.monthly_charges as number) / 140) * 1000) / 1000;
    const rows = exampleRows();
    writeFileSync(path.join(project.dir, 'profile.json'), JSON.stringify(profileRows(rows, schema, 'data/train.csv', rows.map(score))));
    writeFileSync(
      path.join(project.dir, 'labels.json'),
      JSON.stringify(
        profileRows(
          rows,
          schema,
          'data/train.csv',
          rows.map((i) => (score(i) > 0.5 ? 'churn' : 'stay')),
        ),
      ),
    );
    writeLog(path.join(project.dir, 'scored'), { rows: 3000, seed: 3, shiftCharges: 20, output: score });
    writeLog(path.join(project.dir, 'labelled'), { rows: 3000, seed: 3, shiftCharges: 20, output: (i) => (score(i) > 0.5 ? 'churn' : 'stay') });
    writeLog(path.join(project.dir, 'multi'), { rows: 500, seed: 3, output: () => [0.2, 0.8] });
    const numeric = json<{ output: Record<string, unknown> }>(
      await runCli(['drift-check', '--logs', 'scored', '--baseline', 'profile.json', '--json'], { cwd: project.dir }),
    );
    expect(numeric.output).toMatchObject({ supported: true, kind: 'numeric', method: 'wasserstein', drift: true });
    const labels = json<{ output: Record<string, unknown> }>(
      await runCli(['drift-check', '--logs', 'labelled', '--baseline', 'labels.json', '--json'], { cwd: project.dir }),
    );
    expect(labels.output).toMatchObject({ supported: true, kind: 'categorical', method: 'jensenshannon', drift: true });
    const multi = json<{ output: Record<string, unknown> }>(
      await runCli(['drift-check', '--logs', 'multi', '--baseline', 'profile.json', '--json'], { cwd: project.dir }),
    );
    expect(multi.output).toMatchObject({ supported: false, reason: expect.stringMatching(/multi-output/) });
  });

  it('gives the same result parsing on worker threads as inline', async () => {
    // Three batches of lines and a partial one: parsed on worker threads unless told otherwise.
    writeLog(path.join(project.dir, 'big'), { rows: 30_000, seed: 9, shiftCharges: 3 }, ['{"broken', '{"input": {"tenure_months": "x"}}']);
    const threaded = await runCli(['drift-check', '--baseline', baseline, '--logs', 'big', '--json'], { cwd: project.dir, env: { MLSHIP_DRIFT_WORKERS: '2' } });
    const inline = await runCli(['drift-check', '--baseline', baseline, '--logs', 'big', '--json'], { cwd: project.dir, env: { MLSHIP_DRIFT_WORKERS: '0' } });
    expect(threaded.code, threaded.stderr).toBe(inline.code);
    expect(json(threaded)).toEqual(json(inline));
    expect(json<{ rows: number; malformed: number; malformed_examples: string[] }>(threaded)).toMatchObject({
      rows: 30_000,
      malformed: 2,
      malformed_examples: [expect.stringMatching(/predictions-2026-11-27\.jsonl:30001: invalid json/), expect.stringMatching(/:30002: wrong type/)],
    });
  });

  it('parses on threads by default, with the same result as on the main thread: batches, files, gzip, CRLF, a long line, a window', async () => {
    const dir = path.join(project.dir, 'mixed');
    mkdirSync(dir);
    // Day one: CRLF lines, blank lines, a broken line, a line longer than a parse batch (1 MiB), and
    // more unseen plans than the accumulator keeps apart (the rest go to "(other unseen)" in the
    // order they first appear, which threads must not change).
    const day1: string[] = logLines({ rows: 12_000, seed: 5, shiftCharges: 2 }).map((line, i) => {
      if (i % 7 !== 0) return line;
      const doc = JSON.parse(line) as { input: Record<string, unknown> };
      doc.input.plan = `plan-${i}`;
      if (i === 6006) doc.input.notes = 'n'.repeat(1_500_000);
      return JSON.stringify(doc);
    });
    day1.splice(3000, 0, '', '');
    day1.splice(9000, 0, '{"ts": "2026-11-27T12:00:00Z", "input": {"tenure_months": 3');
    writeFileSync(path.join(dir, 'predictions-2026-11-27.jsonl'), `${day1.join('\r\n')}\r\n`);
    writeFileSync(path.join(dir, 'predictions-2026-11-28.jsonl.gz'), gzipSync(`${logLines({ rows: 8000, seed: 6, day: '2026-11-28' }).join('\n')}\n`));
    const args = [
      'drift-check',
      '--baseline',
      baseline,
      '--logs',
      'mixed',
      '--from',
      '2026-11-27T06:00:00Z',
      '--to',
      '2026-11-28T18:00:00Z',
      '--json',
      '--verbose',
    ];
    const threaded = await runCli(args, { cwd: project.dir, env: { MLSHIP_DRIFT_WORKERS: undefined } });
    const inline = await runCli(args, { cwd: project.dir, env: { MLSHIP_DRIFT_WORKERS: '0' } });
    expect(threaded.stderr).toMatch(availableParallelism() > 1 ? /parsed on \d+ parser threads/ : /parsed on the main thread/);
    expect(inline.stderr).toMatch(/parsed on the main thread/);
    expect(threaded.code, threaded.stderr).toBe(inline.code);
    const doc = json<{
      rows: number;
      outside_window: number;
      malformed: number;
      malformed_examples: string[];
      features: { name: string; unseen?: Record<string, number> }[];
    }>(threaded);
    expect(doc).toEqual(json(inline));
    expect(doc.rows + doc.outside_window + doc.malformed).toBe(20_001);
    expect(doc.outside_window).toBe(3000 + 2000);
    expect(doc.malformed_examples).toEqual([expect.stringMatching(/predictions-2026-11-27\.jsonl:9001: invalid json$/)]);
    const plan = doc.features.find((f) => f.name === 'plan')!;
    expect(Object.keys(plan.unseen!)).toHaveLength(1001);
    expect(plan.unseen!['(other unseen)']).toBeGreaterThan(0);
  });
});
