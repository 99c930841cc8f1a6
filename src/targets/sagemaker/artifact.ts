/**
 * What `push` uploads: the model as `model.tar.gz` (SageMaker unpacks it into /opt/ml/model, where
 * the serving app looks for it) and the serving image in ECR. The ECR token goes to `docker login`
 * on stdin only; it is never written to a file or a log.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { OperationError, UsageError } from '../../core/errors.js';
import type { Output } from '../../cli/output.js';
import type { AwsApi } from './api.js';
import { ifExists } from './aws-client.js';
import type { Resources } from './resources.js';

/** The parts of a build's `build.json` that push reads. */
export interface BuildInfo {
  id?: string;
  model: { file: string; sha256: string };
  git?: { commit?: string } | string;
}

/** Read `build.json` of a build folder. */
export function readBuildInfo(dir: string): BuildInfo {
  let info: BuildInfo;
  try {
    info = JSON.parse(readFileSync(path.join(dir, 'build.json'), 'utf8')) as BuildInfo;
  } catch {
    throw new OperationError('build_invalid', `no readable build.json in ${dir}`, { hint: 'Run `mlship build` again.' });
  }
  if (!info.model?.file || !info.model?.sha256) {
    throw new OperationError('build_invalid', `build.json in ${dir} names no model file and digest`, { hint: 'Run `mlship build` again.' });
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

/** Whether a Docker CLI is installed and its daemon answers. */
export async function dockerAnswers(): Promise<boolean> {
  const { execa } = await import('execa');
  try {
    await execa('docker', ['version', '--format', '{{.Server.Version}}'], { timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

/**
 * The image the version runs: `--image` as given, else built from the build context and pushed to
 * the project's ECR repository (created if missing). Without Docker and without `--image` this is a
 * usage error naming the flag.
 */
export async function resolveImage(
  api: AwsApi,
  r: Resources,
  build: { id: string; dir: string },
  options: { image?: string; output: Output; plan?: boolean },
): Promise<string> {
  if (options.image) return options.image;
  if (!(await dockerAnswers())) {
    throw new UsageError('no Docker is available here to build and push the serving image to ECR', {
      code: 'image_required',
      hint: `Build and push the image from ${build.dir} with a builder (CI, CodeBuild), then pass it: mlship push --target sagemaker --image <account>.dkr.ecr.${r.region}.amazonaws.com/${r.repository}:${build.id}`,
    });
  }
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
    try {
      const child = execa('docker', args, { ...(input !== undefined && { input }), all: true });
      if (options.output.verbose) child.all?.pipe(options.output.stderr, { end: false });
      await child;
    } catch (error) {
      const all = (error as { all?: string }).all ?? '';
      throw new OperationError('docker_failed', `docker ${args[0]} failed: ${all.split('\n').slice(-5).join(' ').trim() || (error as Error).message}`, {
        hint: 'Check that Docker is running and can reach ECR; or push the image yourself and pass --image URI.',
        cause: error,
      });
    }
  };
  const progress = await options.output.progress(`pushing image ${uri}`);
  try {
    await run(['login', '--username', user ?? 'AWS', '--password-stdin', auth.proxyEndpoint], password ?? '');
    await run(['build', '--platform', 'linux/amd64', '-t', uri, build.dir]);
    await run(['push', uri]);
    progress.succeed(`pushed image ${uri}`);
  } catch (error) {
    progress.fail();
    throw error;
  }
  return uri;
}
