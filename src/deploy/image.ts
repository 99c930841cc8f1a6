/**
 * The push/image flow every cloud shares: where the version's image comes from (`--image` as given,
 * or an image builder that works here, checked before anything is uploaded), and pushing the build's
 * image to the cloud's registry under `<repository>:<build id>` with the builder that built it
 * (docker, podman or buildah: src/packaging/image/). The cloud supplies an `ImageRegistry`: its
 * repository (created if missing) and a short-lived login (an ECR token, an Artifact Registry access
 * token, an ACR refresh token). The password goes to the builder's `login --password-stdin`, into a throwaway auth
 * folder: never to an argument, the user's credential store or a log.
 */
import { OperationError, UsageError } from '../util/errors.js';

/** What registries answer when the identity may log in but not push (ACR, ECR, Artifact Registry, Docker Hub). */
const DENIED = /\b(denied|unauthori[sz]ed|forbidden|403)\b/i;
import type { Reporter } from '../util/reporter.js';
import { readBuildInfo } from '../packaging/index.js';
import type { ImageBuilder, RegistryCredentials } from '../packaging/image/builder.js';
import { selectBuilder } from '../packaging/image/select.js';

export type { RegistryCredentials } from '../packaging/image/builder.js';

/** A builder that works here, to push with. */
export interface Engine {
  builder: ImageBuilder;
}

/** A cloud's image registry, as the push flow needs it. */
export interface ImageRegistry {
  /** For messages: `ECR repository mlship/churn`. */
  readonly description: string;
  /** The repository URI (without a tag), creating the repository when it is missing. */
  ensureRepository(): Promise<string>;
  /** A short-lived login for the builder (the registry-credentials hook). */
  credentials(): Promise<RegistryCredentials>;
  /** The `--image` URI a user would pass for a build, for the hint when no builder works. */
  exampleUri(buildId: string): string;
  /** What the registry needs to let a push in (a role, a policy), for the hint when it refuses one. */
  readonly pushPermission?: string;
}

/** Where a version's image comes from: a URI already pushed, or a builder to push with. */
export type ImageSource = { uri: string } | Engine;

/**
 * `--image` as given, or a builder that works: `--builder` when given, else the one that built the
 * build's image when it still works, else the first that works. Without any, a usage error naming
 * the flag.
 */
export async function imageSource(
  registry: ImageRegistry,
  build: { id: string; dir: string },
  options: { image?: string; env: NodeJS.ProcessEnv; builder?: string },
): Promise<ImageSource> {
  if (options.image) return { uri: options.image };
  const choice = await selectBuilder(options.env, options.builder, readBuildInfo(build.dir)?.image?.builder);
  if ('skipped' in choice) {
    throw new UsageError(`no image builder works here to push the serving image to ${registry.description} (${choice.skipped})`, {
      code: 'image_required',
      hint: `Build and push the image from ${build.dir} with a builder (CI, a cloud build service), then pass it: mlship push --image ${registry.exampleUri(build.id)}`,
    });
  }
  return choice;
}

/**
 * Push the build's image to the registry: the image the build made when the builder still has it
 * (tagged), else built now under the registry's name. Returns the pushed image URI.
 */
export async function pushImage(
  registry: ImageRegistry,
  build: { id: string; dir: string },
  engine: Engine,
  options: { reporter: Reporter; env: NodeJS.ProcessEnv },
): Promise<string> {
  const { builder } = engine;
  const uri = `${await registry.ensureRepository()}:${build.id}`;
  const login = await registry.credentials();
  const built = readBuildInfo(build.dir)?.image;
  if (built && built.builder === builder.name && (await builder.inspect(built.id))) await builder.tag(built.id, uri);
  else await builder.build({ dir: build.dir, tag: uri, platform: built?.platform ?? 'linux/amd64', output: options.reporter });
  const progress = await options.reporter.progress(`pushing image ${uri} with ${builder.name}`);
  try {
    const pushed = await builder.push(uri, login);
    progress.succeed(`pushed image ${uri} with ${builder.name}${pushed.digest ? ` (${pushed.digest})` : ''}`);
  } catch (error) {
    progress.fail();
    if (registry.pushPermission && error instanceof OperationError && error.code === 'image_push_failed' && DENIED.test(error.message)) {
      throw new OperationError(error.code, error.message, { hint: `${registry.description} refused the push: ${registry.pushPermission}`, cause: error });
    }
    throw error;
  }
  return uri;
}
