/**
 * The one golden-file check. `UPDATE_GOLDEN=1` rewrites goldens. A missing golden fails under `CI`
 * (a golden nobody committed proves nothing); on a developer machine it is written, with a warning,
 * so a new test can create its golden on the first run.
 *
 * A golden never holds a build id or a digest: both change with the bytes of the trained model (and
 * of Python, pandas, numpy…) from one machine to the next, so every golden is compared after
 * `stableText` put `<build>` and `<sha256>` in their place, whoever wrote the test.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { isCi } from '../../src/cli/output.js';

/** A GUID, a sha256 (64 hex), or a build id (the 12 hex of src/packaging/inputs.ts), each standing alone. */
const VOLATILE = /(?<![0-9A-Za-z])(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{64}|[0-9a-f]{12})(?![0-9A-Za-z])/gi;
/** What precedes an AWS account id (12 digits): an ARN's account field. */
const ARN_ACCOUNT = /arn:aws[a-z-]*:[a-z0-9-]*:[a-z0-9-]*:$/;

/**
 * `text` with every build id replaced by `<build>` and every sha256 by `<sha256>`. Kept as they are:
 * GUIDs (Azure subscriptions), and AWS account ids (12 digits, in an ARN or an ECR host), which are
 * fixed by the doubles and meaningful in a plan.
 */
export function stableText(text: string): string {
  return text.replace(VOLATILE, (token, offset: number) => {
    if (token.length === 36) return token;
    if (token.length === 64) return '<sha256>';
    const account = /^\d{12}$/.test(token) && (text.startsWith('.dkr.ecr.', offset + 12) || ARN_ACCOUNT.test(text.slice(Math.max(0, offset - 80), offset)));
    return account ? token : '<build>';
  });
}

/** Compare `text` (made stable: no build id, no digest) with the golden file `dir/name`. */
export function expectGolden(dir: string, name: string, raw: string): void {
  const file = path.join(dir, name);
  const text = stableText(raw);
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
