/**
 * A build run the way a platform runs its container, for the cloud doubles: `serve.py serve` of the
 * build folder with the one launch contract (src/packaging/launch.ts `serverCommand`) on a free
 * loopback port, the platform's variables added (its port variable, its routes, its model folder),
 * ready once its health route answers 200, and stopped by its pid. The suite's Python runs it
 * (test/helpers/cli.ts `python`); an LLM build's gateway starts `llama-server` on CPU in place of the
 * GPU server (MLSHIP_LLAMA_SERVER from this process's environment), with one thread unless
 * MLSHIP_LLAMA_THREADS or the platform's variables say otherwise: a test machine's cores are shared.
 */
import { spawn } from 'node:child_process';
import { serverCommand } from '../../../src/packaging/launch.js';
import { freePort } from '../../../src/targets/local/processes.js';
import { python as suitePython } from '../../helpers/cli.js';

export interface ContainerSpec {
  /** The build folder holding serve.py (the image's content). */
  buildDir: string;
  /** Folder of the prediction log inside the "container". */
  logDir: string;
  /** Folder holding the artifact (the platform's model mount); default the build's own `model/`. */
  modelDir?: string;
  /** The platform's variables, given the port the container listens on (they win over the launch contract's). */
  env: (port: number) => Record<string, string>;
  /** The route that answers 200 once the model is loaded (the platform's health check). */
  healthRoute: string;
  /** How long the health check waits (the platform's startup health-check timeout); default 60 s. */
  timeoutMs?: number;
  python?: string;
  cwd?: string;
}

export interface RunningContainer {
  url: string;
  port: number;
  pid: number;
  /** The last 8 kB of its stdout and stderr (what the platform's container log shows). */
  log(): string;
  /** Whether it has exited (crashed, or stopped). */
  exited(): boolean;
  stop(): Promise<void>;
}

/** A crash or a health check that never passed; `log` holds the container's last output. */
export class ContainerStartError extends Error {
  constructor(
    message: string,
    readonly log: string,
  ) {
    super(message);
  }
}

/** Start the build and wait for its health route; a container that exits or never gets healthy is stopped and throws. */
export async function startContainer(spec: ContainerSpec): Promise<RunningContainer> {
  const port = await freePort();
  const cmd = serverCommand(spec.python ?? suitePython, spec.buildDir, {
    port,
    host: '127.0.0.1',
    logDir: spec.logDir,
    ...(spec.modelDir !== undefined && { modelDir: spec.modelDir }),
  });
  const env = { ...process.env, MLSHIP_LLAMA_THREADS: process.env.MLSHIP_LLAMA_THREADS ?? '1', ...cmd.env, ...spec.env(port) };
  const child = spawn(cmd.command, cmd.args, { cwd: spec.cwd ?? spec.buildDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const keep = (d: Buffer | string) => (log = (log + d.toString()).slice(-8000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  child.on('error', (e) => keep(`${e.message}\n`));
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  const stop = async (): Promise<void> => {
    if (exited() || child.pid === undefined) return;
    const done = new Promise((resolve) => child.once('exit', resolve));
    process.kill(child.pid, 'SIGTERM');
    const timer = setTimeout(() => !exited() && child.pid !== undefined && process.kill(child.pid, 'SIGKILL'), 10_000);
    await done;
    clearTimeout(timer);
  };
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (spec.timeoutMs ?? 60_000);
  for (;;) {
    if (exited()) {
      throw new ContainerStartError(`the container exited with code ${child.exitCode ?? child.signalCode}: ${lastLines(log)}`, log);
    }
    const status = await fetch(`${url}${spec.healthRoute}`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) break;
    if (Date.now() > deadline) {
      await stop();
      throw new ContainerStartError(
        `the container did not answer 200 on ${spec.healthRoute} within ${Math.round((spec.timeoutMs ?? 60_000) / 1000)} s: ${lastLines(log)}`,
        log,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, port, pid: child.pid!, log: () => log, exited, stop };
}

function lastLines(text: string): string {
  return text.trim().split('\n').slice(-3).join(' ') || '(no output)';
}
