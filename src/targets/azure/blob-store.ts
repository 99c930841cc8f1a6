/**
 * mlship's files in the workspace's blob datastore (`@azure/storage-blob`, loaded lazily, with the
 * same DefaultAzureCredential as the ARM client): model folders, baselines, the append-only history,
 * and the model data collector's JSON lines. The datastore's ARM record says where the container is;
 * an `endpoint` with a port (an emulator such as Azurite) is addressed path-style.
 */
import path from 'node:path';
import type { TokenCredential } from '@azure/core-auth';
import { OperationError } from '../../util/errors.js';
import { folderFiles } from '../../util/fs.js';
import { objectLines, type ObjectStore } from '../../deploy/object-store.js';
import type { ArmResource } from './client.js';

/** The datastore's container as mlship's object store, plus what Azure ML assets need. */
export interface BlobStore extends ObjectStore {
  /** `azureml://datastores/<name>/paths/<path>`: how Azure ML assets point at a blob path. */
  assetUri(key: string): string;
  /** The blob path an asset URI points at in this datastore (either form, or the blob's URL); undefined for another place. */
  keyOf(uri: string): string | undefined;
  /** Upload every file under `dir` to `prefix/…`; returns how many were uploaded. */
  uploadFolder(dir: string, prefix: string): Promise<number>;
  /** Blobs under a prefix with their modification time. */
  listDetailed(prefix: string): AsyncIterable<{ name: string; lastModified?: Date }>;
  /** A blob's lines, streamed. */
  lines(key: string): AsyncIterable<string>;
}

export async function openBlobStore(datastore: ArmResource, credential: TokenCredential): Promise<BlobStore> {
  const p = datastore.properties as { datastoreType?: string; accountName?: string; containerName?: string; endpoint?: string; protocol?: string };
  if (p.datastoreType !== 'AzureBlob' || !p.accountName || !p.containerName) {
    throw new OperationError(
      'azure_datastore_unsupported',
      `datastore ${datastore.name} is ${p.datastoreType ?? 'of an unknown type'}, not an Azure Blob datastore`,
      {
        hint: 'Point targets.azure.datastore at an AzureBlob datastore of the workspace (the default workspaceblobstore is one).',
      },
    );
  }
  const { BlobServiceClient } = await import('@azure/storage-blob');
  const suffix = p.endpoint ?? 'core.windows.net';
  const url = /:\d+$/.test(suffix) ? `${p.protocol ?? 'https'}://${suffix}/${p.accountName}` : `${p.protocol ?? 'https'}://${p.accountName}.blob.${suffix}`;
  const container = new BlobServiceClient(url, credential).getContainerClient(p.containerName);
  const name = datastore.name ?? 'workspaceblobstore';
  const missing = (error: unknown) => (error as { statusCode?: number }).statusCode === 404;
  const store: BlobStore = {
    description: `${url}/${p.containerName}`,
    uri: (key) => `${url}/${p.containerName}/${key}`,
    assetUri: (key) => `azureml://datastores/${name}/paths/${key}`,
    keyOf: (uri) => datastoreKey(uri, name, `${url}/${p.containerName}/`),
    uploadFolder: (dir, prefix) =>
      uploadFiles(dir, prefix, (key, file) =>
        container
          .getBlockBlobClient(key)
          .uploadFile(file)
          .then(() => undefined),
      ),
    async putFile(key, file, options = {}) {
      await container.getBlockBlobClient(key).uploadFile(file, {
        ...(options.contentType && { blobHTTPHeaders: { blobContentType: options.contentType } }),
        ...(options.metadata && { metadata: options.metadata }),
      });
    },
    async put(key, body, contentType) {
      const bytes = typeof body === 'string' ? Buffer.from(body) : body;
      await container.getBlockBlobClient(key).upload(bytes, bytes.length, { ...(contentType && { blobHTTPHeaders: { blobContentType: contentType } }) });
    },
    exists: (key) => container.getBlobClient(key).exists(),
    async getText(key) {
      try {
        return (await container.getBlobClient(key).downloadToBuffer()).toString('utf8');
      } catch (error) {
        if (missing(error)) return undefined;
        throw error;
      }
    },
    async getStream(key) {
      try {
        const body = (await container.getBlobClient(key).download()).readableStreamBody;
        return (body ?? undefined) as AsyncIterable<Uint8Array> | undefined;
      } catch (error) {
        if (missing(error)) return undefined;
        throw error;
      }
    },
    async list(prefix) {
      const keys: string[] = [];
      for await (const b of container.listBlobsFlat({ prefix })) keys.push(b.name);
      return keys;
    },
    async *listDetailed(prefix) {
      for await (const b of container.listBlobsFlat({ prefix })) yield { name: b.name, lastModified: b.properties.lastModified };
    },
    lines: (key) => objectLines(store, key),
  };
  return store;
}

/**
 * Any ObjectStore (tests: the shared `MemoryObjectStore`) as the datastore's BlobStore: asset URIs
 * name the datastore, folders upload file by file, listings carry no modification time.
 */
export function blobStoreOver(base: ObjectStore, datastore: string): BlobStore {
  const store: BlobStore = {
    description: base.description,
    uri: (key) => base.uri(key),
    getText: (key) => base.getText(key),
    getStream: (key) => base.getStream(key),
    put: (key, body, contentType) => base.put(key, body, contentType),
    putFile: (key, file, options) => base.putFile(key, file, options),
    exists: (key) => base.exists(key),
    list: (prefix) => base.list(prefix),
    assetUri: (key) => `azureml://datastores/${datastore}/paths/${key}`,
    keyOf: (uri) => datastoreKey(uri, datastore, base.uri('')),
    uploadFolder: (dir, prefix) => uploadFiles(dir, prefix, (key, file) => base.putFile(key, file)),
    async *listDetailed(prefix) {
      for (const name of await base.list(prefix)) yield { name };
    },
    lines: (key) => objectLines(base, key),
  };
  return store;
}

/**
 * `azureml://[subscriptions/…/workspaces/<ws>/]datastores/<name>/paths/<path>` or `<container URL>/<path>`
 * → `<path>`, when it names this datastore.
 */
export function datastoreKey(uri: string, datastore: string, containerUrl: string): string | undefined {
  const m = /^azureml:\/\/(?:subscriptions\/[^/]+\/resourcegroups\/[^/]+\/workspaces\/[^/]+\/)?datastores\/([^/]+)\/paths\/(.*)$/i.exec(uri);
  if (m) return m[1]!.toLowerCase() === datastore.toLowerCase() ? m[2]! : undefined;
  return uri.startsWith(containerUrl) ? decodeURIComponent(uri.slice(containerUrl.length)) : undefined;
}

/** Every file under `dir` to `prefix/<relative path>`, one at a time; returns how many. */
async function uploadFiles(dir: string, prefix: string, put: (key: string, file: string) => Promise<void>): Promise<number> {
  const files = folderFiles(dir);
  for (const rel of files) await put(`${prefix}/${rel}`, path.join(dir, rel));
  return files.length;
}
