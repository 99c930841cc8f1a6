/**
 * Start-up cost of the Azure target: `mlship --help` and `mlship validate` on an Azure project load
 * no Azure SDK (`@azure/*`) and none of the target's SDK-facing modules (client, blob store, target);
 * only the SDK-free descriptor may load. No double is needed: nothing here calls Azure.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { copyExample, repoRoot, runCli, tempDir } from '../../helpers/cli.js';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

async function importsOf(args: string[], cwd?: string): Promise<{ code: number; urls: string[]; stderr: string }> {
  const { dir, cleanup } = tempDir();
  cleanups.push(cleanup);
  const log = path.join(dir, 'imports.log');
  const hook = path.join(repoRoot, 'test', 'helpers', 'record-imports.mjs');
  const r = await runCli(args, { ...(cwd && { cwd }), env: { NODE_OPTIONS: `--import=${hook}`, MLSHIP_IMPORT_LOG: log } });
  return { code: r.code, urls: readFileSync(log, 'utf8').trim().split('\n'), stderr: r.stderr };
}

const AZURE_CODE = /node_modules\/@azure\/|\/dist\/targets\/azure\/(azure-target|client|blob-store|errors)\.js$/;

describe('Azure target start-up', () => {
  it('mlship --help loads no Azure code', async () => {
    const r = await importsOf(['--help']);
    expect(r.code).toBe(0);
    expect(r.urls.filter((u) => AZURE_CODE.test(u))).toEqual([]);
  });

  it('mlship validate on an Azure project loads no Azure SDK', async () => {
    const project = copyExample();
    cleanups.push(project.cleanup);
    const manifest = path.join(project.dir, 'mlship.yaml');
    writeFileSync(
      manifest,
      `${readFileSync(manifest, 'utf8').replace(/^target: local$/m, 'target: azure')}targets:\n  azure: { resource_group: rg, workspace: my-ws, region: westeurope }\n`,
    );
    const r = await importsOf(['validate'], project.dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.urls.filter((u) => AZURE_CODE.test(u))).toEqual([]);
  });

  it('validate names a missing workspace with its position', async () => {
    const project = copyExample();
    cleanups.push(project.cleanup);
    const manifest = path.join(project.dir, 'mlship.yaml');
    writeFileSync(manifest, `${readFileSync(manifest, 'utf8').replace(/^target: local$/m, 'target: azure')}targets:\n  azure: { resource_group: rg }\n`);
    const r = await runCli(['validate'], { cwd: project.dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/mlship\.yaml:\d+:\d+.*targets\.azure\.workspace/s);
  });
});
