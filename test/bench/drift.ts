/**
 * drift-check on a generated raw log of 1 M predictions × 20 features (10 M with --large): wall
 * time and peak memory of the spawned CLI, against scipy's ks_2samp + PSI on the same numeric
 * columns already loaded in memory (numpy arrays), timed in the same run.
 *
 * Aims (issue #5): 1 M rows in under 5 s from the raw log, peak memory under 300 MB, and the same
 * peak at 10 M rows.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { profileRows } from '../../src/monitoring/drift/baseline.js';
import type { FieldSpec } from '../../src/manifest/types.js';
import { mlshipBin, python } from '../helpers/cli.js';
import type { BenchRow } from './run.js';

const NUMERIC = 16;
const CATEGORICAL = 4;
const BASELINE_ROWS = 100_000;
const CATEGORIES = ['a', 'b', 'c', 'd', 'e'];

/** MINSTD LCG: fast, seeded, the same everywhere. */
function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x = (48271 * x) % 2147483647;
    return x / 2147483647;
  };
}

/** Irwin–Hall(4) ≈ normal, rounded to 4 decimals as a logged float would be. */
function normal(r: () => number, loc: number, scale: number): number {
  return Math.round(((r() + r() + r() + r() - 2) * scale + loc) * 1e4) / 1e4;
}

function schema(): Record<string, FieldSpec> {
  const s: Record<string, FieldSpec> = {};
  for (let i = 0; i < NUMERIC; i++) s[`f${i}`] = { type: 'number', nullable: true };
  for (let i = 0; i < CATEGORICAL; i++) s[`c${i}`] = { type: 'category', values: CATEGORIES, nullable: true };
  return s;
}

function manifestYaml(): string {
  const fields = [
    ...Array.from({ length: NUMERIC }, (_, i) => `    f${i}: { type: number }`),
    ...Array.from({ length: CATEGORICAL }, (_, i) => `    c${i}: { type: category, values: [${CATEGORIES.join(', ')}] }`),
  ];
  return `name: drift-bench\nmodel:\n  path: model.joblib\n  flavor: sklearn\nfeatures:\n  package: features\n  schema:\n${fields.join('\n')}\nmonitoring:\n  drift: { share: 0.5 }\n`;
}

/** Row i's values: feature f3 drifts by +0.3 in the current log. */
function row(r: () => number, current: boolean): { input: Record<string, number | string>; nums: number[] } {
  const input: Record<string, number | string> = {};
  const nums: number[] = [];
  for (let i = 0; i < NUMERIC; i++) {
    const v = normal(r, i + (current && i === 3 ? 0.3 : 0), 1 + i / 10);
    input[`f${i}`] = v;
    nums.push(v);
  }
  for (let i = 0; i < CATEGORICAL; i++) input[`c${i}`] = CATEGORIES[Math.min(4, Math.floor(r() * r() * 6 + (current && i === 0 ? 0.5 : 0)))]!;
  return { input, nums };
}

/** Write the project, the baseline profile, the raw log and the numeric columns for numpy. */
export function prepare(dir: string, rows: number): { log: string; baseline: string; columns: string } {
  writeFileSync(path.join(dir, 'mlship.yaml'), manifestYaml());
  writeFileSync(path.join(dir, 'model.joblib'), '');
  mkdirSync(path.join(dir, 'features'));
  writeFileSync(path.join(dir, 'features', '__init__.py'), '');
  const r = rng(20261128);
  const baseRows: Record<string, unknown>[] = [];
  const baseCols = new Float64Array(BASELINE_ROWS * NUMERIC);
  for (let k = 0; k < BASELINE_ROWS; k++) {
    const { input, nums } = row(r, false);
    baseRows.push(input);
    baseCols.set(nums, k * NUMERIC);
  }
  const baseline = path.join(dir, 'baseline.json');
  writeFileSync(
    baseline,
    JSON.stringify(
      profileRows(
        baseRows,
        schema(),
        'bench baseline',
        baseRows.map(() => Math.round(r() * 1e4) / 1e4),
      ),
    ),
  );
  writeFileSync(path.join(dir, 'baseline.f64'), baseCols);
  const log = path.join(dir, 'predictions-2026-11-27.jsonl');
  const columns = path.join(dir, 'current.f64');
  const fd = openSync(log, 'w');
  const cfd = openSync(columns, 'w');
  const chunk = 10_000;
  const cur = new Float64Array(chunk * NUMERIC);
  for (let start = 0; start < rows; start += chunk) {
    let text = '';
    const n = Math.min(chunk, rows - start);
    for (let k = 0; k < n; k++) {
      const { input, nums } = row(r, true);
      cur.set(nums, k * NUMERIC);
      const i = start + k;
      text += `{"ts":"2026-11-27T${String(Math.floor(i / 3_600_000) % 24).padStart(2, '0')}:00:00.000Z","id":"req-${i}","model":"drift-bench","version":"v1","input":${JSON.stringify(input)},"output":${Math.round(r() * 1e4) / 1e4},"latency_ms":3.1}\n`;
    }
    writeSync(fd, text);
    writeSync(cfd, cur.subarray(0, n * NUMERIC));
  }
  closeSync(fd);
  closeSync(cfd);
  return { log, baseline, columns };
}

/**
 * Wall time, CPU time (user + system, from /proc/<pid>/stat) and peak resident memory (VmHWM) of a
 * child, polled while it runs. CPU time is the steadier number on a shared, loaded machine.
 */
function runMeasured(args: string[], cwd: string): Promise<{ ms: number; cpuMs: number; peakMb: number; code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, args, { cwd, env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    let peakKb = 0;
    let cpuTicks = 0;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const poll = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) peakKb = Math.max(peakKb, Number(m[1]));
        // Fields 14 and 15 of /proc/<pid>/stat: utime and stime in clock ticks (after the "(comm)").
        const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        cpuTicks = Math.max(cpuTicks, Number(fields[11]) + Number(fields[12]));
      } catch {
        // The process just ended.
      }
    }, 20);
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(poll);
      resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, cpuMs: cpuTicks * CLOCK_TICK_MS, peakMb: peakKb / 1024, code: code ?? 1, stdout, stderr });
    });
  });
}

/** Linux USER_HZ is 100: one clock tick is 10 ms. */
const CLOCK_TICK_MS = 10;

const REFERENCE_PY = `
import json, sys, time
import numpy as np
from scipy import stats
nb, nc, k = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
base = np.fromfile(sys.argv[1]).reshape(nb, k)
cur = np.fromfile(sys.argv[2]).reshape(nc, k)
t0 = time.perf_counter()
out = []
for j in range(k):
    b, c = base[:, j], cur[:, j]
    ks = stats.ks_2samp(b, c)
    edges = np.unique(np.quantile(b, np.arange(1, 10) / 10))
    pb = np.maximum(np.bincount(np.searchsorted(edges, b), minlength=len(edges) + 1) / nb, 1e-4)
    pc = np.maximum(np.bincount(np.searchsorted(edges, c), minlength=len(edges) + 1) / nc, 1e-4)
    out.append([float(ks.statistic), float(ks.pvalue), float(np.sum((pc - pb) * np.log(pc / pb)))])
print(json.dumps({"seconds": time.perf_counter() - t0, "stats": out}))
`;

async function benchRows(rows: number, label: string): Promise<BenchRow[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'mlship-drift-bench-'));
  try {
    process.stderr.write(`  generating ${label} log …\n`);
    const { log, baseline, columns } = prepare(dir, rows);
    const run = await runMeasured([mlshipBin, 'drift-check', '--logs', log, '--baseline', baseline, '--json'], dir);
    if (run.code !== 0 && run.code !== 3) throw new Error(`drift-check failed (${run.code}): ${run.stderr}`);
    const result = JSON.parse(run.stdout) as { rows: number; features: { name: string; statistics: Record<string, number> }[] };
    if (result.rows !== rows) throw new Error(`drift-check read ${result.rows} rows, expected ${rows}`);
    const ref = spawnSync(python, ['-c', REFERENCE_PY, path.join(dir, 'baseline.f64'), columns, String(BASELINE_ROWS), String(rows), String(NUMERIC)], {
      encoding: 'utf8',
      maxBuffer: 1 << 26,
    });
    if (ref.status !== 0) throw new Error(`scipy reference failed: ${ref.stderr}`);
    const scipy = JSON.parse(ref.stdout) as { seconds: number; stats: number[][] };
    // The same numbers as scipy, or the comparison means nothing.
    let worst = 0;
    scipy.stats.forEach(([d, p, psiValue], j) => {
      const s = result.features[j]!.statistics;
      for (const [a, b] of [
        [s.ks_statistic!, d!],
        [s.ks_pvalue!, p!],
        [s.psi!, psiValue!],
      ] as const)
        if (b !== 0) worst = Math.max(worst, Math.abs(a - b) / Math.abs(b));
    });
    const seconds = run.ms / 1000;
    return [
      {
        name: `drift-check ${label} × 20 features from the raw log (wall)`,
        value: seconds,
        unit: 's',
        baseline: { name: `scipy ks_2samp + PSI, ${NUMERIC} numeric columns in memory`, value: scipy.seconds },
        ratio: seconds / scipy.seconds,
        aim: '< 5 s at 1 M rows',
        ok: rows > 1_000_000 ? undefined : seconds < 5,
      },
      {
        name: `drift-check ${label} CPU time (user + system)`,
        value: run.cpuMs / 1000,
        unit: 's',
        aim: '< 5 s at 1 M rows',
        ok: rows > 1_000_000 ? undefined : run.cpuMs < 5000,
      },
      { name: `drift-check ${label} peak memory (VmHWM)`, value: run.peakMb, unit: 'MB', aim: '< 300 MB', ok: run.peakMb < 300 },
      { name: `drift-check ${label} vs scipy: worst relative difference (KS D, p, PSI)`, value: worst, unit: '', aim: '<= 1e-9', ok: worst <= 1e-9 },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function bench(options: { large: boolean }): Promise<BenchRow[]> {
  const rows = await benchRows(1_000_000, '1 M rows');
  if (options.large) rows.push(...(await benchRows(10_000_000, '10 M rows')));
  return rows;
}
