/**
 * The runtime at full capacity: several worker processes behind one port with micro-batching.
 * /metrics sums every worker, the log holds one valid line per prediction, each response has its own
 * id, Server-Timing (with the queue stage) and X-Batch-Size; /openapi.json describes the schema; a
 * 20 MiB body gets the 413 (not a reset), from the app and through the local router.
 */
import { request } from 'node:http';
import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Router } from '../../src/targets/local/router.js';
import { buildExample, goodRecord, logLines, postJson, startApp, type BuiltExample, type RunningApp } from './app-helpers.js';

let built: BuiltExample;
let app: RunningApp;
let logDir: string;

beforeAll(async () => {
  built = await buildExample();
  logDir = mkdtempSync(path.join(tmpdir(), 'mlship-workers-'));
  app = await startApp(built.buildDir, { MLSHIP_LOG_DIR: logDir, MLSHIP_WORKERS: '2' });
}, 300_000);

afterAll(async () => {
  await app?.stop();
  built?.cleanup();
});

/** POST `bytes` of JSON-ish body on a fresh connection; resolves with the status the client saw. */
function postBig(port: number, bytes: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const body = Buffer.alloc(bytes, 0x20);
    body[0] = 0x5b;
    body[bytes - 1] = 0x5d;
    const req = request(
      { agent: false, host: '127.0.0.1', port, method: 'POST', path: '/predict', headers: { 'content-type': 'application/json', 'content-length': bytes } },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function metricValue(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.slice(name.length + 1)) : 0;
}

describe('N workers with micro-batching', () => {
  it('answers every concurrent request with its own id and timing, sums /metrics over workers and logs one line per prediction', async () => {
    const n = 64;
    const responses = await Promise.all(
      Array.from({ length: n }, (_, i) => postJson(`${app.url}/predict`, { ...goodRecord, support_calls: i % 8 }, { 'x-request-id': `req-${i}` })),
    );
    const sizes: number[] = [];
    for (const [i, r] of responses.entries()) {
      expect(r.status).toBe(200);
      expect(r.headers.get('x-request-id')).toBe(`req-${i}`);
      const body = (await r.json()) as { id: string; prediction: number };
      expect(body.id).toBe(`req-${i}`);
      const stages = (r.headers.get('server-timing') ?? '').split(',').map((p) => p.trim().split(';')[0]);
      expect(stages).toEqual(['validate', 'queue', 'features', 'model', 'post', 'log']);
      sizes.push(Number(r.headers.get('x-batch-size')));
    }
    for (const s of sizes) expect(s).toBeGreaterThanOrEqual(1);
    const lines = logLines(logDir);
    expect(lines.map((l) => l.id).sort()).toEqual(Array.from({ length: n }, (_, i) => `req-${i}`).sort());
    // The same record alone and inside a batch: the same prediction.
    const one = responses.find((r, i) => i % 8 === 2);
    expect(one).toBeDefined();
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    expect(metricValue(metrics, 'mlship_requests_total{route="/predict",status="200"}')).toBe(n);
    expect(metricValue(metrics, 'mlship_predictions_total')).toBe(n);
    expect(metricValue(metrics, 'mlship_request_duration_seconds_count')).toBe(n);
    expect(metricValue(metrics, 'mlship_request_duration_seconds_bucket{le="+Inf"}')).toBe(n);
    expect(metricValue(metrics, 'mlship_batch_records_sum')).toBe(n);
    expect(metricValue(metrics, 'mlship_workers{state="ready"}')).toBe(2);
  });

  it('predicts the same for a record alone and inside a client batch', async () => {
    const batch = Array.from({ length: 20 }, (_, i) => ({ ...goodRecord, tenure_months: i, monthly_charges: 20 + i * 3.3 }));
    const together = ((await (await postJson(`${app.url}/predict`, batch)).json()) as { predictions: number[] }).predictions;
    for (const [i, rec] of batch.entries()) {
      const alone = ((await (await postJson(`${app.url}/predict`, rec)).json()) as { prediction: number }).prediction;
      expect(Math.abs(alone - together[i]!)).toBeLessThanOrEqual(1e-12);
    }
  });

  it('lists every invalid field of every record in a 422', async () => {
    const r = await postJson(`${app.url}/predict`, [goodRecord, { ...goodRecord, tenure_months: -1, plan: 'gold' }]);
    expect(r.status).toBe(422);
    const body = (await r.json()) as { error: { message: string; field: string; errors: { field: string; message: string; record: number }[] } };
    expect(body.error.errors.map((e) => [e.record, e.field])).toEqual([
      [1, 'tenure_months'],
      [1, 'plan'],
    ]);
    expect(body.error.field).toBe('tenure_months');
    expect(body.error.message).toContain('plan');
  });

  it('serves /openapi.json generated from the schema', async () => {
    const r = await fetch(`${app.url}/openapi.json`);
    expect(r.status).toBe(200);
    const doc = (await r.json()) as {
      openapi: string;
      paths: Record<string, unknown>;
      components: { schemas: { Record: { properties: Record<string, unknown> } } };
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.components.schemas.Record.properties)).toEqual(Object.keys(goodRecord));
    expect(doc.paths).toHaveProperty('/predict');
  });

  it('answers a 20 MiB body with a 413 the client sees, and keeps serving', async () => {
    const r = await postBig(app.port, 20 * 1024 * 1024);
    expect(r.status).toBe(413);
    expect(JSON.parse(r.body).error.status).toBe(413);
    expect((await postJson(`${app.url}/predict`, goodRecord)).status).toBe(200);
  });

  it('answers a 20 MiB body with a 413 through the local router too', async () => {
    const router = new Router();
    router.switchTo({ url: app.url, version: 'v1' });
    const front = createServer(router.handle);
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    try {
      const port = (front.address() as AddressInfo).port;
      const r = await postBig(port, 20 * 1024 * 1024);
      expect(r.status).toBe(413);
      expect((await postJson(`http://127.0.0.1:${port}/predict`, goodRecord)).status).toBe(200);
    } finally {
      front.closeAllConnections();
      await new Promise((resolve) => front.close(resolve));
    }
  });
});

describe('a serving process', () => {
  it('never imports the build-time tools (parity, calibrate), in the parent or any worker, while it answers every route', async () => {
    // Python prints every module it imports to stderr ("import time: ... | module"), forked workers too.
    const traced = await startApp(built.buildDir, {
      MLSHIP_LOG_DIR: mkdtempSync(path.join(tmpdir(), 'mlship-imports-')),
      MLSHIP_WORKERS: '2',
      PYTHONPROFILEIMPORTTIME: '1',
    });
    try {
      expect((await postJson(`${traced.url}/predict`, goodRecord)).status).toBe(200);
      expect((await postJson(`${traced.url}/predict`, [goodRecord, goodRecord])).status).toBe(200);
      expect((await postJson(`${traced.url}/feedback`, { id: 'abc', label: 1 })).status).toBe(200);
      for (const route of ['/metrics', '/openapi.json', '/health', '/nowhere']) await fetch(`${traced.url}${route}`);
    } finally {
      await traced.stop();
    }
    const imported = new Set(
      traced
        .stderr()
        .split('\n')
        .filter((l) => l.startsWith('import time:'))
        .map((l) => l.split('|').at(-1)!.trim()),
    );
    // The trace works: it shows the runtime's serving modules and the model's library, loaded by a worker.
    expect([...imported]).toEqual(expect.arrayContaining(['mlship_serving.server', 'mlship_serving.app', 'mlship_serving.handlers', 'sklearn']));
    expect([...imported].filter((m) => m.startsWith('mlship_serving.tools'))).toEqual([]);
    // The build itself ran them (its parity report and CPU calibration are in build.json).
    expect(built.build.parity.ok).toBe(true);
    expect(built.build.cost.perRequest.cpuMs).toBeGreaterThan(0);
  });
});
