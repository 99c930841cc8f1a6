/**
 * What `npm run bench` needs on a fresh clone (#26): the example's model trained first when it is
 * missing (it is not committed; the demo and the test setup train it the same way), and a failing
 * CLI step reported with the error document `--json` puts on stdout, not only its (empty) stderr.
 */
import { existsSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliFailure, copyExample, ensureExampleModel, python, runCli } from '../helpers/cli.js';

const project = copyExample();
const model = path.join(project.dir, 'model', 'model.joblib');
afterAll(() => project.cleanup());

describe('bench set-up on a clone without a trained model', () => {
  it('a failing step shows the error document from stdout', async () => {
    rmSync(path.join(project.dir, 'model'), { recursive: true, force: true });
    const built = await runCli(['build', '--no-image', '--json'], { cwd: project.dir, env: { MLSHIP_PYTHON: python } });
    expect(built.code).toBe(2);
    const message = cliFailure('build', built).message;
    expect(message).toMatch(/^mlship build failed \(exit 2\):/);
    expect(message).toContain('"code": "manifest_invalid"');
    expect(message).toMatch(/model\.path: file not found: model\/model\.joblib/);
  });

  it('trains the example when its model is missing, and only then', async () => {
    rmSync(path.join(project.dir, 'model'), { recursive: true, force: true });
    ensureExampleModel(python, project.dir);
    expect(existsSync(model)).toBe(true);
    const trained = statSync(model).mtimeMs;
    ensureExampleModel(python, project.dir);
    expect(statSync(model).mtimeMs).toBe(trained);
    const built = await runCli(['build', '--no-image', '--json'], { cwd: project.dir, env: { MLSHIP_PYTHON: python }, timeoutMs: 300_000 });
    expect(built.code, cliFailure('build', built).message).toBe(0);
  }, 300_000);

  it('a training that cannot run says which interpreter to use', () => {
    rmSync(path.join(project.dir, 'model'), { recursive: true, force: true });
    expect(() => ensureExampleModel('/nonexistent/python3', project.dir)).toThrow(/MLSHIP_PYTHON/);
  });
});
