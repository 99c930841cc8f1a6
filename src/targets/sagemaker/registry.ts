/**
 * The registry on SageMaker. The Model Package Group is the list of versions (package version N is
 * mlship's `vN`); beside it, the shared layout of src/deploy/registry.ts in the project's S3
 * root: `versions/vN/version.json` (digest, build, image, baseline locations) and the append-only
 * `history/`, one object per event.
 */
import { versionNumber } from '../../deploy/history.js';
import { ObjectRegistry } from '../../deploy/registry.js';
import type { VersionInfo } from '../../deploy/types.js';
import type { AwsApi } from './api.js';
import { ifExists } from './aws-client.js';
import type { VersionRecord } from './requests.js';
import type { Resources } from './resources.js';
import { S3Store } from './s3-store.js';

/** A model package as mlship sees it. */
export interface PackageInfo {
  version: string;
  arn: string;
  approval: string;
  createdAt?: string;
}

/** `vN` from a model package ARN `…:model-package/<group>/N`. */
export function versionFromArn(arn: string): string | undefined {
  const m = /model-package\/[^/]+\/(\d+)$/.exec(arn);
  return m ? `v${m[1]}` : undefined;
}

/** mlship's view of a version: the package and, when mlship pushed it, its record. */
export function versionInfo(p: PackageInfo, rec: VersionRecord | undefined, live: string | undefined): VersionInfo {
  return {
    version: p.version,
    buildId: rec?.buildId ?? 'unknown',
    createdAt: rec?.createdAt ?? p.createdAt ?? '',
    digest: rec?.digest ?? '',
    ...(rec?.gitCommit && { gitCommit: rec.gitCommit }),
    ...(rec?.metrics && { metrics: rec.metrics }),
    ...(rec?.parent && { parent: rec.parent }),
    ...(rec?.data && { data: rec.data }),
    ...(rec?.gate && { gate: rec.gate }),
    location: { modelPackageArn: p.arn, approval: p.approval, ...(rec && { image: rec.image, modelDataUrl: rec.modelDataUrl }) },
    live: p.version === live,
    ...(p.approval === 'PendingManualApproval' && { pending: true }),
  };
}

/**
 * The project's registry on SageMaker: the shared version records and append-only history in S3
 * (`ObjectRegistry`), with the Model Package Group as the list of versions.
 */
export class S3Registry extends ObjectRegistry<VersionRecord> {
  constructor(
    private readonly api: AwsApi,
    private readonly r: Resources,
  ) {
    super(new S3Store(api, r.bucket), r.root);
  }

  /** The group's model packages, oldest first (empty when the group does not exist yet). */
  async packages(): Promise<PackageInfo[]> {
    const out: PackageInfo[] = [];
    let token: string | undefined;
    do {
      const page = await ifExists(() =>
        this.api.listModelPackages({ ModelPackageGroupName: this.r.packageGroup, MaxResults: 100, ...(token && { NextToken: token }) }),
      );
      if (!page) break;
      for (const p of page.ModelPackageSummaryList ?? []) {
        const version = p.ModelPackageVersion !== undefined ? `v${p.ModelPackageVersion}` : versionFromArn(p.ModelPackageArn ?? '');
        if (!version || !p.ModelPackageArn) continue;
        out.push({
          version,
          arn: p.ModelPackageArn,
          approval: p.ModelApprovalStatus ?? 'Unknown',
          ...(p.CreationTime && { createdAt: new Date(p.CreationTime).toISOString() }),
        });
      }
      token = page.NextToken;
    } while (token);
    return out.sort((a, b) => versionNumber(a.version) - versionNumber(b.version));
  }
}
