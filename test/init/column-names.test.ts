/**
 * Column names real data has (issue 17, item 8): spaces, hyphens, parentheses — and hostile ones:
 * quotes, backslashes, `{{`, `"""`, code. `init` takes any name that is a plain JSON string (no
 * control characters) and every generated file carries it as a quoted literal: the manifest reads
 * back the same names, the Python files parse and hold them as data, and the build's parity check
 * runs the real app on them. A line break in a name is refused, naming the column.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { render } from '../../src/packaging/render.js';
import { loadManifestFile } from '../../src/manifest/load.js';
import { json, python, runCli, tempDir } from '../helpers/cli.js';

const env = { MLSHIP_PYTHON: python };
const NAMES = ['Monthly Charges', 'customer-id', 'age (years)', 'it\'s "quoted"', 'back\\slash', '{{name}}', '"""doc"""', 'plan"] = 1; import os; x = ["'];
const LABEL = 'Churn Label';

/** RFC 4180 quoting for the header. */
const csvCell = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

let project: { dir: string; cleanup: () => void };

beforeAll(async () => {
  project = tempDir('mlship-names-');
  mkdirSync(path.join(project.dir, 'data'));
  mkdirSync(path.join(project.dir, 'model'));
  const lines = [[...NAMES, LABEL].map(csvCell).join(',')];
  for (let i = 0; i < 120; i++) {
    lines.push(
      [20 + ((i * 7) % 80), i % 10, 18 + (i % 60), i % 2 ? 'a' : 'b', ((i * 13) % 100) / 100, i % 3 ? 'x' : 'y', i % 6, (i * 5) % 9, i % 3 === 0 ? 1 : 0].join(
        ',',
      ),
    );
  }
  writeFileSync(path.join(project.dir, 'data', 'train.csv'), `${lines.join('\n')}\n`);
  const init = await runCli(['init', '--yes', '--baseline', 'data/train.csv', '--model', 'model/model.joblib', '--name', 'names', '--label', LABEL], {
    cwd: project.dir,
    env,
  });
  expect(init.code, init.stderr).toBe(0);
  const train = spawnSync(python, ['train.py'], { cwd: project.dir, encoding: 'utf8' });
  expect(train.status, train.stderr).toBe(0);
}, 180_000);
afterAll(() => project.cleanup());

describe('column names as data', () => {
  it('init writes a manifest that reads back the exact names', () => {
    const manifest = loadManifestFile(path.join(project.dir, 'mlship.yaml'));
    expect(Object.keys(manifest.features.schema)).toEqual(NAMES);
    expect(manifest.features.label).toBe(LABEL);
  });

  it('the generated Python holds the names as literals, and nothing in them runs', () => {
    const probe = [
      'import ast, json, sys',
      'sys.path.insert(0, ".")',
      'import features',
      'tree = ast.parse(open("train.py").read())',
      'label = [n.value.value for n in tree.body if isinstance(n, ast.Assign) and n.targets[0].id == "LABEL"][0]',
      'print(json.dumps({"schema": list(features.SCHEMA), "label": label, "os": "os" in dir(features)}))',
    ].join('\n');
    const r = spawnSync(python, ['-c', probe], { cwd: project.dir, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ schema: NAMES, label: LABEL, os: false });
  });

  it('the serving app carries the names as data (FIELDS and the warm-up record)', () => {
    const manifest = loadManifestFile(path.join(project.dir, 'mlship.yaml'));
    const serve = render(manifest, { file: 'model.joblib', sha256: '0'.repeat(64), bytes: 1 }, { mlshipVersion: '0' }).find(
      (f) => f.path === 'serve.py',
    )!.content;
    // The generated file's SPEC: Field(name, …) per field and the warm-up record, all literals.
    const probe = [
      'import ast, json, sys',
      'spec = [n.value for n in ast.parse(sys.stdin.read()).body if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "SPEC"][0]',
      'kw = {k.arg: k.value for k in spec.keywords}',
      'print(json.dumps([ast.literal_eval(f.args[0]) for f in kw["fields"].elts]))',
      'print(json.dumps(list(ast.literal_eval(kw["warm_record"]))))',
    ].join('\n');
    const r = spawnSync(python, ['-c', probe], { input: serve, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as string[]),
    ).toEqual([NAMES, NAMES]);
  });

  it('trains and builds: the parity check runs the real app on those names', { timeout: 300_000 }, async () => {
    const r = await runCli(['build', '--no-image', '--json'], { cwd: project.dir, env, timeoutMs: 280_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(json<{ build: { parity: { ok: boolean; compared: number } } }>(r).build.parity).toMatchObject({ ok: true, compared: 120 });
  });

  it('refuses a name with a line break, naming the column (exit 2)', async () => {
    const bad = tempDir('mlship-names-bad-');
    try {
      mkdirSync(path.join(bad.dir, 'data'));
      writeFileSync(path.join(bad.dir, 'data', 'train.csv'), '"a\nb",churned\n1,0\n2,1\n');
      const r = await runCli(['init', '--yes', '--baseline', 'data/train.csv', '--model', 'model.joblib', '--name', 'bad', '--label', 'churned'], {
        cwd: bad.dir,
        env,
      });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('column name "a\\nb" in data/train.csv cannot be a request field');
      expect(r.stderr).not.toMatch(/\n\s+at /);
    } finally {
      bad.cleanup();
    }
  });
});
