/**
 * History and rollback policy, the same on every target: who acted (`actor`), how a history entry
 * looks, how many entries `status` shows, "live since", which version a rollback goes back to, and one
 * typed error per situation with one exit code each. Targets store history their own way (a JSONL
 * file locally, one object per event in S3/GCS/Blob) behind `HistoryLog`; the decisions are here.
 */
import { hostname, userInfo } from 'node:os';
import { UsageError } from '../util/errors.js';
import type { Actor, HistoryEntry, TargetContext } from './types.js';

/** Where a target keeps its append-only history of which version was live when. */
export interface HistoryLog {
  /** Append one entry; nothing is ever rewritten. */
  appendHistory(entry: HistoryEntry): Promise<void>;
  /** The whole history, oldest first. */
  history(): Promise<HistoryEntry[]>;
}

/** How many of the newest history entries `status` shows, on every target. */
export const STATUS_HISTORY_LIMIT = 20;

/** The newest entries `status` shows. */
export function recentHistory(history: readonly HistoryEntry[]): HistoryEntry[] {
  return history.slice(-STATUS_HISTORY_LIMIT);
}

/** Who is acting: the command, the OS user (or `$USER` where there is no passwd entry), the host. */
export function actor(command: string, env: NodeJS.ProcessEnv = process.env): Actor {
  let user = env.USER ?? 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (containers): keep $USER
  }
  return { command, user, host: hostname() };
}

/** A history entry stamped with the context's clock and actor. */
export function historyEntry(
  ctx: Pick<TargetContext, 'command' | 'env' | 'now'>,
  action: HistoryEntry['action'],
  version: string | undefined,
  previous: string | undefined,
  details: Record<string, unknown> = {},
): HistoryEntry {
  return {
    ts: ctx.now().toISOString(),
    action,
    ...(version && { version }),
    ...(previous && previous !== version && { previous }),
    by: actor(ctx.command, ctx.env),
    details,
  };
}

/** When `version` last became live (the newest deploy or rollback to it), from the history. */
export function liveSince(history: readonly HistoryEntry[], version: string): string | undefined {
  for (let i = history.length - 1; i >= 0; i--) {
    const h = history[i]!;
    if (h.version === version && (h.action === 'deploy' || h.action === 'rollback')) return h.ts;
  }
  return undefined;
}

/** The number of `vN`, for ordering. */
export function versionNumber(version: string): number {
  return Number(version.replace(/^v/, ''));
}

// ---- the errors: one situation, one code, one exit code, on every target ----

/** Nothing is registered yet (deploy, rollback, baseline). Exit 2. */
export class NoVersionsError extends UsageError {
  constructor(where: string, hint = 'Run `mlship build` and `mlship push` first.') {
    super(`no versions are registered in ${where}`, { code: 'no_versions', hint });
  }
}

/** `--version vN` / `--to vN` names a version that is not registered. Exit 2. */
export class VersionNotFoundError extends UsageError {
  constructor(version: string, where: string, known: readonly string[]) {
    super(`no version ${version} in ${where}`, {
      code: 'version_not_found',
      hint: known.length > 0 ? `Registered versions: ${known.join(', ')}.` : 'Run `mlship push` to register the current build.',
      details: { version, known: [...known] },
    });
  }
}

/** Rollback with nothing live. Exit 2. */
export class NothingLiveError extends UsageError {
  constructor(where: string) {
    super(`nothing is live on ${where}, so there is nothing to roll back`, {
      code: 'nothing_live',
      hint: 'Deploy a version with `mlship deploy`, or name one: `mlship rollback --to vN`.',
    });
  }
}

/** Rollback from the first version ever made live: there is nothing before it. Exit 2. */
export class NoPreviousVersionError extends UsageError {
  constructor(live: string, where: string) {
    super(`no version was live before ${live} on ${where}, so there is nothing to roll back to`, {
      code: 'no_previous_version',
      hint: 'Name the version with `mlship rollback --to vN` (see `mlship status`).',
      details: { live },
    });
  }
}

/** Rollback to the version that is already live. Exit 2. */
export class AlreadyLiveError extends UsageError {
  constructor(version: string, where: string) {
    super(`${version} is already live on ${where}`, { code: 'already_live', hint: 'Name another version with --to vN (see `mlship status`).' });
  }
}

/** A version as rollback sees it: registered, and whether it was rejected (rolled back from) since. */
export interface RollbackCandidate {
  version: string;
  rejected?: boolean;
}

/**
 * The version a rollback makes live: `--to` when given (it must be registered and not live);
 * otherwise the version that was live before the live one (from the history entry that made it
 * live), else the newest older registered version not rejected. Throws the typed errors above.
 */
export function chooseRollback(input: {
  /** The target's place, for messages: `the local target`, `endpoint churn (us-east-1)`. */
  where: string;
  live: string | undefined;
  to?: string;
  history: readonly HistoryEntry[];
  versions: readonly RollbackCandidate[];
}): string {
  const { where, live, to, history, versions } = input;
  if (to !== undefined) {
    if (!versions.some((v) => v.version === to))
      throw new VersionNotFoundError(
        to,
        where,
        versions.map((v) => v.version),
      );
    if (to === live) throw new AlreadyLiveError(to, where);
    return to;
  }
  if (!live) throw new NothingLiveError(where);
  for (let i = history.length - 1; i >= 0; i--) {
    const h = history[i]!;
    if (h.version === live && (h.action === 'deploy' || h.action === 'rollback')) {
      if (h.previous && h.previous !== live && versions.some((v) => v.version === h.previous)) return h.previous;
      break;
    }
  }
  const older = [...versions].reverse().find((v) => versionNumber(v.version) < versionNumber(live) && !v.rejected);
  if (older) return older.version;
  throw new NoPreviousVersionError(live, where);
}
