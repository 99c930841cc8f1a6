/**
 * The bad-input suite: malformed JSON, wrong types, NaN/Infinity, missing and extra fields, unknown
 * categories, empty and huge batches, huge bodies, wrong content types and deep nesting each get the
 * right 4xx (never a 500), nothing reaches the prediction log, and the server still answers a good
 * request after every one of them.
 */
import { request } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildExample, goodRecord, logLines, postJson, startApp, type BuiltExample, type RunningApp } from './app-helpers.js';

let built: BuiltExample;
let app: RunningApp;
let logDir: string;

beforeAll(async () => {
  built = await buildExample();
  logDir = mkdtempSync(path.join(tmpdir(), 'mlship-bad-input-'));
  app = await startApp(built.buildDir, { MLSHIP_LOG_DIR: logDir });
});

afterAll(async () => {
  await app?.stop();
  built?.cleanup();
});

/** Send raw bytes, so bodies fetch would refuse or normalise go out as written. */
function raw(
  method: string,
  pathName: string,
  body: string | Buffer,
  headers: Record<string, string | number> = { 'content-type': 'application/json' },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent: false,
        host: '127.0.0.1',
        port: app.port,
        method,
        path: pathName,
        headers: { ...headers, ...(headers['content-length'] === undefined && { 'content-length': Buffer.byteLength(body) }) },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    // A server may answer 413 and close before reading a huge body: that is a fine outcome.
    req.on('error', reject);
    req.end(body);
  });
}

const r = (o: Record<string, unknown>) => JSON.stringify({ ...goodRecord, ...o });
const without = (field: string) => {
  const copy: Record<string, unknown> = { ...goodRecord };
  delete copy[field];
  return JSON.stringify(copy);
};

interface Case {
  name: string;
  status: number;
  body?: string | Buffer;
  method?: string;
  path?: string;
  headers?: Record<string, string | number>;
  /** The field the 422 must name. */
  field?: string;
}

const cases: Case[] = [
  { name: 'malformed JSON', status: 400, body: '{"tenure_months": 3,' },
  { name: 'not JSON at all', status: 400, body: 'hello' },
  { name: 'empty body', status: 400, body: '' },
  { name: 'NaN literal', status: 400, body: r({}).replace('80.5', 'NaN') },
  { name: 'Infinity literal', status: 400, body: r({}).replace('80.5', 'Infinity') },
  { name: 'number overflowing to infinity', status: 400, body: r({}).replace('80.5', '1e999') },
  { name: 'invalid UTF-8', status: 400, body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]) },
  { name: 'deep nesting', status: 422, body: '['.repeat(100_000) + ']'.repeat(100_000) },
  {
    name: 'deep nesting in a field',
    status: 422,
    body: r({ plan: 0 }).replace('"plan":0', `"plan":${'['.repeat(50_000)}${']'.repeat(50_000)}`),
    field: 'plan',
  },
  { name: 'nested value in a field', status: 422, body: r({ plan: { a: [[[['pro']]]] } }), field: 'plan' },
  { name: 'string for a number', status: 422, body: r({ monthly_charges: '80.5' }), field: 'monthly_charges' },
  { name: 'float for an integer', status: 422, body: r({ tenure_months: 3.5 }), field: 'tenure_months' },
  { name: 'boolean for an integer', status: 422, body: r({ support_calls: true }), field: 'support_calls' },
  { name: 'number for a category', status: 422, body: r({ plan: 1 }), field: 'plan' },
  { name: 'below the minimum', status: 422, body: r({ tenure_months: -1 }), field: 'tenure_months' },
  { name: 'above the maximum', status: 422, body: r({ monthly_charges: 1000 }), field: 'monthly_charges' },
  { name: 'missing field', status: 422, body: without('plan'), field: 'plan' },
  { name: 'null field', status: 422, body: r({ payment_method: null }), field: 'payment_method' },
  { name: 'extra field', status: 422, body: r({ churned: 1 }), field: 'churned' },
  { name: 'unknown category', status: 422, body: r({ plan: 'platinum' }), field: 'plan' },
  { name: 'a bare number', status: 422, body: '42' },
  { name: 'a list of numbers', status: 422, body: '[1, 2]' },
  { name: 'empty batch', status: 422, body: '[]' },
  { name: 'empty instances', status: 422, body: '{"instances": []}' },
  { name: 'one bad record in a batch', status: 422, body: `[${r({})}, ${r({ plan: 'x' })}]`, field: 'plan' },
  { name: 'huge batch', status: 413, body: `[${new Array(1001).fill(r({})).join(',')}]` },
  { name: 'huge body', status: 413, body: `[${' '.repeat(1024 * 1024 + 10)}]` },
  { name: 'lying Content-Length', status: 413, body: '{}', headers: { 'content-type': 'application/json', 'content-length': 2, 'x-ignored': 1 } },
  { name: 'declared huge Content-Length', status: 413, body: '', headers: { 'content-type': 'application/json', 'content-length': 50_000_000 } },
  { name: 'wrong content type', status: 415, body: r({}), headers: { 'content-type': 'text/csv' } },
  { name: 'form content type', status: 415, body: 'a=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } },
  { name: 'unknown route', status: 404, body: r({}), path: '/predictions' },
  { name: 'GET on /predict', status: 405, method: 'GET', body: '' },
];

describe('bad input', () => {
  it('has at least 25 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(25);
  });

  for (const c of cases) {
    it(`${c.name} → ${c.status}, and the server still serves`, async () => {
      const res = await raw(c.method ?? 'POST', c.path ?? '/predict', c.body ?? '', c.headers).catch((error: Error) => {
        // A 413 may arrive as a reset while the client is still sending the rest of a huge body.
        if (c.status === 413 && /EPIPE|ECONNRESET/.test(String((error as NodeJS.ErrnoException).code))) return { status: 413, body: '{"error":{}}' };
        throw error;
      });
      if (c.name === 'lying Content-Length') {
        // Declared 2 bytes of "{}": the server reads exactly those, and {} is a record missing every field.
        expect(res.status).toBe(422);
      } else {
        expect(res.status).toBe(c.status);
      }
      const body = JSON.parse(res.body) as { error: { status?: number; message?: string; field?: string } };
      expect(body.error).toBeDefined();
      if (c.field) expect(body.error.field).toBe(c.field);
      const good = await postJson(`${app.url}/predict`, goodRecord);
      expect(good.status).toBe(200);
    });
  }

  it('logged only the good requests', () => {
    const lines = logLines(logDir);
    expect(lines.length).toBe(cases.length);
    for (const l of lines) expect(l.input).toEqual(goodRecord);
  });
});
