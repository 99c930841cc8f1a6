/**
 * The LLM tests' llama-server (helpers/llama-server.ts): the global set-up found or built it and
 * handed it over in MLSHIP_LLAMA_SERVER; it runs; a named binary that does not run stops the run with
 * the line that fixes it instead of failing every LLM test later.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from './cli.js';
import { ensureLlamaServer } from './llama-server.js';

const dir = tempDir('mlship-llama-');
afterAll(() => dir.cleanup());
const deps = { log: () => {}, isRoot: false, install: () => false };

describe('llama-server for the LLM tests', () => {
  it('is set by the global set-up and answers --version', () => {
    const binary = process.env.MLSHIP_LLAMA_SERVER;
    expect(binary).toBeTruthy();
    const r = spawnSync(binary!, ['--version'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(`${r.stdout}${r.stderr}`).toMatch(/version/i);
    // Named: used as it is, nothing built.
    expect(ensureLlamaServer(deps, { ...process.env, MLSHIP_LLAMA_SERVER: binary })).toBe(binary);
  });

  it('refuses a named binary that does not run, saying how to fix it', () => {
    const fake = path.join(dir.dir, 'llama-server');
    writeFileSync(fake, '#!/bin/sh\nexit 1\n', { mode: 0o755 });
    expect(() => ensureLlamaServer(deps, { ...process.env, MLSHIP_LLAMA_SERVER: fake })).toThrow(
      `MLSHIP_LLAMA_SERVER=${fake} does not run (\`${fake} --version\` failed): name a llama-server binary, or unset it to build one`,
    );
  });
});
