/**
 * `npm run fake -- sagemaker`: moto behind the contract fake (the wire-level AWS doubles the
 * SageMaker tests use), on 127.0.0.1. Export the printed `env` (AWS_ENDPOINT_URL, static test
 * credentials) and add the printed `targets` block to mlship.yaml to run the README's SageMaker
 * section without an AWS account.
 */
import { ContractFake } from './contract-fake.js';
import { awsTestEnv, startMoto } from './moto-server.js';
import type { RunningFake } from '../run.js';

export async function start(): Promise<RunningFake> {
  const moto = await startMoto();
  const fake = new ContractFake(moto.url);
  await fake.start();
  return {
    env: awsTestEnv(fake.url),
    targets: { sagemaker: { region: 'us-east-1', role: 'arn:aws:iam::123456789012:role/mlship', bucket: 'mlship-fake-bucket' } },
    async stop() {
      await fake.stop();
      await moto.stop();
    },
  };
}
