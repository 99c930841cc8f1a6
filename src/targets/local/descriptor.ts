/**
 * What mlship knows about the local target without loading it (SDK-free; see deploy/descriptor.ts).
 * Canary: the local router splits traffic by weight and counts the canary's requests, 5xx and
 * latency, and the shared rollout controller promotes or reverts it, as on the clouds.
 * `--require-approval` is refused (exit 2) naming the targets that have it.
 */
import type { TargetDescriptor } from '../../deploy/descriptor.js';
import { mlshipLogFormat } from '../../logs/formats/local.js';

export const localDescriptor: TargetDescriptor = {
  name: 'local',
  title: 'the local machine',
  manifestBlock: 'targets.local',
  defaults: { port: 8080 },
  initSnippet: [],
  ciLogin: [],
  catalog: 'local',
  // The app runs in a Python runtime here: `build` makes an image only with --image.
  deploysImages: false,
  capabilities: { strategies: ['all-at-once', 'canary'], approval: false, managedRetraining: false, managedMonitoring: false, alertEmail: false, stop: true },
  logFormats: [mlshipLogFormat],
};
