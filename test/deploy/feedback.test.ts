/**
 * Ground truth on the clouds: labels uploaded under the registry's `feedback/` folder (the same layout
 * on S3, GCS and Azure Blob: shared/registry.ts) are found by day for a window, and joined with any
 * target's prediction log through its format's neutral records — here SageMaker's data capture (CSV
 * bodies as text cells, ids from `inferenceId`, a batch as `<id>#<i>`), over the in-memory object store.
 */
import { describe, expect, it } from 'vitest';
import { joinFeedback, type JoinedRow } from '../../src/logs/join.js';
import { MemoryObjectStore } from '../../src/deploy/object-store.js';
import { ObjectRegistry } from '../../src/deploy/registry.js';
import type { LogSource } from '../../src/logs/types.js';

const capture = (id: string, csv: string, output: string, time: string) =>
  JSON.stringify({
    captureData: {
      endpointInput: { observedContentType: 'text/csv', mode: 'INPUT', data: csv, encoding: 'CSV' },
      endpointOutput: { observedContentType: 'application/json', mode: 'OUTPUT', data: output, encoding: 'JSON' },
    },
    eventMetadata: { eventId: `e-${id}`, inferenceId: id, inferenceTime: time },
    eventVersion: '0',
  });

describe('feedback uploaded to a cloud registry', () => {
  it('lists the feedback files that can hold labels for the window, oldest first', async () => {
    const store = new MemoryObjectStore('mem://bucket');
    const registry = new ObjectRegistry(store, 'mlship/churn');
    for (const day of ['2026-11-28', '2026-11-30', '2026-11-29'])
      await store.put(`mlship/churn/feedback/feedback-${day}.jsonl`, '{"ts":"x","id":"a","label":1}\n');
    await store.put('mlship/churn/feedback/notes.txt', 'not a feedback file');
    const sources = await registry.feedbackSources({ from: new Date('2026-11-29T10:00:00Z') });
    expect(sources.map((s) => s.description)).toEqual([
      'mem://bucket/mlship/churn/feedback/feedback-2026-11-29.jsonl',
      'mem://bucket/mlship/churn/feedback/feedback-2026-11-30.jsonl',
    ]);
    const lines: string[] = [];
    for await (const line of sources[0]!.lines()) lines.push(line);
    expect(lines).toEqual(['{"ts":"x","id":"a","label":1}']);
  });

  it('joins the labels with SageMaker capture records by inference id, a batch row by row', async () => {
    const store = new MemoryObjectStore('mem://bucket');
    const registry = new ObjectRegistry(store, 'root');
    await store.put(
      'root/feedback/feedback-2026-11-30.jsonl',
      [
        '{"ts":"2026-11-30T10:00:00Z","id":"r1","label":1}',
        '{"ts":"2026-11-30T10:00:00Z","id":"r2#1","label":0}',
        '{"ts":"2026-11-30T10:00:00Z","id":"gone","label":1}',
      ].join('\n'),
    );
    const predictions: LogSource = {
      description: 'capture',
      format: 'sagemaker-capture',
      lines: async function* () {
        yield capture('r1', '12,70.5,pro', '{"prediction": 0.8}', '2026-11-30T09:00:00Z');
        yield capture('r2', '1,20,basic\n3,30,pro', '{"predictions": [0.1, 0.3]}', '2026-11-30T09:01:00Z');
      },
    };
    const window = { from: new Date('2026-11-30T00:00:00Z') };
    const rows: JoinedRow[] = [];
    const stats = await joinFeedback([predictions], await registry.feedbackSources(window), window, (r) => rows.push(r), {
      csvFields: ['tenure', 'charges', 'plan'],
    });
    expect(stats).toMatchObject({ predictions: 3, matched: 2, unlabelled: 1, unknownIds: 1, malformed: 0 });
    expect(rows).toEqual([
      expect.objectContaining({ id: 'r1', input: { tenure: '12', charges: '70.5', plan: 'pro' }, output: 0.8, label: 1 }),
      expect.objectContaining({ id: 'r2#1', input: { tenure: '3', charges: '30', plan: 'pro' }, output: 0.3, label: 0 }),
    ]);
  });
});
