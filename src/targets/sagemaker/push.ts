/**
 * `push` on SageMaker: the model as `model.tar.gz` in S3 (content-addressed by its sha256), the image
 * in ECR (or `--image`), the baseline and its Model Monitor export, and a model package in the
 * project's Model Package Group, with mlship's version record beside it.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { OperationError } from '../../util/errors.js';
import type { BaselineProfile } from '../../baseline/profile.js';
import type { PushOptions, PushResult, TargetContext } from '../../deploy/types.js';
import type { BuildRef } from '../../packaging/index.js';
import type { AwsApi } from './api.js';
import { imageSource, pushImage } from '../../deploy/image.js';
import { ecrRegistry, packModel } from './artifact.js';
import { checkBuild, findSameBuild, newRecord, readMetrics } from '../../deploy/versions.js';
import { ifExists } from './aws-client.js';
import { chooseCompute } from './instance.js';
import { driftThreshold, monitorConstraints, monitorStatistics } from './monitor-baseline.js';
import { versionInfo, type S3Registry } from './registry.js';
import { bucketRequests, modelPackageRequest, type VersionRecord } from './requests.js';
import { keys, s3Uri, type Resources } from './resources.js';
import type { Session } from './session.js';

/**
 * Register a build as a new version; an identical build (same model digest, build and image) returns
 * the version that holds it.
 */
export async function pushVersion(session: Session, ctx: TargetContext, build: BuildRef, options: PushOptions): Promise<PushResult> {
  const checked = await checkBuild(build);
  const { info, modelPath, digest } = checked;
  const { api, r, registry } = session;
  const out = ctx.output;

  // An identical build (same model, same build, same image) is already a version: no duplicate.
  const packages = await registry.packages();
  const records = (await Promise.all(packages.map((p) => registry.readRecord(p.version)))).filter((x): x is VersionRecord => x !== undefined);
  const same = findSameBuild(records, build, digest, { wanted: options.image, of: (x) => x.image });
  if (same) {
    out.info(`${same.version} already holds build ${build.id}; nothing pushed`);
    return { version: versionInfo(packages.find((p) => p.version === same.version)!, same, undefined), created: false };
  }

  // Know where the image comes from before uploading anything.
  const images = ecrRegistry(api, r);
  const source = await imageSource(images, build, { image: options.image, env: ctx.env, ...(options.builder && { builder: options.builder }) });
  await ensureBucket(api, r, ctx);
  const artifactKey = keys.artifact(r, digest);
  if (!(await registry.store.exists(artifactKey))) {
    const packed = await packModel(modelPath);
    try {
      const progress = await out.progress(`uploading model.tar.gz to ${s3Uri(r, artifactKey)}`);
      await registry.store.putFile(artifactKey, packed.file, { contentType: 'application/gzip', metadata: { 'mlship-sha256': digest } });
      progress.succeed(`uploaded ${s3Uri(r, artifactKey)}`);
    } finally {
      packed.cleanup();
    }
  }
  const image = 'uri' in source ? source.uri : await pushImage(images, build, source, { reporter: out, env: ctx.env });

  // The baseline and its Model Monitor export, stored by build (content-addressed) before the package refers to them.
  const baseline = await uploadBaseline(ctx, r, registry, build, info.baseline ?? 'baseline.json');

  if (!(await ifExists(() => api.describeModelPackageGroup({ ModelPackageGroupName: r.packageGroup })))) {
    await api.createModelPackageGroup({ ModelPackageGroupName: r.packageGroup, ModelPackageGroupDescription: `mlship versions of ${ctx.manifest.name}` });
  }
  const compute = chooseCompute(ctx.manifest);
  const created = await api.createModelPackage(
    modelPackageRequest(ctx.manifest, r, {
      image,
      modelDataUrl: s3Uri(r, artifactKey),
      digest,
      buildId: build.id,
      instanceTypes: [compute.instanceType],
      requireApproval: options.requireApproval === true || options.pending === true,
      ...(baseline && { statistics: baseline.statistics, constraints: baseline.constraints }),
    }),
  );
  const arn = created.ModelPackageArn;
  const pkg = arn ? (await registry.packages()).find((p) => p.arn === arn) : undefined;
  if (!arn || !pkg) throw new OperationError('aws_error', `SageMaker did not return the new model package of group ${r.packageGroup}`);
  const record: VersionRecord = {
    ...newRecord(pkg.version, checked, build, options, { createdAt: ctx.now().toISOString(), metrics: readMetrics(ctx.manifest, build) }),
    image,
    modelDataUrl: s3Uri(r, artifactKey),
    modelPackageArn: arn,
    ...(baseline && { baseline }),
  };
  await registry.writeRecord(record);
  return { version: versionInfo(pkg, record, undefined), created: true };
}

/** The artifact bucket, created encrypted and private when missing. */
async function ensureBucket(api: AwsApi, r: Resources, ctx: TargetContext): Promise<void> {
  if (await ifExists(() => api.headBucket({ Bucket: r.bucket }))) return;
  const req = bucketRequests(r);
  ctx.output.info(`creating bucket s3://${r.bucket} (encrypted, public access blocked)`);
  await api.createBucket(req.create);
  await api.putBucketEncryption(req.encryption);
  await api.putPublicAccessBlock(req.publicAccess);
}

/** The build's baseline profile and its Model Monitor export, stored by build id (content-addressed). */
async function uploadBaseline(ctx: TargetContext, r: Resources, registry: S3Registry, build: BuildRef, name: string): Promise<VersionRecord['baseline']> {
  const file = path.join(build.dir, name);
  if (!existsSync(file)) return undefined;
  const profile = JSON.parse(readFileSync(file, 'utf8')) as BaselineProfile;
  const dir = `${r.root}/builds/${build.id}`;
  const threshold = driftThreshold(ctx.manifest);
  await registry.putJson(`${dir}/baseline.json`, profile);
  await registry.putJson(`${dir}/statistics.json`, monitorStatistics(ctx.manifest, profile));
  await registry.putJson(`${dir}/constraints.json`, monitorConstraints(ctx.manifest, profile, threshold));
  return { profile: s3Uri(r, `${dir}/baseline.json`), statistics: s3Uri(r, `${dir}/statistics.json`), constraints: s3Uri(r, `${dir}/constraints.json`) };
}
