/**
 * The registry over an object store, the same layout on every cloud, under the project's root prefix:
 *
 *   versions/vN/version.json     the version record (build, digest, image, artifact and baseline URIs, lineage)
 *   versions/vN/baseline.json    the drift baseline profile (and any other per-version files)
 *   history/<ts>-<random>.json   one object per event, never rewritten: concurrent writers cannot tear
 *                                it, and any machine with access to the bucket sees the same history
 *   feedback/feedback-YYYY-MM-DD.jsonl
 *                                ground truth the user uploads (`{"ts", "id", "label"}` lines, the
 *                                serving app's own feedback format) for `mlship quality` and
 *                                `retrain --from-logs`: a cloud endpoint routes only predictions to
 *                                the container, so its `POST /feedback` is not reachable there
 *
 * A cloud's own model registry (SageMaker model package groups, Vertex Model Registry, Azure ML
 * models) may hold the list of versions; these records hold what mlship needs beside it.
 */
import { randomBytes } from 'node:crypto';
import type { HistoryEntry } from './types.js';
import type { VersionRecordBase } from './versions.js';
import type { LogSource, LogWindow } from '../logs/types.js';
import type { HistoryLog } from './history.js';
import { versionNumber } from './history.js';
import { objectLines, type ObjectStore } from './object-store.js';
import { feedbackFileNames } from '../logs/feedback-files.js';

/** What every target's stored version record has (versions.ts); clouds add their locations (image, artifact URI…). */
export type { VersionRecordBase } from './versions.js';

/** Keys of the registry layout under a root prefix (no trailing slash). */
export function registryKeys(root: string) {
  const base = root ? `${root}/` : '';
  return {
    versionsDir: `${base}versions/`,
    versionDir: (version: string) => `${base}versions/${version}/`,
    versionRecord: (version: string) => `${base}versions/${version}/version.json`,
    versionFile: (version: string, name: string) => `${base}versions/${version}/${name}`,
    historyDir: `${base}history/`,
    feedbackDir: `${base}feedback/`,
  };
}

/** Version records and append-only history in an object store. */
export class ObjectRegistry<R extends VersionRecordBase = VersionRecordBase> implements HistoryLog {
  readonly keys: ReturnType<typeof registryKeys>;

  constructor(
    readonly store: ObjectStore,
    /** Key prefix of the project (`mlship/churn`), without a trailing slash. */
    readonly root: string,
  ) {
    this.keys = registryKeys(root);
  }

  /** A version's record; undefined when none was written (e.g. a version registered by a cloud pipeline). */
  async readRecord(version: string): Promise<R | undefined> {
    const text = await this.store.getText(this.keys.versionRecord(version));
    return text === undefined ? undefined : (JSON.parse(text) as R);
  }

  async writeRecord(record: R): Promise<void> {
    await this.putJson(this.keys.versionRecord(record.version), record);
  }

  /** Every version that has a record, oldest first (for clouds whose registry is the store itself). */
  async listVersions(): Promise<string[]> {
    const keys = await this.store.list(this.keys.versionsDir);
    const versions = new Set<string>();
    for (const key of keys) {
      const m = /versions\/(v\d+)\/version\.json$/.exec(key);
      if (m) versions.add(m[1]!);
    }
    return [...versions].sort((a, b) => versionNumber(a) - versionNumber(b));
  }

  /** The next free `vN` among recorded versions. */
  async nextVersion(): Promise<string> {
    const versions = await this.listVersions();
    return `v${versions.reduce((n, v) => Math.max(n, versionNumber(v)), 0) + 1}`;
  }

  /** Append one history event (a new object; nothing is rewritten). */
  async appendHistory(entry: HistoryEntry): Promise<void> {
    const key = `${this.keys.historyDir}${entry.ts.replace(/[:.]/g, '-')}-${randomBytes(4).toString('hex')}.json`;
    await this.putJson(key, entry);
  }

  /** The whole history, oldest first. */
  async history(): Promise<HistoryEntry[]> {
    const listed = await this.store.list(this.keys.historyDir);
    const entries = await Promise.all(listed.map(async (key) => JSON.parse((await this.store.getText(key)) ?? 'null') as HistoryEntry | null));
    return entries.filter((e): e is HistoryEntry => e !== null).sort((a, b) => a.ts.localeCompare(b.ts));
  }

  /** The uploaded feedback files that can hold labels for predictions in the window. */
  async feedbackSources(window: LogWindow): Promise<LogSource[]> {
    const names = feedbackFileNames(await this.store.list(this.keys.feedbackDir), window);
    const store = this.store;
    return names.map((key) => ({ description: store.uri(key), format: 'mlship', lines: () => objectLines(store, key) }));
  }

  async putJson(key: string, value: unknown): Promise<void> {
    await this.store.put(key, `${JSON.stringify(value, null, 2)}\n`, 'application/json');
  }

  async getJson<T>(key: string): Promise<T | undefined> {
    const text = await this.store.getText(key);
    return text === undefined ? undefined : (JSON.parse(text) as T);
  }
}
