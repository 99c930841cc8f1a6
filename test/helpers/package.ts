/**
 * The published package as a user gets it: the bundle made (scripts/bundle.mjs), `npm pack`, and
 * the tarball installed into an empty folder. Used by test/package and the `package` bench.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startAzureDoubles } from '../doubles/azure/index.js';
import { start as startSageMakerDoubles } from '../doubles/sagemaker/run-fake.js';
import { startVertexFakes } from '../doubles/vertex/run-fake.js';
import { repoRoot } from './cli.js';

export interface Packed {
  tarball: string;
  /** Paths inside the package, as `npm pack` lists them. */
  files: string[];
}

/**
 * Bundle and pack into `dest`. `npm pack` runs `prepack` (build + bundle) on a real publish; here the
 * suite has just run `npm run build`, and tsc must not rewrite dist/ under the tests running beside
 * this one, so the bundle step runs alone and pack skips the scripts.
 */
export function packPackage(dest: string): Packed {
  execFileSync(process.execPath, [path.join(repoRoot, 'scripts', 'bundle.mjs')], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'] });
  const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dest], { cwd: repoRoot, encoding: 'utf8' });
  const [info] = JSON.parse(out) as { filename: string; files: { path: string }[] }[];
  return { tarball: path.join(dest, info!.filename), files: info!.files.map((f) => f.path) };
}

export interface Installed {
  dir: string;
  /** node_modules/.bin/mlship, what `npx mlship` runs there. */
  bin: string;
  ms: number;
}

/** `npm install <tarball>` into a new folder `dir`; `cache` is npm's cache folder (a fresh one for a cold install). */
export function installTarball(tarball: string, dir: string, options: { cache?: string; offline?: boolean } = {}): Installed {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'package.json'), '{ "name": "mlship-install-check", "private": true }\n');
  const args = [
    'install',
    '--no-audit',
    '--no-fund',
    '--no-update-notifier',
    ...(options.offline ? ['--offline'] : []),
    ...(options.cache ? ['--cache', options.cache] : []),
    tarball,
  ];
  const started = process.hrtime.bigint();
  const r = spawnSync('npm', args, { cwd: dir, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0) throw new Error(`npm ${args.join(' ')} failed in ${dir}:\n${r.stderr}`);
  return { dir, bin: path.join(dir, 'node_modules', '.bin', 'mlship'), ms };
}

/** A cloud's doubles as test/package and the package bench use them. */
export interface CloudDoubles {
  env: Record<string, string>;
  /** The `targets.<cloud>` block of mlship.yaml that points at them. */
  block: Record<string, unknown>;
  /** An image reference in the cloud's registry for build `id` (what `push --image` takes). */
  image(id: string): string;
  stop(): Promise<void>;
}

/** Each cloud's doubles (the ones `npm run fake -- <cloud>` starts), for a project in `projectDir`. */
export const CLOUD_DOUBLES: Record<string, (projectDir: string) => Promise<CloudDoubles>> = {
  sagemaker: async () => {
    const fake = await startSageMakerDoubles();
    return {
      env: fake.env,
      block: fake.targets.sagemaker!,
      image: (id) => `123456789012.dkr.ecr.us-east-1.amazonaws.com/mlship/churn:${id}`,
      stop: () => fake.stop(),
    };
  },
  vertex: async (dir) => {
    // Control plane only: deployments are not served (the serving app is covered by test/targets).
    const fake = await startVertexFakes({ serve: false });
    return {
      env: { ...fake.env, GOOGLE_APPLICATION_CREDENTIALS: path.join(dir, 'no-such-credentials.json') },
      block: fake.targets.vertex!,
      image: (id) => `us-central1-docker.pkg.dev/mlship-demo/mlship/churn:${id}`,
      stop: () => fake.stop(),
    };
  },
  azure: async (dir) => {
    // Azure ML deployments run the serving app of the build their image tag names.
    const doubles = await startAzureDoubles({ buildsDir: path.join(dir, '.mlship', 'build') });
    return {
      env: doubles.env,
      block: { subscription: doubles.env.AZURE_SUBSCRIPTION_ID, ...doubles.arm.manifestBlock() },
      image: (id) => `mlshipfake.azurecr.io/churn:${id}`,
      stop: () => doubles.stop(),
    };
  },
};

/** Append `targets.<cloud>` to a manifest (drift found must not start a retraining run). */
export function addTargetBlock(manifestFile: string, cloud: string, block: Record<string, unknown>): void {
  const yaml = Object.entries(block)
    .map(([k, v]) => `    ${k}: ${JSON.stringify(v)}\n`)
    .join('');
  writeFileSync(manifestFile, `${readFileSync(manifestFile, 'utf8').replace('on_drift: true', 'on_drift: false')}targets:\n  ${cloud}:\n${yaml}`);
}
