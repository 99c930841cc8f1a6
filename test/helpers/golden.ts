/**
 * The one golden-file check. `UPDATE_GOLDEN=1` rewrites goldens. A missing golden fails under `CI`
 * (a golden nobody committed proves nothing); on a developer machine it is written, with a warning,
 * so a new test can create its golden on the first run.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { isCi } from '../../src/cli/output.js';

/** Compare `text` with the golden file `dir/name`. */
export function expectGolden(dir: string, name: string, text: string): void {
  const file = path.join(dir, name);
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(file)) {
    if (process.env.UPDATE_GOLDEN !== '1') {
      if (isCi()) throw new Error(`no golden file ${path.relative(process.cwd(), file)}: run the test with UPDATE_GOLDEN=1 and commit the file`);
      console.warn(`golden file ${file} was missing: written now; review and commit it`);
    }
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, text);
  }
  expect(text).toBe(readFileSync(file, 'utf8'));
}
