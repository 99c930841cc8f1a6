/**
 * drift-check at scale, every number against a baseline timed in the same run (the machine is
 * shared: runs are interleaved and repeated, MLSHIP_BENCH_REPEAT times, default 5, and the medians
 * compared; the load average is reported beside them).
 *
 * - The example's five features, 1 M logged predictions (10 M with --large): mlship with default
 *   settings and with parser threads off, against a bare Python `json.loads` loop that only parses
 *   the same file (issue #25: default ≤ 0.6× that loop; peak memory the same at 10 M as at 1 M).
 * - 1 M predictions × 20 features (10 M with --large): wall time and peak memory of the spawned
 *   CLI, against scipy's ks_2samp + PSI on the same numeric columns already loaded in memory (numpy
 *   arrays). Aims (issues #5, #25): under 5 s from the raw log, peak memory under 300 MB.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, cpSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { profileRows } from '../../src/monitoring/drift/baseline.js';
import type { FieldSpec } from '../../src/manifest/types.js';
import { exampleDir, mlshipBin, python } from '../helpers/cli.js';
import { logLineStream } from '../monitoring/drift/logs.js';
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
function runMeasured(
  args: string[],
  cwd: string,
  options: { command?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{ ms: number; cpuMs: number; peakMb: number; code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(options.command ?? process.execPath, args, { cwd, env: { ...process.env, NO_COLOR: '1', ...options.env } });
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
    const runs: Awaited<ReturnType<typeof runMeasured>>[] = [];
    for (let i = 0; i < Math.min(REPEATS, 3); i++) {
      const r = await runMeasured([mlshipBin, 'drift-check', '--logs', log, '--baseline', baseline, '--json'], dir);
      if (r.code !== 0 && r.code !== 3) throw new Error(`drift-check failed (${r.code}): ${r.stderr}`);
      runs.push(r);
    }
    const run = {
      stdout: runs[0]!.stdout,
      ms: median(runs.map((r) => r.ms)),
      cpuMs: median(runs.map((r) => r.cpuMs)),
      peakMb: Math.max(...runs.map((r) => r.peakMb)),
    };
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
        name: `drift-check ${label} × 20 features from the raw log (median of ${runs.length}, wall)`,
        value: seconds,
        unit: 's',
        baseline: { name: `scipy ks_2samp + PSI, ${NUMERIC} numeric columns in memory`, value: scipy.seconds },
        ratio: seconds / scipy.seconds,
        aim: '< 5 s at 1 M rows',
        ok: rows > 1_000_000 ? undefined : seconds < 5,
      },
      {
        name: `drift-check ${label} × 20 features CPU time (user + system, median)`,
        value: run.cpuMs / 1000,
        unit: 's',
        aim: '< 5 s at 1 M rows',
        ok: rows > 1_000_000 ? undefined : run.cpuMs < 5000,
      },
      { name: `drift-check ${label} × 20 features peak memory (VmHWM, worst run)`, value: run.peakMb, unit: 'MB', aim: '< 300 MB', ok: run.peakMb < 300 },
      { name: `drift-check ${label} vs scipy: worst relative difference (KS D, p, PSI)`, value: worst, unit: '', aim: '<= 1e-9', ok: worst <= 1e-9 },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs of each variant (interleaved), for medians on a shared machine. */
const REPEATS = Math.max(1, Number(process.env.MLSHIP_BENCH_REPEAT ?? 5));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** What a bare Python loop spends merely parsing the log: the floor a parser in Python stands on. */
const PARSE_ONLY_PY = `
import json, sys
with open(sys.argv[1], "rb") as f:
    for line in f:
        json.loads(line)
`;

/**
 * The example project's five features (examples/churn: three numeric, two categorical, a numeric
 * output), `rows` logged predictions drawn from its training rows with monthly_charges shifted:
 * mlship with default settings, mlship with parser threads off (MLSHIP_DRIFT_WORKERS=0) and the
 * Python parse-only loop, interleaved REPEATS times on the same file.
 */
async function exampleRows(rows: number, label: string): Promise<{ rows: BenchRow[]; peakMb: number }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'mlship-drift-example-'));
  try {
    process.stderr.write(`  generating the example's ${label} log …\n`);
    for (const f of ['mlship.yaml', 'data', 'features']) cpSync(path.join(exampleDir, f), path.join(dir, f), { recursive: true });
    mkdirSync(path.join(dir, 'model'));
    writeFileSync(path.join(dir, 'model', 'model.joblib'), '');
    const log = path.join(dir, 'predictions-2026-11-27.jsonl');
    const fd = openSync(log, 'w');
    let text = '';
    for (const line of logLineStream({ rows, seed: 11, shiftCharges: 3 })) {
      text += `${line}\n`;
      if (text.length > 1 << 20) {
        writeSync(fd, text);
        text = '';
      }
    }
    writeSync(fd, text);
    closeSync(fd);
    const args = [mlshipBin, 'drift-check', '--logs', log, '--baseline', 'data/train.csv', '--json'];
    const py: number[] = [];
    const on: { ms: number; cpuMs: number; peakMb: number }[] = [];
    const off: { ms: number; cpuMs: number; peakMb: number }[] = [];
    let same = true;
    const loadBefore = loadavg()[0]!;
    for (let i = 0; i < REPEATS; i++) {
      const p = await runMeasured(['-c', PARSE_ONLY_PY, log], dir, { command: python });
      if (p.code !== 0) throw new Error(`the Python parse loop failed: ${p.stderr}`);
      py.push(p.ms);
      const a = await runMeasured(args, dir);
      const b = await runMeasured(args, dir, { env: { MLSHIP_DRIFT_WORKERS: '0' } });
      for (const r of [a, b]) if (r.code !== 0 && r.code !== 3) throw new Error(`drift-check failed (${r.code}): ${r.stderr}`);
      if ((JSON.parse(a.stdout) as { rows: number }).rows !== rows) throw new Error(`drift-check did not read ${rows} rows`);
      // Threads change where lines are parsed, never a number of the result.
      if (a.stdout !== b.stdout) same = false;
      on.push(a);
      off.push(b);
    }
    const loadAfter = loadavg()[0]!;
    const base = { name: `Python json.loads loop, parse only (median of ${REPEATS})`, value: median(py) / 1000 };
    const onS = median(on.map((r) => r.ms)) / 1000;
    const offS = median(off.map((r) => r.ms)) / 1000;
    const peakMb = Math.max(...on.map((r) => r.peakMb));
    const what = `drift-check, the example's 5 features, ${label}`;
    return {
      peakMb,
      rows: [
        {
          name: `${what}: default settings (median of ${REPEATS}, wall)`,
          value: onS,
          unit: 's',
          baseline: base,
          ratio: onS / base.value,
          aim: '<= 0.6',
          ok: onS / base.value <= 0.6,
        },
        { name: `${what}: parser threads off (MLSHIP_DRIFT_WORKERS=0)`, value: offS, unit: 's', baseline: base, ratio: offS / base.value },
        {
          name: `${what}: CPU time, default / threads off (medians)`,
          value: median(on.map((r) => r.cpuMs)) / 1000,
          unit: 's',
          baseline: { name: 'threads off', value: median(off.map((r) => r.cpuMs)) / 1000 },
          ratio: median(on.map((r) => r.cpuMs)) / median(off.map((r) => r.cpuMs)),
        },
        { name: `${what}: peak memory, default settings (VmHWM, worst run)`, value: peakMb, unit: 'MB', aim: '< 300 MB', ok: peakMb < 300 },
        { name: `${what}: the same --json with threads as without`, value: same ? 1 : 0, unit: '', aim: '1 (identical)', ok: same },
        {
          name: `machine load during the ${label} example runs (1-minute load average, before → after, ${availableParallelism()} cores)`,
          value: loadAfter,
          unit: '',
          baseline: { name: 'before', value: loadBefore },
        },
      ],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function bench(options: { large: boolean }): Promise<BenchRow[]> {
  const small = await exampleRows(1_000_000, '1 M rows');
  const rows = [...small.rows];
  if (options.large) {
    const large = await exampleRows(10_000_000, '10 M rows');
    rows.push(...large.rows, {
      name: "drift-check, the example's 5 features: peak memory at 10 M rows / at 1 M rows",
      value: large.peakMb,
      unit: 'MB',
      baseline: { name: '1 M rows', value: small.peakMb },
      ratio: large.peakMb / small.peakMb,
      aim: '<= 1.1 (flat)',
      ok: large.peakMb / small.peakMb <= 1.1,
    });
  }
  rows.push(...(await benchRows(1_000_000, '1 M rows')));
  if (options.large) rows.push(...(await benchRows(10_000_000, '10 M rows')));
  return rows;
}
