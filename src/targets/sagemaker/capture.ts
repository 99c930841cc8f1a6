/**
 * Data Capture files in S3 as `LogSource`s for drift-check (parsed by src/logs/formats/sagemaker.ts). SageMaker writes them under
 * `<destination>/<endpoint>/<variant>/yyyy/mm/dd/hh/<name>.jsonl`; the hour in the key selects the
 * files of a window without reading the others, and each file is streamed line by line, so memory
 * does not grow with the number of captured predictions.
 */
import { objectLines } from '../../deploy/object-store.js';
import type { LogSource, LogWindow } from '../../logs/types.js';
import type { AwsApi } from './api.js';
import { sagemakerCaptureFormat } from '../../logs/formats/sagemaker.js';
import { S3Store } from './s3-store.js';

/** The UTC hour a capture key belongs to, from its `yyyy/mm/dd/hh/` path. */
export function captureHour(key: string): Date | undefined {
  const m = /\/(\d{4})\/(\d{2})\/(\d{2})\/(\d{2})\/[^/]+$/.exec(key);
  return m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]))) : undefined;
}

/** Whether a file of the hour starting at `hour` can hold records inside the window. */
export function hourInWindow(hour: Date, window: LogWindow): boolean {
  const end = hour.getTime() + 3_600_000;
  if (window.from && end <= window.from.getTime()) return false;
  if (window.to && hour.getTime() > window.to.getTime()) return false;
  return true;
}

/** Bucket and key prefix of an `s3://bucket/prefix` URI. */
export function parseS3Uri(uri: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!m) throw new Error(`not an S3 URI: ${uri}`);
  return { bucket: m[1]!, prefix: m[2]!.replace(/\/+$/, '') };
}

/** The capture files of the endpoint under a Data Capture destination in a window, oldest first, one source per file. */
export async function captureSources(api: AwsApi, endpoint: string, destination: string, window: LogWindow): Promise<LogSource[]> {
  const { bucket, prefix: root } = parseS3Uri(destination);
  const store = new S3Store(api, bucket);
  const listed = await store.list(`${root ? `${root}/` : ''}${endpoint}/`);
  return listed
    .filter((key) => key.endsWith('.jsonl'))
    .map((key) => ({ key, hour: captureHour(key) }))
    .filter((f): f is { key: string; hour: Date } => f.hour !== undefined && hourInWindow(f.hour, window))
    .sort((a, b) => a.hour.getTime() - b.hour.getTime() || a.key.localeCompare(b.key))
    .map(({ key }) => ({
      description: store.uri(key),
      format: sagemakerCaptureFormat.name,
      lines: () => objectLines(store, key),
    }));
}
