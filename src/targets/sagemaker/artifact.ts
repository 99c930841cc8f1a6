/**
 * What `push` uploads: the model as `model.tar.gz` (SageMaker unpacks it into /opt/ml/model, where
 * the serving app looks for it) and the serving image in ECR, pushed with the builder that built it
 * (docker, podman or buildah). The ECR token reaches the tool on stdin only, into a throwaway auth
 * folder; it is never on a command line, in the user's credential store or in a log.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { OperationError, UsageError } from '../../core/errors.js';
import type { Output } from '../../cli/output.js';
import { readBuildInfo, type BuildInfo } from '../../build/index.js';
import type { ImageBuilder } from '../../build/image/builder.js';
import { selectBuilder } from '../../build/image/select.js';
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
 * Where the version's image comes from: `--image` as given, or a builder that works here (the one the
 * build used when it still works; checked before anything is uploaded). Without either, a usage
 * error naming the flag.
 */
export async function imageSource(r: Resources, build: { id: string; dir: string }, options: { image?: string; env: NodeJS.ProcessEnv; builder?: string }): Promise<{ uri: string } | { builder: ImageBuilder }> {
  if (options.image) return { uri: options.image };
  const choice = await selectBuilder(options.env, options.builder, readBuildInfo(build.dir)?.image?.builder);
  if ('skipped' in choice) {
    throw new UsageError(`no image builder works here to push the serving image to ECR (${choice.skipped})`, {
      code: 'image_required',
      hint: `Build and push the image from ${build.dir} with a builder (CI, CodeBuild), then pass it: mlship push --target sagemaker --image <account>.dkr.ecr.${r.region}.amazonaws.com/${r.repository}:${build.id}`,
    });
  }
  return choice;
}

/**
 * Push the build's image to the project's ECR repository (created if missing): the image the build
 * made when the builder still has it, else built now under the ECR name. Returns the image URI.
 */
export async function pushImage(
  api: AwsApi,
  r: Resources,
  build: { id: string; dir: string },
  source: { builder: ImageBuilder },
  options: { output: Output; env: NodeJS.ProcessEnv },
): Promise<string> {
  const { builder } = source;
  const repo =
    (await ifExists(() => api.describeRepositories({ repositoryNames: [r.repository] })))?.repositories?.[0] ??
    (await api.createRepository({ repositoryName: r.repository, imageScanningConfiguration: { scanOnPush: true }, encryptionConfiguration: { encryptionType: 'AES256' } })).repository;
  if (!repo?.repositoryUri) throw new OperationError('aws_error', `ECR returned no URI for repository ${r.repository}`);
  const uri = `${repo.repositoryUri}:${build.id}`;
  const auth = (await api.getAuthorizationToken({})).authorizationData?.[0];
  if (!auth?.authorizationToken || !auth.proxyEndpoint) throw new OperationError('aws_error', 'ECR returned no authorization token');
  const [username, password] = Buffer.from(auth.authorizationToken, 'base64').toString('utf8').split(':');
  // The image the build made, when the builder still has it; otherwise build it now under the ECR name.
  const built = readBuildInfo(build.dir)?.image;
  if (built && built.builder === builder.name && (await builder.inspect(built.id))) await builder.tag(built.id, uri);
  else await builder.build({ dir: build.dir, tag: uri, platform: 'linux/amd64', output: options.output });
  const progress = await options.output.progress(`pushing image ${uri} with ${builder.name}`);
  try {
    const pushed = await builder.push(uri, { registry: auth.proxyEndpoint.replace(/^https?:\/\//, ''), username: username ?? 'AWS', password: password ?? '' });
    progress.succeed(`pushed image ${uri}${pushed.digest ? ` (${pushed.digest.slice(0, 19)})` : ''} with ${builder.name}`);
  } catch (error) {
    progress.fail();
    throw error;
  }
  return uri;
}
