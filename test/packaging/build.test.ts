/**
 * `mlship build` as a user runs it, on private copies of the example: the build folder and its
 * build.json contract, reuse, the parity check failing on a skewed features package (exit 3), the
 * image step with a Docker that answers, one that does not and none at all, and `mlship serve`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentBuild } from '../../src/packaging/index.js';
import { loadManifestFile } from '../../src/manifest/load.js';
import { copyExample, json, mlshipBin, python, runCli, tempDir } from '../helpers/cli.js';
import { freePort, goodRecord, logLines, postJson } from '../serving/app-helpers.js';

const env = { MLSHIP_PYTHON: python };
let project: { dir: string; cleanup: () => void };
let first: Record<string, any>;

beforeAll(async () => {
  project = copyExample();
  const r = await runCli(['build', '--no-image', '--json'], { cwd: project.dir, env, timeoutMs: 170_000 });
  expect(r.code, r.stderr).toBe(0);
  first = json(r);
});

afterAll(() => project?.cleanup());

describe('mlship build', () => {
  it('writes the build folder with build.json, baseline.json, the app, the features package and the model', () => {
    const dir = first.dir as string;
    expect(dir).toBe(path.join(project.dir, '.mlship', 'build', first.id));
    expect(first.reused).toBe(false);
    for (const f of [
      'build.json',
      'baseline.json',
      'Dockerfile',
      '.dockerignore',
      'requirements.txt',
      'serve.py',
      'features/__init__.py',
      'model/model.joblib',
    ]) {
      expect(existsSync(path.join(dir, f)), f).toBe(true);
    }
    const info = JSON.parse(readFileSync(path.join(dir, 'build.json'), 'utf8'));
    expect(info).toMatchObject({ id: first.id, name: 'churn', mlshipVersion: expect.any(String), model: { file: 'model/model.joblib', flavor: 'sklearn' } });
    expect(Date.parse(info.createdAt)).not.toBeNaN();
    expect(info.model.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(info.model.bytes).toBeGreaterThan(0);
    expect(Object.keys(info.inputs).sort()).toEqual(['data/train.csv', 'features/__init__.py', 'model/model.joblib']);
    expect(info.inputs['model/model.joblib']).toBe(info.model.sha256);
    expect(info.manifest).toMatchObject({
      name: 'churn',
      model: { path: 'model/model.joblib' },
      features: { package: 'features', baseline: 'data/train.csv' },
    });
    expect(JSON.stringify(info.manifest)).not.toContain(project.dir);
    expect(path.isAbsolute(info.runtime.python)).toBe(true);
    expect(info.parity).toMatchObject({ ok: true, rows: 3000, compared: 3000, mismatches: [] });
    expect(info.parity.features).toContain('charges_per_tenure');
    expect(info.image).toBeUndefined();
    expect(first.imageSkipped).toMatch(/--no-image/);

    const baseline = JSON.parse(readFileSync(path.join(dir, 'baseline.json'), 'utf8'));
    expect(baseline).toMatchObject({ format: 1, rows: 3000, source: { path: 'data/train.csv', sha256: info.inputs['data/train.csv'] } });
    expect(Object.keys(baseline.features)).toEqual(['tenure_months', 'monthly_charges', 'support_calls', 'plan', 'payment_method']);
    expect(baseline.features.tenure_months).toMatchObject({ kind: 'numeric', count: 3000, missing: 0 });
    expect(baseline.features.plan.kind).toBe('categorical');
    expect(Object.values(baseline.features.plan.frequencies as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(3000);
    expect(baseline.output).toMatchObject({ kind: 'numeric', count: 3000 });
    expect(baseline.output.min).toBeGreaterThanOrEqual(0);
    expect(baseline.output.max).toBeLessThanOrEqual(1);
  });

  it('compares an even sample of a large baseline record by record, the whole of it on the training path', async () => {
    const out = path.join(project.dir, 'parity-sample.json');
    const r = spawnSync(
      python,
      [
        path.join(first.dir, 'serve.py'),
        'parity',
        '--baseline',
        path.join(project.dir, 'data', 'train.csv'),
        '--label',
        'churned',
        '--tolerance',
        '1e-9',
        '--model',
        path.join(first.dir, 'model', 'model.joblib'),
        '--out',
        out,
        '--max-rows',
        '250',
      ],
      { encoding: 'utf8' },
    );
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(readFileSync(out, 'utf8'));
    expect(report).toMatchObject({ ok: true, rows: 3000, compared: 250 });
    expect(report.outputs).toHaveLength(3000);
  });

  it('reuses the build when nothing changed, and says so', async () => {
    const r = await runCli(['build', '--no-image'], { cwd: project.dir, env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`build ${first.id} reused (inputs unchanged)`);
  });

  it('currentBuild finds the build of the current inputs, and none once an input changes', async () => {
    const manifest = loadManifestFile(path.join(project.dir, 'mlship.yaml'));
    expect(await currentBuild(manifest)).toEqual({ id: first.id, dir: first.dir });
    const changed = { ...manifest, serving: { ...manifest.serving, max_batch: 10 } };
    expect(await currentBuild(changed)).toBeUndefined();
  });

  it('builds and records the image when --image asks and docker answers', async () => {
    const bin = tempDir('mlship-fake-docker-');
    try {
      const calls = path.join(bin.dir, 'calls.log');
      writeFileSync(
        path.join(bin.dir, 'docker'),
        `#!/bin/sh\necho "$@" >> "${calls}"\ncase "$1" in\n  version) echo "Server: 27.0.0"; exit 0;;\n  build) echo "#1 building"; echo "#2 DONE"; exit 0;;\n  image) echo "sha256:${'ab'.repeat(32)} 123456789"; exit 0;;\nesac\nexit 1\n`,
      );
      chmodSync(path.join(bin.dir, 'docker'), 0o755);
      const r = await runCli(['build', '--json', '--image'], { cwd: project.dir, env: { ...env, PATH: `${bin.dir}:${process.env.PATH}` } });
      expect(r.code, r.stderr).toBe(0);
      const doc = json<Record<string, any>>(r);
      expect(doc.reused).toBe(true);
      expect(doc.build.image).toEqual({
        id: `sha256:${'ab'.repeat(32)}`,
        tag: `mlship/churn:${first.id}`,
        platform: 'linux/amd64',
        builder: 'docker',
        bytes: 123456789,
      });
      const log = readFileSync(calls, 'utf8');
      expect(log).toContain(`build --platform linux/amd64 -t mlship/churn:${first.id} --progress=plain ${first.dir}`);
      expect(JSON.parse(readFileSync(path.join(first.dir, 'build.json'), 'utf8')).image.tag).toBe(`mlship/churn:${first.id}`);
    } finally {
      bin.cleanup();
    }
  });

  it('never runs a container tool on the local target; --image without a working builder fails with the reason', async () => {
    const bin = tempDir('mlship-no-docker-');
    try {
      const calls = path.join(bin.dir, 'calls.log');
      writeFileSync(path.join(bin.dir, 'docker'), `#!/bin/sh\necho "$@" >> "${calls}"\necho "Cannot connect to the Docker daemon" >&2\nexit 1\n`);
      chmodSync(path.join(bin.dir, 'docker'), 0o755);
      const local = await runCli(['build'], { cwd: project.dir, env: { ...env, PATH: bin.dir } });
      expect(local.code, local.stderr).toBe(0);
      expect(existsSync(calls), 'the local target must not touch docker').toBe(false);
      const asked = await runCli(['build', '--image'], { cwd: project.dir, env: { ...env, PATH: bin.dir } });
      expect(asked.code, asked.stderr).toBe(1);
      expect(asked.stderr).toContain(
        '--image asks for an image, but no builder works here: docker is installed but does not answer (Cannot connect to the Docker daemon)',
      );
      expect(asked.stderr).not.toMatch(/\n\s+at /);
    } finally {
      bin.cleanup();
    }
  });

  it('says which Python to use when the one it would make the virtualenv from is too old', async () => {
    const other = copyExample();
    try {
      const fake = path.join(other.dir, 'old-python');
      writeFileSync(
        fake,
        `#!/bin/sh\ncase "$2" in *version_info*) echo 3.9; exit 0;; esac\necho "ModuleNotFoundError: No module named 'pandas'" >&2\nexit 1\n`,
      );
      chmodSync(fake, 0o755);
      const r = await runCli(['build', '--no-image'], { cwd: other.dir, env: { MLSHIP_PYTHON: fake } });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`MLSHIP_PYTHON (${fake}) cannot serve the app: ModuleNotFoundError: No module named 'pandas'`);
      expect(r.stderr).toContain(`${fake} is Python 3.9; the serving app's pinned requirements need 3.11 or newer`);
      expect(r.stderr).toContain('Set MLSHIP_PYTHON (or targets.local.python) to a Python 3.11+ interpreter.');
    } finally {
      other.cleanup();
    }
  });

  it('rejects a bad --tolerance with exit 2', async () => {
    const r = await runCli(['build', '--tolerance', 'lots'], { cwd: project.dir, env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--tolerance must be a number');
  });

  it('mlship serve runs the build on localhost and logs to .mlship/logs', { timeout: 300_000 }, async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [mlshipBin, 'serve', '--port', String(port)], {
      cwd: project.dir,
      env: { ...process.env, ...env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      let up = false;
      for (let i = 0; i < 300 && !up; i++) {
        up = await fetch(`http://127.0.0.1:${port}/ping`).then(
          (r) => r.status === 200,
          () => false,
        );
        if (!up) await new Promise((r) => setTimeout(r, 100));
      }
      expect(up, stderr).toBe(true);
      const r = await postJson(`http://127.0.0.1:${port}/predict`, goodRecord);
      expect(r.status).toBe(200);
      const { id } = (await r.json()) as { id: string };
      expect(logLines(path.join(project.dir, '.mlship', 'logs')).map((l) => l.id)).toContain(id);
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    expect(stdout).toBe('');
    expect(stderr).toContain(`serving build ${first.id} on http://127.0.0.1:${port}`);
  });

  it('mlship serve without a build of the current inputs fails with a hint', async () => {
    const other = copyExample();
    try {
      const r = await runCli(['serve'], { cwd: other.dir, env });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('Run `mlship build` first');
    } finally {
      other.cleanup();
    }
  });
});

describe('feature parity', () => {
  it('fails the build with exit 3 and a report when serving computes a feature differently', { timeout: 300_000 }, async () => {
    const skewed = copyExample();
    try {
      const init = path.join(skewed.dir, 'features', '__init__.py');
      // A batch statistic: on the whole frame it divides by the mean, on one record by itself (= 1.0).
      writeFileSync(init, readFileSync(init, 'utf8').replace('out["monthly_charges"] = charges', 'out["monthly_charges"] = charges / charges.mean()'));
      const r = await runCli(['build', '--no-image', '--json'], { cwd: skewed.dir, env, timeoutMs: 170_000 });
      expect(r.code, r.stderr).toBe(3);
      const doc = json<{ error: { code: string; message: string; result: Record<string, any> } }>(r);
      expect(doc.error.code).toBe('parity_mismatch');
      const report = doc.error.result;
      expect(report.ok).toBe(false);
      expect(report.mismatches).toHaveLength(1);
      const m = report.mismatches[0];
      expect(m.feature).toBe('monthly_charges');
      expect(m.rows).toBeGreaterThan(2900);
      expect(m.example.got).toBe(1);
      expect(m.example.input).toMatchObject({ tenure_months: expect.any(Number), plan: expect.any(String) });
      expect(m.example.expected).not.toBe(1);
      expect(doc.error.message).toContain('monthly_charges');
      expect(existsSync(path.join(skewed.dir, '.mlship', 'build'))).toBe(true);
      const leftovers = readdirSync(path.join(skewed.dir, '.mlship', 'build'));
      expect(leftovers).toEqual([]);

      // The same words a terminal shows on stderr.
      expect(doc.error.message).toMatch(/monthly_charges: \d+ rows differ; e\.g\. row \d+ \{/);
      expect(doc.error.message).toMatch(/training [\d.]+ {2}serving 1/);
    } finally {
      skewed.cleanup();
    }
  });

  it('fails when no baseline row passes the request schema (nothing compared is no evidence)', { timeout: 300_000 }, async () => {
    const strict = copyExample();
    try {
      const yaml = path.join(strict.dir, 'mlship.yaml');
      writeFileSync(yaml, readFileSync(yaml, 'utf8').replace('values: [basic, enterprise, pro]', 'values: [gold]'));
      const r = await runCli(['build', '--no-image', '--json'], { cwd: strict.dir, env, timeoutMs: 280_000 });
      expect(r.code, r.stderr).toBe(3);
      const doc = json<{ error: { message: string; result: Record<string, any> } }>(r);
      expect(doc.error.result).toMatchObject({ ok: false, rows: 3000, compared: 0, rejectedRows: 3000 });
      expect(doc.error.message).toContain('none of the 3000 baseline rows passes the request schema');
      expect(doc.error.message).toMatch(/row 0: the record: field 'plan' must be one of gold/);
    } finally {
      strict.cleanup();
    }
  });

  it('passes a small skew within an explicit tolerance', { timeout: 300_000 }, async () => {
    // Two builds: a 400-row baseline keeps their parity checks short.
    const noisy = copyExample({ baselineRows: 400 });
    try {
      const init = path.join(noisy.dir, 'features', '__init__.py');
      // A term that depends on the batch size: 1e-7 for one record, 2.5e-10 for the whole frame.
      writeFileSync(init, readFileSync(init, 'utf8').replace('out["monthly_charges"] = charges', 'out["monthly_charges"] = charges + 1e-7 / len(df)'));
      const strict = await runCli(['build', '--no-image'], { cwd: noisy.dir, env, timeoutMs: 170_000 });
      expect(strict.code).toBe(3);
      const loose = await runCli(['build', '--no-image', '--tolerance', '1e-6'], { cwd: noisy.dir, env, timeoutMs: 170_000 });
      expect(loose.code, loose.stderr).toBe(0);
      expect(loose.stdout).toContain('tolerance 0.000001');
    } finally {
      noisy.cleanup();
    }
  });
});
