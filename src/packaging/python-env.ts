/**
 * The Python environment of the local runtime. The interpreter named by `targets.local.python` or
 * `MLSHIP_PYTHON` (when neither is set, `python3`) is used as is when it already imports what the app
 * needs; otherwise mlship makes (or reuses) a virtualenv under `.mlship/venv` and installs the build's
 * pinned requirements there.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import type { Reporter } from '../util/reporter.js';
import { OperationError } from '../util/errors.js';
import type { Manifest } from '../manifest/types.js';

/** The interpreter the local runtime uses, and where it came from. */
export interface PythonEnv {
  /** Absolute path of the interpreter (`sys.executable`). */
  python: string;
  source: 'manifest' | 'MLSHIP_PYTHON' | 'python3' | 'venv';
  /** Whether packages were installed during this call. */
  installed: boolean;
}

/** What preparing the interpreter needs. */
export interface PythonEnvOptions {
  manifest: Manifest;
  /** The build's requirements.txt. */
  requirementsFile: string;
  /** Modules the app imports (the proof an interpreter is ready). */
  modules: string[];
  env: NodeJS.ProcessEnv;
  output: Reporter;
}

/** The virtualenv mlship manages for a project. */
export function venvDir(manifest: Manifest): string {
  return path.join(manifest.projectDir, '.mlship', 'venv');
}

function venvPython(dir: string): string {
  return process.platform === 'win32' ? path.join(dir, 'Scripts', 'python.exe') : path.join(dir, 'bin', 'python');
}

/**
 * `sys.executable` of an interpreter that imports every module, else undefined (with the reason).
 */
export async function probePython(
  python: string,
  modules: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ executable?: string; problem?: string; cannotRun?: boolean }> {
  const script = `import sys\nimport ${modules.join(', ')}\nsys.stdout.write(sys.executable)`;
  const r = await execa(python, ['-c', script], { reject: false, env, extendEnv: false, timeout: 120_000 });
  if (r.exitCode === 0 && r.stdout.trim()) return { executable: r.stdout.trim() };
  if (r.exitCode === undefined) return { problem: `cannot run it (${(r as { code?: string }).code ?? r.shortMessage})`, cannotRun: true };
  return { problem: (String(r.stderr ?? '') || r.message || '').trim().split('\n').pop() ?? '' };
}

/** Find or make the interpreter the local runtime uses. */
export async function preparePython(options: PythonEnvOptions): Promise<PythonEnv> {
  const { manifest, env, output, modules } = options;
  const named: [PythonEnv['source'], string][] = [];
  if (manifest.targets.local.python) named.push(['manifest', manifest.targets.local.python]);
  if (env.MLSHIP_PYTHON) named.push(['MLSHIP_PYTHON', env.MLSHIP_PYTHON]);
  // The interpreter a new virtualenv is made from: the first named one that runs at all.
  let base: string | undefined;
  for (const [source, python] of named) {
    const probe = await probePython(python, modules, env);
    if (probe.executable) return { python: probe.executable, source, installed: false };
    if (!probe.cannotRun) base ??= python;
    output.info(
      `${source === 'manifest' ? 'targets.local.python' : 'MLSHIP_PYTHON'} (${python}) cannot serve the app: ${probe.problem}; using a virtualenv in .mlship/venv`,
    );
  }
  // Nothing named: the user's own python3 serves when it already has everything (DESIGN: reuse the
  // user's interpreter); a named interpreter that cannot is respected as the venv's base instead.
  if (named.length === 0) {
    const probe = await probePython('python3', modules, env);
    if (probe.executable) return { python: probe.executable, source: 'python3', installed: false };
  }
  const dir = venvDir(manifest);
  const python = venvPython(dir);
  if (existsSync(python)) {
    const probe = await probePython(python, modules, env);
    if (probe.executable) return { python: probe.executable, source: 'venv', installed: false };
  }
  base ??= 'python3';
  await requireVersion(base, options);
  const progress = await output.progress(`preparing the Python environment in ${path.relative(manifest.projectDir, dir)}`);
  try {
    if (!existsSync(python)) {
      progress.update(`creating a virtualenv with ${base}`);
      await run(base, ['-m', 'venv', dir], options);
    }
    progress.update('installing the serving requirements (pip)');
    await run(python, ['-m', 'pip', 'install', '--disable-pip-version-check', '-r', options.requirementsFile], options);
  } catch (error) {
    progress.fail('the Python environment could not be prepared');
    throw error;
  }
  const probe = await probePython(python, modules, env);
  if (!probe.executable) {
    progress.fail();
    throw new OperationError('python_env_failed', `the virtualenv in ${dir} still cannot import the app's modules: ${probe.problem}`, {
      hint: 'Remove .mlship/venv and build again, or set MLSHIP_PYTHON to an interpreter that has the requirements.',
    });
  }
  progress.succeed(`Python environment ready: ${probe.executable}`);
  return { python: probe.executable, source: 'venv', installed: true };
}

/** Run a setup step; its output streams to stderr with --verbose and is shown on failure otherwise. */
async function run(command: string, args: string[], options: PythonEnvOptions): Promise<void> {
  const child = execa(command, args, { reject: false, env: options.env, extendEnv: false, all: true });
  if (options.output.verbose) child.all?.pipe(options.output.stderr, { end: false });
  const r = await child;
  if (r.exitCode !== 0) {
    const tail = (r.all ?? '').trim().split('\n').slice(-15).join('\n');
    throw new OperationError('python_env_failed', `\`${command} ${args.join(' ')}\` failed (exit ${r.exitCode ?? 'none'})${tail ? `:\n${tail}` : ''}`, {
      hint:
        r.exitCode === undefined
          ? `Install Python 3 (python3 must be on the PATH), or set MLSHIP_PYTHON.`
          : 'Re-run with --verbose for the whole output; set MLSHIP_PYTHON to an interpreter that already has the requirements to skip the install.',
    });
  }
}

/** The pinned requirements (pandas 3, numpy 2.4) need this Python or newer. */
export const MIN_PYTHON: [number, number] = [3, 11];

/** Fail early, with the fix, when the venv's base interpreter is too old for the pins. */
async function requireVersion(python: string, options: PythonEnvOptions): Promise<void> {
  const r = await execa(python, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], {
    reject: false,
    env: options.env,
    extendEnv: false,
    timeout: 60_000,
  });
  if (r.exitCode !== 0) {
    throw new OperationError('python_missing', `cannot run ${python} to make the virtualenv for the serving app`, {
      hint: `Install Python ${MIN_PYTHON.join('.')} or newer, or set MLSHIP_PYTHON (or targets.local.python) to an interpreter that has the app's requirements.`,
    });
  }
  const [major, minor] = r.stdout.trim().split('.').map(Number) as [number, number];
  if (major < MIN_PYTHON[0] || (major === MIN_PYTHON[0] && minor < MIN_PYTHON[1])) {
    throw new OperationError(
      'python_too_old',
      `${python} is Python ${major}.${minor}; the serving app's pinned requirements need ${MIN_PYTHON.join('.')} or newer`,
      {
        hint: `Set MLSHIP_PYTHON (or targets.local.python) to a Python ${MIN_PYTHON.join('.')}+ interpreter.`,
      },
    );
  }
}
