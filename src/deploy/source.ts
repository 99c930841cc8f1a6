/**
 * The project's source as a retraining run on a cloud needs it (the training command, its code and
 * data): every file of the project folder except what is local state or rebuilt anyway. One list for
 * every target: SageMaker packs it as `source.tar.gz`, Vertex copies it to GCS, Azure ML registers it
 * as a code asset. `sourceDigest` names a snapshot by content, so an unchanged project uploads once.
 */
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { sha256File } from '../util/fs.js';

/** Folder names never part of the source, at any depth. */
export const SOURCE_EXCLUDES = ['.mlship', '.git', 'node_modules', '__pycache__', '.venv', 'venv'] as const;

const EXCLUDED = new Set<string>(SOURCE_EXCLUDES);

/** The project's source files, `/`-separated paths relative to the project, sorted. */
export function projectSourceFiles(projectDir: string): string[] {
  return filesUnder(projectDir, EXCLUDED);
}

/** Every regular file under a folder but those in excluded folders (by name, at any depth): sorted `/`-separated relative paths. */
export function filesUnder(dir: string, excluded: ReadonlySet<string>, rel = ''): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    if (excluded.has(entry.name)) continue;
    const p = rel ? `${rel}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...filesUnder(dir, excluded, p));
    else if (entry.isFile()) out.push(p);
  }
  return out.sort();
}

/** sha256 over one `<relative path>\0<sha256 of the file>\n` line per source file (as model folders are hashed). */
export async function sourceDigest(projectDir: string, files: string[]): Promise<string> {
  const hash = createHash('sha256');
  for (const rel of files) hash.update(`${rel}\0${await sha256File(path.join(projectDir, rel))}\n`);
  return hash.digest('hex');
}

/** POSIX shell single-quoting, for the training scripts the targets run on the source. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
