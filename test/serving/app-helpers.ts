/**
 * Helpers for tests of the generated serving app: build the example once per file, start the app as
 * the local target does (`<python> serve.py serve`, settings in the environment) on a free loopback
 * port, wait for /ping, and stop it by pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { cachedBuild } from '../helpers/build-cache.js';
import { copyExample, json, python, runCli } from '../helpers/cli.js';
import { freePort } from '../../src/targets/local/processes.js';

/** A port nobody listens on right now (the helper the local target uses). */
export { freePort };

export interface BuiltExample {
  project: string;
  buildDir: string;
  build: Record<string, any>;
  cleanup: () => void;
}

/** A private copy of the example, built with `mlship build --no-image`. */
export async function buildExample(): Promise<BuiltExample> {
  const { dir, cleanup } = copyExample();
  const r = await cachedBuild(dir, () => runCli(['build', '--no-image', '--json'], { cwd: dir, env: { MLSHIP_PYTHON: python }, timeoutMs: 170_000 }));
  if (r.code !== 0) throw new Error(`mlship build failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  const doc = json<{ dir: string; build: Record<string, any> }>(r);
  return { project: dir, buildDir: doc.dir, build: doc.build, cleanup };
}

export interface RunningApp {
  url: string;
  port: number;
  child: ChildProcess;
  stderr: () => string;
  stop: () => Promise<void>;
}

/**
 * Start the app with `env` (PORT is set unless `portVar` names another variable) and wait for a 200
 * on `healthPath`.
 */
export async function startApp(buildDir: string, env: Record<string, string>, options: { portVar?: string; healthPath?: string } = {}): Promise<RunningApp> {
  const port = await freePort();
  const portVar = options.portVar ?? 'PORT';
  const childEnv: NodeJS.ProcessEnv = { ...process.env, MLSHIP_HOST: '127.0.0.1', [portVar]: String(port), ...env };
  for (const k of ['SAGEMAKER_BIND_TO_PORT', 'AIP_HTTP_PORT', 'PORT']) if (k !== portVar && !(k in env)) delete childEnv[k];
  const child = spawn(python, [path.join(buildDir, 'serve.py'), 'serve'], { env: childEnv, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the app exited with ${child.exitCode}:\n${stderr}`);
    try {
      const r = await fetch(`${url}${options.healthPath ?? '/ping'}`);
      if (r.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the app did not answer within 60 s:\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    port,
    child,
    stderr: () => stderr,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Run the app expecting it to refuse to start; resolves with its exit code and stderr. */
export function runAppToExit(buildDir: string, env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(python, [path.join(buildDir, 'serve.py'), 'serve'], {
      env: { ...process.env, MLSHIP_HOST: '127.0.0.1', PORT: '1', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

/** Every line of every prediction log file in a folder. */
export function logLines(logDir: string): Record<string, any>[] {
  let files: string[];
  try {
    files = readdirSync(logDir).filter((f) => /^predictions-\d{4}-\d{2}-\d{2}\.jsonl$/.test(f));
  } catch {
    return [];
  }
  return files.flatMap((f) =>
    readFileSync(path.join(logDir, f), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, any>),
  );
}

/** A valid record of the example's schema. */
export const goodRecord = { tenure_months: 3, monthly_charges: 80.5, support_calls: 2, plan: 'pro', payment_method: 'card' };

/** POST JSON. */
export function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}
