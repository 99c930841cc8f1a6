/**
 * docker and podman: the same command line, each with its engine (the Docker daemon; podman's own
 * storage). Images are built in Docker's manifest format, which every cloud registry and SageMaker
 * accept.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Reporter } from '../../util/reporter.js';
import {
  lastLine,
  normaliseId,
  runner,
  streamBuild,
  toolFailed,
  withCredentialsDir,
  registryHost,
  type ImageBuilder,
  type ImageInfo,
  type RegistryCredentials,
} from './builder.js';

/** docker (`docker version` must reach the daemon) or podman. */
export function dockerLikeBuilder(name: 'docker' | 'podman', env: NodeJS.ProcessEnv): ImageBuilder {
  const run = runner(name, env);
  const builder: ImageBuilder = {
    name,
    async probe() {
      const r = await run(name === 'docker' ? ['version'] : ['info'], { timeout: 15_000 });
      if (r.missing) return `no ${name} on the PATH`;
      if (r.exitCode !== 0) return `${name} is installed but does not answer (${lastLine(r.stderr || r.all)})`;
      if (name === 'podman') {
        // `info` answers where podman cannot start a container (an OCI runtime that cannot set rlimits
        // in a VM, no cgroups), and a build then fails at its first RUN step. Start one: the host's root
        // as a throwaway overlay (`:O`, writes discarded), so no image is needed.
        const c = await run(['run', '--rm', '--network', 'none', '--rootfs', '/:O', 'true'], { timeout: 60_000 });
        if (c.exitCode !== 0) return `podman is installed but cannot run a container, as a build's RUN step needs (${lastLine(c.stderr || c.all)})`;
      }
      return undefined;
    },
    async build({ dir, tag, platform, output }: { dir: string; tag: string; platform: string; output: Reporter }): Promise<ImageInfo> {
      const args = ['build', '--platform', platform, '-t', tag, ...(name === 'docker' ? ['--progress=plain'] : ['--format', 'docker', '--layers']), dir];
      await streamBuild(name, args, tag, env, output);
      const image = await builder.inspect(tag);
      if (!image)
        throw toolFailed('image_build_failed', `${name} built ${tag} but \`${name} image inspect\` cannot find it`, '', 'Build again with --verbose.');
      return { id: image.id, tag, platform, builder: name, ...(image.bytes !== undefined && { bytes: image.bytes }) };
    },
    async inspect(ref) {
      const r = await run(['image', 'inspect', '--format', '{{.Id}} {{.Size}}', ref], { timeout: 30_000 });
      if (r.exitCode !== 0) return undefined;
      const [id, size] = r.stdout.trim().split(/\s+/);
      if (!id) return undefined;
      const bytes = Number(size);
      return { id: normaliseId(id), ...(Number.isFinite(bytes) && bytes > 0 && { bytes }) };
    },
    async tag(image, ref) {
      const r = await run(['tag', image, ref]);
      if (r.exitCode !== 0)
        throw toolFailed(
          'image_push_failed',
          `${name} tag ${image} ${ref}`,
          r.all,
          `Check that ${name} still has the image (\`${name} images\`), or build again.`,
        );
    },
    async push(ref, auth: RegistryCredentials) {
      const server = registryHost(auth.server);
      return withCredentialsDir(async (dir) => {
        // docker keeps logins in $DOCKER_CONFIG/config.json, podman in --authfile: both in the throwaway folder.
        const authFile = path.join(dir, 'auth.json');
        const scoped = name === 'docker' ? { env: { DOCKER_CONFIG: dir } } : {};
        const authArgs = name === 'docker' ? [] : ['--authfile', authFile];
        const login = await run(['login', ...authArgs, '--username', auth.username, '--password-stdin', server], { ...scoped, input: auth.password });
        if (login.exitCode !== 0)
          throw toolFailed(
            'image_push_failed',
            `${name} login ${server}`,
            login.all,
            `Check that ${name} can reach ${server} and that the credentials are current.`,
          );
        const digestFile = path.join(dir, 'digest');
        const args = name === 'docker' ? ['push', ref] : ['push', ...authArgs, '--format', 'v2s2', '--digestfile', digestFile, ref];
        const r = await run(args, scoped);
        if (r.exitCode !== 0)
          throw toolFailed(
            'image_push_failed',
            `${name} push ${ref}`,
            r.all,
            `Check that ${name} can reach ${server}; or push the image yourself and pass --image URI.`,
          );
        const digest = name === 'docker' ? /digest: (sha256:[0-9a-f]{64})/.exec(r.all)?.[1] : readDigest(digestFile);
        return digest ? { digest } : {};
      });
    },
  };
  return builder;
}

/** The digest a `--digestfile` holds, if the tool wrote one. */
export function readDigest(file: string): string | undefined {
  try {
    const text = readFileSync(file, 'utf8').trim();
    return /^sha256:[0-9a-f]{64}$/.test(text) ? text : undefined;
  } catch {
    return undefined;
  }
}
