/**
 * The serving runtime's own tests: pytest on python/mlship_serving (tests in python/tests) (validation, platform
 * table, metrics summed over forked workers, the batcher, batched == unbatched on the example, cgroup
 * CPU quotas, the OpenAPI document), run here so `npm test` runs them.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { expect, it } from 'vitest';
import { python, repoRoot } from '../helpers/cli.js';

it('passes pytest on the mlship_serving package', () => {
  const r = spawnSync(python, ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', path.join('python', 'tests')], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
    timeout: 300_000,
  });
  if (r.status !== 0) throw new Error(`pytest failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  expect(r.stdout).toMatch(/\d+ passed/);
}, 320_000);
