/**
 * The published package (`npm run bench -- package`): the tarball `npm pack` makes, installed into an
 * empty folder with an empty npm cache, beside aws-cdk installed the same way in the same run; then,
 * from that install, `mlship --help` and `mlship status` (local) against `node -e 0`, and the time to
 * the first cloud call (`mlship status --target <cloud>` against its doubles) against the same
 * command from this checkout.
 */
import { spawn, spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { copyExample, mlshipBin, python, tempDir } from '../helpers/cli.js';
import { addTargetBlock, CLOUD_DOUBLES, installTarball, packPackage } from '../helpers/package.js';
import type { BenchRow } from './run.js';

/** Bytes of every file under `dir` (apparent sizes, symlinks not followed). */
function treeBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) total += treeBytes(p);
    else if (entry.isFile()) total += lstatSync(p).size;
  }
  return total;
}

function countPackages(nodeModules: string): number {
  let n = 0;
  for (const entry of readdirSync(nodeModules, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    const p = path.join(nodeModules, entry.name);
    if (entry.name.startsWith('@')) n += countPackages(p);
    else {
      n += 1;
      try {
        n += countPackages(path.join(p, 'node_modules'));
      } catch {
        // no nested node_modules
      }
    }
  }
  return n;
}

function timeRun(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): number {
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NO_COLOR: '1', ...env } });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0 && args[0] !== '-e') throw new Error(`node ${args.join(' ')} failed in ${cwd}:\n${r.stderr}`);
  return ms;
}

/**
 * The same, without blocking this process: the cloud doubles answer from this process's event loop,
 * which spawnSync would stall.
 */
function timeRunAsync(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<number> {
  const t = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NO_COLOR: '1', ...env } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - t) / 1e6;
      if (code === 0) resolve(ms);
      else reject(new Error(`node ${args.join(' ')} failed in ${cwd}:\n${stderr}`));
    });
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export async function bench(): Promise<BenchRow[]> {
  const work = tempDir('mlship-bench-package-');
  const cleanups: (() => unknown)[] = [work.cleanup];
  try {
    const rows: BenchRow[] = [];
    const packed = packPackage(work.dir);

    // Cold installs, each with its own empty cache: mlship's tarball, and aws-cdk from the registry.
    const cdk = installAwsCdk(path.join(work.dir, 'cdk'), path.join(work.dir, 'cache-cdk'));
    const mine = installTarball(packed.tarball, path.join(work.dir, 'app'), { cache: path.join(work.dir, 'cache-mlship') });
    const mb = (dir: string) => treeBytes(path.join(dir, 'node_modules')) / 1e6;
    const cdkMb = mb(cdk.dir);
    const mineMb = mb(mine.dir);
    const packages = countPackages(path.join(mine.dir, 'node_modules'));
    rows.push({
      name: `installed size from the tarball (${packages} package${packages === 1 ? '' : 's'}, ${packed.files.length} files)`,
      value: mineMb,
      unit: 'MB',
      baseline: { name: 'aws-cdk', value: cdkMb },
      ratio: mineMb / cdkMb,
      aim: '<= 40 MB',
      ok: mineMb <= 40,
    });
    rows.push({
      name: 'cold install from the tarball (empty cache)',
      value: mine.ms / 1000,
      unit: 's',
      baseline: { name: 'aws-cdk', value: cdk.ms / 1000 },
      ratio: mine.ms / cdk.ms,
      aim: '<= 5 s',
      ok: mine.ms <= 5000,
    });

    // Start-up from the install, interleaved with `node -e 0`.
    const example = copyExample();
    cleanups.push(example.cleanup);
    const node: number[] = [];
    const help: number[] = [];
    const status: number[] = [];
    for (let i = 0; i < 15; i++) {
      node.push(timeRun(['-e', '0'], example.dir));
      help.push(timeRun([mine.bin, '--help'], example.dir));
      status.push(timeRun([mine.bin, 'status'], example.dir, { MLSHIP_PYTHON: python }));
    }
    const base = { name: 'node -e 0', value: median(node) };
    const h = median(help);
    const s = median(status);
    rows.push({
      name: 'installed mlship --help start-up (median)',
      value: h,
      unit: 'ms',
      baseline: base,
      ratio: h / base.value,
      aim: '<= 1.5',
      ok: h / base.value <= 1.5,
    });
    rows.push({
      name: 'installed mlship status on local (median)',
      value: s,
      unit: 'ms',
      baseline: base,
      ratio: s / base.value,
      aim: '<= 2',
      ok: s / base.value <= 2,
    });

    // Time to the first cloud call: installed vs this checkout, interleaved, against each cloud's doubles.
    for (const [cloud, start] of Object.entries(CLOUD_DOUBLES)) {
      const project = copyExample();
      cleanups.push(project.cleanup);
      const doubles = await start(project.dir);
      cleanups.push(doubles.stop);
      addTargetBlock(path.join(project.dir, 'mlship.yaml'), cloud, doubles.block);
      const env = { ...doubles.env, MLSHIP_PYTHON: python };
      const installed: number[] = [];
      const tree: number[] = [];
      for (let i = 0; i < 3; i++) {
        installed.push(await timeRunAsync([mine.bin, 'status', '--target', cloud], project.dir, env));
        tree.push(await timeRunAsync([mlshipBin, 'status', '--target', cloud], project.dir, env));
      }
      const a = median(installed);
      const b = median(tree);
      rows.push({
        name: `first cloud call: installed mlship status --target ${cloud} (median of 3)`,
        value: a,
        unit: 'ms',
        baseline: { name: 'the same from the source tree', value: b },
        ratio: a / b,
        aim: '<= 1',
        ok: a <= b,
      });
    }
    return rows;
  } finally {
    for (const c of cleanups.reverse()) await c();
  }
}

function installAwsCdk(dir: string, cache: string): { dir: string; ms: number } {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'package.json'), '{ "name": "cdk-install-check", "private": true }\n');
  const started = process.hrtime.bigint();
  const r = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--no-update-notifier', '--cache', cache, 'aws-cdk'], { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm install aws-cdk failed:\n${r.stderr}`);
  return { dir, ms: Number(process.hrtime.bigint() - started) / 1e6 };
}
