/**
 * The in-memory target in the conformance suite (test/targets/conformance/): the real `MemoryTarget`
 * over a `MemoryCloud` kept in memory, a clock that moves only when slept on. Its descriptor is
 * registered here, in-process, as the CLI registers `MLSHIP_EXTRA_TARGETS`, and the project's
 * manifest is loaded with `--target memory`: the schema checks `targets.memory` from the descriptor.
 * - `behave(n, …)`: unhealthy → the deployment fails its health check; 5xx rate and latency → what
 *   the cloud's metrics say of the version in every window the canary reads;
 * - `traffic(n)`: n requests per minute, split by the endpoint's traffic split;
 * - `mutations()`: the cloud's state-changing calls.
 */
import path from 'node:path';
import { manualClock } from '../../../src/deploy/poll.js';
import { loadManifestFile } from '../../../src/manifest/load.js';
import { registerExtraTargets } from '../../../src/targets/descriptors.js';
import { silentReporter } from '../../../src/util/reporter.js';
import { makeBuild } from '../../helpers/build.js';
import { copyExample } from '../../helpers/cli.js';
import type { ConformanceHarness, ConformanceWorld } from '../../targets/conformance/harness.js';
import { memoryDescriptor } from './descriptor.js';
import { MemoryCloud, MemoryTarget } from './memory-target.js';

export const harness: ConformanceHarness = {
  descriptor: memoryDescriptor,
  cloud: false,
  async start(): Promise<ConformanceWorld> {
    registerExtraTargets([memoryDescriptor]);
    const project = copyExample();
    const manifest = loadManifestFile(path.join(project.dir, 'mlship.yaml'), { targetOverride: memoryDescriptor.name });
    const cloud = new MemoryCloud(undefined, manifest.targets.memory!.provision_polls);
    const clock = manualClock();
    // Every reading of the clock moves it 1 ms: history objects are ordered by their timestamps.
    const now = () => {
      clock.advance(1);
      return clock.now();
    };
    const target = new MemoryTarget({ manifest, output: silentReporter, env: process.env, command: 'conformance', now, sleep: clock.sleep }, cloud);
    const world: ConformanceWorld = {
      target,
      pushOptions: {},
      timeoutSeconds: 60,
      build: async (n) => makeBuild(manifest, n - 1),
      manifest,
      async registerRetrained(parent) {
        // This target retrains where mlship runs: `mlship retrain` pushes a candidate its gate did not promote as pending.
        const gate = { promoted: false, metric: 'auc', candidate: 0.5, live: 0.9, liveVersion: parent, minDelta: 0, rows: 10 };
        await target.push(await world.build(90), { parent, gate, pending: true });
      },
      behave: (version, b) => void cloud.behaviours.set(version, b),
      traffic: (n) => {
        cloud.requestsPerMinute = n;
      },
      serving: async () => cloud.servingAll(),
      uploadFeedback: async (file, text) => cloud.store.put(`mlship/${manifest.name}/feedback/${file}`, text),
      mutations: () => cloud.mutations,
      close: async () => project.cleanup(),
    };
    return world;
  },
};
