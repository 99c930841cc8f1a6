/**
 * `npm run demo` (examples/churn/demo.sh): every command it runs exists now, so a failing step is a
 * failure — the demo exits with that command's code. (It used to take a command's "is not
 * implemented yet" as a reason to stop with exit 0: issue 17, item 9.)
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exampleDir, python, repoRoot, tempDir } from '../helpers/cli.js';

const root = tempDir('mlship-demo-');
afterAll(() => root.cleanup());

describe('examples/churn/demo.sh', () => {
  it('stops with the exit code of a failing step, whatever its message', () => {
    // The example's layout relative to the repository (demo.sh runs ../../bin/mlship).
    const example = path.join(root.dir, 'examples', 'churn');
    cpSync(exampleDir, example, { recursive: true, filter: (src) => !src.includes(`${path.sep}.mlship`) && !src.includes('__pycache__') });
    for (const f of ['bin', 'dist', 'node_modules', 'templates', 'package.json']) symlinkSync(path.join(repoRoot, f), path.join(root.dir, f));
    // A `node` whose `mlship build` fails the way an unfinished command used to.
    const shims = path.join(root.dir, 'shims');
    mkdirSync(shims);
    writeFileSync(
      path.join(shims, 'node'),
      `#!/bin/sh\nif [ "$2" = build ]; then echo 'error: \`mlship build\` is not implemented yet' >&2; exit 1; fi\nexec ${process.execPath} "$@"\n`,
    );
    chmodSync(path.join(shims, 'node'), 0o755);
    const r = spawnSync('bash', [path.join(example, 'demo.sh')], {
      cwd: example,
      env: { ...process.env, PATH: `${shims}${path.delimiter}${process.env.PATH ?? ''}`, MLSHIP_PYTHON: python, NO_COLOR: '1' },
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.stderr).toContain('mlship validate');
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toContain('mlship build failed (exit code 1)');
    expect(r.stderr).not.toMatch(/not in this version/);
  });
});
