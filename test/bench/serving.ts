/**
 * Serving overhead: the generated app (validation, shared features, timing, metrics and the
 * prediction log included) against a bare FastAPI endpoint that calls the same features package and
 * model with nothing else, one uvicorn worker each, side by side on loopback in the same run:
 * requests/s and p50/p99 at one connection (autocannon), and start-up time to the first 200 on /ping.
 * Rounds alternate between the two servers so the shared machine's load hits both alike.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { copyExample, json, python, runCli } from '../helpers/cli.js';
import { freePort, goodRecord } from '../serving/app-helpers.js';
import type { BenchRow } from './run.js';

/** The baseline: what a hand-written FastAPI endpoint for this model looks like. */
const BARE_FASTAPI = `
import os, sys
import joblib
import pandas as pd
sys.path.insert(0, os.environ["FEATURES_PARENT"])
from features import transform
from fastapi import FastAPI
import uvicorn

model = joblib.load(os.environ["MODEL_PATH"])
app = FastAPI()

@app.get("/ping")
async def ping():
    return {"status": "ok"}

@app.post("/predict")
async def predict(record: dict):
    X = transform(pd.DataFrame([record]))
    return {"prediction": float(model.predict_proba(X)[0, 1])}

uvicorn.run(app, host="127.0.0.1", port=int(os.environ["PORT"]), log_level="warning", access_log=False)
`;

interface Server {
  url: string;
  child: ChildProcess;
  startupMs: number;
}

async function start(args: string[], env: Record<string, string>): Promise<Server> {
  const port = await freePort();
  const t0 = process.hrtime.bigint();
  const child = spawn(python, args, { env: { ...process.env, ...env, PORT: String(port) }, stdio: ['ignore', 'ignore', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited with ${child.exitCode}`);
    const ok = await fetch(`${url}/ping`).then((r) => r.status === 200, () => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  return { url, child, startupMs: Number(process.hrtime.bigint() - t0) / 1e6 };
}

async function stop(server: Server): Promise<void> {
  if (server.child.exitCode !== null) return;
  const exited = new Promise((r) => server.child.on('exit', r));
  server.child.kill('SIGTERM');
  await exited;
}

interface Load {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
}

type Autocannon = (options: Record<string, unknown>) => Promise<{ requests: { average: number }; latency: { p50: number; p99: number }; non2xx: number; errors: number }>;

async function load(url: string, seconds: number, connections: number): Promise<Load> {
  const { default: autocannon } = (await import('autocannon')) as unknown as { default: Autocannon };
  const r = await autocannon({
    url: `${url}/predict`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(goodRecord),
    duration: seconds,
    connections,
  });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx + r.errors };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export async function bench(options: { large: boolean }): Promise<BenchRow[]> {
  const project = copyExample();
  const scratch = mkdtempSync(path.join(tmpdir(), 'mlship-bench-serving-'));
  try {
    const built = await runCli(['build', '--no-image', '--json'], { cwd: project.dir, env: { MLSHIP_PYTHON: python }, timeoutMs: 300_000 });
    if (built.code !== 0) throw new Error(`mlship build failed:\n${built.stderr}`);
    const buildDir = json<{ dir: string }>(built).dir;
    const barePy = path.join(scratch, 'bare_fastapi.py');
    writeFileSync(barePy, BARE_FASTAPI);
    const appArgs = [path.join(buildDir, 'serve.py'), 'serve'];
    const appEnv = { MLSHIP_HOST: '127.0.0.1', MLSHIP_LOG_DIR: path.join(scratch, 'logs'), MLSHIP_VERSION: 'v1' };
    const bareArgs = [barePy];
    const bareEnv = { FEATURES_PARENT: buildDir, MODEL_PATH: path.join(buildDir, 'model', 'model.joblib') };

    // Start-up, interleaved: spawn to first 200 on /ping. The minimum of 5 is the estimate least
    // disturbed by the other processes of a shared machine.
    const startApp: number[] = [];
    const startBare: number[] = [];
    for (let i = 0; i < 5; i++) {
      const a = await start(appArgs, appEnv);
      startApp.push(a.startupMs);
      await stop(a);
      const b = await start(bareArgs, bareEnv);
      startBare.push(b.startupMs);
      await stop(b);
    }

    // Throughput and latency at one connection, rounds alternating between the two servers.
    const app = await start(appArgs, appEnv);
    const bare = await start(bareArgs, bareEnv);
    const seconds = options.large ? 15 : 8;
    const rounds = 3;
    const appLoads: Load[] = [];
    const bareLoads: Load[] = [];
    try {
      await load(app.url, 1, 1);
      await load(bare.url, 1, 1);
      for (let i = 0; i < rounds; i++) {
        appLoads.push(await load(app.url, seconds, 1));
        bareLoads.push(await load(bare.url, seconds, 1));
      }
    } finally {
      await stop(app);
      await stop(bare);
    }
    if ([...appLoads, ...bareLoads].some((l) => l.non2xx > 0)) throw new Error('a server answered requests with errors during the load test');
    const rpsApp = median(appLoads.map((l) => l.rps));
    const rpsBare = median(bareLoads.map((l) => l.rps));
    const p50App = median(appLoads.map((l) => l.p50));
    const p50Bare = median(bareLoads.map((l) => l.p50));
    const p99App = median(appLoads.map((l) => l.p99));
    const p99Bare = median(bareLoads.map((l) => l.p99));
    const suApp = Math.min(...startApp);
    const suBare = Math.min(...startBare);
    return [
      {
        name: 'serving app throughput, 1 connection (median of 3 rounds)',
        value: rpsApp,
        unit: 'req/s',
        baseline: { name: 'bare FastAPI endpoint', value: rpsBare },
        ratio: rpsApp / rpsBare,
        aim: '>= 1.0',
        ok: rpsApp / rpsBare >= 1.0,
      },
      { name: 'serving app p50 latency, 1 connection', value: p50App, unit: 'ms', baseline: { name: 'bare FastAPI endpoint', value: p50Bare }, ratio: p50App / p50Bare },
      { name: 'serving app p99 latency, 1 connection', value: p99App, unit: 'ms', baseline: { name: 'bare FastAPI endpoint', value: p99Bare }, ratio: p99App / p99Bare },
      {
        name: 'serving app start-up to first 200 on /ping (min of 5)',
        value: suApp,
        unit: 'ms',
        baseline: { name: 'bare FastAPI app, same model', value: suBare },
        ratio: suApp / suBare,
        aim: '<= 1.0',
        ok: suApp / suBare <= 1.0,
      },
    ];
  } finally {
    rmSync(scratch, { recursive: true, force: true });
    project.cleanup();
  }
}
