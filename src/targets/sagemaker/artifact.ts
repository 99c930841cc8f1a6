/**
 * What `push` uploads: the model as `model.tar.gz` (SageMaker unpacks it into /opt/ml/model, where
 * the serving app looks for it) and the serving image in ECR. The ECR token goes to `docker login`
 * on stdin only; it is never written to a file or a log.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { OperationError, UsageError } from '../../core/errors.js';
import type { Reporter } from '../../core/reporter.js';
import { readBuildInfo, type BuildInfo } from '../../build/index.js';
import { buildImage, detectContainerCli, imageExists } from '../../build/docker.js';
import type { AwsApi } from './api.js';
import { ifExists } from './aws-client.js';
import type { Resources } from './resources.js';

/** Read `build.json` of a build folder (the build area's reader), failing clearly when it is absent. */
export function readBuild(dir: string): BuildInfo {
  const info = readBuildInfo(dir);
  if (!info?.model?.file || !info.model.sha256) {
    throw new OperationError('build_invalid', `no finished build in ${dir} (build.json missing or incomplete)`, { hint: 'Run `mlship build` again.' });
  }
  return info;
}

/** Pack the model file into a gzipped tar (the file at the archive root) with the system `tar`. */
export async function packModel(modelPath: string): Promise<{ file: string; cleanup: () => void }> {
  const { execa } = await import('execa');
  const dir = mkdtempSync(path.join(tmpdir(), 'mlship-sagemaker-'));
  const file = path.join(dir, 'model.tar.gz');
  try {
    await execa('tar', ['-czf', file, '-C', path.dirname(modelPath), path.basename(modelPath)]);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw new OperationError('pack_failed', `could not pack ${modelPath} into model.tar.gz: ${(error as Error).message}`, {
      hint: 'mlship uses the system `tar`; make sure it is on the PATH.',
      cause: error,
    });
  }
  return { file, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Where the version's image comes from: `--image` as given, or a container engine that answers
 * (checked before anything is uploaded). Without either, a usage error naming the flag.
 */
export async function imageSource(r: Resources, build: { id: string; dir: string }, options: { image?: string; env: NodeJS.ProcessEnv }): Promise<{ uri: string } | { cli: 'docker' | 'podman' }> {
  if (options.image) return { uri: options.image };
  const cli = await detectContainerCli(options.env);
  if ('skipped' in cli) {
    throw new UsageError(`no container engine is available here to push the serving image to ECR (${cli.skipped})`, {
      code: 'image_required',
      hint: `Build and push the image from ${build.dir} with a builder (CI, CodeBuild), then pass it: mlship push --target sagemaker --image <account>.dkr.ecr.${r.region}.amazonaws.com/${r.repository}:${build.id}`,
    });
  }
  return cli;
}

/**
 * Push the build's image to the project's ECR repository (created if missing): the image the build
 * made when it still exists, else built now under the ECR name. Returns the image URI.
 */
export async function pushImage(
  api: AwsApi,
  r: Resources,
  build: { id: string; dir: string },
  cli: { cli: 'docker' | 'podman' },
  options: { output: Reporter; env: NodeJS.ProcessEnv },
): Promise<string> {
  const repo =
    (await ifExists(() => api.describeRepositories({ repositoryNames: [r.repository] })))?.repositories?.[0] ??
    (await api.createRepository({ repositoryName: r.repository, imageScanningConfiguration: { scanOnPush: true }, encryptionConfiguration: { encryptionType: 'AES256' } })).repository;
  if (!repo?.repositoryUri) throw new OperationError('aws_error', `ECR returned no URI for repository ${r.repository}`);
  const uri = `${repo.repositoryUri}:${build.id}`;
  const auth = (await api.getAuthorizationToken({})).authorizationData?.[0];
  if (!auth?.authorizationToken || !auth.proxyEndpoint) throw new OperationError('aws_error', 'ECR returned no authorization token');
  const [user, password] = Buffer.from(auth.authorizationToken, 'base64').toString('utf8').split(':');
  const { execa } = await import('execa');
  const run = async (args: string[], input?: string) => {
    const result = await execa(cli.cli, args, { reject: false, env: options.env, extendEnv: false, all: true, ...(input !== undefined && { input }) });
    if (result.exitCode !== 0) {
      const tail = String(result.all ?? '').trim().split('\n').slice(-5).join(' ');
      throw new OperationError('image_push_failed', `${cli.cli} ${args[0]} failed: ${tail || 'no output'}`, {
        hint: `Check that ${cli.cli} can reach ${auth.proxyEndpoint}; or push the image yourself and pass --image URI.`,
      });
    }
  };
  // The image the build made, when it is still there; otherwise build it now under the ECR name.
  const built = readBuildInfo(build.dir)?.image;
  if (built && (await imageExists(cli.cli, built.id, options.env))) await run(['tag', built.id, uri]);
  else await buildImage({ cli: cli.cli, dir: build.dir, tag: uri, platform: 'linux/amd64', env: options.env, output: options.output });
  const progress = await options.output.progress(`pushing image ${uri}`);
  try {
    // The token goes to the engine on stdin only.
    await run(['login', '--username', user ?? 'AWS', '--password-stdin', auth.proxyEndpoint], password ?? '');
    await run(['push', uri]);
    progress.succeed(`pushed image ${uri}`);
  } catch (error) {
    progress.fail();
    throw error;
  }
  return uri;
}
