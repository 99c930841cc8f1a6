/**
 * The serving runtime's own tests (python/tests, run by pytest with python/pyproject.toml's settings),
 * each reported here as its own test: pytest lists the tests when this file loads, runs them all once
 * before the first, and writes one result per test (helpers/pytest_report.py); each test below
 * passes, fails with pytest's report of it, or is skipped with pytest's reason.
 *
 * Why inside vitest rather than a pytest step after it: the suite prepares its Python once
 * (global-setup.ts) and every test file uses that interpreter; pytest then runs beside the other
 * files instead of after all of them, and shows in the same summary and the same exit code. Run
 * pytest alone with `cd python && $MLSHIP_PYTHON -m pytest`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { python, repoRoot } from '../helpers/cli.js';

const pythonDir = path.join(repoRoot, 'python');
const env = {
  ...process.env,
  PYTHONDONTWRITEBYTECODE: '1',
  // The result plugin (helpers/pytest_report.py).
  PYTHONPATH: [path.join(repoRoot, 'test', 'helpers'), process.env.PYTHONPATH].filter(Boolean).join(path.delimiter),
};

interface Result {
  nodeid: string;
  outcome: 'passed' | 'failed' | 'skipped';
  duration: number;
  message: string;
}

/** The test ids pytest collects (`tests/test_x.py::test_y`), or the collection's failure. */
function collect(): { ids: string[]; failure?: string } {
  const r = spawnSync(python, ['-m', 'pytest', '--collect-only', '-q'], { cwd: pythonDir, encoding: 'utf8', env, timeout: 120_000 });
  const ids = r.stdout.split('\n').filter((l) => l.includes('::'));
  if (r.status !== 0 || ids.length === 0) return { ids, failure: `pytest --collect-only failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}` };
  return { ids };
}

/** Run every test once; the results by id, and pytest's own output for anything it did not report. */
function runAll(reportFile: string): Promise<{ code: number | null; output: string; results: Map<string, Result> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, ['-m', 'pytest', '-q', '-p', 'pytest_report'], {
      cwd: pythonDir,
      env: { ...env, MLSHIP_PYTEST_REPORT: reportFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      let lines: string[] = [];
      try {
        lines = readFileSync(reportFile, 'utf8').split('\n').filter(Boolean);
      } catch {
        // no report: every test says so, with pytest's output
      }
      const results = new Map(lines.map((l) => JSON.parse(l) as Result).map((r) => [r.nodeid, r]));
      resolve({ code, output, results });
    });
  });
}

const collected = collect();
const scratch = mkdtempSync(path.join(tmpdir(), 'mlship-pytest-'));
let run: Awaited<ReturnType<typeof runAll>> | undefined;

beforeAll(async () => {
  if (!collected.failure) run = await runAll(path.join(scratch, 'results.jsonl'));
}, 600_000);

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('python/tests (pytest)', () => {
  if (collected.failure) {
    it('collects the Python tests', () => {
      throw new Error(collected.failure);
    });
    return;
  }
  for (const id of collected.ids) {
    it(id, (ctx) => {
      const result = run?.results.get(id);
      // pytest exits 0 when every test passed and 1 when some failed (each reported below); any other code is pytest itself failing.
      if (!result) throw new Error(`pytest did not report ${id} (exit ${run?.code}):\n${run?.output}`);
      if (result.outcome === 'failed') throw new Error(`${id} failed:\n${result.message}`);
      if (result.outcome === 'skipped') ctx.skip(result.message);
    });
  }
  it('pytest exits as its results say', () => {
    const failed = [...(run?.results.values() ?? [])].some((r) => r.outcome === 'failed');
    if (run?.code !== (failed ? 1 : 0)) throw new Error(`pytest exited ${run?.code}:\n${run?.output}`);
  });
});
