/**
 * Background processes of the local target: start one detached, wait for it to become healthy (or
 * report why it died), stop it gracefully, find a free loopback port.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import path from 'node:path';
import { OperationError } from '../../util/errors.js';
import { isAlive } from '../../util/fs.js';
import { silentReporter } from '../../util/reporter.js';
import { pollUntil, systemClock } from '../../deploy/poll.js';

/** A free TCP port on 127.0.0.1 (the kernel picks; the port is released before use). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface StartOptions {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** stdout and stderr go here (appended). */
  logFile: string;
}

/** Start a detached process that outlives this command; returns its pid. */
export function startDetached(options: StartOptions): number {
  mkdirSync(path.dirname(options.logFile), { recursive: true });
  const fd = openSync(options.logFile, 'a');
  try {
    const child = spawn(options.command, options.args, {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    if (child.pid === undefined)
      throw new OperationError('spawn_failed', `could not start ${options.command}`, { hint: 'Check that the interpreter exists and is executable.' });
    child.unref();
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

/** GET a URL on loopback; resolves with the status code, or undefined when nothing answers. */
export function probe(url: string, timeoutMs = 2000): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = request(url, { method: 'GET', timeout: timeoutMs, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

/** GET a health route on loopback: its status code and the HTTP stack the app names in its body. */
export function healthOf(url: string, timeoutMs = 2000): Promise<{ status?: number; http?: string }> {
  return new Promise((resolve) => {
    const req = request(url, { method: 'GET', timeout: timeoutMs, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => {
        let http: unknown;
        try {
          http = (JSON.parse(body) as { http?: unknown }).http;
        } catch {
          // not JSON: an older app, or something else on the port; the status code still counts
        }
        resolve({ status: res.statusCode, ...(typeof http === 'string' && { http }) });
      });
      res.on('error', () => resolve({ status: res.statusCode }));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve({}));
    req.end();
  });
}

/**
 * Poll `url` (the shared poller) until it answers 200. Fails early, with the tail of the process log, when the process
 * exits first (an app that crashes at start-up), and after `timeoutMs` otherwise.
 */
export async function waitHealthy(url: string, pid: number, options: { timeoutMs: number; logFile: string; what: string }): Promise<void> {
  await pollUntil({
    what: options.what,
    read: async () => ({ status: await probe(url, 1000), alive: isAlive(pid) }),
    classify: ({ status, alive }) => {
      if (status === 200) return { kind: 'done', value: undefined };
      if (!alive) {
        return {
          kind: 'failed',
          error: new OperationError('start_failed', `${options.what} exited during start-up:\n${tail(options.logFile)}`, {
            hint: `The full log is ${options.logFile}.`,
          }),
        };
      }
      return { kind: 'pending', status: status === undefined ? 'starting' : `answering ${status}` };
    },
    timeoutSeconds: options.timeoutMs / 1000,
    onTimeout: () =>
      new OperationError(
        'health_timeout',
        `${options.what} did not become healthy within ${Math.round(options.timeoutMs / 1000)} s (${url}):\n${tail(options.logFile)}`,
        {
          hint: `Raise --timeout, or look at ${options.logFile}.`,
        },
      ),
    clock: systemClock,
    // Health comes in well under a second: poll often, and print nothing (the deploy reports).
    reporter: silentReporter,
    firstPollMs: 100,
    maxPollMs: 100,
  });
}

/** The last lines of a log file, indented, for error messages. */
export function tail(file: string, lines = 15): string {
  try {
    const text = readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines);
    return text.map((l) => `  ${l}`).join('\n');
  } catch {
    return '  (no log)';
  }
}

/** SIGTERM, wait up to `graceMs` for the process to exit (it drains), then SIGKILL. */
export async function stopProcess(pid: number | undefined, graceMs = 10_000): Promise<boolean> {
  if (!isAlive(pid)) return false;
  signal(pid!, 'SIGTERM');
  if (!(await exited(pid!, graceMs))) {
    signal(pid!, 'SIGKILL');
    await exited(pid!, 1000);
  }
  return true;
}

/** Whether `pid` is gone within `ms` (the shared poller, quietly). */
async function exited(pid: number, ms: number): Promise<boolean> {
  try {
    await pollUntil({
      what: `process ${pid}`,
      read: async () => isAlive(pid),
      classify: (alive) => (alive ? { kind: 'pending', status: 'running' } : { kind: 'done', value: true }),
      timeoutSeconds: ms / 1000,
      onTimeout: () => new OperationError('stop_timeout', `process ${pid} did not exit within ${ms} ms`),
      clock: systemClock,
      reporter: silentReporter,
      firstPollMs: 25,
      maxPollMs: 50,
    });
    return true;
  } catch {
    return false;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}
