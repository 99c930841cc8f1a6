/**
 * Durability of the prediction log: the app writes each prediction before sending its response, so
 * after a SIGKILL in the middle of traffic every prediction a client received is in the log.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildExample, goodRecord, logLines, postJson, startApp, type BuiltExample } from './app-helpers.js';

let built: BuiltExample;

beforeAll(async () => {
  built = await buildExample();
});

afterAll(() => built?.cleanup());

it('loses no prediction a client received when the server is killed with SIGKILL', async () => {
  const logDir = mkdtempSync(path.join(tmpdir(), 'mlship-kill-'));
  const app = await startApp(built.buildDir, { MLSHIP_LOG_DIR: logDir });
  const received: string[] = [];
  let failures = 0;
  const client = async (n: number) => {
    for (let i = 0; ; i++) {
      try {
        const batch = i % 3 === 0;
        const r = await postJson(`${app.url}/predict`, batch ? [goodRecord, { ...goodRecord, tenure_months: n }] : { ...goodRecord, support_calls: i % 8 });
        if (r.status !== 200) throw new Error(`status ${r.status}`);
        const body = (await r.json()) as { id: string; predictions?: unknown[] };
        if (body.predictions) body.predictions.forEach((_, k) => received.push(`${body.id}-${k}`));
        else received.push(body.id);
      } catch {
        failures++;
        return;
      }
    }
  };
  const clients = [0, 1, 2, 3].map((n) => client(n));
  while (received.length < 200) await new Promise((r) => setTimeout(r, 10));
  app.child.kill('SIGKILL');
  await Promise.all(clients);
  await app.stop();
  expect(failures).toBeGreaterThan(0);
  const logged = new Set(logLines(logDir).map((l) => l.id as string));
  const missing = received.filter((id) => !logged.has(id));
  expect(missing).toEqual([]);
  expect(received.length).toBeGreaterThanOrEqual(200);
});
