/** Worker thread: parses batches of log lines into columns (src/monitoring/drift/batch.ts) for the check. */
import { parentPort } from 'node:worker_threads';
import type { LogSource } from '../../logs/types.js';
import { parseBatch, transferables, type BatchSpec, type ParsedBatch } from './batch.js';

/** A request from the main thread: a run of whole lines, as transferred bytes or as text. */
export interface ParseRequest {
  id: number;
  spec: BatchSpec;
  format: LogSource['format'];
  description: string;
  payload: string | Uint8Array;
}

/** The answer: the batch, and the request's bytes handed back for the next batch to reuse. */
export interface ParseResponse {
  id: number;
  batch: ParsedBatch;
  payload?: Uint8Array;
}

parentPort?.on('message', (m: ParseRequest) => {
  const batch = parseBatch(m.spec, m.format, m.description, m.payload);
  const payload = typeof m.payload === 'string' ? undefined : m.payload;
  const response: ParseResponse = { id: m.id, batch, ...(payload && { payload }) };
  parentPort!.postMessage(response, payload ? [...transferables(batch), payload.buffer as ArrayBuffer] : transferables(batch));
});
