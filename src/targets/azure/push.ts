/**
 * Azure ML's calls in the shared push (src/deploy/push.ts): the model folder in the workspace's
 * default datastore (content-addressed by its sha256), the image in the workspace's container
 * registry, the training sample beside the version (the drift monitor's reference data), then an
 * environment version and a model version `N` carrying mlship's facts as tags.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { mlshipVersion } from '../../util/version.js';
import type { CloudPush } from '../../deploy/push.js';
import type { TargetContext, VersionInfo } from '../../deploy/types.js';
import { workspaceRegistry } from './container-registry.js';
import { environmentVersionBody, modelVersionBody, type AzureVersionRecord } from './requests.js';
import { versionRecords, type AzureSession } from './retraining.js';

/** Azure's part of the shared push. */
export function azurePush(s: AzureSession, ctx: TargetContext): CloudPush<AzureVersionRecord, string> {
  const { api, r, store, registry } = s;
  return {
    registry,
    records: async () => (await versionRecords(s)).records,
    info: (rec) => versionInfo(rec, undefined),
    images: () => workspaceRegistry(api, r),
    async uploadArtifact({ info: built, digest }, build) {
      const prefix = `${r.prefix}/models/${digest}`;
      if (!(await store.exists(`${prefix}/${path.basename(built.model.file)}`))) {
        const progress = await ctx.output.progress(`uploading the model folder to ${store.uri(prefix)}`);
        const count = await store.uploadFolder(path.join(build.dir, path.dirname(built.model.file)), prefix);
        progress.succeed(`uploaded ${count} model file(s) to ${store.uri(prefix)}`);
      }
      return store.assetUri(`${prefix}/`);
    },
    async register({ image, artifact, record, checked }) {
      // Asset versions are numbered by Azure across everything registered (by mlship or not).
      const version = `v${(await versionRecords(s)).highest + 1}`;
      // The training sample: the reference data of the drift monitor.
      const sample = ctx.manifest.features.baseline;
      if (sample && existsSync(sample)) await store.putFile(registry.keys.versionFile(version, 'baseline.csv'), sample, { contentType: 'text/csv' });
      const fields = { image, modelUri: artifact, mlshipVersion: mlshipVersion(), modelBytes: checked.info.model.bytes };
      const rec: AzureVersionRecord = { ...record(version), ...fields };
      await api.putEnvironmentVersion(r.environment, version.slice(1), environmentVersionBody(rec));
      await api.putModelVersion(r.model, version.slice(1), modelVersionBody(rec));
      return { version, fields };
    },
    registeredMessage: (rec) =>
      `registered ${rec.version}: model ${r.model}:${rec.version.slice(1)}, environment ${r.environment}:${rec.version.slice(1)} (${rec.image})`,
  };
}

/** A version as `status` shows it: mlship's facts, and where Azure holds it. */
export function versionInfo(rec: AzureVersionRecord, live: string | undefined): VersionInfo {
  const { image, modelUri, job, mlshipVersion: _, modelBytes: __, ...base } = rec;
  return { ...base, location: { image, model: modelUri, ...(job && { job }) }, live: rec.version === live };
}
