/** mlship's own version, read once from the package's package.json. */
import { readFileSync } from 'node:fs';

let version: string | undefined;

/** The version in package.json (the same relative place from `src/util` and `dist/core`). */
export function mlshipVersion(): string {
  version ??= (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return version;
}
