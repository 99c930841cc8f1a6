/** Worker thread: parses batches of log lines into columns (src/monitoring/drift/batch.ts) for the check. */
import { parentPort } from 'node:worker_threads';
import type { LogSource } from '../../logs/types.js';
import { parseBatch, transferables, type BatchSpec } from './batch.js';

/** A request from the main thread. */
export interface ParseRequest {
  id: number;
  spec: BatchSpec;
  format: LogSource['format'];
  description: string;
  firstLine: number;
  lines: string[];
}

parentPort?.on('message', (m: ParseRequest) => {
  const batch = parseBatch(m.spec, m.format, m.description, m.firstLine, m.lines);
  parentPort!.postMessage({ id: m.id, batch }, transferables(batch));
});
