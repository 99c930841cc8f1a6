/**
 * The local runtime without a ready interpreter: `mlship build` makes a virtualenv under
 * .mlship/venv, installs the build's pinned requirements there (through the machine's pip index) and
 * records it; the next build reuses it without installing. The one test that really installs.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { copyExample, json, runCli } from '../helpers/cli.js';

// Two builds follow: a 400-row baseline keeps their parity checks short (what is tested is the virtualenv).
const project = copyExample({ baselineRows: 400 });
afterAll(() => project.cleanup());

it('creates .mlship/venv with the requirements when MLSHIP_PYTHON cannot serve the app', { timeout: 900_000 }, async () => {
  const missing = path.join(project.dir, 'no-such-python');
  const r = await runCli(['build', '--no-image', '--json'], { cwd: project.dir, env: { MLSHIP_PYTHON: missing, PIP_RETRIES: '0' }, timeoutMs: 880_000 });
  expect(r.code, r.stderr).toBe(0);
  const venvPython = path.join(project.dir, '.mlship', 'venv', 'bin', 'python');
  const doc = json<{ dir: string; build: { runtime: { python: string; source: string } } }>(r);
  expect(doc.build.runtime).toEqual({ python: venvPython, source: 'venv' });
  expect(r.stderr).toContain(`MLSHIP_PYTHON (${missing}) cannot serve the app`);
  // Without a TTY, progress is plain lines.
  expect(r.stderr).toContain('… preparing the Python environment in .mlship/venv');
  expect(r.stderr).toContain(`✔ Python environment ready: ${venvPython}`);
  expect(JSON.parse(readFileSync(path.join(doc.dir, 'build.json'), 'utf8')).parity.ok).toBe(true);

  // A changed input makes a new build; the virtualenv already has everything and is reused as is.
  const again = await runCli(['build', '--no-image', '--tolerance', '1e-6', '--json'], {
    cwd: project.dir,
    env: { MLSHIP_PYTHON: missing },
    timeoutMs: 300_000,
  });
  expect(again.code, again.stderr).toBe(0);
  expect(json<{ build: { runtime: { python: string } } }>(again).build.runtime.python).toBe(venvPython);
  expect(again.stderr).not.toContain('installing the serving requirements');
});
