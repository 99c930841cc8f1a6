/**
 * The feedback join on real files in a log folder: late labels, duplicate labels (last wins),
 * labels for unknown ids, labels written on a later day for predictions in an older (rotated) file,
 * malformed lines, and the window.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { localLogSources } from '../../src/logs/readers.js';
import { feedbackSources, joinFeedback, type JoinedRow } from '../../src/logs/join.js';
import type { LogWindow } from '../../src/logs/types.js';
import { tempDir } from '../helpers/cli.js';

const tmp = tempDir('mlship-join-');
afterAll(() => tmp.cleanup());

function jsonl(file: string, rows: unknown[], extra = ''): void {
  writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n' + extra);
}

function prediction(id: string, ts: string, output: number, version = 'v1') {
  return { ts, id, model: 'churn', version, input: { tenure_months: 3, plan: 'pro' }, output, latency_ms: 1.2 };
}

async function join(dir: string, window: LogWindow = {}): Promise<{ rows: JoinedRow[]; stats: Awaited<ReturnType<typeof joinFeedback>> }> {
  const rows: JoinedRow[] = [];
  const stats = await joinFeedback(localLogSources(dir, window), feedbackSources(dir, window), window, (r) => rows.push(r));
  return { rows, stats };
}

describe('joinFeedback', () => {
  const dir = path.join(tmp.dir, 'logs');
  mkdirSync(dir);
  // Day 1: three predictions (the "rotated" file: labels for them arrive on later days).
  jsonl(path.join(dir, 'predictions-2026-11-01.jsonl'), [
    prediction('a', '2026-11-01T10:00:00.000Z', 0.9),
    prediction('b', '2026-11-01T11:00:00.000Z', 0.2),
    prediction('c', '2026-11-01T23:59:00.000Z', 0.7),
  ]);
  // Day 2: two more, one of another version, and a torn line.
  jsonl(
    path.join(dir, 'predictions-2026-11-02.jsonl'),
    [prediction('d', '2026-11-02T09:00:00.000Z', 0.4), prediction('e', '2026-11-02T10:00:00.000Z', 0.6, 'v2')],
    '{"ts": "2026-11-02T11:0',
  );
  // Labels: a on the same day; b late (day 3); a corrected on day 3 (last wins); an unknown id; c twice
  // with the later ts written first (ts decides, not file order); a malformed line.
  jsonl(path.join(dir, 'feedback-2026-11-01.jsonl'), [{ ts: '2026-11-01T10:05:00.000Z', id: 'a', label: 0 }]);
  jsonl(path.join(dir, 'feedback-2026-11-03.jsonl'), [
    { ts: '2026-11-03T08:00:00.000Z', id: 'b', label: 0 },
    { ts: '2026-11-03T08:01:00.000Z', id: 'a', label: 1 },
    { ts: '2026-11-03T08:02:00.000Z', id: 'zzz-unknown', label: 1 },
    { ts: '2026-11-03T09:00:00.000Z', id: 'c', label: 1 },
    { ts: '2026-11-03T08:30:00.000Z', id: 'c', label: 0 },
    { id: 'd' },
  ]);

  it('joins late labels across days, last label wins, counts unknown ids and duplicates', async () => {
    const { rows, stats } = await join(dir);
    const byId = Object.fromEntries(rows.map((r) => [r.id, r.label]));
    expect(byId).toEqual({ a: 1, b: 0, c: 1 });
    expect(rows.find((r) => r.id === 'a')).toMatchObject({ output: 0.9, input: { tenure_months: 3, plan: 'pro' }, version: 'v1' });
    expect(stats).toMatchObject({ predictions: 5, labelLines: 6, labelledIds: 4, duplicateLabels: 2, matched: 3, unlabelled: 2, unknownIds: 1, malformed: 2 });
  });

  it('a window keeps the predictions inside it but still reads the later labels', async () => {
    const { rows, stats } = await join(dir, { from: new Date('2026-11-01T10:30:00Z'), to: new Date('2026-11-02T00:00:00Z') });
    expect(rows.map((r) => r.id).sort()).toEqual(['b', 'c']);
    // a's label is for a prediction outside the window: counted with the unknown ones.
    expect(stats).toMatchObject({ predictions: 2, matched: 2, unknownIds: 2 });
  });

  it('skips feedback files of days before the window', () => {
    expect(feedbackSources(dir, { from: new Date('2026-11-02T00:00:00Z') }).map((s) => path.basename(s.description))).toEqual(['feedback-2026-11-03.jsonl']);
  });

  it('prediction readers leave feedback files alone', () => {
    expect(localLogSources(dir).map((s) => path.basename(s.description))).toEqual(['predictions-2026-11-01.jsonl', 'predictions-2026-11-02.jsonl']);
  });
});
