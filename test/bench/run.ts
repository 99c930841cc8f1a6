/**
 * `npm run bench`: every speed goal of mlship, each measured as a ratio against a baseline taken in
 * the same run (these machines are shared and noisy, so absolute times mean little).
 *
 *   npm run bench                 # all benchmarks
 *   npm run bench -- startup      # only the modules whose name contains "startup"
 *   npm run bench -- --large      # also the large variants (e.g. 10 M-row drift)
 *
 * On a fresh clone the example's model is trained first (it is not committed), as the demo does.
 */
import { ensureExampleModel } from '../helpers/cli.js';

export interface BenchRow {
  /** What was measured, e.g. "mlship --help start-up". */
  name: string;
  /** The measured value and its unit. */
  value: number;
  unit: string;
  /** The same-run baseline, when the goal is a ratio. */
  baseline?: { name: string; value: number };
  /** value / baseline.value (or the inverse for throughput), and the aim it is held to. */
  ratio?: number;
  aim?: string;
  /** Whether the aim holds (undefined when there is no aim). */
  ok?: boolean;
}

export interface BenchModule {
  bench(options: { large: boolean }): Promise<BenchRow[]>;
}

/** Registered benchmark modules: add one line per area. */
const modules: Record<string, () => Promise<BenchModule>> = {
  startup: () => import('./startup.js'),
  drift: () => import('./drift.js'),
  budget: () => import('./budget.js'),
  serving: () => import('./serving.js'),
  local: () => import('./local.js'),
  router: () => import('./router.js'),
  transformer: () => import('./transformer.js'),
  image: () => import('./image.js'),
  package: () => import('./package.js'),
  llm: () => import('./llm.js'),
  quant: () => import('./quant.js'),
};

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const large = args.includes('--large');
  const filters = args.filter((a) => !a.startsWith('--'));
  ensureExampleModel();
  const rows: BenchRow[] = [];
  for (const [name, load] of Object.entries(modules)) {
    if (filters.length > 0 && !filters.some((f) => name.includes(f))) continue;
    process.stderr.write(`… ${name}\n`);
    const mod = await load();
    for (const row of await mod.bench({ large })) {
      rows.push(row);
      const base = row.baseline ? `  vs ${row.baseline.name} ${fmt(row.baseline.value)} ${row.unit}` : '';
      const ratio = row.ratio !== undefined ? `  ratio ${row.ratio.toFixed(2)}` : '';
      const aim = row.aim ? `  aim ${row.aim} ${row.ok === undefined ? '' : row.ok ? 'ok' : 'MISSED'}` : '';
      process.stdout.write(`${row.name}: ${fmt(row.value)} ${row.unit}${base}${ratio}${aim}\n`);
    }
  }
  if (args.includes('--json')) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
}

function fmt(n: number): string {
  return Math.abs(n) >= 100 ? n.toFixed(0) : n.toPrecision(3);
}

await main();
