/**
 * The local target in the conformance suite: the real `LocalTarget` (from dist/, so its router starts
 * as it does for users) with real processes, serving a stand-in app (stub-app.py) that keeps the real
 * app's launch contract; the real app itself is covered by test/serving and the local lifecycle tests.
 * Canaries run for real through the router: a bake's time runs ten times faster than the wall clock
 * (the context's `sleep` sleeps a tenth and moves `now` by the whole), and `traffic(n)` sends n
 * requests per (fast) minute to the stable port, which the router splits and counts.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Output } from '../../../src/cli/output.js';
import { loadManifestFile } from '../../../src/manifest/load.js';
import { localDescriptor } from '../../../src/targets/local/descriptor.js';
import { freePort } from '../../../src/targets/local/processes.js';
import type { Target, TargetContext } from '../../../src/deploy/types.js';
import { copyExample, python } from '../../helpers/cli.js';
import { exampleBaseline } from '../../helpers/build.js';
import type { ConformanceHarness, ConformanceWorld } from './harness.js';

const STUB = fileURLToPath(new URL('./stub-app.py', import.meta.url));
const DIST = fileURLToPath(new URL('../../../dist/targets/local/local-target.js', import.meta.url));
const quiet = () => new Writable({ write: (_c, _e, done) => done() });
/** How much faster than the wall clock a bake runs. */
const SPEED = 10;

export const harness: ConformanceHarness = {
  cloud: false,
  descriptor: localDescriptor,
  async start() {
    const project = copyExample();
    const manifestFile = path.join(project.dir, 'mlship.yaml');
    const port = await freePort();
    writeFileSync(manifestFile, `${readFileSync(manifestFile, 'utf8')}targets:\n  local: { port: ${port} }\n`);
    const manifest = loadManifestFile(manifestFile);
    const behaviourFile = path.join(project.dir, 'behaviour.json');
    const behaviours: Record<string, unknown> = {};
    writeFileSync(behaviourFile, '{}');
    const output = new Output({ json: false, verbose: false, color: false, interactive: false, stdout: quiet(), stderr: quiet() });
    let ahead = 0;
    const ctx: TargetContext = {
      manifest,
      output,
      env: { ...process.env, MLSHIP_PYTHON: python, MLSHIP_STUB_BEHAVIOUR: behaviourFile },
      command: 'conformance',
      now: () => new Date(Date.now() + ahead),
      sleep: async (ms) => {
        await new Promise((r) => setTimeout(r, ms / SPEED));
        ahead += ms - ms / SPEED;
      },
    };
    // Requests at a steady rate, not waiting for answers (a slow version does not slow the traffic).
    let perMinute = 100;
    let pump: NodeJS.Timeout | undefined;
    const traffic = (n: number) => {
      clearInterval(pump);
      perMinute = n;
      if (n > 0)
        pump = setInterval(
          () =>
            void fetch(`http://127.0.0.1:${port}/predict`, { method: 'POST', body: '{}' }).then(
              (r) => r.arrayBuffer(),
              () => undefined,
            ),
          60_000 / SPEED / perMinute,
        );
    };
    traffic(perMinute);
    const { LocalTarget } = (await import(DIST)) as { LocalTarget: new (c: TargetContext) => Target };
    const target = new LocalTarget(ctx);
    const mlship = path.join(project.dir, '.mlship');
    const fingerprint = () => {
      const parts = ['registry/history.jsonl', 'deploy/state.json'].map((f) =>
        existsSync(path.join(mlship, f)) ? readFileSync(path.join(mlship, f), 'utf8') : '',
      );
      const versions = existsSync(path.join(mlship, 'registry', 'versions')) ? statSync(path.join(mlship, 'registry', 'versions')).mtimeMs : 0;
      return `${parts.join('|')}|${versions}`;
    };
    let changes = 0;
    let last = fingerprint();
    return {
      target,
      pushOptions: {},
      timeoutSeconds: 30,
      async build(n) {
        // A build as `mlship build` leaves it, with the stand-in app and a model of its own digest.
        const model = Buffer.concat([readFileSync(manifest.model.path), Buffer.from(`\nbuild ${n}`)]);
        const sha256 = createHash('sha256').update(model).digest('hex');
        const id = sha256.slice(0, 12);
        const dir = path.join(mlship, 'build', id);
        mkdirSync(path.join(dir, 'model'), { recursive: true });
        writeFileSync(path.join(dir, 'model', path.basename(manifest.model.path)), model);
        copyFileSync(STUB, path.join(dir, 'serve.py'));
        writeFileSync(path.join(dir, 'build.json'), JSON.stringify({ id, model: { file: `model/${path.basename(manifest.model.path)}`, sha256 } }));
        writeFileSync(path.join(dir, 'baseline.json'), JSON.stringify(exampleBaseline(manifest)));
        return { id, dir };
      },
      manifest,
      async registerRetrained(parent) {
        // `mlship retrain` pushes a candidate its gate did not promote as pending (src/retrain/pipeline.ts).
        const gate = { promoted: false, metric: 'auc', candidate: 0.5, live: 0.9, liveVersion: parent, minDelta: 0, rows: 10 };
        await target.push(await (this as ConformanceWorld).build(90), { parent, gate, pending: true });
      },
      behave(version, b) {
        behaviours[version] = b;
        writeFileSync(behaviourFile, JSON.stringify(behaviours));
      },
      traffic,
      async serving() {
        const live = (await target.status()).live;
        if (!live) return undefined;
        const r = await fetch(`${live.url}/predict`, { method: 'POST', body: '{}' }).catch(() => undefined);
        return r?.headers.get('x-model-version') ?? undefined;
      },
      async uploadFeedback(file, text) {
        // Locally the serving app writes them itself (POST /feedback), beside its prediction log.
        const logs = (target as unknown as { logDir: string }).logDir;
        mkdirSync(logs, { recursive: true });
        writeFileSync(path.join(logs, file), text);
      },
      mutations() {
        const now = fingerprint();
        if (now !== last) changes++;
        last = now;
        return changes;
      },
      async close() {
        traffic(0);
        await target.stop();
        project.cleanup();
      },
    };
  },
};
