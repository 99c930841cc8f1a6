/**
 * Run the built CLI the way a user does: a spawned `bin/mlship` process, no TTY, with a clean,
 * colour-free environment unless the test says otherwise.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const mlshipBin = path.join(repoRoot, 'bin', 'mlship');
export const exampleDir = path.join(repoRoot, 'examples', 'churn');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string;
  timeoutMs?: number;
  /** The mlship launcher to run (default: this checkout's bin/mlship; test/package runs an installed one). */
  bin?: string;
}

/** Spawn `mlship <args>` and collect its output. */
export function runCli(args: string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ...options.env };
    for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
    const child = spawn(process.execPath, [options.bin ?? mlshipBin, ...args], { cwd: options.cwd ?? repoRoot, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** Parse stdout as the single JSON document `--json` promises. */
export function json<T = Record<string, unknown>>(result: RunResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`stdout is not one JSON document:\n${result.stdout}\n--- stderr ---\n${result.stderr}`);
  }
}

/** A fresh temporary folder, removed by the returned cleanup. */
export function tempDir(prefix = 'mlship-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A private copy of the example project (with its trained model, which global set-up produces), so
 * tests can build, deploy and break things without touching the repository or each other.
 * `baselineRows` keeps only the first N rows of data/train.csv (the baseline, and what train.py reads):
 * the build's parity check runs the serving path once per row (about 4 ms each), so a test whose
 * subject is not the baseline's size builds in seconds instead of a quarter of a minute.
 */
export function copyExample(options: { baselineRows?: number } = {}): { dir: string; cleanup: () => void } {
  const t = tempDir('mlship-churn-');
  cpSync(exampleDir, t.dir, { recursive: true, filter: (src) => !src.includes(`${path.sep}.mlship`) && !src.includes('__pycache__') });
  if (options.baselineRows !== undefined) {
    const csv = path.join(t.dir, 'data', 'train.csv');
    writeFileSync(
      csv,
      `${readFileSync(csv, 'utf8')
        .split('\n')
        .slice(0, options.baselineRows + 1)
        .join('\n')}\n`,
    );
  }
  return t;
}

/** The Python interpreter tests use for the serving app (has the requirements installed). */
export const python = process.env.MLSHIP_PYTHON ?? 'python3';

const executables = new Map<string, string>();

/** An interpreter's absolute `sys.executable` (asked once per interpreter). */
export function pythonExecutable(interpreter = python): string {
  let found = executables.get(interpreter);
  if (!found) {
    found = execFileSync(interpreter, ['-c', 'import sys; sys.stdout.write(sys.executable)']).toString();
    executables.set(interpreter, found);
  }
  return found;
}

/**
 * Put `python` and `python3` in `dir` (made if missing), each running `interpreter`, so a command a
 * double runs the way a cloud would (`python train.py` under /bin/sh) gets the suite's interpreter
 * with its packages, whatever `python` comes next on PATH. Shims, not symlinks: a symlink to a
 * venv's interpreter starts the base Python without the venv's packages (pyvenv.cfg is looked up
 * beside the path it was started by).
 */
export function pythonShims(dir: string, interpreter = python): void {
  const target = pythonExecutable(interpreter);
  mkdirSync(dir, { recursive: true });
  for (const name of ['python', 'python3']) {
    const file = path.join(dir, name);
    writeFileSync(file, `#!/bin/sh\nexec '${target.replaceAll("'", "'\\''")}' "$@"\n`);
    chmodSync(file, 0o755);
  }
}

/**
 * The failure of a CLI step, with everything it said: `--json` puts the error document on stdout,
 * progress and the plain message go to stderr, so both are shown.
 */
export function cliFailure(step: string, result: RunResult): Error {
  const said = [result.stdout.trim(), result.stderr.trim()].filter(Boolean).join('\n');
  return new Error(`mlship ${step} failed (exit ${result.code}):\n${said || '(no output)'}`);
}

/**
 * Train the example's model when it is missing, as examples/churn/demo.sh does (`python train.py` in
 * the example, with an interpreter that has pandas and scikit-learn): the model is not committed.
 */
export function ensureExampleModel(interpreter: string = python, dir: string = exampleDir): void {
  if (existsSync(path.join(dir, 'model', 'model.joblib'))) return;
  process.stderr.write(`training the example's model: ${interpreter} train.py (in ${dir})\n`);
  const r = spawnSync(interpreter, ['train.py'], { cwd: dir, stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(
      `training the example failed (${interpreter} train.py, exit ${r.status ?? r.error?.message}):\n${r.stderr ?? ''}\n` +
        'Set MLSHIP_PYTHON to a Python with test/requirements.txt installed (`npm test` makes one in test/.tmp/venv).',
    );
  }
}
