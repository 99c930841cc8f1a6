/**
 * Builds shared across test files and runs, by content digest. A build's folder is named by the
 * digest of its inputs (src/packaging/inputs.ts); the same inputs, built by the same mlship code with
 * the same Python, make the same folder, so most of the suite need not make it again: the parity check
 * and the CPU calibration (15–20 s of Python for the example) run once per inputs, not once per file.
 *
 * `cachedBuild` puts the cached folder of the project's current inputs (if any) into the project's
 * `.mlship/build/` with the project's own manifest snapshot in build.json, runs the real `mlship build`
 * (which then finds it and reuses it, as it does for a user who built before) and stores any build it
 * made. The cache is `test/.tmp/builds/<code digest>/`: global set-up names it (MLSHIP_TEST_BUILD_CACHE)
 * from a digest of dist/, python/, templates/, package.json and the interpreter with its packages, so
 * a change to any of them starts an empty cache. Tests of `mlship build` itself (test/packaging) do
 * not use it: they build afresh.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { writeJsonAtomic } from '../../src/util/fs.js';
import { loadManifestFile } from '../../src/manifest/load.js';
import { resolveInputs } from '../../src/packaging/inputs.js';
import { python, pythonExecutable, repoRoot, type RunResult } from './cli.js';

const CACHE_ROOT = path.join(repoRoot, 'test', '.tmp', 'builds');

/** Hash every file under `dir` (names relative to `base`, contents), in a stable order. */
function hashTree(hash: ReturnType<typeof createHash>, dir: string, skip: (name: string) => boolean, base = repoRoot): void {
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (skip(entry.name)) continue;
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) hashTree(hash, file, skip, base);
    else if (entry.isFile()) hash.update(`\0${path.relative(base, file)}\0`).update(readFileSync(file));
  }
}

/** dist/ files `mlship build` can load: the relative imports (static, lazy, require) reachable from its command. */
function buildModules(): string[] {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from\s*|import\s*\(\s*|require\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g)) {
      const next = path.resolve(path.dirname(file), m[1]!);
      if (existsSync(next)) visit(next);
    }
  };
  // The command, and the manifest loader its context runs first.
  visit(path.join(repoRoot, 'dist', 'cli', 'commands', 'build.js'));
  visit(path.join(repoRoot, 'dist', 'manifest', 'load.js'));
  return [...seen].sort();
}

/**
 * The digest of everything besides a build's inputs that shapes what `mlship build` makes: the code
 * the build command can load (dist/, as tsc left it), the serving runtime, the templates, the version,
 * and the interpreter with every package it has. A change elsewhere (a target, a command) keeps the cache.
 */
export function buildCodeDigest(interpreter: string): string {
  const hash = createHash('sha256');
  for (const file of buildModules()) hash.update(`\0${path.relative(repoRoot, file)}\0`).update(readFileSync(file));
  hashTree(hash, path.join(repoRoot, 'python'), (name) => name === '__pycache__' || name.endsWith('.pyc') || name.startsWith('.'));
  hashTree(hash, path.join(repoRoot, 'templates'), () => false);
  hash.update(readFileSync(path.join(repoRoot, 'package.json')));
  const executable = pythonExecutable(interpreter);
  const packages = execFileSync(executable, [
    '-c',
    'import importlib.metadata as m, sys; print(sys.version); print(sorted(str(d.metadata["Name"]) + "==" + d.version for d in m.distributions()))',
  ]).toString();
  hash.update(`\0${executable}\0${packages}`);
  return hash.digest('hex').slice(0, 16);
}

/**
 * Name the cache folder for this run (global set-up calls this; workers inherit the variable) and
 * remove the folders of other code digests that no run touched for an hour.
 */
export function prepareBuildCache(interpreter: string): string {
  const dir = path.join(CACHE_ROOT, buildCodeDigest(interpreter));
  mkdirSync(dir, { recursive: true });
  for (const other of readdirSync(CACHE_ROOT)) {
    const full = path.join(CACHE_ROOT, other);
    if (full !== dir && Date.now() - statSync(full).mtimeMs > 3_600_000) rmSync(full, { recursive: true, force: true });
  }
  process.env.MLSHIP_TEST_BUILD_CACHE = dir;
  return dir;
}

interface BuildJson {
  id: string;
  createdAt: string;
  gitCommit?: string;
  manifest: Record<string, unknown>;
  runtime: unknown;
  image?: unknown;
}

/**
 * Run `build` (a spawned `mlship build` in `projectDir`, with the suite's interpreter) through the
 * cache: the folder of the project's current inputs comes from the cache when it is there, and what
 * the run builds goes into it. The result is the CLI's own: a cached build answers `reused: true`.
 */
export async function cachedBuild(projectDir: string, build: () => Promise<RunResult>): Promise<RunResult> {
  const cache = process.env.MLSHIP_TEST_BUILD_CACHE;
  if (!cache) return build();
  const builds = path.join(projectDir, '.mlship', 'build');
  const inputs = await resolveInputs(loadManifestFile(path.join(projectDir, 'mlship.yaml')));
  const cached = path.join(cache, inputs.id);
  const target = path.join(builds, inputs.id);
  if (existsSync(path.join(cached, 'build.json')) && !existsSync(target)) {
    mkdirSync(builds, { recursive: true });
    const staging = path.join(builds, `.staging-${inputs.id}-${process.pid}`);
    cpSync(cached, staging, { recursive: true });
    // What this project's own build would have written: its manifest snapshot (the target settings
    // are not part of the id) and its time and commit.
    const info = JSON.parse(readFileSync(path.join(staging, 'build.json'), 'utf8')) as BuildJson;
    const { gitCommit: _old, ...rest } = info;
    const commit = gitHead(projectDir);
    writeJsonAtomic(path.join(staging, 'build.json'), {
      ...rest,
      createdAt: new Date().toISOString(),
      ...(commit && { gitCommit: commit }),
      manifest: inputs.manifest,
    });
    renameSync(staging, target);
  }
  const result = await build();
  if (result.code === 0) store(builds, cache);
  return result;
}

/** Copy every finished build of the project that the cache lacks (not one with an image: images are not cached). */
function store(builds: string, cache: string): void {
  if (!existsSync(builds)) return;
  for (const id of readdirSync(builds)) {
    if (id.startsWith('.') || existsSync(path.join(cache, id))) continue;
    const file = path.join(builds, id, 'build.json');
    if (!existsSync(file)) continue;
    const info = JSON.parse(readFileSync(file, 'utf8')) as BuildJson;
    // Only what the suite's interpreter made (the digest names that one), and no images.
    const runtime = info.runtime as { python?: string } | string;
    if (info.id !== id || info.image !== undefined || (typeof runtime === 'object' && runtime.python !== process.env.MLSHIP_PYTHON)) continue;
    const staging = path.join(cache, `.staging-${id}-${process.pid}`);
    rmSync(staging, { recursive: true, force: true });
    cpSync(path.join(builds, id), staging, { recursive: true });
    try {
      renameSync(staging, path.join(cache, id));
    } catch {
      // Another worker stored the same build first: same content.
      rmSync(staging, { recursive: true, force: true });
    }
  }
}

function gitHead(dir: string): string | undefined {
  try {
    return (
      execFileSync('git', ['rev-parse', '--verify', 'HEAD'], { cwd: dir, stdio: ['ignore', 'pipe', 'ignore'] })
        .toString()
        .trim() || undefined
    );
  } catch {
    return undefined;
  }
}

/**
 * `python train.py --seed <seed>` in a copy of the example, through the cache: what that run writes
 * (model/model.joblib and metrics.json) is kept by a digest of everything it reads (train.py, the
 * features package, data/) and the seed. Training is deterministic for a seed (the same bytes every
 * time), so a test that needs "the model retrained with another seed" gets exactly that, without
 * spending seconds of CPU on it in every file and run.
 */
export function trainWithSeed(projectDir: string, seed: number): void {
  const train = () => execFileSync(python, ['train.py', '--seed', String(seed)], { cwd: projectDir, stdio: 'ignore' });
  const cache = process.env.MLSHIP_TEST_BUILD_CACHE;
  if (!cache) return void train();
  const hash = createHash('sha256')
    .update(`seed ${seed}\0`)
    .update(readFileSync(path.join(projectDir, 'train.py')));
  const skip = (name: string) => name === '__pycache__' || name.endsWith('.pyc') || name.startsWith('.');
  for (const dir of ['features', 'data']) hashTree(hash, path.join(projectDir, dir), skip, projectDir);
  const kept = path.join(cache, 'trained', hash.digest('hex').slice(0, 16));
  const outputs = ['model/model.joblib', 'metrics.json'];
  if (existsSync(kept)) {
    for (const f of outputs) cpSync(path.join(kept, path.basename(f)), path.join(projectDir, f));
    return;
  }
  train();
  const staging = `${kept}.staging-${process.pid}`;
  mkdirSync(staging, { recursive: true });
  for (const f of outputs) cpSync(path.join(projectDir, f), path.join(staging, path.basename(f)));
  try {
    renameSync(staging, kept);
  } catch {
    rmSync(staging, { recursive: true, force: true });
  }
}
