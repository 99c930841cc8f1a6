/**
 * What mlship knows about the local target without loading it (SDK-free; see shared/descriptor.ts).
 * Canary: the local router switches versions whole (no request fails while it does), but it does not
 * split traffic or measure a version's 5xx and latency, so `--strategy canary` is refused (exit 2)
 * naming the cloud targets that run it. `--require-approval` is refused the same way.
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
  capabilities: { strategies: ['all-at-once'], approval: false, managedRetraining: false, managedMonitoring: false, alertEmail: false, stop: true },
  logFormats: [mlshipLogFormat],
};
