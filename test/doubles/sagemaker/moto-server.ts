/**
 * The moto server: `python3 -m moto.server` on a free loopback port, installed with pip when missing,
 * reset (POST /moto-api/reset) and stopped by pid. Free of vitest, so `npm run fake -- sagemaker`
 * starts it too; the test-file wiring is moto.ts.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../../../src/targets/local/processes.js';
import { python } from '../../helpers/cli.js';

export interface Moto {
  url: string;
  port: number;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export { freePort };

function ensureMoto(): void {
  try {
    execFileSync(python, ['-c', 'import moto.server, flask'], { stdio: 'ignore' });
  } catch {
    execFileSync(python, ['-m', 'pip', 'install', '--quiet', 'moto[server]'], { stdio: 'inherit', env: { ...process.env, PIP_RETRIES: '0' } });
  }
}

/** Start moto and wait until it answers. */
export async function startMoto(): Promise<Moto> {
  ensureMoto();
  const port = await freePort();
  const child: ChildProcess = spawn(python, ['-m', 'moto.server', '-p', String(port), '-H', '127.0.0.1'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto exited early: ${stderr}`);
    try {
      const res = await fetch(`${url}/moto-api/`);
      if (res.status < 500) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`moto did not start on ${url}: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    port,
    async reset() {
      await fetch(`${url}/moto-api/reset`, { method: 'POST' });
    },
    stop() {
      return new Promise((resolve) => {
        if (child.exitCode !== null || child.pid === undefined) return resolve();
        child.once('exit', () => resolve());
        process.kill(child.pid, 'SIGTERM');
        setTimeout(() => child.exitCode === null && child.pid !== undefined && process.kill(child.pid, 'SIGKILL'), 5000).unref();
      });
    },
  };
}

/** Environment that points the AWS SDK at a local endpoint with static test credentials. */
export function awsTestEnv(endpoint: string): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: 'us-east-1',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}
