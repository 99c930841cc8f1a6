/**
 * What the Azure ML model data collector leaves in blob storage, read back for drift-check and
 * quality: `modelDataCollector/<endpoint>/<deployment>/<model_inputs|model_outputs>/yyyy/MM/dd/HH/*.jsonl`
 * (rollingRate Hour), each line a CloudEvents-style record `{id, time, data: [rows], correlationid, …}`.
 * Inputs and outputs of one request share `correlationid`; `collectorSources` joins them hour by
 * hour (only one hour's outputs are held in memory) and hands drift-check each `model_inputs` line
 * as written, plus the matching outputs under `model_outputs`. `azureCollectorFormat` turns such a
 * line into neutral records: one per row of `data`, the version from the deployment in `source`.
 * A record's id is the scoring call's `x-request-id` (for a batch of n records, `<x-request-id>-<i>`):
 * what ground truth uploaded to `mlship/<name>/feedback/` names (shared/registry.ts).
 */
import { COLLECTOR_FORMAT } from '../../logs/formats/azure.js';
import type { LogSource, LogWindow } from '../../logs/types.js';
import type { BlobStore } from './blob-store.js';

interface CollectorLine {
  time?: string;
  data?: unknown;
  correlationid?: string;
  id?: string;
}

const HOUR_FOLDER = /\/(\d{4})\/(\d{2})\/(\d{2})\/(\d{2})\/[^/]+$/;

/** One log source per deployment that collected anything in the window. */
export async function collectorSources(store: BlobStore, endpoint: string, window: LogWindow): Promise<LogSource[]> {
  const byDeployment = new Map<string, Map<string, { inputs: string[]; outputs: string[] }>>();
  for await (const blob of store.listDetailed(`modelDataCollector/${endpoint}/`)) {
    const parts = blob.name.split('/');
    const [deployment, collection] = [parts[2]!, parts[3]];
    const hour = HOUR_FOLDER.exec(blob.name);
    if (!hour || (collection !== 'model_inputs' && collection !== 'model_outputs')) continue;
    const start = Date.UTC(Number(hour[1]), Number(hour[2]) - 1, Number(hour[3]), Number(hour[4]));
    if ((window.from && start + 3600_000 <= window.from.getTime()) || (window.to && start > window.to.getTime())) continue;
    const key = `${hour[1]}/${hour[2]}/${hour[3]}/${hour[4]}`;
    const hours = byDeployment.get(deployment) ?? new Map();
    byDeployment.set(deployment, hours);
    const files = hours.get(key) ?? { inputs: [], outputs: [] };
    hours.set(key, files);
    (collection === 'model_inputs' ? files.inputs : files.outputs).push(blob.name);
  }
  return [...byDeployment.entries()].map(([deployment, hours]) => ({
    description: `data collector of ${endpoint}/${deployment} (${store.assetUri(`modelDataCollector/${endpoint}/${deployment}/`)})`,
    format: COLLECTOR_FORMAT,
    lines: () =>
      joinedLines(
        store,
        [...hours.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, f]) => f),
      ),
  }));
}

async function* joinedLines(store: BlobStore, hours: { inputs: string[]; outputs: string[] }[]): AsyncIterable<string> {
  for (const files of hours) {
    const outputs = new Map<string, unknown[]>();
    for (const file of files.outputs) {
      for await (const line of store.lines(file)) {
        const rec = parse(line);
        if (rec?.correlationid) outputs.set(rec.correlationid, predictionsOf(rec.data));
      }
    }
    for (const file of files.inputs) {
      for await (const line of store.lines(file)) {
        const rec = parse(line);
        const out = rec?.correlationid ? outputs.get(rec.correlationid) : undefined;
        yield out ? JSON.stringify({ ...rec, model_outputs: out }) : line;
      }
    }
  }
}

function parse(line: string): CollectorLine | undefined {
  try {
    return JSON.parse(line) as CollectorLine;
  } catch {
    return undefined;
  }
}

/**
 * The serving app answers `{prediction}` for one record and `{predictions: […]}` for a batch; the LLM
 * gateway answers one completion per request (collected as `[completion]`, or `[[event, …]]` when
 * streamed), passed on whole for the format to read.
 */
function predictionsOf(data: unknown): unknown[] {
  const first = (Array.isArray(data) ? data[0] : data) as { prediction?: unknown; predictions?: unknown[]; choices?: unknown } | unknown[] | undefined;
  if (Array.isArray(first)) return [first];
  if (first && Array.isArray(first.predictions)) return first.predictions;
  if (first && 'prediction' in first) return [first.prediction];
  if (first && Array.isArray(first.choices)) return [first];
  return [];
}
