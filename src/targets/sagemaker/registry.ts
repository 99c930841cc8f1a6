/**
 * The registry on SageMaker. The Model Package Group is the list of versions (package version N is
 * mlship's `vN`); next to each package mlship keeps `versions/vN/version.json` (digest, build, image,
 * baseline locations) in S3. The history of which version was live when is append-only: one S3
 * object per event under `history/`, never rewritten, so concurrent writers cannot tear it and any
 * machine with access to the bucket sees the same history.
 */
import { randomBytes } from 'node:crypto';
import type { HistoryEntry, VersionInfo } from '../types.js';
import type { AwsApi } from './api.js';
import { ifExists } from './aws-client.js';
import type { VersionRecord } from './requests.js';
import { keys, type Resources } from './resources.js';

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

/** The version number of `vN`, for sorting. */
export function versionNumber(version: string): number {
  return Number(version.replace(/^v/, ''));
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
  };
}

export class S3Registry {
  constructor(
    private readonly api: AwsApi,
    private readonly r: Resources,
  ) {}

  /** The group's model packages, oldest first (empty when the group does not exist yet). */
  async packages(): Promise<PackageInfo[]> {
    const out: PackageInfo[] = [];
    let token: string | undefined;
    do {
      const page = await ifExists(() => this.api.listModelPackages({ ModelPackageGroupName: this.r.packageGroup, MaxResults: 100, ...(token && { NextToken: token }) }));
      if (!page) break;
      for (const p of page.ModelPackageSummaryList ?? []) {
        const version = p.ModelPackageVersion !== undefined ? `v${p.ModelPackageVersion}` : versionFromArn(p.ModelPackageArn ?? '');
        if (!version || !p.ModelPackageArn) continue;
        out.push({ version, arn: p.ModelPackageArn, approval: p.ModelApprovalStatus ?? 'Unknown', ...(p.CreationTime && { createdAt: new Date(p.CreationTime).toISOString() }) });
      }
      token = page.NextToken;
    } while (token);
    return out.sort((a, b) => versionNumber(a.version) - versionNumber(b.version));
  }

  /** A version's record, or undefined when mlship did not write one (e.g. registered by the pipeline). */
  async record(version: string): Promise<VersionRecord | undefined> {
    const text = await this.getText(keys.versionRecord(this.r, version));
    return text === undefined ? undefined : (JSON.parse(text) as VersionRecord);
  }

  async writeRecord(record: VersionRecord): Promise<void> {
    await this.putJson(keys.versionRecord(this.r, record.version), record);
  }

  /** Append one history event (a new object; nothing is rewritten). */
  async append(entry: HistoryEntry): Promise<void> {
    const key = `${keys.historyDir(this.r)}${entry.ts.replace(/[:.]/g, '-')}-${randomBytes(4).toString('hex')}.json`;
    await this.putJson(key, entry);
  }

  /** The whole history, oldest first. */
  async history(): Promise<HistoryEntry[]> {
    const listed = await this.list(keys.historyDir(this.r));
    const entries = await Promise.all(listed.map(async (key) => JSON.parse((await this.getText(key)) ?? 'null') as HistoryEntry | null));
    return entries.filter((e): e is HistoryEntry => e !== null).sort((a, b) => a.ts.localeCompare(b.ts));
  }

  /** Keys under a prefix (all pages). */
  async list(prefix: string): Promise<string[]> {
    const out: string[] = [];
    let token: string | undefined;
    do {
      const page = await ifExists(() => this.api.listObjectsV2({ Bucket: this.r.bucket, Prefix: prefix, ...(token && { ContinuationToken: token }) }));
      if (!page) break;
      for (const o of page.Contents ?? []) if (o.Key) out.push(o.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  async getText(key: string): Promise<string | undefined> {
    const body = await ifExists(() => this.api.getObject({ Bucket: this.r.bucket, Key: key }));
    return body ? body.text() : undefined;
  }

  async putJson(key: string, value: unknown): Promise<void> {
    await this.api.putObject({ Bucket: this.r.bucket, Key: key, Body: `${JSON.stringify(value, null, 2)}\n`, ContentType: 'application/json' });
  }
}
