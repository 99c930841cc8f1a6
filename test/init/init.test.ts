/**
 * `mlship init` as a user runs it: spawned, with flags and `--yes`, without a terminal, and through
 * a real pseudo-terminal answering the prompts. The example's committed files are the golden output.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { copyExample, exampleDir, json, mlshipBin, python, repoRoot, runCli, tempDir } from '../helpers/cli.js';

const GOLDEN = ['mlship.yaml', 'features/__init__.py', 'train.py', '.github/workflows/mlship.yml', '.gitignore'];
const EXAMPLE_ARGS = [
  'init',
  '--yes',
  '--notebook',
  'churn.ipynb',
  '--baseline',
  'data/train.csv',
  '--model',
  'model/model.joblib',
  '--name',
  'churn',
  '--label',
  'churned',
];

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()!();
});

/** A copy of the example without the files init writes. */
function bareExample(): string {
  const { dir, cleanup } = copyExample();
  cleanups.push(cleanup);
  for (const f of GOLDEN) rmSync(path.join(dir, f), { force: true });
  rmSync(path.join(dir, 'features'), { recursive: true, force: true });
  rmSync(path.join(dir, '.github'), { recursive: true, force: true });
  return dir;
}

function temp(): string {
  const { dir, cleanup } = tempDir('mlship-init-');
  cleanups.push(cleanup);
  return dir;
}

function py(script: string, cwd: string): string {
  return execFileSync(python, ['-c', script], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

describe('init --yes on the example', () => {
  it('reproduces the committed example files byte for byte', async () => {
    const dir = bareExample();
    const r = await runCli(EXAMPLE_ARGS, { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const f of GOLDEN) {
      expect(readFileSync(path.join(dir, f), 'utf8'), f).toBe(readFileSync(path.join(exampleDir, f), 'utf8'));
    }
    expect(r.stdout).toContain('created     mlship.yaml');
    const v = await runCli(['validate'], { cwd: dir });
    expect(v.code).toBe(0);
    expect(v.stdout).toBe('ok  mlship.yaml: churn (sklearn, 5 fields, target local)\n');
  });

  it('prints one JSON document with --json', async () => {
    const dir = bareExample();
    const r = await runCli([...EXAMPLE_ARGS, '--json'], { cwd: dir });
    expect(r.code).toBe(0);
    const doc = json(r);
    expect(doc).toMatchObject({
      ok: true,
      dir: '.',
      name: 'churn',
      model: { path: 'model/model.joblib', flavor: 'sklearn', exists: true },
      target: 'local',
      baseline: 'data/train.csv',
      label: 'churned',
      task: 'binary',
      fields: 5,
      notebook: { file: 'churn.ipynb', features: 1, train: 1 },
      warnings: [],
    });
    expect((doc.files as { path: string; action: string }[]).map((f) => `${f.action} ${f.path}`)).toEqual(GOLDEN.map((f) => `created ${f}`));
  });

  it('lifts a features package whose transform equals the notebook code on the example data', async () => {
    const dir = bareExample();
    expect((await runCli(EXAMPLE_ARGS, { cwd: dir })).code).toBe(0);
    // Run the notebook's own cells (up to the one that applies transform) in one namespace, then the
    // lifted package on the same data, and compare the frames exactly.
    const out = py(
      `
import json, pandas as pd
nb = json.load(open("churn.ipynb"))
ns = {}
for cell in nb["cells"]:
    if cell["cell_type"] != "code":
        continue
    src = "".join(cell["source"])
    exec(compile(src, "churn.ipynb", "exec"), ns)
    if "X" in ns:
        break
import features
df = pd.read_csv("data/train.csv")
lifted = features.transform(df.drop(columns=["churned"]))
pd.testing.assert_frame_equal(lifted, ns["X"], check_exact=True)
print(len(lifted), list(lifted.columns))
`,
      dir,
    );
    expect(out.trim()).toBe(
      "3000 ['tenure_months', 'monthly_charges', 'charges_per_tenure', 'log_support_calls', 'is_new_customer', 'plan', 'payment_method']",
    );
    // The lifted train.py trains with the shared package and writes the model.
    rmSync(path.join(dir, 'model'), { recursive: true, force: true });
    execFileSync(python, ['train.py', '--model', 'model/model.joblib'], { cwd: dir, stdio: 'pipe' });
    expect(existsSync(path.join(dir, 'model', 'model.joblib'))).toBe(true);
  });

  it('never overwrites without --force, names the files and exits 2', async () => {
    const dir = bareExample();
    writeFileSync(path.join(dir, 'train.py'), '# mine\n');
    const r = await runCli([...EXAMPLE_ARGS, '--json'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(json(r)).toEqual({
      error: {
        code: 'files_exist',
        message: 'a file init would write already exists: train.py',
        exitCode: 2,
        hint: 'Pass --force to overwrite them, or run init in another folder.',
        files: ['train.py'],
      },
    });
    expect(readFileSync(path.join(dir, 'train.py'), 'utf8')).toBe('# mine\n');
    expect(existsSync(path.join(dir, 'mlship.yaml'))).toBe(false);

    const forced = await runCli([...EXAMPLE_ARGS, '--force', '--json'], { cwd: dir });
    expect(forced.code).toBe(0);
    const actions = Object.fromEntries((json(forced).files as { path: string; action: string }[]).map((f) => [f.path, f.action]));
    expect(actions).toEqual({
      'mlship.yaml': 'created',
      'features/__init__.py': 'created',
      'train.py': 'overwritten',
      '.github/workflows/mlship.yml': 'created',
      '.gitignore': 'created',
    });

    const again = await runCli(EXAMPLE_ARGS, { cwd: dir });
    expect(again.code).toBe(2);
    expect(again.stdout).toBe('');
    expect(again.stderr).toContain('files init would write already exist: mlship.yaml, features/__init__.py, train.py, .github/workflows/mlship.yml');
  });

  it('appends .mlship/ to an existing .gitignore once', async () => {
    const dir = bareExample();
    writeFileSync(path.join(dir, '.gitignore'), 'node_modules/\n*.log');
    expect((await runCli(EXAMPLE_ARGS, { cwd: dir })).code).toBe(0);
    expect(readFileSync(path.join(dir, '.gitignore'), 'utf8')).toBe('node_modules/\n*.log\n.mlship/\n');
    const r = await runCli([...EXAMPLE_ARGS, '--force', '--json'], { cwd: dir });
    expect((json(r).files as { path: string; action: string }[]).at(-1)).toEqual({ path: '.gitignore', action: 'unchanged' });
    expect(readFileSync(path.join(dir, '.gitignore'), 'utf8')).toBe('node_modules/\n*.log\n.mlship/\n');
  });
});

describe('init without a notebook', () => {
  it('writes a generic features package and train.py that train a model mlship validates', async () => {
    const dir = temp();
    mkdirSync(path.join(dir, 'data'));
    copyFileSync(path.join(exampleDir, 'data', 'train.csv'), path.join(dir, 'data', 'train.csv'));
    // Defaults come from the folder: its name, the one CSV, the label column named like a label.
    const ok = await runCli(['init', '--yes', '--json'], { cwd: dir });
    expect(ok.code).toBe(0);
    const doc = json(ok);
    expect(doc).toMatchObject({
      baseline: 'data/train.csv',
      label: 'churned',
      model: { path: 'model/model.joblib', exists: false },
      task: 'binary',
      fields: 5,
    });
    expect(doc.warnings).toEqual(['model/model.joblib does not exist yet: run `python train.py` to train it before `mlship build`']);
    expect(ok.stderr).toContain('warning model/model.joblib does not exist yet');
    const features = readFileSync(path.join(dir, 'features', '__init__.py'), 'utf8');
    expect(features).toContain('Written by `mlship init`');
    expect(features).toContain('    "plan": {"type": "category", "values": ["basic", "enterprise", "pro"]},');

    const trained = execFileSync(python, ['train.py'], { cwd: dir, encoding: 'utf8' });
    expect(trained).toMatch(/^trained on 2400 rows: holdout auc=0\.\d{4} accuracy=0\.\d{4}\n$/);
    const v = await runCli(['validate', '--json'], { cwd: dir });
    expect(v.code).toBe(0);
    expect(json(v)).toMatchObject({ ok: true, fields: 5, flavor: 'sklearn', target: 'local' });
    // The generic transform keeps the schema's fields, typed.
    const typed =
      'import pandas as pd, features; X = features.transform(pd.read_csv("data/train.csv")); print({c: pd.api.types.is_float_dtype(t) for c, t in X.dtypes.items()})';
    expect(py(typed, dir).trim()).toBe("{'tenure_months': True, 'monthly_charges': True, 'support_calls': True, 'plan': False, 'payment_method': False}");
  });

  it('regresses a numeric label, with nullable, boolean and free-text columns', async () => {
    const dir = temp();
    const rows = ['size_m2,rooms,garden,street,district,price'];
    for (let i = 0; i < 200; i++) {
      rows.push(
        `${40 + (i % 80) * 1.5},${1 + (i % 5)},${i % 3 === 0 ? 'true' : 'false'},street ${i},${['north', 'south', 'on', '1st'][i % 4]},${(1000 + i * 37.25).toFixed(2)}`,
      );
    }
    rows[5] = '55,,false,street x,north,1234.5';
    writeFileSync(path.join(dir, 'houses.csv'), `${rows.join('\n')}\n`);
    const r = await runCli(['init', '--yes', '--name', 'houses', '--label', 'price', '--model', 'price.joblib', '--target', 'sagemaker'], { cwd: dir });
    expect(r.code).toBe(0);
    const manifest = readFileSync(path.join(dir, 'mlship.yaml'), 'utf8');
    expect(manifest).toContain(
      [
        '  schema:',
        '    size_m2: { type: number, min: 40, max: 158.5 }',
        '    rooms: { type: integer, min: 1, max: 5, nullable: true }',
        '    garden: { type: boolean }',
        '    street: { type: string }',
        '    district: { type: category, values: ["1st", north, "on", south] }',
        '  baseline: houses.csv',
        '  label: price',
        'target: sagemaker',
        'targets:',
        '  sagemaker:',
        '    region: us-east-1',
      ].join('\n'),
    );
    expect(manifest).toContain('  output: value\n');
    expect(manifest).toContain('  data: "*.csv"\n');
    expect(manifest).toContain('  gate: { metric: rmse, min_delta: 0.0 }\n');
    const workflow = readFileSync(path.join(dir, '.github', 'workflows', 'mlship.yml'), 'utf8');
    expect(workflow).toContain('role-to-assume: ${{ secrets.AWS_ROLE_ARN }}');
    expect(workflow).toContain('  id-token: write');
    const trained = execFileSync(python, ['train.py'], { cwd: dir, encoding: 'utf8' });
    expect(trained).toMatch(/^trained on 160 rows: holdout rmse=[\d.]+ r2=/);
    const v = await runCli(['validate', '--target', 'local'], { cwd: dir });
    expect(v.stderr).toBe('');
    expect(v.code).toBe(0);
  });
});

describe('init without a terminal', () => {
  it('fails naming the flag when an answer has no default, and exits 2', async () => {
    const dir = temp();
    const r = await runCli(['init'], { cwd: dir, env: { CI: undefined } });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      'error Baseline data (CSV sample of the training data), relative to the project folder: no answer without a terminal to ask on.\nhint  Pass --baseline.\n',
    );
    const j = await runCli(['init', '--yes', '--json'], { cwd: dir });
    expect(j.code).toBe(2);
    expect(json(j)).toEqual({
      error: {
        code: 'missing_answer',
        message: 'Baseline data (CSV sample of the training data), relative to the project folder: no answer with --yes.',
        exitCode: 2,
        hint: 'Pass --baseline.',
        flag: '--baseline',
      },
    });
  });

  it('asks for the label flag when no column reads like one', async () => {
    const dir = temp();
    writeFileSync(path.join(dir, 'data.csv'), 'a,b\n1,x\n2,y\n');
    const r = await runCli(['init', '--json'], { cwd: dir, env: { CI: 'true' } });
    expect(r.code).toBe(2);
    expect(json(r)).toMatchObject({ error: { code: 'missing_answer', flag: '--label' } });
  });

  it('rejects hostile or invalid flag values before writing anything', async () => {
    const dir = bareExample();
    const cases: [string[], string][] = [
      [['--name', '$(touch pwned)'], 'error --name "$(touch pwned)" is not a valid project name'],
      [['--name', 'a"b\nc'], 'error --name "a\\"b\\nc" is not a valid project name'],
      [['--model', '../outside.joblib'], 'error --model "../outside.joblib" is outside the project folder'],
      [['--model', 'model/it\'s "$(x)".joblib'], 'error --model "model/it\'s \\"$(x)\\".joblib" is not a path mlship can use'],
      [['--flavor', 'sklearnn'], 'error --flavor "sklearnn" is not one of: sklearn, xgboost, lightgbm, onnx, pytorch, transformers, llm'],
      [['--label', 'nope'], 'error the label column "nope" is not in data/train.csv'],
      [['--notebook', 'missing.ipynb'], 'error notebook not found: missing.ipynb'],
    ];
    for (const [flags, message] of cases) {
      const args = [...EXAMPLE_ARGS];
      for (let i = 0; i < flags.length; i += 2) {
        const at = args.indexOf(flags[i]!);
        if (at >= 0) args.splice(at, 2);
        args.push(flags[i]!, flags[i + 1]!);
      }
      const r = await runCli(args, { cwd: dir });
      expect(r.code, flags.join(' ')).toBe(2);
      expect(r.stderr.split('\n')[0]).toContain(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(existsSync(path.join(dir, 'mlship.yaml'))).toBe(false);
    }
    expect(existsSync(path.join(dir, 'pwned'))).toBe(false);
  });

  it('writes next to -f …/mlship.yaml, and refuses another manifest name', async () => {
    const dir = temp();
    mkdirSync(path.join(dir, 'proj'));
    writeFileSync(path.join(dir, 'proj', 'train.csv'), 'x,label\n1,0\n2,1\n');
    const r = await runCli(['init', '--yes', '-f', 'proj/mlship.yaml', '--json'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(json(r)).toMatchObject({ dir: 'proj', name: 'proj', baseline: 'train.csv', label: 'label' });
    expect(existsSync(path.join(dir, 'proj', 'mlship.yaml'))).toBe(true);
    const other = await runCli(['init', '--yes', '-f', 'ml.yaml', '--json'], { cwd: dir });
    expect(other.code).toBe(2);
    expect(json(other)).toMatchObject({ error: { code: 'invalid_option', message: 'init writes mlship.yaml, not ml.yaml' } });
  });

  it('rejects a baseline whose column names cannot be fields (a control character; spaces are fine)', async () => {
    const dir = temp();
    writeFileSync(path.join(dir, 'data.csv'), 'ok,"fine name","bad\tname",label\n1,2,3,0\n');
    const r = await runCli(['init', '--yes'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error column name "bad\\tname" in data.csv cannot be a request field');
  });
});

/** Run the CLI in a pseudo-terminal through test/helpers/pty-driver.py. */
function inPty(dir: string, steps: [string, string][], args: string[], env: NodeJS.ProcessEnv): { code: number; output: string; error?: string } {
  const out = execFileSync(python, [path.join(repoRoot, 'test', 'helpers', 'pty-driver.py'), JSON.stringify(steps), process.execPath, mlshipBin, ...args], {
    cwd: dir,
    env,
    encoding: 'utf8',
  });
  return JSON.parse(out) as { code: number; output: string; error?: string };
}

describe('init on a terminal', () => {
  it('does not prompt on a terminal when CI is set: the missing answer names its flag', () => {
    const dir = temp();
    const result = inPty(dir, [], ['init'], { ...process.env, TERM: 'xterm-256color', NO_COLOR: '1', CI: 'true' });
    expect(result.code).toBe(2);
    expect(result.output).not.toContain('?');
    expect(result.output).toContain('no answer in CI (CI is set, so nothing prompts).');
    expect(result.output).toContain('hint  Pass --baseline.');
  });

  it('asks each question through a real pseudo-terminal and writes what was answered', () => {
    const dir = bareExample();
    rmSync(path.join(dir, 'model'), { recursive: true, force: true });
    mkdirSync(path.join(dir, 'models'));
    writeFileSync(path.join(dir, 'models', 'a.joblib'), 'x');
    writeFileSync(path.join(dir, 'models', 'b.onnx'), 'x');
    const down = '\u001b[B';
    const steps = [
      ['Project name', 'churn-pty\r'],
      ['Model file', `${down}\r`], // models/b.onnx
      ['Model flavor', '\r'], // default follows the extension: onnx
      ['Where to deploy', `${down}${down}\r`], // vertex
      ['Baseline data', '\r'],
      ['Label column', '\r'], // detected: churned
      ['Lift the marked cells', '\r'], // churn.ipynb
    ];
    const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm-256color', NO_COLOR: '1' };
    delete env.CI;
    const result = inPty(dir, steps as [string, string][], ['init'], env);
    expect(result.error, result.output).toBeUndefined();
    expect(result.code, result.output).toBe(0);
    expect(result.output).toContain('✔ Model file models/b.onnx');
    expect(result.output).toContain('churn-pty: 5 request fields from data/train.csv (label churned, binary), onnx model, target vertex');
    const manifest = readFileSync(path.join(dir, 'mlship.yaml'), 'utf8');
    expect(manifest).toContain('name: churn-pty\nmodel:\n  path: models/b.onnx\n  flavor: onnx\n');
    expect(manifest).toContain('target: vertex\ntargets:\n  vertex:\n    region: us-central1\n');
    const golden = readFileSync(path.join(exampleDir, 'features', '__init__.py'), 'utf8').replace('transforms of churn:', 'transforms of churn-pty:');
    expect(readFileSync(path.join(dir, 'features', '__init__.py'), 'utf8')).toBe(golden);
  });
});

describe('init --help', () => {
  it('documents the label names init recognises', async () => {
    const { LABEL_NAMES } = await import('../../src/init/infer-schema.js');
    const r = await runCli(['init', '--help']);
    const help = r.stdout.replace(/\s+/g, ' ');
    for (const n of LABEL_NAMES) expect(help).toMatch(new RegExp(`[ ,]${n}[ ,)]`));
  });
});
