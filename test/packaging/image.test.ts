/**
 * The serving image built and run for real, without a Docker daemon: the example's generated context
 * built by `mlship build --image --builder buildah`, then run with `buildah run --isolation
 * chroot` as the image's user three times, with the environment SageMaker, Vertex AI and Azure ML set.
 * Each run: health 200, the same predictions as the local app, a bad record → 4xx, the prediction log
 * written where the image's user may write, SIGTERM → a clean exit within the platforms' grace period.
 *
 * The base is a stand-in for python:3.11-slim made from Debian's packages (Docker Hub is unreachable
 * here; image/stand-in.ts says how it is cached). Skipped, with the reason, only where global-setup
 * could neither find nor install buildah and debootstrap (helpers/image-tools.ts).
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/targets/local/processes.js';
import { packModel } from '../../src/targets/sagemaker/artifact.js';
import { copyExample, json, mlshipBin, python, runCli } from '../helpers/cli.js';
import { churnRecord, postJson } from '../helpers/http.js';
import { startContainer, type Container } from './image/container.js';
import { ensureStandInBase } from './image/stand-in.js';

const skip = process.env.MLSHIP_IMAGE_TEST_SKIP;
if (skip) process.stderr.write(`image test skipped: ${skip}\n`);

/** SageMaker, Vertex AI and Azure ML all give a container 30 s between SIGTERM and SIGKILL. */
const GRACE_MS = 30_000;
const records = [churnRecord, { tenure_months: 3, monthly_charges: 89.5, support_calls: 4, plan: 'basic', payment_method: 'invoice' }];
const badRecord = { ...churnRecord, tenure_months: 'lots' };

interface BuildJson {
  dir: string;
  build: { id: string; model: { file: string }; image?: { id: string; tag: string; builder: string; bytes?: number } };
}

/** Where the time goes (printed at the end: CI has a budget). */
const cost: Record<string, number> = {};
async function timed<T>(label: string, f: () => Promise<T> | T): Promise<T> {
  const started = Date.now();
  try {
    return await f();
  } finally {
    cost[label] = (Date.now() - started) / 1000;
  }
}

async function get(url: string): Promise<number> {
  try {
    return (await fetch(url)).status;
  } catch {
    return 0;
  }
}

/** Poll until every route answers 200; fails with the container's output when it ends or never does. */
async function waitHealthy(base: string, routes: string[], container: { output(): string; exited: Promise<unknown> }): Promise<void> {
  let ended = false;
  void container.exited.then(() => (ended = true));
  for (let i = 0; i < 600 && !ended; i++) {
    const codes = await Promise.all(routes.map((r) => get(base + r)));
    if (codes.every((c) => c === 200)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the container did not become healthy on ${routes.join(', ')}:\n${container.output()}`);
}

function buildah(args: string[]): void {
  const r = spawnSync('buildah', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`buildah ${args.join(' ')}: ${r.stderr}`);
}

describe.skipIf(Boolean(skip))(`the serving image, built with buildah and run under each cloud's contract${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let project: { dir: string; cleanup: () => void };
  let built: BuildJson;
  let local: number[];
  let modelTar: { file: string; cleanup: () => void };

  beforeAll(async () => {
    project = copyExample();
    // A model saved private (umask 077, a secrets-minded notebook): the image's non-root user must still read it.
    chmodSync(path.join(project.dir, 'model', 'model.joblib'), 0o600);
    const cli = (args: string[]) => runCli(args, { cwd: project.dir, env: { MLSHIP_PYTHON: python }, timeoutMs: 15 * 60_000 });
    // The context first: its requirements.txt says which wheels the stand-in base must hold.
    const context = await timed('mlship build (context, parity)', () => cli(['build', '--no-image', '--json']));
    expect(context.code, context.stderr).toBe(0);
    const { dir } = json<BuildJson>(context);
    const base = await timed('stand-in base (made or reused)', () => ensureStandInBase(path.join(dir, 'requirements.txt')));
    cost['stand-in base MB'] = Math.round(base.bytes / 1e6);

    // The image, with buildah named: this test runs the image with buildah, whatever other builders
    // this machine has (a docker with a daemon, a podman that cannot start containers); which builder
    // is picked without --builder is builders.test.ts's subject.
    const image = await timed('mlship build --image (buildah bud)', () => cli(['build', '--image', '--builder', 'buildah', '--json']));
    expect(image.code, image.stderr).toBe(0);
    expect(image.stderr).toMatch(/image built with buildah in \d+ s: mlship\/churn:\w+ sha256:[0-9a-f]{64}/);
    built = json<BuildJson>(image);
    expect(built.build.image).toMatchObject({ builder: 'buildah', id: expect.stringMatching(/^sha256:[0-9a-f]{64}$/), tag: `mlship/churn:${built.build.id}` });
    cost['image MB'] = Math.round((built.build.image!.bytes ?? 0) / 1e6);
    cost['app layers MB'] = Math.round(((built.build.image!.bytes ?? 0) - base.bytes) / 1e6);
    // build.json on disk says the same.
    expect(JSON.parse(readFileSync(path.join(dir, 'build.json'), 'utf8')).image).toEqual(built.build.image);

    // The local app's answers: what every container must answer too.
    local = await timed('local predictions (mlship serve)', async () => {
      const port = await freePort();
      const child = spawn(process.execPath, [mlshipBin, 'serve', '--port', String(port)], {
        cwd: project.dir,
        env: { ...process.env, MLSHIP_PYTHON: python },
        stdio: 'ignore',
      });
      try {
        await waitHealthy(`http://127.0.0.1:${port}`, ['/health'], { output: () => '', exited: new Promise((r) => child.on('exit', r)) });
        const res = await postJson(`http://127.0.0.1:${port}/predict`, records);
        expect(res.status).toBe(200);
        return (JSON.parse(res.body) as { predictions: number[] }).predictions;
      } finally {
        child.kill('SIGTERM');
      }
    });
    modelTar = await packModel(path.join(dir, built.build.model.file));
  }, 40 * 60_000);

  afterAll(() => {
    modelTar?.cleanup();
    project?.cleanup();
    // The image stays in buildah's store (its layers are the next run's cache: only what changed is
    // built again); older builds of the example go.
    if (built) {
      const names = spawnSync('buildah', ['images', '--format', '{{.Name}}:{{.Tag}}'], { encoding: 'utf8' }).stdout.split('\n');
      const stale = names.filter((n) => /\/mlship\/churn:\w+$/.test(n) && !n.endsWith(built.build.image!.tag));
      if (stale.length > 0) spawnSync('buildah', ['rmi', ...stale]);
    }
    process.stderr.write(`image test cost (s, MB): ${JSON.stringify(cost)}\n`);
  });

  /** One platform's run: start, health, predictions, a bad record, the log, SIGTERM. */
  async function runPlatform(options: {
    label: string;
    env: (port: number) => Record<string, string>;
    /** Put the model where the platform mounts it (the copy baked into the image is removed first). */
    mountModel: (container: string, rootfs: string) => void;
    health: string[];
    predict: string;
    body: (rs: unknown[]) => unknown;
    /** The predictions of the answer, checking the platform's answer shape. */
    read: (answer: Record<string, unknown>) => unknown;
  }): Promise<void> {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    let container: Container | undefined;
    try {
      container = startContainer(built.build.image!.tag, {
        env: options.env(port),
        prepare: (name) => {
          const rootfs = spawnSync('buildah', ['mount', name], { encoding: 'utf8' }).stdout.trim();
          // Only the platform's copy of the model: an app that looked elsewhere would fail to start.
          spawnSync('rm', ['-rf', path.join(rootfs, 'opt/mlship', path.dirname(built.build.model.file))]);
          options.mountModel(name, rootfs);
        },
      });
      const c = container;
      await timed(`${options.label}: start to healthy`, () => waitHealthy(base, options.health, c));
      // The serving runtime is in the image, its build-time tools (parity, calibrate) are not.
      expect(existsSync(path.join(c.rootfs(), 'opt/mlship/mlship_serving/handlers.py'))).toBe(true);
      expect(existsSync(path.join(c.rootfs(), 'opt/mlship/mlship_serving/tools'))).toBe(false);

      const answer = await postJson(base + options.predict, options.body(records));
      expect(answer.status, answer.body).toBe(200);
      expect(options.read(JSON.parse(answer.body) as Record<string, unknown>)).toEqual(local);

      const bad = await postJson(base + options.predict, options.body([badRecord]));
      expect(bad.status, bad.body).toBeGreaterThanOrEqual(400);
      expect(bad.status).toBeLessThan(500);
      expect(bad.body).toContain('tenure_months');

      // The prediction log, written by the image's user (uid 10001) where it may write.
      const logDir = path.join(c.rootfs(), 'var/log/mlship');
      const logs = readdirSync(logDir).filter((f) => /^predictions-\d{4}-\d{2}-\d{2}\.jsonl$/.test(f));
      expect(logs).toHaveLength(1);
      const file = path.join(logDir, logs[0]!);
      expect(statSync(file).uid).toBe(10001);
      const lines = readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { input: unknown; output: unknown });
      expect(lines.map((l) => l.input)).toEqual(records);
      expect(lines.map((l) => l.output)).toEqual(local);

      // SIGTERM, as the platform stops a container: a clean exit (0) well before SIGKILL would come.
      const stopped = await timed(`${options.label}: SIGTERM to exit`, async () => {
        c.signal('SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        const deadline = new Promise<'killed'>((r) => (timer = setTimeout(() => r('killed'), GRACE_MS)));
        const code = await Promise.race([c.exited, deadline]);
        clearTimeout(timer);
        return code;
      });
      expect(stopped, c.output()).toBe(0);
    } finally {
      container?.remove();
    }
  }

  it(
    'SageMaker: SAGEMAKER_BIND_TO_PORT, model.tar.gz unpacked in /opt/ml/model, `serve`, /ping and /invocations',
    async () => {
      await runPlatform({
        label: 'SageMaker',
        env: (port) => ({ SAGEMAKER_BIND_TO_PORT: String(port) }),
        // SageMaker unpacks the model package's model.tar.gz into /opt/ml/model (ADD unpacks a local tarball).
        mountModel: (name) => buildah(['add', name, modelTar.file, '/opt/ml/model/']),
        health: ['/ping'],
        predict: '/invocations',
        body: (rs) => rs,
        read: (a) => a.predictions,
      });
    },
    5 * 60_000,
  );

  it(
    'Vertex AI: AIP_HTTP_PORT, AIP_HEALTH_ROUTE, AIP_PREDICT_ROUTE, AIP_STORAGE_URI, {"instances": [...]} → exactly {"predictions": [...]}',
    async () => {
      const route = '/v1/endpoints/4242/deployedModels/77';
      await runPlatform({
        label: 'Vertex AI',
        env: (port) => ({
          AIP_HTTP_PORT: String(port),
          AIP_HEALTH_ROUTE: `${route}/health`,
          AIP_PREDICT_ROUTE: `${route}:predict`,
          AIP_STORAGE_URI: '/mnt/vertex/model',
        }),
        // Vertex copies the artifact folder and names it in AIP_STORAGE_URI.
        mountModel: (name) => buildah(['copy', name, path.join(built.dir, 'model'), '/mnt/vertex/model']),
        health: [`${route}/health`],
        predict: `${route}:predict`,
        body: (rs) => ({ instances: rs }),
        read: (a) => {
          expect(Object.keys(a)).toEqual(['predictions']);
          return a.predictions;
        },
      });
    },
    5 * 60_000,
  );

  it(
    'Azure ML: AZUREML_MODEL_DIR with the nested mount layout, liveness and readiness, /score',
    async () => {
      const modelDir = '/var/azureml-app/azureml-models/churn/1';
      await runPlatform({
        label: 'Azure ML',
        env: (port) => ({ PORT: String(port), AZUREML_MODEL_DIR: modelDir }),
        // Azure mounts a registered folder under <models>/<name>/<version>/<folder>/.
        mountModel: (name) => buildah(['copy', name, path.join(built.dir, 'model'), `${modelDir}/model`]),
        health: ['/live', '/ready'],
        predict: '/score',
        body: (rs) => rs,
        read: (a) => a.predictions,
      });
    },
    5 * 60_000,
  );
});
