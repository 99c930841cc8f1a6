/**
 * SageMaker's calls in the shared push (src/deploy/push.ts): the model as `model.tar.gz` in S3
 * (content-addressed by its sha256), the image in ECR, the baseline's Model Monitor export, and a
 * model package in the project's Model Package Group.
 */
import { OperationError } from '../../util/errors.js';
import type { BaselineProfile } from '../../baseline/profile.js';
import type { CloudPush } from '../../deploy/push.js';
import type { TargetContext } from '../../deploy/types.js';
import type { BuildRef } from '../../packaging/index.js';
import type { AwsApi } from './api.js';
import { ecrRegistry, packModel } from './artifact.js';
import { ifExists } from './aws-client.js';
import { chooseCompute } from './instance.js';
import { driftThreshold, monitorConstraints, monitorStatistics } from './monitor-baseline.js';
import { versionInfo, type PackageInfo, type S3Registry } from './registry.js';
import { bucketRequests, modelPackageRequest, type VersionRecord } from './requests.js';
import { keys, s3Uri, type Resources } from './resources.js';
import type { Session } from './session.js';

/** SageMaker's part of the shared push (src/deploy/push.ts). */
export function sagemakerPush(session: Session, ctx: TargetContext): CloudPush<VersionRecord, string> {
  const { api, r, registry } = session;
  const packages = new Map<string, PackageInfo>();
  const pkgOf = (rec: VersionRecord) =>
    packages.get(rec.version) ?? { version: rec.version, arn: rec.modelPackageArn, approval: rec.pending ? 'PendingManualApproval' : 'Approved' };
  return {
    registry,
    async records() {
      const listed = await registry.packages();
      for (const p of listed) packages.set(p.version, p);
      return (await Promise.all(listed.map((p) => registry.readRecord(p.version)))).filter((x): x is VersionRecord => x !== undefined);
    },
    info: (rec) => versionInfo(pkgOf(rec), rec, undefined),
    images: async () => ecrRegistry(api, r),
    prepare: () => ensureBucket(api, r, ctx),
    async uploadArtifact({ modelPath, digest }) {
      const key = keys.artifact(r, digest);
      if (await registry.store.exists(key)) return s3Uri(r, key);
      const packed = await packModel(modelPath);
      try {
        const progress = await ctx.output.progress(`uploading model.tar.gz to ${s3Uri(r, key)}`);
        await registry.store.putFile(key, packed.file, { contentType: 'application/gzip', metadata: { 'mlship-sha256': digest } });
        progress.succeed(`uploaded ${s3Uri(r, key)}`);
      } finally {
        packed.cleanup();
      }
      return s3Uri(r, key);
    },
    async register({ checked, build, image, artifact, baseline: profile, options }) {
      // The baseline's Model Monitor export, stored by build (content-addressed) before the package refers to it.
      const monitor = profile && (await uploadMonitorBaseline(ctx, r, registry, build, profile));
      if (!(await ifExists(() => api.describeModelPackageGroup({ ModelPackageGroupName: r.packageGroup })))) {
        await api.createModelPackageGroup({ ModelPackageGroupName: r.packageGroup, ModelPackageGroupDescription: `mlship versions of ${ctx.manifest.name}` });
      }
      const created = await api.createModelPackage(
        modelPackageRequest(ctx.manifest, r, {
          image,
          modelDataUrl: artifact,
          digest: checked.digest,
          buildId: build.id,
          instanceTypes: [chooseCompute(ctx.manifest).instanceType],
          requireApproval: options.requireApproval === true || options.pending === true,
          ...monitor,
        }),
      );
      const arn = created.ModelPackageArn;
      const pkg = arn ? (await registry.packages()).find((p) => p.arn === arn) : undefined;
      if (!arn || !pkg) throw new OperationError('aws_error', `SageMaker did not return the new model package of group ${r.packageGroup}`);
      packages.set(pkg.version, pkg);
      // The profile itself is the one the shared push writes beside every version.
      const baseline = monitor && { profile: s3Uri(r, registry.keys.versionFile(pkg.version, 'baseline.json')), ...monitor };
      return {
        version: pkg.version,
        fields: { image, modelDataUrl: artifact, modelPackageArn: arn, modelBytes: checked.info.model.bytes, ...(baseline && { baseline }) },
      };
    },
    registeredMessage: (rec) => `registered ${rec.version} as model package ${rec.modelPackageArn}`,
  };
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

/** The baseline's Model Monitor export (statistics, constraints), stored by build id (content-addressed). */
async function uploadMonitorBaseline(
  ctx: TargetContext,
  r: Resources,
  registry: S3Registry,
  build: BuildRef,
  profile: BaselineProfile,
): Promise<{ statistics: string; constraints: string }> {
  const dir = `${r.root}/builds/${build.id}`;
  await registry.putJson(`${dir}/statistics.json`, monitorStatistics(ctx.manifest, profile));
  await registry.putJson(`${dir}/constraints.json`, monitorConstraints(ctx.manifest, profile, driftThreshold(ctx.manifest)));
  return { statistics: s3Uri(r, `${dir}/statistics.json`), constraints: s3Uri(r, `${dir}/constraints.json`) };
}
