/**
 * mlship's files in the workspace's blob datastore (`@azure/storage-blob`, loaded lazily, with the
 * same DefaultAzureCredential as the ARM client): model folders, baselines, the append-only history,
 * and the model data collector's JSON lines. The datastore's ARM record says where the container is;
 * an `endpoint` with a port (an emulator such as Azurite) is addressed path-style.
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { TokenCredential } from '@azure/core-auth';
import { OperationError } from '../../core/errors.js';
import type { ArmResource } from './client.js';

export interface BlobStore {
  /** `azureml://datastores/<name>/paths/<path>`: how Azure ML assets point at a blob path. */
  assetUri(blobPath: string): string;
  /** Upload every file under `dir` to `prefix/…`; returns how many were uploaded. */
  uploadFolder(dir: string, prefix: string): Promise<number>;
  uploadFile(file: string, blobPath: string): Promise<void>;
  exists(blobPath: string): Promise<boolean>;
  /** Write a blob only if it does not exist yet (false: it did). */
  createText(blobPath: string, text: string): Promise<boolean>;
  readText(blobPath: string): Promise<string | undefined>;
  list(prefix: string): AsyncIterable<{ name: string; lastModified?: Date }>;
  /** A blob's lines, streamed. */
  lines(blobPath: string): AsyncIterable<string>;
}

export async function openBlobStore(datastore: ArmResource, credential: TokenCredential): Promise<BlobStore> {
  const p = datastore.properties as { datastoreType?: string; accountName?: string; containerName?: string; endpoint?: string; protocol?: string };
  if (p.datastoreType !== 'AzureBlob' || !p.accountName || !p.containerName) {
    throw new OperationError('azure_datastore_unsupported', `datastore ${datastore.name} is ${p.datastoreType ?? 'of an unknown type'}, not an Azure Blob datastore`, {
      hint: 'Point targets.azure.datastore at an AzureBlob datastore of the workspace (the default workspaceblobstore is one).',
    });
  }
  const { BlobServiceClient } = await import('@azure/storage-blob');
  const suffix = p.endpoint ?? 'core.windows.net';
  const url = /:\d+$/.test(suffix) ? `${p.protocol ?? 'https'}://${suffix}/${p.accountName}` : `${p.protocol ?? 'https'}://${p.accountName}.blob.${suffix}`;
  const container = new BlobServiceClient(url, credential).getContainerClient(p.containerName);
  const name = datastore.name ?? 'workspaceblobstore';
  return {
    assetUri: (blobPath) => `azureml://datastores/${name}/paths/${blobPath}`,
    async uploadFolder(dir, prefix) {
      let n = 0;
      const walk = async (d: string): Promise<void> => {
        for (const entry of readdirSync(d)) {
          const full = path.join(d, entry);
          if (statSync(full).isDirectory()) await walk(full);
          else {
            await container.getBlockBlobClient(`${prefix}/${path.relative(dir, full).split(path.sep).join('/')}`).uploadFile(full);
            n += 1;
          }
        }
      };
      await walk(dir);
      return n;
    },
    async uploadFile(file, blobPath) {
      await container.getBlockBlobClient(blobPath).uploadFile(file);
    },
    exists: (blobPath) => container.getBlobClient(blobPath).exists(),
    async createText(blobPath, text) {
      try {
        await container.getBlockBlobClient(blobPath).upload(text, Buffer.byteLength(text), { conditions: { ifNoneMatch: '*' }, blobHTTPHeaders: { blobContentType: 'application/json' } });
        return true;
      } catch (error) {
        if ((error as { statusCode?: number }).statusCode === 409) return false;
        throw error;
      }
    },
    async readText(blobPath) {
      try {
        return (await container.getBlobClient(blobPath).downloadToBuffer()).toString('utf8');
      } catch (error) {
        if ((error as { statusCode?: number }).statusCode === 404) return undefined;
        throw error;
      }
    },
    async *list(prefix) {
      for await (const b of container.listBlobsFlat({ prefix })) yield { name: b.name, lastModified: b.properties.lastModified };
    },
    async *lines(blobPath) {
      const response = await container.getBlobClient(blobPath).download();
      const stream = response.readableStreamBody;
      if (!stream) return;
      for await (const line of createInterface({ input: stream as NodeJS.ReadableStream, crlfDelay: Infinity })) if (line) yield line;
    },
  };
}

