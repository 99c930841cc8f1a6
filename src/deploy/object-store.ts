/**
 * The object-store interface every cloud's storage implements (S3 now; GCS and Azure Blob next): the
 * handful of operations mlship's registry, artifacts and logs need, with keys relative to one bucket
 * or container. Implementations translate their SDK's errors to `CloudError`s; "absent" is
 * `undefined`, never an error.
 */

/** One bucket (S3, GCS) or container (Blob) as mlship uses it. */
export interface ObjectStore {
  /** The store's URI scheme and bucket, for messages: `s3://mlship-us-east-1-123456789012`. */
  readonly description: string;
  /** The URI of a key (`s3://bucket/key`, `gs://bucket/key`, `https://account.blob.core.windows.net/container/key`). */
  uri(key: string): string;
  /** The object's text; undefined when it does not exist. */
  getText(key: string): Promise<string | undefined>;
  /** The object's bytes as a stream of chunks (large files: logs, artifacts); undefined when absent. */
  getStream(key: string): Promise<AsyncIterable<Uint8Array> | undefined>;
  /** Write an object whole (a new object, or a replacement of the same key). */
  put(key: string, body: string | Uint8Array, contentType?: string): Promise<void>;
  /** Upload a local file (artifacts), streamed; `metadata` becomes the object's user metadata. */
  putFile(key: string, file: string, options?: { contentType?: string; metadata?: Record<string, string> }): Promise<void>;
  /** Whether the object exists. */
  exists(key: string): Promise<boolean>;
  /** Every key under a prefix (all pages), in the store's order (lexicographic on all three clouds). */
  list(prefix: string): Promise<string[]>;
}

/** An object's lines, streamed (none when it does not exist). */
export async function* objectLines(store: ObjectStore, key: string): AsyncIterable<string> {
  const chunks = await store.getStream(key);
  if (chunks) yield* splitLines(chunks);
}

/** Split a stream of byte chunks into lines (UTF-8) without holding more than one line; blank lines are skipped. */
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

/** An object store in memory (tests and the in-memory fakes). */
export class MemoryObjectStore implements ObjectStore {
  readonly objects = new Map<string, Uint8Array>();
  constructor(readonly description = 'mem://bucket') {}
  uri(key: string): string {
    return `${this.description}/${key}`;
  }
  async getText(key: string): Promise<string | undefined> {
    const body = this.objects.get(key);
    return body === undefined ? undefined : new TextDecoder().decode(body);
  }
  async getStream(key: string): Promise<AsyncIterable<Uint8Array> | undefined> {
    const body = this.objects.get(key);
    return body === undefined
      ? undefined
      : (async function* () {
          yield body;
        })();
  }
  async put(key: string, body: string | Uint8Array): Promise<void> {
    this.objects.set(key, typeof body === 'string' ? new TextEncoder().encode(body) : body);
  }
  async putFile(key: string, file: string): Promise<void> {
    const { readFileSync } = await import('node:fs');
    this.objects.set(key, readFileSync(file));
  }
  async exists(key: string): Promise<boolean> {
    return this.objects.has(key);
  }
  async list(prefix: string): Promise<string[]> {
    return [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
  }
}
