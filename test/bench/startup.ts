/** Start-up: `mlship --help` and `mlship status` against `node -e 0`, interleaved in one run. */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { exampleDir, mlshipBin } from '../helpers/cli.js';
import type { BenchRow } from './run.js';

function timeRun(args: string[], cwd: string): number {
  const t = process.hrtime.bigint();
  spawnSync(process.execPath, args, { cwd, stdio: 'ignore', env: { ...process.env, NO_COLOR: '1' } });
  return Number(process.hrtime.bigint() - t) / 1e6;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export async function bench(): Promise<BenchRow[]> {
  const runs = 25;
  const node: number[] = [];
  const help: number[] = [];
  const status: number[] = [];
  const cwd = path.resolve(exampleDir);
  for (let i = 0; i < runs; i++) {
    // Interleaved so drift in machine load hits all three alike.
    node.push(timeRun(['-e', '0'], cwd));
    help.push(timeRun([mlshipBin, '--help'], cwd));
    status.push(timeRun([mlshipBin, 'status'], cwd));
  }
  const base = { name: 'node -e 0', value: median(node) };
  const h = median(help);
  const s = median(status);
  return [
    { name: 'mlship --help start-up (median)', value: h, unit: 'ms', baseline: base, ratio: h / base.value, aim: '<= 1.5', ok: h / base.value <= 1.5 },
    { name: 'mlship status start-up on the example (median)', value: s, unit: 'ms', baseline: base, ratio: s / base.value },
  ];
}
