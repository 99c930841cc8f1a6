/**
 * The serving runtime is a real Python package (python/pyproject.toml, `mlship-serving`): its version
 * is mlship's, its dependencies are the pins the images install (src/packaging/requirements.ts: the
 * base in `dependencies`, each flavor's own in an extra of its name), and pip builds a wheel of it
 * holding every module, the build-time tools and the type marker.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { FLAVORS } from '../../src/manifest/types.js';
import { flavorRuntime } from '../../src/packaging/requirements.js';
import { python, repoRoot } from '../helpers/cli.js';

const pythonDir = path.join(repoRoot, 'python');
const scratch = mkdtempSync(path.join(tmpdir(), 'mlship-pypkg-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Run Python code; its stdout parsed as JSON. */
function pyJson<T>(code: string, args: string[] = []): T {
  const r = spawnSync(python, ['-c', code, ...args], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`python failed (${r.status}):\n${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

interface Project {
  name: string;
  version: string;
  dependencies: string[];
  'optional-dependencies': Record<string, string[]>;
}

const project = pyJson<{ project: Project }>('import json, sys, tomllib; print(json.dumps(tomllib.load(open(sys.argv[1], "rb"))))', [
  path.join(pythonDir, 'pyproject.toml'),
]).project;

describe('mlship-serving, the Python package', () => {
  it("has mlship's version (package.json)", () => {
    const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    expect(project.name).toBe('mlship-serving');
    expect(project.version).toBe(pkg.version);
  });

  it('declares the pins the images install: the base for every flavor, plus one extra per flavor', () => {
    const served = FLAVORS.filter((f) => flavorRuntime(f));
    expect(Object.keys(project['optional-dependencies']).sort()).toEqual([...served].sort());
    for (const flavor of served) {
      // pip index options (PyTorch's wheel index) are how the image installs, not what the package needs.
      const image = flavorRuntime(flavor)!.packages.filter((p) => !p.startsWith('--'));
      const declared = [...new Set([...project.dependencies, ...project['optional-dependencies'][flavor]!])];
      expect(declared.sort(), flavor).toEqual([...image].sort());
    }
  });

  it('builds as a wheel holding every module, the build-time tools and py.typed', () => {
    // Built from a copy: setuptools writes build/ and *.egg-info beside the sources.
    const src = path.join(scratch, 'src');
    cpSync(pythonDir, src, { recursive: true, filter: (p) => !p.includes('__pycache__') });
    const out = path.join(scratch, 'wheel');
    const r = spawnSync(
      python,
      ['-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '--no-index', '--disable-pip-version-check', '-q', '-w', out, src],
      {
        encoding: 'utf8',
        timeout: 170_000,
      },
    );
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    const [wheel] = readdirSync(out);
    expect(wheel).toBe(`mlship_serving-${project.version}-py3-none-any.whl`);
    const listing = pyJson<{ names: string[]; metadata: string }>(
      'import json, sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nmeta = next(n for n in z.namelist() if n.endswith("/METADATA"))\nprint(json.dumps({"names": z.namelist(), "metadata": z.read(meta).decode()}))',
      [path.join(out, wheel!)],
    );
    const modules = readdirSync(path.join(pythonDir, 'mlship_serving')).filter((f) => f.endsWith('.py'));
    for (const m of modules) expect(listing.names).toContain(`mlship_serving/${m}`);
    expect(listing.names).toEqual(expect.arrayContaining(['mlship_serving/tools/parity.py', 'mlship_serving/tools/calibrate.py', 'mlship_serving/py.typed']));
    expect(listing.names.some((n) => n.startsWith('tests/'))).toBe(false);
    expect(listing.metadata).toContain('Requires-Dist: orjson==3.12.0');
    expect(listing.metadata).toContain('Requires-Dist: scikit-learn==1.9.1; extra == "sklearn"');
  }, 180_000);
});
