/**
 * The `ObjectStore` (src/deploy/object-store.ts) over S3, through the narrow AWS client: the
 * project's bucket as the registry, artifacts and baselines need it. Absent objects are `undefined`.
 */
import { createReadStream, statSync } from 'node:fs';
import type { ObjectStore } from '../../deploy/object-store.js';
import type { AwsApi } from './api.js';
import { ifExists } from './aws-client.js';

export class S3Store implements ObjectStore {
  constructor(
    private readonly api: AwsApi,
    readonly bucket: string,
  ) {}

  get description(): string {
    return `s3://${this.bucket}`;
  }

  uri(key: string): string {
    return `s3://${this.bucket}/${key}`;
  }

  async getText(key: string): Promise<string | undefined> {
    const body = await ifExists(() => this.api.getObject({ Bucket: this.bucket, Key: key }));
    return body ? body.text() : undefined;
  }

  async getStream(key: string): Promise<AsyncIterable<Uint8Array> | undefined> {
    const body = await ifExists(() => this.api.getObject({ Bucket: this.bucket, Key: key }));
    return body?.stream();
  }

  async put(key: string, body: string | Uint8Array, contentType?: string): Promise<void> {
    await this.api.putObject({ Bucket: this.bucket, Key: key, Body: body, ...(contentType && { ContentType: contentType }) });
  }

  async putFile(key: string, file: string, options: { contentType?: string; metadata?: Record<string, string> } = {}): Promise<void> {
    await this.api.putObject({
      Bucket: this.bucket,
      Key: key,
      Body: createReadStream(file),
      ContentLength: statSync(file).size,
      ...(options.contentType && { ContentType: options.contentType }),
      ...(options.metadata && { Metadata: options.metadata }),
    });
  }

  async exists(key: string): Promise<boolean> {
    return (await ifExists(() => this.api.headObject({ Bucket: this.bucket, Key: key }))) !== undefined;
  }

  async list(prefix: string): Promise<string[]> {
    const out: string[] = [];
    let token: string | undefined;
    do {
      const page = await ifExists(() => this.api.listObjectsV2({ Bucket: this.bucket, Prefix: prefix, ...(token && { ContinuationToken: token }) }));
      if (!page) break;
      for (const o of page.Contents ?? []) if (o.Key) out.push(o.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  }
}
