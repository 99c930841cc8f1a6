/**
 * `push` on Vertex AI: the build context to `gs://<bucket>/<prefix>/<name>/builds/<id>/` (artifactUri
 * is its `model/` folder; content-addressed by build id, uploaded once), the training data for
 * monitoring beside it, the image to Artifact Registry (or `--image`), then `UploadModel` as a new
 * version of the project's one Vertex model (`parentModel`) with the alias `vN`, and mlship's version
 * record and baseline in the shared registry.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { readBuildInfo, type BuildInfo } from '../../packaging/index.js';
import { OperationError, UsageError } from '../../util/errors.js';
import { sha256File } from '../../util/fs.js';
import type { Manifest } from '../../manifest/types.js';
import { imageSource, pushImage, type ImageRegistry } from '../../deploy/image.js';
import { filesUnder } from '../../deploy/source.js';
import type { PushOptions, PushResult, TargetContext, VersionInfo } from '../../deploy/types.js';
import type { BuildRef } from '../../packaging/index.js';
import type { VertexApi } from './api.js';
import { uploadModelRequest } from './requests.js';
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

function readBuild(dir: string): BuildInfo {
  const info = readBuildInfo(dir);
  if (!info?.model?.file || !info.model.sha256) {
    throw new OperationError('build_invalid', `no finished build in ${dir} (build.json missing or incomplete)`, { hint: 'Run `mlship build` again.' });
  }
  return info;
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

/** The version records, oldest first, keyed by Vertex version id. */
export async function versionRecords(session: VertexSession): Promise<VertexRecord[]> {
  const names = await session.registry.listVersions();
  const records = await Promise.all(names.map((v) => session.registry.readRecord(v)));
  return records.filter((r): r is VertexRecord => r !== undefined);
}

export function versionInfo(rec: VertexRecord, live: string | undefined): VersionInfo {
  const { image, artifactUri, versionId, trainingData, ...base } = rec;
  return { ...base, location: { image, artifactUri, model: `${versionId}`, ...(trainingData && { trainingData }) }, live: rec.version === live };
}

/** Register a build as a new Vertex model version; an identical build returns the version holding it. */
export async function pushVersion(session: VertexSession, ctx: TargetContext, build: BuildRef, options: PushOptions): Promise<PushResult> {
  const { api, r, registry } = session;
  const info = readBuild(build.dir);
  const digest = await sha256File(path.join(build.dir, info.model.file));
  if (digest !== info.model.sha256) {
    throw new OperationError(
      'artifact_digest_mismatch',
      `the build's model artifact changed after the build (sha256 ${digest.slice(0, 12)}…, build.json says ${info.model.sha256.slice(0, 12)}…)`,
      {
        hint: 'Run `mlship build` again.',
      },
    );
  }
  for (const rec of (await versionRecords(session)).reverse()) {
    if (rec.digest === digest && rec.buildId === build.id && (options.image === undefined || rec.image === options.image)) {
      ctx.output.info(`${rec.version} already holds build ${build.id}; nothing pushed`);
      return { version: versionInfo(rec, undefined), created: false };
    }
  }
  const source = await imageSource(artifactRegistry(api, r), build, { image: options.image, env: ctx.env });
  await ensureBucket(api, r, ctx);

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
  const image = 'uri' in source ? source.uri : await pushImage(artifactRegistry(api, r), build, source, { reporter: ctx.output, env: ctx.env });

  const existing = await api.listModelVersions(r.model);
  const expected = `v${existing.reduce((n, m) => Math.max(n, Number(m.versionId ?? 0)), 0) + 1}`;
  const uploaded = await api.uploadModel(
    uploadModelRequest(ctx.manifest, r, {
      image,
      artifactUri: gcsUri(r, keys.artifact(r, build.id)),
      digest,
      buildId: build.id,
      version: expected,
      ...(info.gitCommit && { gitCommit: info.gitCommit }),
      ...(existing.length > 0 && { parentModel: r.model }),
    }),
  );
  const version = `v${uploaded.versionId}`;
  if (version !== expected) {
    // Someone uploaded a version at the same moment: the alias follows the version Vertex assigned.
    await api.mergeVersionAliases({ name: `${r.model}@${uploaded.versionId}`, versionAliases: [version, `-${expected}`] });
  }
  const baseline = path.join(build.dir, info.baseline ?? 'baseline.json');
  if (existsSync(baseline)) await registry.putJson(registry.keys.versionFile(version, 'baseline.json'), JSON.parse(readFileSync(baseline, 'utf8')));
  const metricsFile = [path.join(ctx.manifest.projectDir, 'metrics.json'), path.join(build.dir, 'metrics.json')].find(
    (f) => existsSync(f) && statSync(f).isFile(),
  );
  const record: VertexRecord = {
    version,
    buildId: build.id,
    createdAt: ctx.now().toISOString(),
    digest,
    image,
    artifactUri: gcsUri(r, keys.artifact(r, build.id)),
    versionId: uploaded.versionId,
    ...(trainingData && { trainingData }),
    ...(info.gitCommit && { gitCommit: info.gitCommit }),
    ...(metricsFile && { metrics: JSON.parse(readFileSync(metricsFile, 'utf8')) as Record<string, unknown> }),
    ...(options.parent && { parent: options.parent }),
    ...(options.data && { data: options.data }),
    ...(options.gate && { gate: options.gate }),
  };
  await registry.writeRecord(record);
  ctx.output.info(`registered ${version} as version ${uploaded.versionId} of Vertex model ${r.model}`);
  return { version: versionInfo(record, undefined), created: true };
}

/** The training data (features.baseline) beside the build, for the monitoring job's skew baseline. */
async function uploadTrainingData(api: VertexApi, r: VertexResources, manifest: Manifest, buildId: string): Promise<string | undefined> {
  if (!manifest.features.baseline || !existsSync(manifest.features.baseline)) return undefined;
  const key = keys.trainingData(r, buildId);
  if (!(await api.listObjects(r.bucket, key)).some((o) => o.name === key)) await api.uploadFile(r.bucket, key, manifest.features.baseline);
  return gcsUri(r, key);
}
