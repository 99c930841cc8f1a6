/**
 * The Azure ML target in the conformance suite: the real `AzureTarget` over the in-memory fake of its
 * Azure client (test/doubles/azure/memory.ts), whose online endpoint is the shared rollout state machine
 * (deployments provision then succeed or fail, traffic moves at once) and whose datastore is a
 * `MemoryObjectStore`; the canary reads the fake's Azure Monitor metrics. Time is a manual clock that
 * moves 1 ms on every reading (history objects are ordered by their timestamps), so bakes take no
 * real time. Errors are the ARM errors the real client throws, through the target's translation.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { silentReporter } from '../../../src/util/reporter.js';
import { loadManifestFile } from '../../../src/manifest/load.js';
import { AzureTarget } from '../../../src/targets/azure/azure-target.js';
import { azureDescriptor } from '../../../src/targets/azure/descriptor.js';
import { blobStoreOver } from '../../../src/targets/azure/blob-store.js';
import { resolveResources } from '../../../src/targets/azure/resources.js';
import { RETRAINED_MARKER, type RetrainedMarker } from '../../../src/targets/azure/schedules.js';
import { manualClock } from '../../../src/deploy/poll.js';
import { copyExample } from '../../helpers/cli.js';
import { memoryAzure } from '../../doubles/azure/memory.js';
import { makeBuild } from '../../helpers/build.js';
import type { ConformanceHarness } from './harness.js';

export const harness: ConformanceHarness = {
  cloud: true,
  descriptor: azureDescriptor,
  async start() {
    const fake = memoryAzure();
    const project = copyExample();
    const manifestFile = path.join(project.dir, 'mlship.yaml');
    // Drift found in a test must not start a real retraining run (retraining.on_drift runs `mlship retrain`).
    const text = readFileSync(manifestFile, 'utf8')
      .replace(/^target: local$/m, 'target: azure')
      .replace('on_drift: true', 'on_drift: false');
    writeFileSync(
      manifestFile,
      `${text}targets:\n  azure: { ${Object.entries(fake.manifestBlock)
        .map(([k, v]) => `${k}: "${v}"`)
        .join(', ')} }\n`,
    );
    const manifest = loadManifestFile(manifestFile);
    const clock = manualClock();
    const now = () => {
      clock.advance(1);
      return clock.now();
    };
    const target = new AzureTarget(
      { manifest, output: silentReporter, env: {}, command: 'conformance', now, sleep: clock.sleep },
      { api: fake.api, store: fake.store },
    );
    return {
      target,
      pushOptions: { image: 'mlshipfake.azurecr.io/churn:conformance' },
      timeoutSeconds: 600,
      build: async (n) => makeBuild(manifest, n - 1),
      manifest,
      async registerRetrained(parent) {
        // The command job's model output: the artifact and its marker, registered as the next model version with the job's name.
        const r = resolveResources(manifest, {});
        const n = (await fake.api.listModelVersions(r.model)).reduce((m, x) => Math.max(m, Number(x.name) || 0), 0) + 1;
        const key = `azureml/ExperimentRun/dcid.retrain-${n}/model`;
        const marker: RetrainedMarker = { sha256: 'a'.repeat(64), artifact: 'model.joblib', parent };
        await fake.store.put(`${key}/model.joblib`, 'retrained');
        await fake.store.put(`${key}/${RETRAINED_MARKER}`, JSON.stringify(marker));
        await fake.api.putModelVersion(r.model, String(n), {
          properties: { modelUri: blobStoreOver(fake.store, 'workspaceblobstore').assetUri(`${key}/`), jobName: `retrain-${n}`, modelType: 'custom_model' },
        });
      },
      behave: (version, b) => void fake.behaviours.set(version, b),
      serving: async () => fake.servingVersion(),
      traffic: (n) => fake.traffic(n),
      failNextCall: (kind) => fake.failNext(kind),
      uploadFeedback: (file, text) => fake.store.put(`mlship/${manifest.name}/feedback/${file}`, text),
      mutations: () => fake.mutations(),
      close: async () => project.cleanup(),
    };
  },
};
