/**
 * File-system primitives that keep state readable when processes race or die: atomic writes
 * (temp file + rename), an inter-process lock with stale-owner detection, and sha256 of files.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, mkdirSync, openSync, closeSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { OperationError } from './errors.js';

/** Write a file so readers see the old or the new content, never a torn one. */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, file);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw error;
  }
}

/** Write JSON atomically, pretty-printed. */
export function writeJsonAtomic(file: string, value: unknown): void {
  writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`);
}

/** Read JSON, or undefined when the file does not exist. */
export function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Whether a process with this pid exists (and is ours to signal). */
export function isAlive(pid: number | undefined): boolean {
  if (!pid || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Run `fn` holding an exclusive lock file (`O_CREAT|O_EXCL`, owner pid inside). A lock whose owner
 * died is taken over, so a crash never wedges the registry.
 */
export async function withLock<T>(lockFile: string, fn: () => Promise<T> | T, timeoutMs = 30_000): Promise<T> {
  mkdirSync(path.dirname(lockFile), { recursive: true });
  const started = Date.now();
  let delay = 5;
  for (;;) {
    try {
      const fd = openSync(lockFile, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number.parseInt(readFileSafe(lockFile), 10);
      // An empty file is a lock being written right now; only a dead owner is stale.
      if (Number.isFinite(owner) && owner > 0 && !isAlive(owner)) {
        rmSync(lockFile, { force: true });
        continue;
      }
      if (Date.now() - started > timeoutMs) {
        throw new OperationError('lock_timeout', `timed out waiting for ${lockFile} (held by pid ${owner || 'unknown'})`, {
          hint: 'Another mlship command is running on this project; wait for it, or remove the lock file if that process is gone.',
        });
      }
      await sleep(delay + Math.random() * delay);
      delay = Math.min(delay * 2, 100);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lockFile, { force: true });
  }
}

function readFileSafe(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** sha256 of a file, hex, streamed. */
export function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

/** Regular files under a folder, as sorted `/`-separated relative paths. */
export function folderFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
    .sort();
}

/**
 * sha256 of a model artifact: of the file, or of a folder (a Hugging Face `save_pretrained` folder)
 * as sha256 over one `<relative path>\0<sha256 of the file>\n` line per file in sorted order. The
 * serving app computes the same (mlship_serving/artifact.py) before it loads the model.
 */
export async function sha256Artifact(target: string): Promise<string> {
  if (!statSync(target).isDirectory()) return sha256File(target);
  const hash = createHash('sha256');
  for (const rel of folderFiles(target)) hash.update(`${rel}\0${await sha256File(path.join(target, rel))}\n`);
  return hash.digest('hex');
}

/** Bytes of a file, or of every file in a folder. */
export function artifactBytes(target: string): number {
  const st = statSync(target);
  if (!st.isDirectory()) return st.size;
  return folderFiles(target).reduce((sum, rel) => sum + statSync(path.join(target, rel)).size, 0);
}
