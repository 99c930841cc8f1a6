/** Worker thread: parses batches of log lines into columns (src/monitoring/drift/batch.ts) for the check. */
import { parentPort } from 'node:worker_threads';
import type { LogSource } from '../../logs/types.js';
import { parseBatch, transferables, type BatchSpec } from './batch.js';

/** A request from the main thread: a run of whole lines, as transferred bytes or as text. */
export interface ParseRequest {
  id: number;
  spec: BatchSpec;
  format: LogSource['format'];
  description: string;
  payload: string | Uint8Array;
}

parentPort?.on('message', (m: ParseRequest) => {
  const batch = parseBatch(m.spec, m.format, m.description, m.payload);
  parentPort!.postMessage({ id: m.id, batch }, transferables(batch));
});
