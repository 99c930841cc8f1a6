/**
 * The in-memory target through the CLI as a user runs it: a spawned `mlship`, told of the target only
 * by `MLSHIP_EXTRA_TARGETS` (nothing in src/ names it). The module is TypeScript, so the spawned
 * Node loads tsx; its cloud is saved in the project between commands (`targets.memory.state`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadManifestFile } from '../../../src/manifest/load.js';
import { registerExtraTargets } from '../../../src/targets/descriptors.js';
import { makeBuild } from '../../helpers/build.js';
import { copyExample, json, repoRoot, runCli } from '../../helpers/cli.js';
import { memoryDescriptor } from './descriptor.js';

const DESCRIPTOR = fileURLToPath(new URL('./descriptor.ts', import.meta.url));
/** tsx, by absolute URL: the spawned Node resolves `--import` from the project folder, outside this checkout. */
const TSX = `--import ${pathToFileURL(path.join(repoRoot, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href}`;
const env = { MLSHIP_EXTRA_TARGETS: DESCRIPTOR, NODE_OPTIONS: TSX };

describe('the in-memory target through the CLI (MLSHIP_EXTRA_TARGETS)', { timeout: 120_000 }, () => {
  let project: { dir: string; cleanup: () => void };
  const builds: string[] = [];
  const mlship = (args: string[], extra: NodeJS.ProcessEnv = env) => runCli(args, { cwd: project.dir, env: extra });

  beforeAll(() => {
    project = copyExample();
    registerExtraTargets([memoryDescriptor]);
    const manifest = loadManifestFile(path.join(project.dir, 'mlship.yaml'), { targetOverride: 'memory' });
    for (const variant of [0, 1]) builds.push(makeBuild(manifest, variant).id);
  });
  afterAll(() => project?.cleanup());

  it('is a --target choice only when registered', async () => {
    const help = await mlship(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout.replace(/\s+/g, ' ')).toContain('(choices: "local", "sagemaker", "vertex", "azure", "memory")');
    const without = await mlship(['validate', '--target', 'memory'], { MLSHIP_EXTRA_TARGETS: undefined });
    expect(without.code).toBe(2);
    expect(without.stderr).toMatch(/argument 'memory' is invalid/);
  });

  it('validate checks targets.memory with the schema fragment of its descriptor', async () => {
    expect((await mlship(['validate', '--target', 'memory'])).code).toBe(0);
    const { appendFileSync } = await import('node:fs');
    appendFileSync(path.join(project.dir, 'mlship.yaml'), 'targets:\n  memory: { provision_polls: 0 }\n');
    const bad = await mlship(['validate', '--target', 'memory']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/targets\.memory\.provision_polls/);
    const { readFileSync, writeFileSync } = await import('node:fs');
    const file = path.join(project.dir, 'mlship.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('provision_polls: 0', 'provision_polls: 1'));
  });

  it('push, deploy, status, rollback across processes; typed errors keep their exit codes', async () => {
    for (const id of builds) expect((await mlship(['push', '--build', id, '--target', 'memory'])).code).toBe(0);
    const deployed = await mlship(['deploy', '--version', 'v1', '--target', 'memory', '--json', '--yes']);
    expect(json(deployed)).toMatchObject({ live: { version: 'v1' }, changed: true });
    await mlship(['deploy', '--target', 'memory', '--json', '--yes']);
    const status = json<{ target: string; live: { version: string }; versions: { version: string; live: boolean }[] }>(
      await mlship(['status', '--target', 'memory', '--json']),
    );
    expect(status).toMatchObject({ target: 'memory', live: { version: 'v2' } });
    expect(status.versions.map((v) => [v.version, v.live])).toEqual([
      ['v1', false],
      ['v2', true],
    ]);
    expect(json(await mlship(['rollback', '--target', 'memory', '--json', '--yes']))).toMatchObject({ live: { version: 'v1' }, previous: 'v2' });
    const missing = await mlship(['deploy', '--version', 'v9', '--target', 'memory', '--json', '--yes']);
    expect(missing.code).toBe(2);
    expect(json(missing)).toMatchObject({ error: { code: 'version_not_found' } });
  });

  it('a module that exports no descriptors is a usage error naming it', async () => {
    const r = await mlship(['--help'], { MLSHIP_EXTRA_TARGETS: fileURLToPath(new URL('./memory-target.ts', import.meta.url)), NODE_OPTIONS: TSX });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/memory-target\.ts \(MLSHIP_EXTRA_TARGETS\) exports no target descriptors/);
  });
});
