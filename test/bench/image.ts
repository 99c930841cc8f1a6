/**
 * The serving image of the example: its size (aim: under 450 MB on python:3.11-slim) and how long
 * `mlship build --image` takes, built for real with the first builder that works (buildah here, on the
 * stand-in base of test/packaging/image/stand-in.ts when Docker Hub is unreachable).
 *
 * On the stand-in, the total is not the user's: the stand-in is Debian's python3 plus the wheels the
 * build installs, not python:3.11-slim. So the aim is checked on what mlship adds (the image minus its
 * base) plus python:3.11-slim's own size, PYTHON_SLIM_MB. With the real base the total is the user's.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { cliFailure, copyExample, json, python, runCli } from '../helpers/cli.js';
import { ensureStandInBase, STAND_IN_TAG } from '../packaging/image/stand-in.js';
import type { BenchRow } from './run.js';

/** python:3.11-slim (Debian bookworm, linux/amd64) uncompressed, as `docker images` shows it. */
const PYTHON_SLIM_MB = 130;
const AIM_MB = 450;

export async function bench(): Promise<BenchRow[]> {
  if (process.env.MLSHIP_IMAGE_TEST_SKIP || spawnSync('buildah', ['version'], { stdio: 'ignore' }).status !== 0) {
    process.stderr.write(`image bench skipped: ${process.env.MLSHIP_IMAGE_TEST_SKIP ?? 'no buildah'}\n`);
    return [];
  }
  const { dir, cleanup } = copyExample();
  const cli = (...args: string[]) => runCli(args, { cwd: dir, env: { MLSHIP_PYTHON: python }, timeoutMs: 30 * 60_000 });
  try {
    const context = await cli('build', '--no-image', '--json');
    if (context.code !== 0) throw cliFailure('build', context);
    const base = ensureStandInBase(path.join(json<{ dir: string }>(context).dir, 'requirements.txt'));
    const started = Date.now();
    const built = await cli('build', '--image', '--builder', 'buildah', '--json');
    const seconds = (Date.now() - started) / 1000;
    if (built.code !== 0) throw cliFailure('build (image)', built);
    const image = json<{ build: { image: { bytes: number } } }>(built).build.image;
    const standIn = spawnSync('buildah', ['inspect', '--type', 'image', '--format', '{{index .OCIv1.Config.Labels "io.mlship.stand-in"}}', STAND_IN_TAG], {
      encoding: 'utf8',
    }).stdout.trim();
    const appMb = (image.bytes - base.bytes) / 1e6;
    const userMb = standIn ? appMb + PYTHON_SLIM_MB : image.bytes / 1e6;
    return [
      { name: `example image, as built here${standIn ? ' (stand-in base)' : ''}`, value: image.bytes / 1e6, unit: 'MB' },
      { name: 'example image: what mlship adds to the base (requirements, runtime, model, code)', value: appMb, unit: 'MB' },
      {
        name: `example image on python:3.11-slim${standIn ? ` (added layers + ${PYTHON_SLIM_MB} MB base)` : ''}`,
        value: userMb,
        unit: 'MB',
        aim: `< ${AIM_MB} MB`,
        ok: userMb < AIM_MB,
      },
      { name: 'mlship build --image with buildah (layer cache as left by earlier runs)', value: seconds, unit: 's' },
    ];
  } finally {
    cleanup();
  }
}
