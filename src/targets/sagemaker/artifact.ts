/**
 * What `push` uploads on SageMaker: the model as `model.tar.gz` (SageMaker unpacks it into
 * /opt/ml/model, where the serving app looks for it), and the ECR repository and token the shared
 * image flow (src/deploy/image.ts) pushes the serving image with.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { OperationError } from '../../util/errors.js';
import type { ImageRegistry } from '../../deploy/image.js';
import type { AwsApi } from './api.js';
import { ifExists } from './aws-client.js';
import type { Resources } from './resources.js';

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

/** The project's ECR repository as the shared push flow's `ImageRegistry` (src/deploy/image.ts). */
export function ecrRegistry(api: AwsApi, r: Resources): ImageRegistry {
  return {
    description: `ECR repository ${r.repository}`,
    exampleUri: (buildId) => `<account>.dkr.ecr.${r.region}.amazonaws.com/${r.repository}:${buildId}`,
    pushPermission: `your identity needs ecr:InitiateLayerUpload, ecr:UploadLayerPart, ecr:CompleteLayerUpload, ecr:BatchCheckLayerAvailability and ecr:PutImage on repository ${r.repository} (the AmazonEC2ContainerRegistryPowerUser policy has them), or push the image yourself and pass --image.`,
    async ensureRepository() {
      const repo =
        (await ifExists(() => api.describeRepositories({ repositoryNames: [r.repository] })))?.repositories?.[0] ??
        (
          await api.createRepository({
            repositoryName: r.repository,
            imageScanningConfiguration: { scanOnPush: true },
            encryptionConfiguration: { encryptionType: 'AES256' },
          })
        ).repository;
      if (!repo?.repositoryUri) throw new OperationError('aws_error', `ECR returned no URI for repository ${r.repository}`);
      return repo.repositoryUri;
    },
    // The registry-credentials hook: an ECR token, `AWS:<password>` in base64.
    async credentials() {
      const auth = (await api.getAuthorizationToken({})).authorizationData?.[0];
      if (!auth?.authorizationToken || !auth.proxyEndpoint) throw new OperationError('aws_error', 'ECR returned no authorization token');
      const [username, password] = Buffer.from(auth.authorizationToken, 'base64').toString('utf8').split(':');
      return { server: auth.proxyEndpoint, username: username ?? 'AWS', password: password ?? '' };
    },
  };
}
