/**
 * All of the Azure target's doubles together: the throwaway certificate, Azurite (blobs) and the
 * ARM fake (Azure ML operations, long-running behaviour, the contract check, Azure Monitor, managed
 * identity tokens, scoring and data collection). Used by the tests and by `npm run fake -- azure`.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { python } from '../../helpers/cli.js';
import { ArmFake } from './arm-fake.js';
import { startAzurite, type Azurite } from './azurite.js';
import { makeCertificate, type TestCertificate } from './tls.js';

export interface AzureDoubles {
  arm: ArmFake;
  azurite: Azurite;
  tls: TestCertificate;
  /** Environment for the spawned CLI (subscription, managed-identity endpoint, CA to trust). */
  env: Record<string, string>;
  stop(): Promise<void>;
}

export async function startAzureDoubles(options: { buildsDir: string }): Promise<AzureDoubles> {
  const tls = makeCertificate();
  const azurite = await startAzurite(tls);
  const arm = new ArmFake({ tls, blobHost: azurite.host, buildsDir: options.buildsDir, python });
  try {
    await arm.start();
  } catch (error) {
    await azurite.stop();
    throw error;
  }
  return {
    arm,
    azurite,
    tls,
    env: arm.env(),
    stop: async () => {
      await arm.stop();
      await azurite.stop();
      rmSync(tls.dir, { recursive: true, force: true });
    },
  };
}

/**
 * Point a copy of the example project at the doubles: `target: azure` and the fake's `targets.azure`
 * block, retraining on drift off (drift found in a test must not start a real run). Returns the
 * manifest's path.
 */
export function pointProjectAt(projectDir: string, arm: ArmFake): string {
  const manifest = path.join(projectDir, 'mlship.yaml');
  const text = readFileSync(manifest, 'utf8')
    .replace(/^target: local$/m, 'target: azure')
    .replace('on_drift: true', 'on_drift: false');
  writeFileSync(
    manifest,
    `${text}targets:\n  azure:\n${Object.entries(arm.manifestBlock())
      .map(([k, v]) => `    ${k}: ${v}\n`)
      .join('')}`,
  );
  return manifest;
}
