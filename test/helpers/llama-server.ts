/**
 * A real `llama-server` (llama.cpp's OpenAI-compatible server) for the LLM tests. It is not a Debian
 * package, so `npm test` makes it (global-setup.ts, which hands it to the tests in MLSHIP_LLAMA_SERVER):
 *
 * - it is built once per machine from the llama.cpp source that ships inside the npm
 *   package node-llama-cpp (LLAMA_PACKAGE, as a git bundle; fetched with `npm pack` from the npm
 *   registry and checked against LLAMA_PACKAGE_INTEGRITY), with cmake and a C++ compiler: only the
 *   `llama-server`, `llama-quantize` and `llama-perplexity` targets, Release, portable (`GGML_NATIVE=OFF`), two jobs,
 *   about 15 minutes on two idle cores. The binaries are cached outside the working tree, keyed by
 *   the source commit: `$XDG_CACHE_HOME/mlship/llama.cpp/<commit>/bin/` (default `~/.cache`), so a
 *   new checkout or `git clean` does not rebuild. `MLSHIP_LLAMA_SERVER=<path>` names an existing
 *   binary instead (nothing is built). node-llama-cpp is not a devDependency: `npm ci` would pull its
 *   prebuilt native binaries (CUDA, Vulkan, …) for nothing, and only its source is used.
 * - the build needs git, cmake and a C++ compiler: when one is missing and we are root with apt-get,
 *   Debian's `cmake` and `g++` are installed (as Chromium is), else the run stops with the line to fix it.
 *
 * The model the tests serve is made by the tests (python/tests/llm_support.py runs
 * test/fixtures/llm/make_tiny_gguf.py): a random-weight llama GGUF of about 0.6 MB, in a second.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

export const LLAMA_PACKAGE = 'node-llama-cpp@3.21.1';
/** The registry's `dist.integrity` of LLAMA_PACKAGE (`npm view node-llama-cpp@3.21.1 dist.integrity`). */
export const LLAMA_PACKAGE_INTEGRITY = 'sha512-E3N0Ev2Va0wzydvXYFwM9Hvyo07PoWjt8T/9GMc43Cvt8YkV/NU/tYUgEMC1grTPv2o9PRjQi0G3Wb5P/awiMg==';
const BUNDLE_IN_PACKAGE = 'package/llama/gitRelease.bundle';
/** The tools built: the server, and the quantizer and perplexity meter `model.quantization: auto` runs (found beside the server). */
export const LLAMA_TOOLS = ['llama-server', 'llama-quantize', 'llama-perplexity'];
const CMAKE_OPTIONS = [
  '-DCMAKE_BUILD_TYPE=Release',
  // Portable: the binary may be cached on a shared volume and run on another CPU.
  '-DGGML_NATIVE=OFF',
  // One self-contained executable per tool (no libllama.so beside it).
  '-DBUILD_SHARED_LIBS=OFF',
  '-DLLAMA_BUILD_TESTS=OFF',
  '-DLLAMA_BUILD_EXAMPLES=OFF',
  // The web UI is not built from source and its prebuilt copy would be downloaded: neither is wanted.
  '-DLLAMA_BUILD_UI=OFF',
  '-DLLAMA_USE_PREBUILT_UI=OFF',
  '-DLLAMA_OPENSSL=OFF',
  '-DLLAMA_CURL=OFF',
];

export function llamaCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.XDG_CACHE_HOME || path.join(homedir(), '.cache'), 'mlship', 'llama.cpp');
}

function run(cmd: string, args: string[], options: { cwd?: string; log?: string } = {}): string {
  const fd = options.log ? openSync(options.log, 'a') : undefined;
  try {
    const out = execFileSync(cmd, args, {
      cwd: options.cwd,
      encoding: 'utf8',
      stdio: ['ignore', fd ?? 'pipe', fd ?? 'pipe'],
      maxBuffer: 64 << 20,
    });
    return out ?? '';
  } catch (e) {
    const where = options.log ? ` (its output: ${options.log})` : '';
    throw new Error(`${cmd} ${args.join(' ')} failed${where}: ${(e as Error).message.split('\n')[0]}`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The git bundle of llama.cpp's source, fetched once with `npm pack` and checked against the pinned integrity. */
function sourceBundle(cache: string): string {
  const dir = path.join(cache, LLAMA_PACKAGE.replace('@', '-'));
  const bundle = path.join(dir, 'gitRelease.bundle');
  if (existsSync(bundle)) return bundle;
  const staging = `${dir}.staging-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  try {
    run('npm', ['pack', LLAMA_PACKAGE, '--pack-destination', staging, '--silent'], { cwd: staging });
    const tgz = readdirSync(staging).find((f) => f.endsWith('.tgz'));
    if (!tgz) throw new Error(`npm pack ${LLAMA_PACKAGE} wrote no .tgz in ${staging}`);
    const digest = `sha512-${createHash('sha512')
      .update(readFileSync(path.join(staging, tgz)))
      .digest('base64')}`;
    if (digest !== LLAMA_PACKAGE_INTEGRITY) throw new Error(`${LLAMA_PACKAGE} from the registry has integrity ${digest}, expected ${LLAMA_PACKAGE_INTEGRITY}`);
    run('tar', ['-xzf', tgz, BUNDLE_IN_PACKAGE], { cwd: staging });
    renameSync(path.join(staging, BUNDLE_IN_PACKAGE), path.join(staging, 'gitRelease.bundle'));
    rmSync(path.join(staging, 'package'), { recursive: true, force: true });
    rmSync(path.join(staging, tgz));
    rmSync(dir, { recursive: true, force: true });
    renameSync(staging, dir);
  } catch (e) {
    rmSync(staging, { recursive: true, force: true });
    throw e;
  }
  return bundle;
}

function works(binary: string): boolean {
  return spawnSync(binary, ['--version'], { stdio: 'ignore', timeout: 30_000 }).status === 0;
}

/** Wait while another process holds `lock` (a file holding its pid); false when the holder is gone. */
function waitForOther(lock: string, log: (line: string) => void): void {
  let said = false;
  for (;;) {
    let pid = 0;
    try {
      pid = Number(readFileSync(lock, 'utf8'));
    } catch {
      return;
    }
    try {
      process.kill(pid, 0);
    } catch {
      rmSync(lock, { force: true });
      return;
    }
    if (!said) log(`waiting for llama-server's build by process ${pid} (${lock})`);
    said = true;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5000);
  }
}

/**
 * The path of a working llama-server: MLSHIP_LLAMA_SERVER when set, else the cached build for the
 * pinned source, built now when missing (one line on `log`; the build's output goes to build.log
 * beside it). An interrupted build resumes where it stopped.
 */
export function ensureLlamaServer(
  deps: { log: (line: string) => void; isRoot: boolean; install: (packages: string[]) => boolean },
  env: NodeJS.ProcessEnv = process.env,
): string {
  const { log } = deps;
  const named = env.MLSHIP_LLAMA_SERVER;
  if (named) {
    if (!works(named))
      throw new Error(`MLSHIP_LLAMA_SERVER=${named} does not run (\`${named} --version\` failed): name a llama-server binary, or unset it to build one`);
    return named;
  }
  const cache = llamaCacheDir(env);
  mkdirSync(cache, { recursive: true });
  const bundle = sourceBundle(cache);
  const commit = run('git', ['bundle', 'list-heads', bundle]).trim().split(/\s+/)[0];
  if (!commit || !/^[0-9a-f]{40}$/.test(commit)) throw new Error(`cannot read the commit of ${bundle}`);
  const root = path.join(cache, commit);
  const binary = path.join(root, 'bin', 'llama-server');
  // A cache made before a tool joined LLAMA_TOOLS is built again (once).
  const complete = () => LLAMA_TOOLS.every((t) => existsSync(path.join(root, 'bin', t))) && works(binary);
  if (complete()) return binary;
  mkdirSync(root, { recursive: true });
  const lock = path.join(root, 'build.lock');
  waitForOther(lock, log);
  if (complete()) return binary;
  ensureBuildTools(deps);
  writeFileSync(lock, String(process.pid));
  try {
    build(root, bundle, commit, log);
  } finally {
    rmSync(lock, { force: true });
  }
  if (!works(binary)) throw new Error(`the llama-server built in ${root} does not run; see ${path.join(root, 'build.log')}`);
  return binary;
}

function has(cmd: string): boolean {
  return spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
}

function ensureBuildTools(deps: { log: (line: string) => void; isRoot: boolean; install: (packages: string[]) => boolean }): void {
  const missing = () => [...(has('git') ? [] : ['git']), ...(has('cmake') ? [] : ['cmake']), ...(has('c++') || has('g++') ? [] : ['g++'])];
  if (missing().length === 0) return;
  if (deps.isRoot) {
    deps.log(`building llama-server needs ${missing().join(', ')}: installing Debian's packages with apt-get (once)`);
    deps.install(missing());
  }
  const still = missing();
  if (still.length > 0) {
    throw new Error(
      `the LLM tests build llama-server once and need ${still.join(', ')}: run \`sudo apt-get install -y ${still.join(' ')}\` (Debian/Ubuntu), or name a built llama-server in MLSHIP_LLAMA_SERVER`,
    );
  }
}

function build(root: string, bundle: string, commit: string, log: (line: string) => void): void {
  const src = path.join(root, 'src');
  const buildDir = path.join(root, 'build');
  const logFile = path.join(root, 'build.log');
  log(`building llama-server from llama.cpp ${commit.slice(0, 12)} (once per machine, ~15 min on 2 idle cores; output in ${logFile})`);
  if (!existsSync(path.join(src, 'CMakeLists.txt'))) {
    rmSync(src, { recursive: true, force: true });
    run('git', ['clone', '--quiet', bundle, src], { log: logFile });
  }
  const generator = spawnSync('ninja', ['--version'], { stdio: 'ignore' }).status === 0 ? ['-G', 'Ninja'] : [];
  if (!existsSync(path.join(buildDir, 'CMakeCache.txt'))) run('cmake', ['-S', src, '-B', buildDir, ...generator, ...CMAKE_OPTIONS], { log: logFile });
  run('cmake', ['--build', buildDir, '--target', ...LLAMA_TOOLS, '-j', '2'], { log: logFile });
  const staging = path.join(root, `bin.staging-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging);
  for (const t of LLAMA_TOOLS) writeFileSync(path.join(staging, t), readFileSync(path.join(buildDir, 'bin', t)), { mode: 0o755 });
  rmSync(path.join(root, 'bin'), { recursive: true, force: true });
  renameSync(staging, path.join(root, 'bin'));
  // The sources and objects are 1 GB; the binaries are all the tests need.
  rmSync(buildDir, { recursive: true, force: true });
  rmSync(src, { recursive: true, force: true });
}
