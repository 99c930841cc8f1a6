/**
 * The published package works: the bundle packed with `npm pack`, the tarball installed into an empty
 * folder (offline: the package has no dependencies to fetch), and that install — not this checkout —
 * driven as a user drives it: `npx mlship` (node_modules/.bin/mlship) runs init → validate → build →
 * push → deploy → predict → status → stop on the local target, and build → push → deploy → status
 * against each cloud's doubles (the same ones `npm run fake -- <cloud>` starts).
 *
 * What the tests of the source tree cannot show and this one does: every file the code reads at run
 * time (templates, the serving runtime, JSON descriptors, workers) is in the package, the bundled
 * SDKs work when bundled, and `--help` still loads no cloud SDK.
 */
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/targets/local/processes.js';
import { cachedBuild } from '../helpers/build-cache.js';
import { copyExample, json, python, repoRoot, runCli, tempDir, type RunResult } from '../helpers/cli.js';
import { churnRecord, postJson } from '../helpers/http.js';
import { writeLog } from '../monitoring/drift/logs.js';
import { addTargetBlock, CLOUD_DOUBLES, installTarball, packPackage, type Installed, type Packed } from '../helpers/package.js';

let work: { dir: string; cleanup: () => void };
let packed: Packed;
let installed: Installed;
const cleanups: (() => unknown)[] = [];

beforeAll(() => {
  work = tempDir('mlship-package-');
  packed = packPackage(work.dir);
  installed = installTarball(packed.tarball, path.join(work.dir, 'app'), { offline: true });
}, 300_000);

afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  work?.cleanup();
});

/** The installed mlship, in `cwd`. */
const mlship = (cwd: string, env: NodeJS.ProcessEnv, ...args: string[]): Promise<RunResult> =>
  runCli(args, { bin: installed.bin, cwd, env: { MLSHIP_PYTHON: python, ...env }, timeoutMs: 300_000 });

function ok(r: RunResult): RunResult {
  expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
  return r;
}

describe('the packed package', () => {
  it('holds the bundle and what the code reads at run time, nothing else, and installs as one package', () => {
    const top = new Set(packed.files.map((f) => f.split('/')[0]));
    expect([...top].sort()).toEqual(['README.md', 'THIRD_PARTY_NOTICES', 'bin', 'dist', 'package.json', 'python', 'templates']);
    expect(packed.files.filter((f) => /\.(map|d\.ts|ts)$/.test(f) || f.includes('__pycache__'))).toEqual([]);
    expect(packed.files.filter((f) => f.startsWith('dist/') && !f.startsWith('dist/bundle/'))).toEqual(['dist/mlship.schema.json']);
    expect(packed.files).toEqual(expect.arrayContaining(['bin/mlship', 'dist/bundle/main.js', 'dist/bundle/parse-worker.js', 'dist/bundle/router-main.js']));
    expect(packed.files).toContain('python/mlship_serving/app.py');
    expect(packed.files).toContain('templates/docker/Dockerfile.hbs');
    // No dependencies: the installed tree is mlship alone.
    expect(readdirSync(path.join(installed.dir, 'node_modules')).filter((d) => d !== '.bin' && !d.startsWith('.'))).toEqual(['mlship']);
    // The notices name the bundled SDKs with their licences.
    const notices = readFileSync(path.join(installed.dir, 'node_modules', 'mlship', 'THIRD_PARTY_NOTICES'), 'utf8');
    for (const pkg of ['@aws-sdk/client-sagemaker@', '@google-cloud/aiplatform@', '@azure/identity@', 'vega-lite@', 'commander@'])
      expect(notices).toContain(pkg);
  });

  it('`npx mlship --help` and `validate` load no cloud SDK, prompt library or spinner', async () => {
    // Which packages went into which bundle file (scripts/bundle.mjs writes it beside the bundle).
    const meta = JSON.parse(readFileSync(path.join(repoRoot, 'dist', 'bundle-meta.json'), 'utf8')) as { outputs: Record<string, { packages: string[] }> };
    const heavy = /^(@aws-sdk|@smithy|@google-cloud|google-gax|@grpc|@azure|@inquirer|ora|vega|vega-lite|autocannon|handlebars)(\/|$)/;
    // `--help` also parses no manifest: no YAML parser, no validator (validate runs Ajv's precompiled code).
    const notForHelp = /^(yaml|ajv)$/;
    const project = copyExample();
    cleanups.push(project.cleanup);
    for (const args of [['--help'], ['validate']]) {
      const log = path.join(work.dir, `imports-${args[0]}.log`);
      const hook = path.join(repoRoot, 'test', 'helpers', 'record-imports.mjs');
      ok(await mlship(project.dir, { NODE_OPTIONS: `--import=${hook}`, MLSHIP_IMPORT_LOG: log }, ...args));
      const files = readFileSync(log, 'utf8')
        .trim()
        .split('\n')
        .filter((u) => u.includes('/node_modules/mlship/'));
      expect(files.some((u) => u.endsWith('/dist/bundle/main.js'))).toBe(true);
      // Everything mlship loads comes from the bundle: no other package is resolved.
      expect(
        readFileSync(log, 'utf8')
          .split('\n')
          .filter((u) => u.includes('/node_modules/') && !u.includes('/node_modules/mlship/')),
      ).toEqual([]);
      const loaded = files.filter((u) => u.includes('/dist/bundle/')).map((u) => path.basename(u));
      const offending = loaded.flatMap((f) =>
        (meta.outputs[f]?.packages ?? [`${f}: not in bundle-meta.json`]).filter(
          (p) => heavy.test(p) || p.includes(':') || (args[0] === '--help' && notForHelp.test(p)),
        ),
      );
      expect(offending, `${args[0]} loaded ${loaded.join(', ')}`).toEqual([]);
    }
  }, 120_000);

  it('on the local target: init → validate → build → push → deploy → predict → status → stop', async () => {
    // A user's folder: training data and a trained model; init writes the manifest, features and
    // train.py; the example's own features and train.py then replace the scaffolds (the model was
    // trained with them), as a user fills in what init scaffolded.
    const example = copyExample();
    cleanups.push(example.cleanup);
    const { dir, cleanup } = tempDir('mlship-package-local-');
    cleanups.push(cleanup);
    for (const f of ['data', 'model']) cpSync(path.join(example.dir, f), path.join(dir, f), { recursive: true });
    const init = ok(
      await mlship(dir, {}, 'init', '--yes', '--name', 'churn', '--model', 'model/model.joblib', '--baseline', 'data/train.csv', '--label', 'churned'),
    );
    expect(init.stdout + init.stderr).toContain('mlship.yaml');
    writeFileSync(path.join(dir, 'features', '__init__.py'), readFileSync(path.join(example.dir, 'features', '__init__.py')));
    writeFileSync(path.join(dir, 'train.py'), readFileSync(path.join(example.dir, 'train.py')));

    ok(await mlship(dir, {}, 'validate'));
    ok(await mlship(dir, {}, 'build', '--no-image'));
    expect(json(ok(await mlship(dir, {}, 'push', '--json')))).toMatchObject({ version: { version: 'v1' }, created: true });
    const port = await freePort();
    cleanups.push(() => mlship(dir, {}, 'stop'));
    const deployed = json<{ live: { version: string; url: string } }>(ok(await mlship(dir, {}, 'deploy', '--json', '--port', String(port))));
    expect(deployed.live.version).toBe('v1');
    const answer = await postJson(`http://127.0.0.1:${port}/predict`, churnRecord);
    expect(answer.status, answer.body).toBe(200);
    expect(JSON.parse(answer.body)).toHaveProperty('prediction');
    expect(json(ok(await mlship(dir, {}, 'status', '--json')))).toMatchObject({ live: { version: 'v1', healthy: true } });
    expect(json(ok(await mlship(dir, {}, 'stop', '--json')))).toEqual({ stopped: true, version: 'v1' });
  }, 600_000);

  it('drift-check writes the HTML report (Vega in the bundle) and parses in worker threads (the bundled parse-worker.js)', async () => {
    const project = copyExample();
    cleanups.push(project.cleanup);
    const manifest = path.join(project.dir, 'mlship.yaml');
    writeFileSync(manifest, readFileSync(manifest, 'utf8').replace('on_drift: true', 'on_drift: false'));
    // Many 2 048-line parse batches, so the worker thread gets some.
    writeLog(path.join(project.dir, 'logs'), { rows: 10_000, seed: 5, shiftCharges: 20, enterpriseShare: 0.45 });
    const r = await mlship(
      project.dir,
      { MLSHIP_DRIFT_WORKERS: '1' },
      'drift-check',
      '--logs',
      'logs',
      '--baseline',
      'data/train.csv',
      '--report',
      'drift.html',
      '--json',
    );
    expect([0, 3], r.stderr).toContain(r.code);
    expect(json<{ report: string }>(r).report).toBe(path.join(project.dir, 'drift.html'));
    const html = readFileSync(path.join(project.dir, 'drift.html'), 'utf8');
    expect(html.match(/<svg/g)?.length ?? 0).toBeGreaterThanOrEqual(5);
  }, 300_000);

  for (const [cloud, start] of Object.entries(CLOUD_DOUBLES)) {
    it(`on ${cloud}'s doubles: build → push → deploy → status`, async () => {
      const project = copyExample();
      cleanups.push(project.cleanup);
      const doubles = await start(project.dir);
      cleanups.push(doubles.stop);
      addTargetBlock(path.join(project.dir, 'mlship.yaml'), cloud, doubles.block);
      const run = (...args: string[]) => mlship(project.dir, doubles.env, ...args, '--target', cloud, '--json');

      // The installed package's own full build (parity, calibration) is the local test's; here its
      // build finds the folder of these inputs (helpers/build-cache.ts) and goes on to the cloud.
      const build = json<{ id?: string; build?: { id: string } }>(ok(await cachedBuild(project.dir, () => run('build', '--no-image'))));
      const id = build.build?.id ?? build.id!;
      expect(json(ok(await run('push', '--image', doubles.image(id))))).toMatchObject({ version: { version: 'v1' }, created: true });
      expect(json(ok(await run('deploy')))).toMatchObject({ live: { version: 'v1' } });
      const status = json<{ target: string; live: { version: string } }>(ok(await run('status')));
      expect(status).toMatchObject({ target: cloud, live: { version: 'v1' } });
      await doubles.stop();
      cleanups.splice(cleanups.indexOf(doubles.stop), 1);
    }, 600_000);
  }
});
