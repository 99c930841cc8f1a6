/**
 * Vertex AI's calls in the shared push (src/deploy/push.ts): the build context to `gs://<bucket>/<prefix>/<name>/builds/<id>/` (artifactUri
 * is its `model/` folder; content-addressed by build id, uploaded once), the training data for
 * monitoring beside it, the image to Artifact Registry (or `--image`), then `UploadModel` as a new
 * version of the project's one Vertex model (`parentModel`) with the alias `vN`, and mlship's version
 * record and baseline in the shared registry.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../../util/errors.js';
import type { Manifest } from '../../manifest/types.js';
import type { ImageRegistry } from '../../deploy/image.js';
import type { CloudPush } from '../../deploy/push.js';
import { filesUnder } from '../../deploy/source.js';
import { versionNumber } from '../../deploy/history.js';
import { settlePending } from '../../deploy/versions.js';
import type { TargetContext, VersionInfo } from '../../deploy/types.js';
import type { VertexApi } from './api.js';
import { CONTAINER, uploadModelRequest } from './requests.js';
import { modelLoadSeconds } from '../../compute/load-time.js';
import { selectForManifest } from '../../compute/select.js';
import { loadCatalog } from '../../instances/catalog.js';
import { vertexDescriptor } from './descriptor.js';
import { gcsUri, keys, type VertexResources } from './resources.js';
import type { VertexSession, VertexRecord } from './session.js';

/** Folders of a build context that are not part of the image's content. */
const SKIP = new Set(['logs', '.venv', 'venv', '__pycache__', '.mlship']);

/** Every file of a build context, relative paths. */
export function contextFiles(dir: string): string[] {
  return filesUnder(dir, SKIP);
}

/** Artifact Registry as the shared image flow needs it (the `mlship` repository in the region). */
export function artifactRegistry(api: VertexApi, r: VertexResources): ImageRegistry {
  return {
    description: `Artifact Registry repository ${r.imageRepository}`,
    ensureRepository: async () => r.imageRepository,
    credentials: async () => ({ server: `${r.region}-docker.pkg.dev`, username: 'oauth2accesstoken', password: await api.accessToken() }),
    exampleUri: (buildId) => `${r.imageRepository}:${buildId}`,
    pushPermission:
      'your identity needs roles/artifactregistry.writer on that repository (gcloud artifacts repositories add-iam-policy-binding), or push the image yourself and pass --image.',
  };
}

/** The bucket, created in the endpoint's region when missing; one in another region is refused before anything is uploaded. */
export async function ensureBucket(api: VertexApi, r: VertexResources, ctx: TargetContext): Promise<void> {
  const location = await api.bucketLocation(r.bucket);
  if (location === undefined) {
    ctx.output.info(`creating bucket gs://${r.bucket} in ${r.region} (uniform access, public access prevented)`);
    await api.createBucket(r.bucket, r.region);
    return;
  }
  if (location !== r.region) {
    throw new UsageError(
      `bucket gs://${r.bucket} is in ${location}, but the Vertex AI endpoint is in ${r.region}; Vertex AI reads model artifacts only from a bucket in the model's region`,
      {
        code: 'gcp_bucket_region',
        hint: `Set targets.vertex.bucket to a bucket in ${r.region} (or leave it out: mlship creates mlship-${r.project}-${r.region}).`,
      },
    );
  }
}

/**
 * The versions, oldest first: mlship's records, and the Vertex model versions that have none — what
 * the retraining pipeline's `register` step uploaded (labelled with its parent), pending promotion
 * until one is deployed by name.
 */
export async function versionRecords(session: VertexSession): Promise<VertexRecord[]> {
  const { api, r, registry } = session;
  const [names, models, history] = await Promise.all([registry.listVersions(), api.listModelVersions(r.model), registry.history()]);
  const records = (await Promise.all(names.map((v) => registry.readRecord(v)))).filter((x): x is VertexRecord => x !== undefined);
  const known = new Set(records.map((x) => x.versionId));
  for (const m of models) {
    if (!m.versionId || known.has(m.versionId)) continue;
    const parent = records.find((x) => x.version === m.labels?.['mlship-parent']);
    const created = m.versionCreateTime?.seconds;
    records.push({
      version: `v${m.versionId}`,
      buildId: parent?.buildId ?? 'pipeline',
      createdAt: created ? new Date(Number(created) * 1000).toISOString() : '',
      digest: '',
      image: m.containerSpec?.imageUri ?? parent?.image ?? '',
      artifactUri: m.artifactUri ?? '',
      versionId: m.versionId,
      ...(parent && { parent: parent.version }),
      ...(parent?.trainingData && { trainingData: parent.trainingData }),
      pending: true,
    });
  }
  return settlePending(
    records.sort((a, b) => versionNumber(a.version) - versionNumber(b.version)),
    history,
  );
}

export function versionInfo(rec: VertexRecord, live: string | undefined): VersionInfo {
  const { image, artifactUri, versionId, trainingData, ...base } = rec;
  return { ...base, location: { image, artifactUri, model: `${versionId}`, ...(trainingData && { trainingData }) }, live: rec.version === live };
}

/** Vertex's part of the shared push (src/deploy/push.ts). */
export function vertexPush(session: VertexSession, ctx: TargetContext): CloudPush<VertexRecord, { artifactUri: string; trainingData?: string }> {
  const { api, r, registry } = session;
  return {
    registry,
    records: () => versionRecords(session),
    info: (rec) => versionInfo(rec, undefined),
    images: async () => artifactRegistry(api, r),
    prepare: () => ensureBucket(api, r, ctx),
    async uploadArtifact(_checked, build) {
      // The build context, once per build id: artifactUri = its model/ folder.
      const prefix = keys.build(r, build.id);
      if (!(await api.listObjects(r.bucket, `${prefix}build.json`)).length) {
        const files = contextFiles(build.dir);
        const progress = await ctx.output.progress(`uploading build ${build.id} (${files.length} files) to ${gcsUri(r, prefix)}`);
        for (const f of files.filter((f) => f !== 'build.json')) await api.uploadFile(r.bucket, `${prefix}${f}`, path.join(build.dir, f));
        await api.uploadFile(r.bucket, `${prefix}build.json`, path.join(build.dir, 'build.json'));
        progress.succeed(`uploaded ${gcsUri(r, prefix)}`);
      }
      const trainingData = await uploadTrainingData(api, r, ctx.manifest, build.id);
      return { artifactUri: gcsUri(r, keys.artifact(r, build.id)), ...(trainingData && { trainingData }) };
    },
    async register({ checked, build, image, artifact }) {
      const existing = await api.listModelVersions(r.model);
      const expected = `v${existing.reduce((n, m) => Math.max(n, Number(m.versionId ?? 0)), 0) + 1}`;
      // An LLM's weights take minutes to load: its probes are sized for them (a tabular app keeps Vertex's defaults).
      const gpu = () => selectForManifest(ctx.manifest, { catalog: loadCatalog(vertexDescriptor.catalog) }).gpu;
      const loadSeconds = ctx.manifest.model.flavor === 'llm' ? modelLoadSeconds(checked.info.model.bytes, gpu()) : undefined;
      if (loadSeconds !== undefined)
        ctx.output.info(
          `health checks allow the model ${loadSeconds} s to load (${(checked.info.model.bytes / 1e6).toFixed(1)} MB; startupProbe on ${CONTAINER.healthRoute})`,
        );
      const uploaded = await api.uploadModel(
        uploadModelRequest(ctx.manifest, r, {
          image,
          artifactUri: artifact.artifactUri,
          digest: checked.digest,
          buildId: build.id,
          version: expected,
          ...(checked.info.gitCommit && { gitCommit: checked.info.gitCommit }),
          ...(existing.length > 0 && { parentModel: r.model }),
          ...(loadSeconds !== undefined && { loadSeconds }),
        }),
      );
      const version = `v${uploaded.versionId}`;
      if (version !== expected) {
        // Someone uploaded a version at the same moment: the alias follows the version Vertex assigned.
        await api.mergeVersionAliases({ name: `${r.model}@${uploaded.versionId}`, versionAliases: [version, `-${expected}`] });
      }
      return { version, fields: { image, ...artifact, versionId: uploaded.versionId } };
    },
    registeredMessage: (rec) => `registered ${rec.version} as version ${rec.versionId} of Vertex model ${r.model}`,
  };
}

/** The training data (features.baseline) beside the build, for the monitoring job's skew baseline. */
async function uploadTrainingData(api: VertexApi, r: VertexResources, manifest: Manifest, buildId: string): Promise<string | undefined> {
  if (!manifest.features.baseline || !existsSync(manifest.features.baseline)) return undefined;
  const key = keys.trainingData(r, buildId);
  if (!(await api.listObjects(r.bucket, key)).some((o) => o.name === key)) await api.uploadFile(r.bucket, key, manifest.features.baseline);
  return gcsUri(r, key);
}
