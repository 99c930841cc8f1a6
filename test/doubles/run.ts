/**
 * `npm run fake -- <target>`: start a cloud target's doubles on 127.0.0.1, print one JSON line
 * `{"target", "env", "targets", "pid"}` (the environment to export, the manifest block that points
 * mlship at the doubles, this process's id) and serve until SIGTERM/SIGINT/SIGHUP or until the process
 * that started it dies; either way every server and app it started is stopped first. Each target's doubles live in `./<target>/run-fake.ts`, which
 * exports `start(): Promise<RunningFake>`; adding a target is adding that file, never editing this one.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** What a target's `start()` returns. */
export interface RunningFake {
  /** Environment variables to export before running mlship against the doubles. */
  env: Record<string, string>;
  /** The `targets:` block(s) of mlship.yaml that point at the doubles. */
  targets: Record<string, Record<string, unknown>>;
  /** Stops every server the fake started. */
  stop(): Promise<void>;
}

const here = path.dirname(fileURLToPath(import.meta.url));

async function main(): Promise<void> {
  const target = process.argv[2];
  const file = target && /^[a-z]+$/.test(target) ? path.join(here, target, 'run-fake.ts') : undefined;
  if (!file || !existsSync(file)) {
    process.stderr.write(`usage: npm run fake -- <target>   (a file test/doubles/<target>/run-fake.ts; got ${target ?? 'nothing'})\n`);
    process.exitCode = 2;
    return;
  }
  const { start } = (await import(file)) as { start(): Promise<RunningFake> };
  const parent = process.ppid;
  const fake = await start();
  process.stdout.write(`${JSON.stringify({ target, env: fake.env, targets: fake.targets, pid: process.pid })}\n`);
  let stopping = false;
  const shutdown = (): void => {
    if (stopping) return;
    stopping = true;
    void fake.stop().finally(() => process.exit(0));
  };
  // `kill $!` after `npm run fake … &` signals npm, which passes it on (the script execs node: no shell
  // in between to swallow it); a parent that dies without passing it on (kill -9, a closed terminal)
  // leaves this process to init: it notices and stops everything it started all the same.
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.once(signal, shutdown);
  setInterval(() => {
    if (process.ppid !== parent) shutdown();
  }, 500).unref();
}

await main();
