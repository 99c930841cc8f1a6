/**
 * The canary flags of `deploy` as a user meets them (spawned CLI, the example on the local target):
 * the evidence minimum and `--promote-inconclusive` are canary-only, a bad minimum is a usage error
 * (exit 2) naming the flag, and they are refused before anything changes.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { copyExample, json, python, runCli } from '../helpers/cli.js';

const project = copyExample();
afterAll(() => project.cleanup());
const cli = (...args: string[]) => runCli(['deploy', '--json', ...args], { cwd: project.dir, env: { MLSHIP_PYTHON: python } });

describe('deploy canary flags', () => {
  it.each([[['--min-requests', '5']], [['--promote-inconclusive']], [['--bake', '2m']]])('%j without --strategy canary: exit 2', async (flags) => {
    const r = await cli(...flags);
    expect(r.code).toBe(2);
    expect(json(r)).toMatchObject({ error: { code: 'bad_strategy', hint: expect.stringMatching(/--strategy canary/) } });
  });

  it.each(['0', '2.5', 'ten'])('--min-requests %s: exit 2 naming the flag', async (value) => {
    const r = await cli('--strategy', 'canary', '--min-requests', value);
    expect(r.code).toBe(2);
    expect(json<{ error: { message: string } }>(r).error.message).toMatch(/--min-requests must be a whole number of at least 1/);
  });
});
