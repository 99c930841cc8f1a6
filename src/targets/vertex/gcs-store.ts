/** The shared `ObjectStore` over Cloud Storage (one bucket), through the narrow client. */
import type { ObjectStore } from '../../deploy/object-store.js';
import type { VertexApi } from './api.js';

export class GcsObjectStore implements ObjectStore {
  readonly description: string;

  constructor(
    private readonly api: VertexApi,
    private readonly bucket: string,
  ) {
    this.description = `gs://${bucket}`;
  }

  uri(key: string): string {
    return `gs://${this.bucket}/${key}`;
  }

  async getText(key: string): Promise<string | undefined> {
    return (await this.api.getObject(this.bucket, key))?.toString('utf8');
  }

  async getStream(key: string): Promise<AsyncIterable<Uint8Array> | undefined> {
    const body = await this.api.getObject(this.bucket, key);
    return body === undefined
      ? undefined
      : (async function* () {
          yield body;
        })();
  }

  async put(key: string, body: string | Uint8Array, contentType?: string): Promise<void> {
    await this.api.putObject(this.bucket, key, typeof body === 'string' ? body : Buffer.from(body), { ...(contentType && { contentType }) });
  }

  async putFile(key: string, file: string): Promise<void> {
    await this.api.uploadFile(this.bucket, key, file);
  }

  async exists(key: string): Promise<boolean> {
    return (await this.api.listObjects(this.bucket, key)).some((o) => o.name === key);
  }

  async list(prefix: string): Promise<string[]> {
    return (await this.api.listObjects(this.bucket, prefix)).map((o) => o.name).sort();
  }
}
