/**
 * What mlship knows about the SageMaker target without loading it or the AWS SDK (see
 * deploy/descriptor.ts): its manifest block (`targets.sagemaker`: schema, defaults, the typed
 * settings), what `init` writes for it, the CI login, the catalog,
 * its capabilities (canary through the shared rollout controller over variant weights, model package approval,
 * SageMaker Pipelines retraining, Model Monitor).
 */
import type { TargetDescriptor } from '../../deploy/descriptor.js';

/** `targets.sagemaker` as the loader resolves it (defaults applied). */
export interface SageMakerSettings {
  region?: string;
  role?: string;
  bucket?: string;
  prefix: string;
}

declare module '../../manifest/types.js' {
  interface TargetSettings {
    sagemaker?: SageMakerSettings;
  }
}

export const sagemakerDescriptor: TargetDescriptor = {
  name: 'sagemaker',
  title: 'AWS SageMaker',
  provider: 'aws',
  settings: {
    description: 'AWS settings ([SageMaker](sagemaker.md))',
    properties: {
      region: {
        type: 'string',
        pattern: '^[a-z]{2}(-[a-z]+)+-[0-9]$',
        'x-expected': 'an AWS region such as us-east-1',
        'x-default': "`AWS_REGION` / your profile's region",
        description: 'the AWS region',
      },
      role: {
        type: 'string',
        pattern: '^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$',
        'x-expected': 'an IAM role ARN such as arn:aws:iam::123456789012:role/mlship',
        'x-default': "none: SageMaker's `deploy` needs it",
        description: 'the role SageMaker assumes (endpoint, jobs, pipeline, scheduler)',
      },
      bucket: {
        type: 'string',
        pattern: '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$',
        'x-expected': 'an S3 bucket name (3-63 lowercase letters, digits, . and -)',
        'x-default': '`mlship-<region>-<account>`, created encrypted and private',
        description: 'artifacts, data capture and history',
      },
      prefix: {
        type: 'string',
        pattern: '^[A-Za-z0-9!_.*()/-]*$',
        'x-expected': 'an S3 key prefix (letters, digits and ! _ . * ( ) / -)',
        default: 'mlship',
        description: 'keys live under `s3://<bucket>/<prefix>/<name>/`',
      },
    },
  },
  requiresSettings: { example: '{ region: us-east-1, role: arn:aws:iam::…:role/… }' },
  initSnippet: [
    'sagemaker:',
    '  region: us-east-1',
    '  # role: arn:aws:iam::123456789012:role/mlship  # the execution role SageMaker assumes (needed to deploy)',
  ],
  ciLogin: ['- uses: aws-actions/configure-aws-credentials@v4', '  with:', '    role-to-assume: ${{ secrets.AWS_ROLE_ARN }}', '    aws-region: us-east-1'],
  catalog: 'sagemaker',
  deploysImages: true,
  create: async (ctx) => new (await import('./sagemaker-target.js')).SageMakerTarget(ctx),
  capabilities: { strategies: ['all-at-once', 'canary'], approval: true, alertEmail: true },
};
