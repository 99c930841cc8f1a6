/**
 * Once per test run: make sure Python has what the tests need, and that the example's model exists
 * (trained by the example's own train.py, the one command the README names), so every test copies a
 * real, trained project.
 *
 * `npm test` must work on a fresh machine as the README says: when the interpreter at hand cannot
 * import the test requirements (and MLSHIP_PYTHON names none), a virtualenv is made in
 * test/.tmp/venv from test/requirements.txt and test/requirements-flavors.txt and used for the whole
 * run. The flavor tests' small models are made here too (cached), and llama.cpp's `llama-server` for
 * the LLM tests is found or built once per machine (helpers/llama-server.ts; cached outside the
 * working tree; handed to the tests in MLSHIP_LLAMA_SERVER). Nothing is installed globally
 * but the browser of the HTML-report test: an existing Chrome/Chromium, else Debian's chromium when
 * root, else the run stops with the one line that fixes it (helpers/chromium.ts).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { aptInstall } from './helpers/apt.js';
import { prepareBuildCache } from './helpers/build-cache.js';
import { ensureChromium } from './helpers/chromium.js';
import { ensureExampleModel, python, pythonExecutable, repoRoot } from './helpers/cli.js';
import { makeFlavorProjects } from './helpers/flavors.js';
import { ensureImageTools } from './helpers/image-tools.js';
import { ensureLlamaServer } from './helpers/llama-server.js';

// The flavor tests' libraries (test/requirements-flavors.txt) are part of the test requirements.
const MODULES =
  'fastapi, uvicorn, httptools, uvloop, orjson, sklearn, pandas, numpy, scipy, joblib, moto, pytest, ruff, mypy, torch, transformers, tokenizers, safetensors, onnx, onnxruntime, lightgbm, gguf, httpx';
const REQUIREMENTS = ['requirements.txt', 'requirements-flavors.txt'];

function hasModules(interpreter: string): boolean {
  return spawnSync(interpreter, ['-c', `import ${MODULES}`], { stdio: 'ignore' }).status === 0;
}

/**
 * The interpreter for the whole run, pinned by its absolute path in MLSHIP_PYTHON (test workers start
 * after this and inherit the environment; helpers/cli.ts reads it). Pinned even when the `python3` at
 * hand already has everything: a test that puts another Python first on PATH must not change which
 * one the doubles, jobs and serving apps run.
 */
function preparePython(): string {
  const chosen = process.env.MLSHIP_PYTHON || hasModules(python) ? python : prepareVenv();
  process.env.MLSHIP_PYTHON = pythonExecutable(chosen);
  return process.env.MLSHIP_PYTHON;
}

function prepareVenv(): string {
  const venv = path.join(repoRoot, 'test', '.tmp', 'venv');
  const venvPython = path.join(venv, 'bin', 'python');
  if (!existsSync(venvPython) || !hasModules(venvPython)) {
    process.stderr.write(`${python} lacks the test requirements: preparing ${path.relative(repoRoot, venv)} (once)\n`);
    mkdirSync(path.dirname(venv), { recursive: true });
    // System site-packages stay visible: whatever is installed already is reused, pip adds the rest.
    if (!existsSync(venvPython)) execFileSync(python, ['-m', 'venv', '--system-site-packages', venv], { stdio: 'inherit' });
    const files = REQUIREMENTS.flatMap((f) => ['-r', path.join(repoRoot, 'test', f)]);
    // An index that cannot be reached fails fast instead of being retried per package (mirrors answer at once).
    execFileSync(venvPython, ['-m', 'pip', 'install', '--disable-pip-version-check', '-q', ...files], {
      stdio: 'inherit',
      env: { PIP_RETRIES: '0', ...process.env },
    });
  }
  return venvPython;
}

export default function setup(): void {
  // Test workers start after this and inherit the environment: drift/report.test.ts reads MLSHIP_CHROMIUM.
  process.env.MLSHIP_CHROMIUM = ensureChromium({
    env: process.env,
    isRoot: process.getuid?.() === 0,
    install: () => aptInstall(['chromium']),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  // The real image test's tools (buildah, debootstrap): found, else installed when root, else the
  // test is skipped with this reason (MLSHIP_IMAGE_TEST_SKIP=<reason> skips it on purpose). Workers
  // inherit it: build/image.test.ts reads it.
  if (!process.env.MLSHIP_IMAGE_TEST_SKIP) {
    const skip = ensureImageTools({
      env: process.env,
      isRoot: process.getuid?.() === 0,
      install: aptInstall,
      log: (line) => process.stderr.write(`${line}\n`),
    });
    if (skip) process.env.MLSHIP_IMAGE_TEST_SKIP = skip;
  }
  // openssl makes the throwaway TLS certificate of the Azure doubles (test/doubles/azure/tls.ts).
  if (spawnSync('openssl', ['version'], { stdio: 'ignore' }).status !== 0 && !aptInstall(['openssl'])) {
    throw new Error('the Azure tests need openssl: run `sudo apt-get install -y openssl` (Debian/Ubuntu)');
  }
  const interpreter = preparePython();
  ensureExampleModel(interpreter);
  makeFlavorProjects(interpreter);
  // Builds shared by content digest across files and runs (helpers/build-cache.ts); workers inherit MLSHIP_TEST_BUILD_CACHE.
  prepareBuildCache(interpreter);
  // The LLM tests' backend (python/tests/test_llm_gateway.py and the gateway they start read it).
  process.env.MLSHIP_LLAMA_SERVER = ensureLlamaServer({
    log: (line) => process.stderr.write(`${line}\n`),
    isRoot: process.getuid?.() === 0,
    install: aptInstall,
  });
}
