/**
 * `npm run fake -- azure`: Azurite, the ARM fake (Azure ML operations checked against the published
 * contract, Azure Monitor, managed-identity tokens, scoring URLs, the endpoint keys' `listKeys`) on
 * 127.0.0.1. Deployments run the serving app of the build their model version records (any image
 * tag), found under `./.mlship/build/<id>` of the folder the fake was started in (or
 * MLSHIP_FAKE_BUILDS). Contract violations are printed on stderr.
 */
import path from 'node:path';
import type { RunningFake } from '../run.js';
import { startAzureDoubles } from './index.js';

export async function start(): Promise<RunningFake> {
  const buildsDir = process.env.MLSHIP_FAKE_BUILDS ?? path.join(process.env.INIT_CWD ?? process.cwd(), '.mlship', 'build');
  const doubles = await startAzureDoubles({ buildsDir });
  let reported = 0;
  const timer = setInterval(() => {
    for (const v of doubles.arm.violations.slice(reported)) process.stderr.write(`contract violation: ${v.method} ${v.url}\n  ${v.problems.join('\n  ')}\n`);
    reported = doubles.arm.violations.length;
  }, 500);
  return {
    env: doubles.env,
    targets: { azure: { subscription: doubles.env.AZURE_SUBSCRIPTION_ID, ...doubles.arm.manifestBlock() } },
    stop: async () => {
      clearInterval(timer);
      await doubles.stop();
    },
  };
}
