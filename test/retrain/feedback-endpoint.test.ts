/**
 * POST /feedback on the generated app, run for real: labels for a prediction's id (single and
 * batch) land in feedback-YYYY-MM-DD.jsonl beside the prediction log; unknown ids are accepted; bad
 * input (malformed JSON, wrong label or id types, unknown fields, oversized bodies and batches, wrong
 * content type, GET) gets a 4xx, never a 5xx, and the server keeps serving.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildExample, goodRecord, startApp, type BuiltExample, type RunningApp } from '../serving/app-helpers.js';

let built: BuiltExample;
let app: RunningApp;
let logDir: string;

beforeAll(async () => {
  built = await buildExample();
  logDir = mkdtempSync(path.join(tmpdir(), 'mlship-feedback-'));
  app = await startApp(built.buildDir, { MLSHIP_LOG_DIR: logDir });
}, 240_000);

afterAll(async () => {
  await app?.stop();
  built?.cleanup();
});

async function post(
  route: string,
  body: string,
  headers: Record<string, string> = { 'content-type': 'application/json' },
): Promise<{ status: number; body: any; headers: Headers }> {
  const r = await fetch(`${app.url}${route}`, { method: 'POST', body, headers });
  const text = await r.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // keep the text
  }
  return { status: r.status, body: parsed, headers: r.headers };
}

function feedbackLines(): Record<string, unknown>[] {
  return readdirSync(logDir)
    .filter((f) => /^feedback-\d{4}-\d{2}-\d{2}\.jsonl$/.test(f))
    .flatMap((f) =>
      readFileSync(path.join(logDir, f), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    );
}

describe('POST /feedback', () => {
  it('records labels for a prediction id, one or a batch, and unknown ids', async () => {
    const single = await post('/predict', JSON.stringify(goodRecord));
    const batch = await post('/predict', JSON.stringify([goodRecord, goodRecord]));
    expect(single.status).toBe(200);
    expect(single.headers.get('x-request-id')).toBe(single.body.id);
    const one = await post('/feedback', JSON.stringify({ id: single.body.id, label: 1 }));
    expect(one).toMatchObject({ status: 200, body: { accepted: 1 } });
    const many = await post(
      '/feedback',
      JSON.stringify([
        { id: `${batch.body.id}-0`, label: 0 },
        { id: `${batch.body.id}-1`, label: true },
        { id: 'never-seen', label: 'yes' },
      ]),
    );
    expect(many).toMatchObject({ status: 200, body: { accepted: 3 } });
    const lines = feedbackLines();
    expect(lines.map((l) => [l.id, l.label])).toEqual([
      [single.body.id, 1],
      [`${batch.body.id}-0`, 0],
      [`${batch.body.id}-1`, true],
      ['never-seen', 'yes'],
    ]);
    for (const l of lines) expect(Date.parse(l.ts as string)).not.toBeNaN();
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    expect(metrics).toMatch(/^mlship_feedback_labels_total 4$/m);
  });

  const bad: [string, string, number, Record<string, string>?][] = [
    ['malformed JSON', '{"id": "a", "label": ', 400],
    ['not JSON at all', 'label=1', 400],
    ['a string body', '"a"', 422],
    ['an empty list', '[]', 422],
    ['a list of numbers', '[1, 2]', 422],
    ['a missing label', '{"id": "a"}', 422],
    ['a null label', '{"id": "a", "label": null}', 422],
    ['an object label', '{"id": "a", "label": {"x": 1}}', 422],
    ['a list label', '{"id": "a", "label": [1]}', 422],
    ['a NaN label', '{"id": "a", "label": NaN}', 400],
    ['a huge number label', '{"id": "a", "label": 1e999}', 400],
    ['an overlong string label', JSON.stringify({ id: 'a', label: 'x'.repeat(300) }), 422],
    ['a missing id', '{"label": 1}', 422],
    ['a numeric id', '{"id": 7, "label": 1}', 422],
    ['an id with spaces', '{"id": "a b", "label": 1}', 422],
    ['an overlong id', JSON.stringify({ id: 'a'.repeat(101), label: 1 }), 422],
    ['an unknown field', '{"id": "a", "label": 1, "extra": 2}', 422],
    ['a body over the limit', JSON.stringify({ id: 'a', label: 'x'.repeat(2 * 1024 * 1024) }), 413],
    ['a batch over the limit', JSON.stringify(Array.from({ length: 1001 }, (_, i) => ({ id: `a${i}`, label: 1 }))), 413],
    ['text/plain', '{"id": "a", "label": 1}', 415, { 'content-type': 'text/plain' }],
  ];
  it.each(bad)('%s gets a 4xx and records nothing', async (_name, body, status, headers) => {
    const before = feedbackLines().length;
    const r = await post('/feedback', body, headers);
    expect(r.status).toBe(status);
    expect(r.status).toBeLessThan(500);
    expect(feedbackLines().length).toBe(before);
    const alive = await post('/predict', JSON.stringify(goodRecord));
    expect(alive.status).toBe(200);
  });

  it('names the field at fault and answers GET with 405', async () => {
    const r = await post('/feedback', '{"id": "a", "label": {"x": 1}}');
    expect(r.body.error).toMatchObject({ status: 422, field: 'label' });
    const get = await fetch(`${app.url}/feedback`);
    expect(get.status).toBe(405);
  });
});
