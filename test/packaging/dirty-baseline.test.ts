/**
 * Real-world dirt in the baseline CSV (issue 17, item 2): a numeric column with blank cells (" " for
 * new customers, as in the public Telco churn data, so pandas reads the column as text), `NA`,
 * quoted numbers, spaces around numbers and thousands separators. A newcomer's path — `init`,
 * `python train.py`, `build` — must type the rows the way a JSON client sends them: the parity check
 * compares them, the baseline profile and drift baselines count blanks as missing, and rows that do
 * not fit the schema are named with their field and why.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { typeCell, typeRows } from '../../src/manifest/typed-rows.js';
import { parseCsv } from '../../src/util/csv.js';
import { loadBaselineFile } from '../../src/monitoring/drift/baseline.js';
import type { FieldSpec } from '../../src/manifest/types.js';
import { json, python, runCli, tempDir } from '../helpers/cli.js';
import { seededRandom } from '../helpers/random.js';

const env = { MLSHIP_PYTHON: python };

/** Rows like the Telco churn CSV: total_charges blank for tenure 0, sometimes NA; monthly charges quoted or padded. */
function dirtyCsv(rows: number, seed: number): { text: string; blanks: number; na: number } {
  const next = seededRandom(seed);
  const lines = ['tenure_months,monthly_charges,total_charges,plan,churned'];
  let blanks = 0;
  let na = 0;
  for (let i = 0; i < rows; i++) {
    const tenure = i % 10 === 0 ? 0 : 1 + Math.floor(next() * 72);
    const monthly = Math.round((20 + next() * 90) * 100) / 100;
    let total = (tenure * monthly).toFixed(2);
    if (tenure === 0) {
      total = ' ';
      blanks++;
    } else if (i % 37 === 1) {
      total = 'NA';
      na++;
    }
    const charges = i % 5 === 0 ? `"${monthly}"` : i % 7 === 0 ? ` ${monthly} ` : String(monthly);
    const plan = ['basic', 'pro', 'enterprise'][Math.floor(next() * 3)]!;
    const churned = next() < (tenure < 12 ? 0.6 : 0.15) ? 1 : 0;
    lines.push(`${tenure},${charges},${total},${plan},${churned}`);
  }
  return { text: `${lines.join('\n')}\n`, blanks, na };
}

let project: { dir: string; cleanup: () => void };
let data: ReturnType<typeof dirtyCsv>;

beforeAll(async () => {
  project = tempDir('mlship-dirty-');
  mkdirSync(path.join(project.dir, 'data'));
  mkdirSync(path.join(project.dir, 'model'));
  data = dirtyCsv(400, 17);
  writeFileSync(path.join(project.dir, 'data', 'train.csv'), data.text);
  const init = await runCli(['init', '--yes', '--baseline', 'data/train.csv', '--model', 'model/model.joblib', '--name', 'dirty', '--label', 'churned'], {
    cwd: project.dir,
    env,
  });
  expect(init.code, init.stderr).toBe(0);
  const train = spawnSync(python, ['train.py'], { cwd: project.dir, encoding: 'utf8' });
  expect(train.status, train.stderr).toBe(0);
}, 180_000);
afterAll(() => project.cleanup());

describe('a dirty baseline CSV', () => {
  it('init reads blanks and NA as missing: number, nullable', () => {
    const yaml = readFileSync(path.join(project.dir, 'mlship.yaml'), 'utf8');
    expect(yaml).toMatch(/total_charges: \{ type: number, min: [\d.]+, max: [\d.]+, nullable: true \}/);
    expect(yaml).toMatch(/monthly_charges: \{ type: number, min: [\d.]+, max: [\d.]+ \}/);
  });

  it('builds: every row reaches the per-record path typed, and the profile counts blanks and NA as missing', { timeout: 300_000 }, async () => {
    const r = await runCli(['build', '--no-image', '--json'], { cwd: project.dir, env, timeoutMs: 280_000 });
    expect(r.code, r.stderr).toBe(0);
    const doc = json<{ id: string; dir: string; build: { parity: { ok: boolean; compared: number; rejectedRows: number } } }>(r);
    expect(doc.build.parity).toMatchObject({ ok: true, compared: 400, rejectedRows: 0 });
    const profile = JSON.parse(readFileSync(path.join(doc.dir, 'baseline.json'), 'utf8')) as {
      features: Record<string, { kind: string; count: number; missing: number }>;
    };
    expect(profile.features.total_charges).toMatchObject({ kind: 'numeric', count: 400 - data.blanks - data.na, missing: data.blanks + data.na });
    expect(profile.features.monthly_charges).toMatchObject({ kind: 'numeric', count: 400, missing: 0 });
  });

  it('names the field and why when cells cannot be numbers (thousands separators), without blaming batch statistics', { timeout: 300_000 }, async () => {
    const csv = path.join(project.dir, 'data', 'train.csv');
    const clean = readFileSync(csv, 'utf8');
    try {
      // Two rows with a thousands separator: noted, not compared; the rest still passes.
      writeFileSync(csv, `${clean}12,55.5,"1,234.50",pro,0\n13,60.1,"2,001.00",basic,1\n`);
      const some = await runCli(['build', '--no-image'], { cwd: project.dir, env, timeoutMs: 280_000 });
      expect(some.code, some.stderr).toBe(0);
      expect(some.stderr).toContain('note: 2 baseline rows fail the request schema and were not compared:');
      expect(some.stderr).toContain(
        'row 400: field "total_charges" must be a number, got "1,234.50" (thousands separators are not read: write it without them)',
      );

      // Every row failing: exit 3, the field and why, and a hint about the data, not batch statistics.
      const yaml = path.join(project.dir, 'mlship.yaml');
      const manifest = readFileSync(yaml, 'utf8');
      writeFileSync(
        yaml,
        manifest
          .replace(/(total_charges: \{ type: number, min: [\d.]+, max: [\d.]+), nullable: true \}/, '$1 }')
          .replace(/plan: \{ type: category, values: \[[^\]]*\] \}/, 'plan: { type: number }'),
      );
      try {
        const none = await runCli(['build', '--no-image', '--json'], { cwd: project.dir, env, timeoutMs: 280_000 });
        expect(none.code, none.stderr).toBe(3);
        const err = json<{ error: { code: string; message: string; hint: string } }>(none).error;
        expect(err.code).toBe('parity_no_rows');
        expect(err.message).toContain('none of the 402 baseline rows passes the request schema');
        expect(err.message).toMatch(/row 0: field "plan" must be a number, got "(basic|pro|enterprise)"/);
        expect(err.message).toMatch(/field "total_charges" is " " \(missing\)|field "total_charges" is empty \(missing\)/);
        expect(err.hint).toContain('features.schema');
        expect(err.hint).not.toMatch(/batch/);
      } finally {
        writeFileSync(yaml, manifest);
      }
    } finally {
      writeFileSync(csv, clean);
    }
  });

  it('drift-check --baseline data.csv profiles the same typed cells, and names a cell that is not data', async () => {
    const schema: Record<string, FieldSpec> = {
      total_charges: { type: 'number', nullable: true },
      plan: { type: 'category', values: ['basic', 'pro', 'enterprise'], nullable: false },
    };
    const profile = await loadBaselineFile('data/train.csv', schema, project.dir);
    expect(profile.features.total_charges).toMatchObject({ kind: 'numeric', count: 400 - data.blanks - data.na, missing: data.blanks + data.na });
    writeFileSync(path.join(project.dir, 'data', 'bad.csv'), 'total_charges,plan\n"1,234.5",pro\n12.5,basic\n');
    await expect(loadBaselineFile('data/bad.csv', schema, project.dir)).rejects.toThrow(
      /1 row that do not fit features.schema; row 0: field "total_charges" must be a number, got "1,234.5" \(thousands separators/,
    );
  });
});

describe('typeCell: what is data and what is an error', () => {
  const num: FieldSpec = { type: 'number', nullable: true };
  it('reads numbers as a JSON client sends them', () => {
    for (const [cell, value] of [
      ['29.85', 29.85],
      [' 29.85 ', 29.85],
      ['1e3', 1000],
      ['-3', -3],
      ['.5', 0.5],
      [' ', null],
      ['', null],
      ['NA', null],
      ['N/A', null],
      ['NaN', null],
      ['null', null],
      ['None', null],
    ] as const) {
      expect(typeCell(cell, num), cell).toEqual({ value });
    }
    expect(typeCell('3.0', { type: 'integer', nullable: false })).toEqual({ value: 3 });
    expect(typeCell(' yes ', { type: 'boolean', nullable: false })).toEqual({ value: true });
    expect(typeCell(' pro ', { type: 'category', values: ['pro'], nullable: false })).toEqual({ value: 'pro' });
    expect(typeCell(' free text ', { type: 'string', nullable: false })).toEqual({ value: ' free text ' });
  });
  it('refuses what a client could not send as that type, saying why', () => {
    expect(typeCell('1,234.5', num)).toEqual({ error: 'must be a number, got "1,234.5" (thousands separators are not read: write it without them)' });
    expect(typeCell('$12', num)).toEqual({ error: 'must be a number, got "$12"' });
    expect(typeCell('inf', num)).toEqual({ error: 'must be a number, got "inf"' });
    expect(typeCell('3.5', { type: 'integer', nullable: false })).toEqual({ error: 'must be an integer, got "3.5"' });
    expect(typeCell('NA', { type: 'number', nullable: false })).toEqual({
      error: 'is "NA" (missing), and the field is not nullable: add "nullable: true" to its schema or fill the cell',
    });
  });
  it('types whole rows from the CSV parser (quotes are syntax)', () => {
    const [columns, ...rows] = parseCsv('a,b\n"29.85",x\n" ",y\n');
    const typed = typeRows({ columns: columns!, rows }, { a: num, b: { type: 'string', nullable: false } });
    expect(typed.records).toEqual([
      { a: 29.85, b: 'x' },
      { a: null, b: 'y' },
    ]);
    expect(typed.problems).toEqual([]);
  });
});
