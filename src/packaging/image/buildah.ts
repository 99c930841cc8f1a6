/**
 * buildah: builds without a daemon (CI runners, Kubernetes build pods, this project's tests). RUN
 * steps use chroot isolation unless BUILDAH_ISOLATION says otherwise: a build pod usually cannot
 * start a nested OCI runtime, and chroot needs none. `--layers` keeps the layer cache docker has by
 * default (the requirements layer is reused when only code or the model changed); `--pull=false`
 * pulls the base only when it is not in the store, as `docker build` does.
 */
import path from 'node:path';
import type { Reporter } from '../../util/reporter.js';
import { readDigest } from './docker.js';
import { lastLine, normaliseId, runner, streamBuild, toolFailed, withCredentialsDir, registryHost, type ImageBuilder, type ImageInfo } from './builder.js';

export function buildahBuilder(env: NodeJS.ProcessEnv): ImageBuilder {
  const run = runner('buildah', env);
  const builder: ImageBuilder = {
    name: 'buildah',
    async probe() {
      // `info` opens the image store: it fails where buildah is installed but cannot work (no storage driver, no user namespace).
      const r = await run(['info'], { timeout: 30_000 });
      if (r.missing) return 'no buildah on the PATH';
      return r.exitCode === 0 ? undefined : `buildah is installed but cannot use its storage (${lastLine(r.stderr || r.all)})`;
    },
    async build({ dir, tag, platform, output }: { dir: string; tag: string; platform: string; output: Reporter }): Promise<ImageInfo> {
      const isolation = env.BUILDAH_ISOLATION || 'chroot';
      const args = ['bud', '--isolation', isolation, '--format', 'docker', '--layers', '--pull=false', '--platform', platform, '-t', tag, dir];
      await streamBuild('buildah', args, tag, env, output);
      const image = await builder.inspect(tag);
      if (!image) throw toolFailed('image_build_failed', `buildah built ${tag} but \`buildah inspect\` cannot find it`, '', 'Build again with --verbose.');
      return { id: image.id, tag, platform, builder: 'buildah', ...(image.bytes !== undefined && { bytes: image.bytes }) };
    },
    async inspect(ref) {
      const r = await run(['inspect', '--type', 'image', ref], { timeout: 30_000 });
      if (r.exitCode !== 0) return undefined;
      try {
        const data = JSON.parse(r.stdout) as { FromImageID?: string; Manifest?: string };
        if (!data.FromImageID) return undefined;
        // The stored manifest lists the layers uncompressed: their sum is the image's size.
        const layers = (JSON.parse(data.Manifest ?? '{}') as { layers?: { size?: number }[] }).layers ?? [];
        const bytes = layers.reduce((sum, l) => sum + (l.size ?? 0), 0);
        return { id: normaliseId(data.FromImageID), ...(bytes > 0 && { bytes }) };
      } catch {
        return undefined;
      }
    },
    async tag(image, ref) {
      const r = await run(['tag', image, ref]);
      if (r.exitCode !== 0)
        throw toolFailed(
          'image_push_failed',
          `buildah tag ${image} ${ref}`,
          r.all,
          'Check that buildah still has the image (`buildah images`), or build again.',
        );
    },
    async push(ref, auth) {
      const server = registryHost(auth.server);
      return withCredentialsDir(async (dir) => {
        const authFile = path.join(dir, 'auth.json');
        const login = await run(['login', '--authfile', authFile, '--username', auth.username, '--password-stdin', server], { input: auth.password });
        if (login.exitCode !== 0)
          throw toolFailed(
            'image_push_failed',
            `buildah login ${server}`,
            login.all,
            `Check that buildah can reach ${server} and that the credentials are current.`,
          );
        const digestFile = path.join(dir, 'digest');
        const r = await run(['push', '--authfile', authFile, '--format', 'v2s2', '--digestfile', digestFile, ref, `docker://${ref}`]);
        if (r.exitCode !== 0)
          throw toolFailed(
            'image_push_failed',
            `buildah push ${ref}`,
            r.all,
            `Check that buildah can reach ${server}; or push the image yourself and pass --image URI.`,
          );
        const digest = readDigest(digestFile);
        return digest ? { digest } : {};
      });
    },
  };
  return builder;
}
