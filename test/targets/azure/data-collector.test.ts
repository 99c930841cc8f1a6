/**
 * The data collector's files as drift-check reads them: hourly `model_inputs` / `model_outputs` JSON
 * lines (the shape the ARM fake writes and Azure ML documents) joined by correlation id, pruned to
 * the window, parsed into neutral records by the Azure log format. Double: an in-memory object store
 * standing in for the datastore (no Azure call is made).
 */
import { describe, expect, it } from 'vitest';
import { LOG_FORMATS } from '../../../src/logs/formats/index.js';
import type { BlobStore } from '../../../src/targets/azure/blob-store.js';
import { azureCollectorFormat, COLLECTOR_FORMAT } from '../../../src/logs/formats/azure.js';
import { collectorSources } from '../../../src/targets/azure/data-collector.js';
import { MemoryObjectStore, splitLines } from '../../../src/deploy/object-store.js';
import type { PredictionRecord } from '../../../src/logs/format.js';

function memoryBlobs(): BlobStore & MemoryObjectStore {
  const m = new MemoryObjectStore('https://acct.blob.core.windows.net/c') as MemoryObjectStore & BlobStore;
  m.assetUri = (k) => `azureml://datastores/workspaceblobstore/paths/${k}`;
  m.uploadFolder = async () => 0;
  m.listDetailed = async function* (prefix) {
    for (const name of await m.list(prefix)) yield { name };
  };
  m.lines = async function* (key) {
    const s = await m.getStream(key);
    if (s) yield* splitLines(s);
  };
  return m;
}

const source = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws/onlineEndpoints/churn-1/deployments/v2';
const line = (type: string, corr: string, time: string, data: unknown) =>
  JSON.stringify({
    specversion: '1.0',
    id: `${corr}-${type}`,
    source,
    type: `azureml.inference.${type}`,
    datacontenttype: 'application/json',
    time,
    data,
    correlationid: corr,
  });

describe('Azure data collector logs', () => {
  it('joins inputs and outputs by correlation id, one record per row, version from the deployment', async () => {
    const store = memoryBlobs();
    const base = 'modelDataCollector/churn-1/v2';
    await store.put(
      `${base}/model_inputs/2026/11/30/10/v2-0.jsonl`,
      `${line('model_inputs', 'a', '2026-11-30T10:01:00Z', [{ x: 1 }])}\n${line('model_inputs', 'b', '2026-11-30T10:02:00Z', [{ x: 2 }, { x: 3 }])}\n`,
    );
    await store.put(
      `${base}/model_outputs/2026/11/30/10/v2-0.jsonl`,
      `${line('model_outputs', 'b', '2026-11-30T10:02:00Z', [{ predictions: [0.2, 0.3] }])}\n${line('model_outputs', 'a', '2026-11-30T10:01:00Z', [{ prediction: 0.1 }])}\n`,
    );
    await store.put(`${base}/model_inputs/2026/11/29/10/v2-0.jsonl`, `${line('model_inputs', 'old', '2026-11-29T10:00:00Z', [{ x: 9 }])}\n`);

    const sources = await collectorSources(store, 'churn-1', { from: new Date('2026-11-30T00:00:00Z') });
    expect(sources).toHaveLength(1);
    expect(sources[0]!.format).toBe(COLLECTOR_FORMAT);
    expect(LOG_FORMATS.get(COLLECTOR_FORMAT)).toBe(azureCollectorFormat);
    const parse = azureCollectorFormat.parser({ csvFields: ['x'] });
    const records: PredictionRecord[] = [];
    for await (const l of sources[0]!.lines()) {
      expect(azureCollectorFormat.accepts(JSON.parse(l))).toBe(true);
      expect(parse(l, (r) => records.push({ ...r }))).toBeUndefined();
    }
    expect(records.map((r) => [r.id, r.version, r.input, r.output, r.hasOutput])).toEqual([
      ['a', 'v2', { x: 1 }, 0.1, true],
      ['b-0', 'v2', { x: 2 }, 0.2, true],
      ['b-1', 'v2', { x: 3 }, 0.3, true],
    ]);
  });

  it('an input without its output still counts for input drift', () => {
    const records: PredictionRecord[] = [];
    azureCollectorFormat.parser({ csvFields: [] })(line('model_inputs', 'z', '2026-11-30T10:00:00Z', [{ x: 1 }]), (r) => records.push({ ...r }));
    expect(records).toEqual([expect.objectContaining({ input: { x: 1 }, hasOutput: false })]);
  });
});
