/**
 * The build's CPU cost calibration: the app's per-request path (schema check, features, model,
 * output) timed in-process on baseline records with one thread, first one record per call, then
 * batches (`serve.py calibrate`: python/mlship_serving/tools/calibrate.py). The result goes into
 * build.json as `cost`, and instance selection sizes from it instead of the parameter-count estimate
 * (src/budget/measured.ts).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import type { MeasuredCost } from '../compute/measured.js';
import type { Manifest } from '../manifest/types.js';

export type { MeasuredCost } from '../compute/measured.js';

/** Threads of every numeric library the app may load, pinned to one for the run. */
const ONE_THREAD = { MLSHIP_THREADS: '1', OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' };

/**
 * Run the calibration in a prepared build folder. Returns undefined (and says why) when it cannot run:
 * a missing measurement falls back to the estimate, it never fails a build that passed parity.
 */
export async function calibrate(options: {
  python: string;
  buildDir: string;
  manifest: Manifest;
  modelPath: string;
  env: NodeJS.ProcessEnv;
}): Promise<{ cost: MeasuredCost } | { failed: string }> {
  const { manifest } = options;
  const tmp = mkdtempSync(path.join(tmpdir(), 'mlship-calibrate-'));
  const out = path.join(tmp, 'cost.json');
  try {
    const args = [path.join(options.buildDir, 'serve.py'), 'calibrate', '--model', options.modelPath, '--out', out];
    if (manifest.features.baseline) args.push('--baseline', manifest.features.baseline);
    if (manifest.features.label) args.push('--label', manifest.features.label);
    const r = await execa(options.python, args, {
      cwd: options.buildDir,
      reject: false,
      env: { ...options.env, ...ONE_THREAD, PYTHONDONTWRITEBYTECODE: '1' },
      extendEnv: false,
      all: true,
      timeout: 300_000,
    });
    if (r.exitCode !== 0) return { failed: (r.all ?? r.message).trim().split('\n').slice(-3).join(' ') };
    const cost = JSON.parse(readFileSync(out, 'utf8')) as Omit<MeasuredCost, 'measuredAt'>;
    return { cost: { ...cost, measuredAt: new Date().toISOString() } };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
