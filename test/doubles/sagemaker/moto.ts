import { afterAll, beforeAll, beforeEach } from 'vitest';
import { ContractFake } from './contract-fake.js';
import { awsTestEnv, startMoto, type Moto } from './moto-server.js';

export { awsTestEnv, startMoto, type Moto };

/**
 * The AWS doubles of a test file: moto behind the contract fake, started once for the file with
 * the SDK pointed at the fake (AWS_ENDPOINT_URL, static credentials), both reset before each test
 * and stopped after the file. `set` receives them once they run.
 */
export function useAwsDoubles(set: (doubles: { moto: Moto; fake: ContractFake }) => void): void {
  let doubles: { moto: Moto; fake: ContractFake } | undefined;
  beforeAll(async () => {
    const moto = await startMoto();
    const fake = new ContractFake(moto.url);
    await fake.start();
    Object.assign(process.env, awsTestEnv(fake.url));
    doubles = { moto, fake };
    set(doubles);
  });
  afterAll(async () => {
    await doubles?.fake.stop();
    await doubles?.moto.stop();
  });
  beforeEach(async () => {
    await doubles!.moto.reset();
    doubles!.fake.reset();
  });
}
