/**
 * The seed's claim as a measurement: a BERT-base-sized transformer (~110 M parameters, random
 * weights, a WordPiece tokenizer trained locally; test/fixtures/flavors/make_models.py --bench-bert)
 * served by the generated app on CPU, 128-token inputs.
 *
 * - the build's calibration: CPU ms per request and per batch of 16 on one thread (build.json `cost`);
 * - one request at a time (sequential client) with the app on one core (MLSHIP_THREADS=1) and on all
 *   cores: p50/p95 latency;
 * - the selection's verdict at 10, 100 and 1000 rps on the SageMaker catalog from that measured cost,
 *   with the GPU break-even rate;
 * - adaptive batching at 16 concurrent clients: throughput with batching against the same build with
 *   `max_batch=None` in serve.py's Spec (exactly what `serving.batching: false` renders).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { loadCatalog } from '../../src/instances/catalog.js';
import { selectCompute, selectionInput } from '../../src/compute/select.js';
import { loadManifestFile } from '../../src/manifest/load.js';
import { cliFailure, json, python, repoRoot, runCli } from '../helpers/cli.js';
import { postJson } from '../helpers/http.js';
import { freePort } from '../serving/app-helpers.js';
import type { BenchRow } from './run.js';

const bertDir = path.join(repoRoot, 'test', '.tmp', 'bench-bert');
const maker = path.join(repoRoot, 'test', 'fixtures', 'flavors', 'make_models.py');

const WORDS = 'the delivery was slow and the support was rude again but the new plan is cheap and the app is simple to use after the update'.split(' ');

/** A review long enough to be truncated at 128 tokens. */
function longText(seed: number): string {
  const out: string[] = [];
  for (let i = 0; i < 200; i++) out.push(WORDS[(i * 7 + seed * 13) % WORDS.length]!);
  return out.join(' ');
}

function makeProject(): { dir: string; cleanup: () => void } {
  if (!existsSync(path.join(bertDir, 'params.json'))) {
    process.stderr.write('making the BERT-base-sized model (once): test/.tmp/bench-bert\n');
    const r = spawnSyncOk(python, [maker, '--bench-bert', bertDir]);
    if (!r) throw new Error('make_models.py --bench-bert failed');
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'mlship-bench-bert-'));
  cpSync(bertDir, path.join(dir, 'model'), { recursive: true, filter: (f) => !f.endsWith('params.json') });
  cpSync(path.join(repoRoot, 'test', 'fixtures', 'flavors', 'text', 'features'), path.join(dir, 'features'), { recursive: true });
  mkdirSync(path.join(dir, 'data'));
  writeFileSync(path.join(dir, 'data', 'train.csv'), `text\n${Array.from({ length: 24 }, (_, i) => longText(i)).join('\n')}\n`);
  writeFileSync(
    path.join(dir, 'mlship.yaml'),
    [
      'name: bert-bench',
      'model:',
      '  path: model',
      '  flavor: transformers',
      '  task: classification',
      '  max_tokens: 128',
      'features:',
      '  package: features',
      '  schema:',
      '    text: { type: string }',
      '  baseline: data/train.csv',
      'target: local',
      'serving:',
      '  expected_rps: 10',
      '  replicas: { min: 1, max: 1000 }',
      '',
    ].join('\n'),
  );
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

function spawnSyncOk(cmd: string, args: string[]): boolean {
  return spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] }).status === 0;
}

interface App {
  url: string;
  child: ChildProcess;
}

async function startApp(buildDir: string, threads: number, logDir: string): Promise<App> {
  const port = await freePort();
  const env = {
    ...process.env,
    PORT: String(port),
    MLSHIP_HOST: '127.0.0.1',
    MLSHIP_WORKERS: '1',
    MLSHIP_THREADS: String(threads),
    OMP_NUM_THREADS: String(threads),
    MLSHIP_LOG_DIR: logDir,
  };
  const child = spawn(python, [path.join(buildDir, 'serve.py'), 'serve'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 300_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the app exited with ${child.exitCode}`);
    if (
      await fetch(`${url}/ping`).then(
        (r) => r.status === 200,
        () => false,
      )
    )
      break;
    if (Date.now() > deadline) throw new Error('the app did not start');
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url, child };
}

async function stopApp(app: App): Promise<void> {
  if (app.child.exitCode !== null) return;
  const exited = new Promise((r) => app.child.on('exit', r));
  app.child.kill('SIGTERM');
  await exited;
}

function percentile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.round(q * (s.length - 1)))]!;
}

/** p50/p95 of N requests sent one at a time. */
async function sequential(app: App, n: number): Promise<{ p50: number; p95: number }> {
  for (let i = 0; i < 3; i++) await postJson(`${app.url}/predict`, { text: longText(i) });
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const r = await postJson(`${app.url}/predict`, { text: longText(i) });
    ms.push(performance.now() - t0);
    if (r.status !== 200) throw new Error(`predict answered ${r.status}: ${r.body}`);
  }
  return { p50: percentile(ms, 0.5), p95: percentile(ms, 0.95) };
}

type Autocannon = (
  options: Record<string, unknown>,
) => Promise<{ requests: { average: number; total: number }; non2xx: number; errors: number; duration: number }>;

/** Requests per second with 16 concurrent clients. */
async function concurrent(app: App, seconds: number): Promise<number> {
  const { default: autocannon } = (await import('autocannon')) as unknown as { default: Autocannon };
  const r = await autocannon({
    url: `${app.url}/predict`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text: longText(3) }),
    duration: seconds,
    connections: 16,
    timeout: 60,
  });
  if (r.non2xx + r.errors > 0) throw new Error(`${r.non2xx + r.errors} failed requests at 16 clients`);
  return r.requests.total / r.duration;
}

export async function bench(options: { large: boolean }): Promise<BenchRow[]> {
  const project = makeProject();
  const scratch = mkdtempSync(path.join(tmpdir(), 'mlship-bench-bert-run-'));
  try {
    const built = await runCli(['build', '--no-image', '--json'], { cwd: project.dir, env: { MLSHIP_PYTHON: python }, timeoutMs: 900_000 });
    if (built.code !== 0) throw cliFailure('build', built);
    const { dir: buildDir, build } = json<{
      dir: string;
      build: {
        cost: { perRequest: { cpuMs: number }; perBatch: { size: number; cpuMs: number; cpuMsPerRecord: number }; machine: { cpu: string; cores: number } };
      };
    }>(built);
    const params = (JSON.parse(readFileSync(path.join(bertDir, 'params.json'), 'utf8')) as { params: number }).params;
    const cores = cpus().length;
    const n = options.large ? 60 : 25;

    const one = await startApp(buildDir, 1, path.join(scratch, 'logs1'));
    const oneCore = await sequential(one, n).finally(() => stopApp(one));
    const all = await startApp(buildDir, cores, path.join(scratch, 'logsN'));
    const allCores = await sequential(all, n);
    const seconds = options.large ? 30 : 15;
    const batched = await concurrent(all, seconds).finally(() => stopApp(all));

    // The same build without batching: serve.py's Spec with max_batch=None (what `serving.batching: false` renders).
    const unbatchedDir = path.join(scratch, 'unbatched');
    cpSync(buildDir, unbatchedDir, { recursive: true });
    const spec = path.join(unbatchedDir, 'serve.py');
    writeFileSync(spec, readFileSync(spec, 'utf8').replace(/max_batch=\d+,/, 'max_batch=None,'));
    const plain = await startApp(unbatchedDir, cores, path.join(scratch, 'logsU'));
    const unbatched = await concurrent(plain, seconds).finally(() => stopApp(plain));

    const manifest = loadManifestFile(path.join(project.dir, 'mlship.yaml'));
    const verdicts = [10, 100, 1000].map((rps) => {
      const input = selectionInput({ ...manifest, serving: { ...manifest.serving, expected_rps: rps } }, { catalog: loadCatalog('sagemaker') });
      const c = selectCompute(input);
      return { rps, choice: c };
    });
    const machine = `${build.cost.machine.cpu}, ${build.cost.machine.cores} cores`;
    process.stderr.write(
      [
        `BERT-base-sized classifier: ${(params / 1e6).toFixed(1)} M parameters, 128-token inputs, on ${machine}`,
        `calibration (build.json cost, one thread): ${build.cost.perRequest.cpuMs} ms CPU per request; ${build.cost.perBatch.cpuMs} ms per batch of ${build.cost.perBatch.size} (${build.cost.perBatch.cpuMsPerRecord} ms per record)`,
        `one request at a time, 1 core: p50 ${oneCore.p50.toFixed(1)} ms, p95 ${oneCore.p95.toFixed(1)} ms; ${cores} cores: p50 ${allCores.p50.toFixed(1)} ms, p95 ${allCores.p95.toFixed(1)} ms`,
        `16 concurrent clients: ${batched.toFixed(1)} req/s batched vs ${unbatched.toFixed(1)} req/s unbatched`,
        ...verdicts.map(
          ({ rps, choice }) =>
            `${rps} rps: ${choice.gpu ? 'GPU' : 'CPU'} ${choice.instanceType} ×${choice.sizing?.instancesForExpectedRps} ($${((choice.sizing?.usdPerHour ?? 0) * (choice.sizing?.instancesForExpectedRps ?? 1)).toFixed(3)}/h); GPU break-even ~${choice.sizing?.gpuBreakEvenRps} rps`,
        ),
        '',
      ].join('\n'),
    );
    const breakEven = verdicts[0]!.choice.sizing?.gpuBreakEvenRps ?? null;
    return [
      {
        name: `BERT-base-sized (${(params / 1e6).toFixed(0)} M) CPU cost per request, build calibration, 1 thread`,
        value: build.cost.perRequest.cpuMs,
        unit: 'ms',
      },
      { name: 'BERT-base-sized CPU cost per record in batches of 16, 1 thread', value: build.cost.perBatch.cpuMsPerRecord, unit: 'ms' },
      { name: 'BERT-base-sized p50 latency, one request at a time, 1 core', value: oneCore.p50, unit: 'ms' },
      { name: 'BERT-base-sized p95 latency, one request at a time, 1 core', value: oneCore.p95, unit: 'ms' },
      { name: `BERT-base-sized p50 latency, one request at a time, ${cores} cores`, value: allCores.p50, unit: 'ms' },
      { name: `BERT-base-sized p95 latency, one request at a time, ${cores} cores`, value: allCores.p95, unit: 'ms' },
      {
        name: 'BERT-base-sized throughput at 16 concurrent clients, adaptive batching',
        value: batched,
        unit: 'req/s',
        baseline: { name: 'the same build without batching', value: unbatched },
        ratio: batched / unbatched,
        aim: '>= 1.0',
        ok: batched / unbatched >= 1.0,
      },
      ...verdicts.map(({ rps, choice }) => ({
        name: `selection at ${rps} rps: ${choice.gpu ? 'GPU' : 'CPU'} ${choice.instanceType} ×${choice.sizing?.instancesForExpectedRps} (measured cost; break-even ${breakEven} rps)`,
        value: (choice.sizing?.usdPerHour ?? 0) * (choice.sizing?.instancesForExpectedRps ?? 1),
        unit: '$/h',
      })),
    ];
  } finally {
    rmSync(scratch, { recursive: true, force: true });
    project.cleanup();
  }
}
