/**
 * The flavor-test projects: small real models of every flavor the generated app serves (LightGBM,
 * ONNX, PyTorch, Hugging Face transformers), made by `test/fixtures/flavors/make_models.py` from the
 * churn data and generated texts, once, under `test/.tmp/flavors/`. The folder is remade when the
 * maker, the fixture features packages or the churn data change (a digest of them is the stamp).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { exampleDir, repoRoot, tempDir } from './cli.js';

/** The projects the maker writes, by folder name. */
export const FLAVOR_PROJECTS = ['lightgbm', 'onnx', 'pytorch', 'transformers-classify', 'transformers-embed'] as const;
export type FlavorProject = (typeof FLAVOR_PROJECTS)[number];

const fixturesDir = path.join(repoRoot, 'test', 'fixtures', 'flavors');
const outDir = path.join(repoRoot, 'test', '.tmp', 'flavors');
const stampFile = path.join(outDir, 'stamp.txt');

function inputsDigest(): string {
  const hash = createHash('sha256');
  const files = [path.join(fixturesDir, 'make_models.py'), path.join(exampleDir, 'data', 'train.csv')];
  for (const kind of ['tabular', 'text']) files.push(path.join(fixturesDir, kind, 'features', '__init__.py'));
  for (const f of files) hash.update(f).update(readFileSync(f));
  return hash.digest('hex');
}

/** Make the projects unless the cached ones are from the same inputs (global set-up calls this). */
export function makeFlavorProjects(python: string): void {
  const digest = inputsDigest();
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === digest) return;
  process.stderr.write('making the flavor-test models (once): test/.tmp/flavors\n');
  const staging = `${outDir}.staging-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  execFileSync(python, [path.join(fixturesDir, 'make_models.py'), staging], { stdio: ['ignore', 'ignore', 'inherit'] });
  writeFileSync(path.join(staging, 'stamp.txt'), digest);
  rmSync(outDir, { recursive: true, force: true });
  renameSync(staging, outDir);
}

/** A private copy of one flavor project, removed by the returned cleanup. */
export function copyFlavorProject(name: FlavorProject): { dir: string; cleanup: () => void } {
  const source = path.join(outDir, name);
  if (!existsSync(source) || readdirSync(source).length === 0) throw new Error(`${source} is missing: the global set-up makes it (test/global-setup.ts)`);
  const t = tempDir(`mlship-${name}-`);
  cpSync(source, t.dir, { recursive: true, filter: (src) => !src.includes('__pycache__') });
  return t;
}
