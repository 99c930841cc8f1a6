/**
 * The image step: when a Docker (or Podman) CLI is on the PATH and its engine answers, build the
 * context into an image and record its id; otherwise say once why it was skipped and how to build
 * it by hand. Nothing else in a build needs Docker.
 */
import { execa } from 'execa';
import type { Reporter } from '../core/reporter.js';
import { OperationError } from '../core/errors.js';

/** The image a build was built into, as build.json records it. */
export interface ImageInfo {
  /** Image id (`sha256:…`). */
  id: string;
  tag: string;
  platform: string;
  builder: 'docker' | 'podman';
}

/** The container CLI to build with, or why there is none. */
export type ContainerCli = { cli: 'docker' | 'podman' } | { skipped: string };

/** The first container CLI whose engine answers, or why none does. */
export async function detectContainerCli(env: NodeJS.ProcessEnv): Promise<ContainerCli> {
  const reasons: string[] = [];
  for (const cli of ['docker', 'podman'] as const) {
    const r = await execa(cli, ['version'], { reject: false, env, extendEnv: false, timeout: 15_000 });
    if (r.exitCode === 0) return { cli };
    const code = (r as { code?: string }).code;
    if (code === 'ENOENT') continue;
    const why = (String(r.stderr ?? '') || r.message || '').trim().split('\n').filter(Boolean).pop() ?? 'no answer';
    reasons.push(`${cli} is installed but its engine does not answer (${why})`);
  }
  return { skipped: reasons[0] ?? 'no Docker or Podman CLI on the PATH' };
}

/** `docker build` the context; progress streams to stderr (all of it with --verbose). */
export async function buildImage(options: { cli: 'docker' | 'podman'; dir: string; tag: string; platform: string; env: NodeJS.ProcessEnv; output: Reporter }): Promise<ImageInfo> {
  const { cli, dir, tag, platform, output } = options;
  if (process.platform === 'darwin' && process.arch === 'arm64' && platform === 'linux/amd64') {
    output.info('note: building a linux/amd64 image on Apple Silicon (emulated, slower); the clouds run amd64. Pass --platform linux/arm64 for a local-only image.');
  }
  const args = ['build', '--platform', platform, '-t', tag, ...(cli === 'docker' ? ['--progress=plain'] : []), dir];
  const progress = await output.progress(`${cli} build ${tag}`);
  const child = execa(cli, args, { reject: false, env: options.env, extendEnv: false, all: true, buffer: { all: true } });
  child.all?.on('data', (chunk: Buffer) => {
    if (output.verbose) output.stderr.write(chunk);
    else {
      const line = chunk.toString().trim().split('\n').pop();
      if (line) progress.update(`${cli} build: ${line.slice(0, 100)}`);
    }
  });
  const r = await child;
  if (r.exitCode !== 0) {
    progress.fail(`${cli} build failed`);
    const tail = String(r.all ?? '').trim().split('\n').slice(-15).join('\n');
    throw new OperationError('image_build_failed', `\`${cli} ${args.join(' ')}\` failed (exit ${r.exitCode ?? 'none'}):\n${tail}`, {
      hint: 'Fix the error above and build again, or pass --no-image to skip the image (the local runtime does not need it).',
    });
  }
  const inspect = await execa(cli, ['image', 'inspect', '--format', '{{.Id}}', tag], { reject: false, env: options.env, extendEnv: false });
  const id = inspect.stdout.trim();
  if (inspect.exitCode !== 0 || !id) {
    progress.fail();
    throw new OperationError('image_build_failed', `${cli} built ${tag} but \`${cli} image inspect\` cannot find it`, { hint: 'Build again with --verbose.' });
  }
  progress.succeed(`image ${tag} (${id.slice(0, 19)})`);
  return { id, tag, platform, builder: cli };
}

/** Whether an image recorded earlier still exists. */
export async function imageExists(cli: 'docker' | 'podman', id: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  const r = await execa(cli, ['image', 'inspect', '--format', '{{.Id}}', id], { reject: false, env, extendEnv: false, timeout: 15_000 });
  return r.exitCode === 0;
}
