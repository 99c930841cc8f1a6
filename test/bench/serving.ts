/**
 * Serving overhead: the generated app (validation, shared features, timing, metrics and the
 * prediction log included) against a bare FastAPI endpoint that calls the same features package and
 * model with nothing else, one uvicorn worker each, side by side on loopback in the same run:
 * requests/s and p50/p99 at one connection (autocannon), the servers' CPU time per request (from
 * /proc, steadier than wall time on a shared machine), and start-up time to the first 200 on /ping.
 * Rounds alternate between the two servers so the shared machine's load hits both alike.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

/** utime + stime of a process in seconds, from /proc (Linux); undefined elsewhere. */
function cpuSecondsOf(pid: number | undefined): number | undefined {
  if (pid === undefined || !existsSync(`/proc/${pid}/stat`)) return undefined;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of stat(5), counted after the command name: utime and stime in clock ticks (USER_HZ, 100 on Linux).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

interface Server {
  url: string;
  child: ChildProcess;
  startupMs: number;
  /** CPU seconds the process had used when /ping first answered 200 (Linux). */
  startupCpu?: number;
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
  const startupMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const startupCpu = cpuSecondsOf(child.pid);
  return { url, child, startupMs, ...(startupCpu !== undefined && { startupCpu }) };
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
  requests: number;
  /** Server CPU seconds spent during the round (Linux), a measure a busy machine disturbs less than wall time. */
  cpuSeconds?: number;
}


type Autocannon = (options: Record<string, unknown>) => Promise<{ requests: { average: number; total: number }; latency: { p50: number; p99: number }; non2xx: number; errors: number }>;

async function load(server: Server, seconds: number, connections: number): Promise<Load> {
  const { default: autocannon } = (await import('autocannon')) as unknown as { default: Autocannon };
  const url = server.url;
  const cpu0 = cpuSecondsOf(server.child.pid);
  const r = await autocannon({
    url: `${url}/predict`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(goodRecord),
    duration: seconds,
    connections,
  });
  const cpu1 = cpuSecondsOf(server.child.pid);
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    non2xx: r.non2xx + r.errors,
    requests: r.requests.total,
    ...(cpu0 !== undefined && cpu1 !== undefined && { cpuSeconds: cpu1 - cpu0 }),
  };
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
    const cpuStartApp: number[] = [];
    const cpuStartBare: number[] = [];
    for (let i = 0; i < 5; i++) {
      const a = await start(appArgs, appEnv);
      startApp.push(a.startupMs);
      if (a.startupCpu !== undefined) cpuStartApp.push(a.startupCpu * 1000);
      await stop(a);
      const b = await start(bareArgs, bareEnv);
      startBare.push(b.startupMs);
      if (b.startupCpu !== undefined) cpuStartBare.push(b.startupCpu * 1000);
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
      await load(app, 1, 1);
      await load(bare, 1, 1);
      for (let i = 0; i < rounds; i++) {
        appLoads.push(await load(app, seconds, 1));
        bareLoads.push(await load(bare, seconds, 1));
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
    const cpuPerRequest = (loads: Load[]) => {
      if (loads.some((l) => l.cpuSeconds === undefined)) return undefined;
      return (loads.reduce((a, l) => a + l.cpuSeconds!, 0) / loads.reduce((a, l) => a + l.requests, 0)) * 1e6;
    };
    const cpuApp = cpuPerRequest(appLoads);
    const cpuBare = cpuPerRequest(bareLoads);
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
      ...(cpuApp !== undefined && cpuBare !== undefined
        ? // Informational: the features package and the model dominate it (same code in both servers).
          [{ name: 'serving app server CPU per request (all rounds)', value: cpuApp, unit: 'µs', baseline: { name: 'bare FastAPI endpoint', value: cpuBare }, ratio: cpuApp / cpuBare }]
        : []),
      {
        name: 'serving app start-up to first 200 on /ping (min of 5)',
        value: suApp,
        unit: 'ms',
        baseline: { name: 'bare FastAPI app, same model', value: suBare },
        ratio: suApp / suBare,
        aim: '<= 1.0',
        ok: suApp / suBare <= 1.0,
      },
      ...(cpuStartApp.length === 5 && cpuStartBare.length === 5
        ? [
            {
              name: 'serving app CPU used until the first 200 on /ping (median of 5)',
              value: median(cpuStartApp),
              unit: 'ms',
              baseline: { name: 'bare FastAPI app, same model', value: median(cpuStartBare) },
              ratio: median(cpuStartApp) / median(cpuStartBare),
              aim: '<= 1.0',
              ok: median(cpuStartApp) <= median(cpuStartBare),
            },
          ]
        : []),
    ];
  } finally {
    rmSync(scratch, { recursive: true, force: true });
    project.cleanup();
  }
}
