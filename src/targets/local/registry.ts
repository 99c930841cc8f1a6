/**
 * The local registry under `.mlship/registry/`:
 *
 *   blobs/sha256/<digest>        model artifacts, stored once by digest (read-only)
 *   versions/vN/version.json     the version record (build id, digest, metrics, lineage…)
 *   versions/vN/context/         the build context (app, features, Dockerfile, build.json, baseline.json)
 *   versions/vN/model/<file>     a hard link to the blob (the folder the app is started with)
 *   history.jsonl                append-only: which version was live when, and who made it so
 *   .lock                        serialises writers (see `withLock`)
 *
 * A version appears by renaming a fully written temp folder to `versions/vN`, under the lock, so two
 * concurrent pushes get two versions and a reader never sees half a version.
 */
import { appendFileSync, chmodSync, cpSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { OperationError } from '../../util/errors.js';
import { VersionNotFoundError, type HistoryLog } from '../../deploy/history.js';
import { readJson, sha256File, withLock, writeJsonAtomic } from '../../util/fs.js';
import { checkBuild, newRecord } from '../../deploy/versions.js';
import type { BuildInfo } from '../../packaging/index.js';
import { localPython } from '../../packaging/local-python.js';
import type { BaselineProfile } from '../../baseline/profile.js';
import type { HistoryEntry, PushOptions, VersionInfo } from '../../deploy/types.js';
import type { BuildRef } from '../../packaging/index.js';

/** The stored record of a version (`version.json`). */
export type VersionRecord = Omit<VersionInfo, 'live'>;

/** Versions in folders and the history as JSON lines; the history policy is the shared one (shared/history.ts). */
export class LocalRegistry implements HistoryLog {
  readonly root: string;

  constructor(mlshipDir: string) {
    this.root = path.join(mlshipDir, 'registry');
  }

  private get versionsDir(): string {
    return path.join(this.root, 'versions');
  }

  private get historyFile(): string {
    return path.join(this.root, 'history.jsonl');
  }

  /** Folder of a version. */
  versionDir(version: string): string {
    return path.join(this.versionsDir, version);
  }

  /** The build context stored with a version. */
  contextDir(version: string): string {
    return path.join(this.versionDir(version), 'context');
  }

  /** The folder holding the version's artifact (what the app gets as MLSHIP_MODEL_DIR). */
  modelDir(version: string): string {
    return path.join(this.versionDir(version), 'model');
  }

  /** All versions, oldest first. */
  list(): VersionRecord[] {
    if (!existsSync(this.versionsDir)) return [];
    return readdirSync(this.versionsDir)
      .filter((d) => /^v\d+$/.test(d))
      .sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)))
      .map((v) => readJson<VersionRecord>(path.join(this.versionsDir, v, 'version.json')))
      .filter((r): r is VersionRecord => r !== undefined);
  }

  /** One version, or a usage error naming the ones that exist. */
  get(version: string): VersionRecord {
    const record = readJson<VersionRecord>(path.join(this.versionDir(version), 'version.json'));
    if (!record)
      throw new VersionNotFoundError(
        version,
        'the local registry',
        this.list().map((v) => v.version),
      );
    return record;
  }

  /** The newest version, if any. */
  newest(): VersionRecord | undefined {
    return this.list().at(-1);
  }

  /** Register a build; an already registered build returns its version with `created: false`. */
  async push(build: BuildRef, options: PushOptions & { metrics?: Record<string, unknown>; now: Date }): Promise<{ record: VersionRecord; created: boolean }> {
    const checked = await checkBuild(build);
    const { info, modelPath: artifact, digest } = checked;
    return withLock(path.join(this.root, '.lock'), () => {
      const existing = this.list().find((v) => v.buildId === info.id);
      if (existing) return { record: existing, created: false };

      const blob = this.storeBlob(artifact, digest);
      const next = `v${this.list().reduce((n, v) => Math.max(n, Number(v.version.slice(1))), 0) + 1}`;
      const tmp = path.join(this.versionsDir, `.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
      try {
        cpSync(build.dir, path.join(tmp, 'context'), { recursive: true, filter: (src) => path.resolve(src) !== path.resolve(artifact) });
        mkdirSync(path.join(tmp, 'model'), { recursive: true });
        linkSync(blob, path.join(tmp, 'model', path.basename(info.model.file)));
        const record: VersionRecord = {
          ...newRecord(next, checked, build, options, { createdAt: options.now.toISOString(), ...(options.metrics && { metrics: options.metrics }) }),
          ...(options.image && { location: { image: options.image } }),
        };
        writeJsonAtomic(path.join(tmp, 'version.json'), record);
        renameSync(tmp, this.versionDir(next));
        return { record, created: true };
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    });
  }

  /** Copy an artifact into the blob store once; blobs are read-only. */
  private storeBlob(file: string, digest: string): string {
    const blob = path.join(this.root, 'blobs', 'sha256', digest);
    if (!existsSync(blob)) {
      mkdirSync(path.dirname(blob), { recursive: true });
      const tmp = `${blob}.${process.pid}.tmp`;
      cpSync(file, tmp);
      chmodSync(tmp, 0o444);
      renameSync(tmp, blob);
    }
    return blob;
  }

  /** Check a version's artifact against its recorded digest (throws when it was corrupted or tampered with) and that it runs here. */
  async verify(version: string): Promise<{ artifact: string; python?: string; build: BuildInfo }> {
    const record = this.get(version);
    const build = readJson<BuildInfo>(path.join(this.contextDir(version), 'build.json'));
    if (!build) throw new OperationError('version_corrupt', `version ${version} has no build.json`, { hint: 'Push the build again.' });
    const artifact = path.join(this.modelDir(version), path.basename(build.model.file));
    let digest: string;
    try {
      digest = await sha256File(artifact);
    } catch {
      throw new OperationError('artifact_missing', `the model artifact of ${version} is missing (${artifact})`, {
        hint: 'Push the build again to restore it.',
      });
    }
    if (digest !== record.digest || digest !== build.model.sha256) {
      throw new OperationError(
        'artifact_digest_mismatch',
        `the model artifact of ${version} is corrupted or was modified: sha256 ${digest.slice(0, 12)}…, registered ${record.digest.slice(0, 12)}…`,
        {
          hint: 'Refusing to serve it. Rebuild and push a new version, or deploy another version with --version.',
          details: { version, expected: record.digest, actual: digest, artifact },
        },
      );
    }
    // A build.json without a runtime (older, hand-made) falls back to the configured interpreter.
    return { artifact, python: build.runtime === undefined ? undefined : localPython(build, `serve ${version} on the local target`), build };
  }

  /** The baseline profile stored with a version. */
  baseline(version: string): BaselineProfile {
    const profile = readJson<BaselineProfile>(path.join(this.contextDir(version), 'baseline.json'));
    if (!profile) {
      throw new OperationError('baseline_missing', `version ${version} has no baseline profile`, {
        hint: 'Set features.baseline in mlship.yaml, then build and push again.',
      });
    }
    return profile;
  }

  /** Append one history entry (a single write: readers never see half a line). */
  async appendHistory(entry: HistoryEntry): Promise<void> {
    await withLock(path.join(this.root, '.lock'), () => {
      mkdirSync(this.root, { recursive: true });
      appendFileSync(this.historyFile, `${JSON.stringify(entry)}\n`);
    });
  }

  /** The whole history, oldest first; a torn last line (crash mid-write) is skipped. */
  async history(): Promise<HistoryEntry[]> {
    if (!existsSync(this.historyFile)) return [];
    const out: HistoryEntry[] = [];
    for (const line of readFileSync(this.historyFile, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        out.push(JSON.parse(line) as HistoryEntry);
      } catch {
        // skip a line a crash cut short
      }
    }
    return out;
  }
}
