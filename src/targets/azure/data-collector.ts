/**
 * What the Azure ML model data collector leaves in blob storage, read back for drift-check and
 * quality: `modelDataCollector/<endpoint>/<deployment>/<model_inputs|model_outputs>/yyyy/MM/dd/HH/*.jsonl`
 * (rollingRate Hour), each line a CloudEvents-style record `{id, time, data: [rows], correlationid, …}`.
 * Inputs and outputs of one request share `correlationid`; they are joined hour by hour (only one
 * hour's outputs are held in memory) into mlship's own prediction-log lines, which the drift readers
 * parse like the local log.
 */
import type { LogSource, LogWindow } from '../types.js';
import type { BlobStore } from './blob-store.js';

interface CollectorLine {
  time?: string;
  data?: unknown;
  correlationid?: string;
  id?: string;
}

const HOUR_FOLDER = /\/(\d{4})\/(\d{2})\/(\d{2})\/(\d{2})\/[^/]+$/;

/** One log source per deployment that collected anything in the window. */
export async function collectorSources(store: BlobStore, endpoint: string, model: string, window: LogWindow): Promise<LogSource[]> {
  const byDeployment = new Map<string, Map<string, { inputs: string[]; outputs: string[] }>>();
  for await (const blob of store.list(`modelDataCollector/${endpoint}/`)) {
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
    format: 'mlship' as const,
    lines: () => joinedLines(store, model, deployment, [...hours.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, f]) => f)),
  }));
}

async function* joinedLines(store: BlobStore, model: string, deployment: string, hours: { inputs: string[]; outputs: string[] }[]): AsyncIterable<string> {
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
        if (!rec || !Array.isArray(rec.data)) continue;
        const id = rec.correlationid ?? rec.id ?? '';
        const out = outputs.get(id);
        const rows = rec.data as Record<string, unknown>[];
        for (const [i, input] of rows.entries()) {
          yield JSON.stringify({ ts: rec.time, id: rows.length > 1 ? `${id}-${i}` : id, model, version: deployment, input, output: out?.[i] ?? null });
        }
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

/** The serving app answers `{prediction}` for one record and `{predictions: […]}` for a batch. */
function predictionsOf(data: unknown): unknown[] {
  const first = (Array.isArray(data) ? data[0] : data) as { prediction?: unknown; predictions?: unknown[] } | undefined;
  if (first && Array.isArray(first.predictions)) return first.predictions;
  if (first && 'prediction' in first) return [first.prediction];
  return [];
}

