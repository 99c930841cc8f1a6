/**
 * Serving capacity: the generated app (validation, shared features, micro-batching, timing, metrics
 * and the prediction log included) against a bare FastAPI endpoint that calls the same features
 * package and model with nothing else, both with the same number of worker processes (the machine's
 * CPUs), side by side on loopback in the same run: throughput and p99 at 32 connections, p50 at one
 * connection (batching must cost nothing when idle), the servers' CPU time per prediction (from /proc,
 * every process of the server, steadier than wall time on a shared machine), and start-up time to the
 * first 200 on /ping. Rounds alternate between the two servers so the shared machine's load hits both
 * alike.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { cliFailure, copyExample, json, python, runCli } from '../helpers/cli.js';
import { freePort, goodRecord } from '../serving/app-helpers.js';
import type { BenchRow } from './run.js';

/** The baseline: what a hand-written FastAPI endpoint for this model looks like, with N uvicorn workers. */
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

if __name__ == "__main__":
    workers = int(os.environ["WORKERS"])
    target = "bare_fastapi:app" if workers > 1 else app
    # A generous worker health-check: on a busy machine a worker importing pandas and sklearn takes
    # longer than uvicorn's default 5 s, and its supervisor would restart it forever.
    uvicorn.run(target, host="127.0.0.1", port=int(os.environ["PORT"]), workers=workers, log_level="warning", access_log=False, timeout_worker_healthcheck=120)
`;

/** The ids of a process and all its descendants (Linux). */
function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    try {
      const tasks = readFileSync(`/proc/${out[i]}/task/${out[i]}/children`, 'utf8').trim();
      if (tasks) out.push(...tasks.split(/\s+/).map(Number));
    } catch {
      // gone, or no /proc
    }
  }
  return out;
}

/** utime + stime of a process and its workers in seconds, from /proc (Linux); undefined elsewhere. */
function cpuSecondsOf(pid: number | undefined): number | undefined {
  if (pid === undefined || !existsSync(`/proc/${pid}/stat`)) return undefined;
  let total = 0;
  for (const p of processTree(pid)) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // Fields 14 and 15 of stat(5), counted after the command name: utime and stime in clock ticks (USER_HZ, 100 on Linux).
      total += (Number(fields[11]) + Number(fields[12])) / 100;
    } catch {
      // exited between the listing and the read
    }
  }
  return total;
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
  const child = spawn(python, args, {
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'inherit'],
    cwd: path.dirname(args[0]!),
  });
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited with ${child.exitCode}`);
    const ok = await fetch(`${url}/ping`).then(
      (r) => r.status === 200,
      () => false,
    );
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
  // Give the port's workers a moment to go (uvicorn's supervisor reaps them before it exits).
  await new Promise((r) => setTimeout(r, 200));
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

type Autocannon = (
  options: Record<string, unknown>,
) => Promise<{ requests: { average: number; total: number }; latency: { p50: number; p99: number }; non2xx: number; errors: number }>;

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
  // The image serves with uvicorn's httptools parser and uvloop; without them (h11, asyncio) the
  // numbers would be another server's (one connection: ~50 ms of Nagle/delayed-ACK per request).
  if (spawnSync(python, ['-c', 'import httptools, uvloop'], { stdio: 'ignore' }).status !== 0) {
    throw new Error(`${python} lacks httptools and uvloop, which the serving image installs: pip install -r test/requirements.txt (or set MLSHIP_PYTHON)`);
  }
  const project = copyExample();
  const scratch = mkdtempSync(path.join(tmpdir(), 'mlship-bench-serving-'));
  const workers = String(availableParallelism());
  try {
    const built = await runCli(['build', '--no-image', '--json'], { cwd: project.dir, env: { MLSHIP_PYTHON: python }, timeoutMs: 300_000 });
    if (built.code !== 0) throw cliFailure('build', built);
    const buildDir = json<{ dir: string }>(built).dir;
    const barePy = path.join(scratch, 'bare_fastapi.py');
    writeFileSync(barePy, BARE_FASTAPI);
    const appArgs = [path.join(buildDir, 'serve.py'), 'serve'];
    const appEnv = { MLSHIP_HOST: '127.0.0.1', MLSHIP_LOG_DIR: path.join(scratch, 'logs'), MLSHIP_VERSION: 'v1', MLSHIP_WORKERS: workers };
    const bareArgs = [barePy];
    const bareEnv = { FEATURES_PARENT: buildDir, MODEL_PATH: path.join(buildDir, 'model', 'model.joblib'), WORKERS: workers };

    // Start-up with N workers, interleaved: spawn to first 200 on /ping (the app answers 200 only
    // once every worker has loaded). The minimum of 3 is the estimate least disturbed by the other
    // processes of a shared machine.
    const startApp: number[] = [];
    const startBare: number[] = [];
    for (let i = 0; i < 3; i++) {
      const a = await start(appArgs, appEnv);
      startApp.push(a.startupMs);
      await stop(a);
      const b = await start(bareArgs, bareEnv);
      startBare.push(b.startupMs);
      await stop(b);
    }

    const app = await start(appArgs, appEnv);
    const bare = await start(bareArgs, bareEnv);
    const seconds = options.large ? 15 : 6;
    const rounds = 3;
    const one = { app: [] as Load[], bare: [] as Load[] };
    const many = { app: [] as Load[], bare: [] as Load[] };
    try {
      await load(app, 1, 32);
      await load(bare, 1, 32);
      for (let i = 0; i < rounds; i++) {
        one.app.push(await load(app, seconds, 1));
        one.bare.push(await load(bare, seconds, 1));
        many.app.push(await load(app, seconds, 32));
        many.bare.push(await load(bare, seconds, 32));
      }
    } finally {
      await stop(app);
      await stop(bare);
    }
    if ([...one.app, ...one.bare, ...many.app, ...many.bare].some((l) => l.non2xx > 0))
      throw new Error('a server answered requests with errors during the load test');
    const cpuPerRequest = (loads: Load[]) => {
      if (loads.some((l) => l.cpuSeconds === undefined)) return undefined;
      return (loads.reduce((a, l) => a + l.cpuSeconds!, 0) / loads.reduce((a, l) => a + l.requests, 0)) * 1e6;
    };
    const rps = { app: median(many.app.map((l) => l.rps)), bare: median(many.bare.map((l) => l.rps)) };
    const p99 = { app: median(many.app.map((l) => l.p99)), bare: median(many.bare.map((l) => l.p99)) };
    const p50 = { app: median(one.app.map((l) => l.p50)), bare: median(one.bare.map((l) => l.p50)) };
    const cpu = { app: cpuPerRequest(many.app), bare: cpuPerRequest(many.bare) };
    const su = { app: Math.min(...startApp), bare: Math.min(...startBare) };
    const bareName = `bare FastAPI endpoint, ${workers} workers`;
    return [
      {
        name: `serving app throughput, 32 connections, ${workers} workers (median of ${rounds})`,
        value: rps.app,
        unit: 'req/s',
        baseline: { name: bareName, value: rps.bare },
        ratio: rps.app / rps.bare,
        aim: '>= 5',
        ok: rps.app / rps.bare >= 5,
      },
      {
        name: 'serving app p99 latency, 32 connections',
        value: p99.app,
        unit: 'ms',
        baseline: { name: bareName, value: p99.bare },
        ratio: p99.app / p99.bare,
        aim: "<= 150 ms (the example's budget)",
        ok: p99.app <= 150,
      },
      {
        name: 'serving app p50 latency, 1 connection',
        value: p50.app,
        unit: 'ms',
        baseline: { name: bareName, value: p50.bare },
        ratio: p50.app / p50.bare,
        aim: '<= 1.05',
        ok: p50.app / p50.bare <= 1.05,
      },
      ...(cpu.app !== undefined && cpu.bare !== undefined
        ? [
            {
              name: 'serving app server CPU per prediction, 32 connections',
              value: cpu.app,
              unit: 'µs',
              baseline: { name: bareName, value: cpu.bare },
              ratio: cpu.app / cpu.bare,
              aim: '<= 0.25',
              ok: cpu.app / cpu.bare <= 0.25,
            },
          ]
        : []),
      {
        name: `serving app start-up to first 200 on /ping, ${workers} workers (min of 3)`,
        value: su.app,
        unit: 'ms',
        baseline: { name: bareName, value: su.bare },
        ratio: su.app / su.bare,
        aim: '<= 1.0',
        ok: su.app / su.bare <= 1.0,
      },
    ];
  } finally {
    rmSync(scratch, { recursive: true, force: true });
    project.cleanup();
  }
}
