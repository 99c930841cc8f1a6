/**
 * Data Capture files in S3 as `LogSource`s for drift-check. SageMaker writes them under
 * `<destination>/<endpoint>/<variant>/yyyy/mm/dd/hh/<name>.jsonl`; the hour in the key selects the
 * files of a window without reading the others, and each file is streamed line by line, so memory
 * does not grow with the number of captured predictions.
 */
import type { LogSource, LogWindow } from '../types.js';
import type { AwsApi } from './api.js';

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

/** Split a stream of byte chunks into lines (UTF-8), without holding more than one line at a time. */
export async function* splitLines(chunks: AsyncIterable<Uint8Array>): AsyncIterable<string> {
  const decoder = new TextDecoder();
  let rest = '';
  for await (const chunk of chunks) {
    rest += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = rest.indexOf('\n')) >= 0) {
      const line = rest.slice(0, nl).replace(/\r$/, '');
      rest = rest.slice(nl + 1);
      if (line.trim() !== '') yield line;
    }
  }
  rest += decoder.decode();
  if (rest.trim() !== '') yield rest;
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
  const prefix = `${root ? `${root}/` : ''}${endpoint}/`;
  const listed: string[] = [];
  let token: string | undefined;
  do {
    const page = await api.listObjectsV2({ Bucket: bucket, Prefix: prefix, ...(token && { ContinuationToken: token }) });
    for (const o of page.Contents ?? []) if (o.Key) listed.push(o.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return listed
    .filter((key) => key.endsWith('.jsonl'))
    .map((key) => ({ key, hour: captureHour(key) }))
    .filter((f): f is { key: string; hour: Date } => f.hour !== undefined && hourInWindow(f.hour, window))
    .sort((a, b) => a.hour.getTime() - b.hour.getTime() || a.key.localeCompare(b.key))
    .map(({ key }) => ({
      description: `s3://${bucket}/${key}`,
      format: 'sagemaker-capture' as const,
      lines: async function* () {
        const body = await api.getObject({ Bucket: bucket, Key: key });
        yield* splitLines(body.stream());
      },
    }));
}
