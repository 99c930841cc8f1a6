/**
 * Versions, the same on every target: what a push checks before anything is uploaded (a finished
 * build whose artifact still has the digest `build.json` recorded), what a version record keeps
 * (build, digest, metrics, lineage `parent`/`data`/`gate`, the pending flag), and which version a
 * deploy takes (`resolveVersion`: the named one, else the newest promoted one; a pending version —
 * registered by a retraining pipeline and not promoted yet — is passed over unless named). Targets
 * store records their own way; these rules are here once.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { OperationError } from '../util/errors.js';
import { sha256File } from '../util/fs.js';
import type { Manifest } from '../manifest/types.js';
import { readBuildInfo, type BuildInfo, type BuildRef } from '../packaging/index.js';
import { NoVersionsError, VersionNotFoundError } from './history.js';
import type { HistoryEntry, PushOptions, VersionInfo } from './types.js';

/** How long `mlship retrain` follows a run of a target's retraining pipeline when `--timeout` is not given. */
export const RETRAINING_TIMEOUT_S = 6 * 3600;

/** A build ready to push: its `build.json`, the model file, and the model's sha256 as it is now. */
export interface CheckedBuild {
  info: BuildInfo;
  modelPath: string;
  digest: string;
}

/**
 * Read a finished build and re-hash its model: a model changed after `mlship build` (or a build.json
 * edited by hand) is refused before anything is uploaded or registered.
 */
export async function checkBuild(build: BuildRef): Promise<CheckedBuild> {
  const info = readBuildInfo(build.dir);
  if (!info?.model?.file || !info.model.sha256) {
    throw new OperationError('build_invalid', `no finished build in ${build.dir} (build.json missing or incomplete)`, { hint: 'Run `mlship build` again.' });
  }
  const modelPath = path.join(build.dir, info.model.file);
  if (!existsSync(modelPath)) {
    throw new OperationError('artifact_missing', `the build's model artifact ${modelPath} is missing`, { hint: 'Run `mlship build` again.' });
  }
  const digest = await sha256File(modelPath);
  if (digest !== info.model.sha256) {
    throw new OperationError(
      'artifact_digest_mismatch',
      `the build's model artifact changed after the build (sha256 ${digest.slice(0, 12)}…, build.json says ${info.model.sha256.slice(0, 12)}…)`,
      { hint: 'Run `mlship build` again.', details: { expected: info.model.sha256, actual: digest, artifact: modelPath } },
    );
  }
  return { info, modelPath, digest };
}

/** The training code's metrics.json: beside the manifest (what `python train.py` just wrote), else in the build. */
export function readMetrics(manifest: Manifest, build: BuildRef): Record<string, unknown> | undefined {
  for (const dir of [manifest.projectDir, build.dir]) {
    const file = path.join(dir, 'metrics.json');
    if (!existsSync(file) || !statSync(file).isFile()) continue;
    try {
      const value = JSON.parse(readFileSync(file, 'utf8')) as unknown;
      if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
    } catch {
      // not JSON: no metrics
    }
  }
  return undefined;
}

/** What every version record holds, whichever target stores it. */
export type VersionRecordBase = Omit<VersionInfo, 'live' | 'location'>;

/** The record of a build being pushed: build, digest, git commit, metrics, lineage and the pending flag. */
export function newRecord(
  version: string,
  checked: CheckedBuild,
  build: BuildRef,
  options: PushOptions,
  facts: { createdAt: string; metrics?: Record<string, unknown> },
): VersionRecordBase {
  return {
    version,
    buildId: build.id,
    createdAt: facts.createdAt,
    digest: checked.digest,
    ...(checked.info.gitCommit && { gitCommit: checked.info.gitCommit }),
    ...(facts.metrics && { metrics: facts.metrics }),
    ...lineageOf(options),
  };
}

/** The lineage facts of a push (retraining): parent, training data, the gate's verdict, pending. */
export function lineageOf(options: Pick<PushOptions, 'parent' | 'data' | 'gate' | 'pending'>): Pick<VersionRecordBase, 'parent' | 'data' | 'gate' | 'pending'> {
  return {
    ...(options.parent && { parent: options.parent }),
    ...(options.data && { data: options.data }),
    ...(options.gate && { gate: options.gate }),
    ...(options.pending && { pending: true }),
  };
}

/** The version already holding this build (same model, same build, same image when one is named): a push of it is a no-op. */
export function findSameBuild<V extends { digest: string; buildId: string }>(
  records: readonly V[],
  build: BuildRef,
  digest: string,
  image: { wanted?: string; of: (v: V) => string | undefined },
): V | undefined {
  return [...records].reverse().find((v) => v.digest === digest && v.buildId === build.id && (image.wanted === undefined || image.of(v) === image.wanted));
}

/**
 * The version a deploy makes live: the named one (pending or not: naming it promotes it), else the
 * newest one that is not pending. Throws `no_versions` (nothing registered, or only pending ones,
 * naming them) and `version_not_found` (exit 2).
 */
export function resolveVersion<V extends { version: string; pending?: boolean }>(
  versions: readonly V[],
  requested: string | undefined,
  where: string,
  pushHint?: string,
): V {
  if (versions.length === 0) throw new NoVersionsError(where, pushHint);
  if (requested !== undefined) {
    const named = versions.find((v) => v.version === requested);
    if (!named)
      throw new VersionNotFoundError(
        requested,
        where,
        versions.map((v) => v.version),
      );
    return named;
  }
  const promoted = [...versions].reverse().find((v) => !v.pending);
  if (promoted) return promoted;
  const pending = versions.map((v) => v.version);
  throw new NoVersionsError(
    where,
    `Only versions pending promotion are registered (${pending.join(', ')}); deploy one by name: \`mlship deploy --version ${pending.at(-1)}\`.`,
  );
}

/**
 * A pending version stops being pending once it has been live: deploying it by name promotes it.
 * For targets whose records are not rewritten on promotion, the history says so.
 */
export function settlePending<V extends { version: string; pending?: boolean }>(versions: readonly V[], history: readonly HistoryEntry[]): V[] {
  const wasLive = new Set(history.filter((h) => h.version && (h.action === 'deploy' || h.action === 'rollback')).map((h) => h.version!));
  return versions.map((v) => {
    if (!v.pending || !wasLive.has(v.version)) return v;
    const { pending: _, ...rest } = v;
    return rest as V;
  });
}
