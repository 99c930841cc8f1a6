/**
 * The push/image flow every cloud shares: where the version's image comes from (`--image` as given,
 * or a container engine that answers, checked before anything is uploaded), and pushing the build's
 * image to the cloud's registry under `<repository>:<build id>`. The cloud supplies an
 * `ImageRegistry`: its repository (created if missing) and a short-lived login (ECR token now; Artifact
 * Registry and ACR tokens next). The password goes to the engine on stdin only: never to a file,
 * an argument or a log.
 */
import { OperationError, UsageError } from '../../core/errors.js';
import type { Reporter } from '../../core/reporter.js';
import { readBuildInfo } from '../../build/index.js';
import { buildImage, detectContainerCli, imageExists, type ContainerCli } from '../../build/docker.js';

/** A container engine that answered. */
export type Engine = Exclude<ContainerCli, { skipped: string }>;

/** A login for the container engine. */
export interface RegistryCredentials {
  /** The registry host to log in to (`123456789012.dkr.ecr.us-east-1.amazonaws.com`). */
  server: string;
  username: string;
  password: string;
}

/** A cloud's image registry, as the push flow needs it. */
export interface ImageRegistry {
  /** For messages: `ECR repository mlship/churn`. */
  readonly description: string;
  /** The repository URI (without a tag), creating the repository when it is missing. */
  ensureRepository(): Promise<string>;
  /** A short-lived login for the engine (the registry-credentials hook). */
  credentials(): Promise<RegistryCredentials>;
  /** The `--image` URI a user would pass for a build, for the hint when no engine is there. */
  exampleUri(buildId: string): string;
}

/** Where a version's image comes from: a URI already pushed, or an engine to push with. */
export type ImageSource = { uri: string } | Engine;

/** `--image` as given, or a container engine that answers; without either, a usage error naming the flag. */
export async function imageSource(registry: ImageRegistry, build: { id: string; dir: string }, options: { image?: string; env: NodeJS.ProcessEnv }): Promise<ImageSource> {
  if (options.image) return { uri: options.image };
  const cli = await detectContainerCli(options.env);
  if ('skipped' in cli) {
    throw new UsageError(`no container engine is available here to push the serving image to ${registry.description} (${cli.skipped})`, {
      code: 'image_required',
      hint: `Build and push the image from ${build.dir} with a builder (CI, a cloud build service), then pass it: mlship push --image ${registry.exampleUri(build.id)}`,
    });
  }
  return cli;
}

/**
 * Push the build's image to the registry: the image the build made when it still exists (tagged), else
 * built now under the registry's name. Returns the pushed image URI.
 */
export async function pushImage(registry: ImageRegistry, build: { id: string; dir: string }, engine: Engine, options: { reporter: Reporter; env: NodeJS.ProcessEnv }): Promise<string> {
  const uri = `${await registry.ensureRepository()}:${build.id}`;
  const login = await registry.credentials();
  const { execa } = await import('execa');
  const run = async (args: string[], input?: string) => {
    const result = await execa(engine.cli, args, { reject: false, env: options.env, extendEnv: false, all: true, ...(input !== undefined && { input }) });
    if (result.exitCode !== 0) {
      const tail = String(result.all ?? '').trim().split('\n').slice(-5).join(' ');
      throw new OperationError('image_push_failed', `${engine.cli} ${args[0]} failed: ${tail || 'no output'}`, {
        hint: `Check that ${engine.cli} can reach ${login.server}; or push the image yourself and pass --image URI.`,
      });
    }
  };
  const built = readBuildInfo(build.dir)?.image;
  if (built && (await imageExists(engine.cli, built.id, options.env))) await run(['tag', built.id, uri]);
  else await buildImage({ cli: engine.cli, dir: build.dir, tag: uri, platform: 'linux/amd64', env: options.env, output: options.reporter });
  const progress = await options.reporter.progress(`pushing image ${uri}`);
  try {
    await run(['login', '--username', login.username, '--password-stdin', login.server], login.password);
    await run(['push', uri]);
    progress.succeed(`pushed image ${uri}`);
  } catch (error) {
    progress.fail();
    throw error;
  }
  return uri;
}
