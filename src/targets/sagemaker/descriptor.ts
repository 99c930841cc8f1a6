/**
 * What mlship knows about the SageMaker target without loading it or the AWS SDK (see
 * shared/descriptor.ts): its manifest block, what `init` writes for it, the CI login, the catalog,
 * its capabilities (canary through the shared rollout controller over variant weights, model package approval,
 * SageMaker Pipelines retraining, Model Monitor) and the Data Capture log format.
 */
import { mlshipLogFormat } from '../../logs/formats/local.js';
import type { TargetDescriptor } from '../../deploy/descriptor.js';
import { sagemakerCaptureFormat } from '../../logs/formats/sagemaker.js';

export const sagemakerDescriptor: TargetDescriptor = {
  name: 'sagemaker',
  title: 'AWS SageMaker',
  manifestBlock: 'targets.sagemaker',
  defaults: { prefix: 'mlship' },
  initSnippet: [
    'sagemaker:',
    '  region: us-east-1',
    '  # role: arn:aws:iam::123456789012:role/mlship  # the execution role SageMaker assumes (needed to deploy)',
  ],
  ciLogin: ['- uses: aws-actions/configure-aws-credentials@v4', '  with:', '    role-to-assume: ${{ secrets.AWS_ROLE_ARN }}', '    aws-region: us-east-1'],
  catalog: 'sagemaker',
  deploysImages: true,
  capabilities: { strategies: ['all-at-once', 'canary'], approval: true, managedRetraining: true, managedMonitoring: true, alertEmail: true, stop: true },
  logFormats: [sagemakerCaptureFormat, mlshipLogFormat],
};
