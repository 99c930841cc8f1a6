/**
 * `npm run fake -- sagemaker`: moto behind the contract fake (the wire-level AWS doubles the
 * SageMaker tests use), on 127.0.0.1, with the runtime double answering InvokeEndpoint: it runs the
 * builds of the project the fake is started from (`.mlship/build` of the current folder, or
 * MLSHIP_FAKE_BUILDS). Export the printed `env` (AWS_ENDPOINT_URL, static test credentials) and add
 * the printed `targets` block to mlship.yaml to run the README's SageMaker section without an AWS account.
 */
import path from 'node:path';
import { ContractFake } from './contract-fake.js';
import { awsTestEnv, startMoto } from './moto-server.js';
import { SageMakerRuntimeFake } from './runtime.js';
import type { RunningFake } from '../run.js';

export async function start(): Promise<RunningFake> {
  const moto = await startMoto();
  const fake = new ContractFake(moto.url);
  await fake.start();
  const buildsDir = process.env.MLSHIP_FAKE_BUILDS ?? path.join(process.env.INIT_CWD ?? process.cwd(), '.mlship', 'build');
  fake.runtime = new SageMakerRuntimeFake({ awsUrl: fake.url, buildsDirs: [buildsDir] });
  return {
    env: awsTestEnv(fake.url),
    targets: { sagemaker: { region: 'us-east-1', role: 'arn:aws:iam::123456789012:role/mlship', bucket: 'mlship-fake-bucket' } },
    async stop() {
      await fake.runtime?.stop();
      await fake.stop();
      await moto.stop();
    },
  };
}
