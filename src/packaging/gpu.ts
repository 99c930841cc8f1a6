/**
 * CPU or GPU serving image. An explicit `serving.compute: cpu|gpu` decides directly; anything else
 * (`auto`, an instance type) asks the one instance-selection function the budget and deploy use, so
 * the image always matches the instance it will run on.
 */
import { selectForManifest } from '../compute/select.js';
import type { Manifest } from '../manifest/types.js';

/** Whether the serving image needs a CUDA base. */
export function needsGpu(manifest: Manifest, modelBytes: number): boolean {
  const compute = manifest.serving.compute;
  if (compute === 'gpu') return true;
  if (compute === 'cpu') return false;
  // Not the build's measured cost: a build's id (its rendered files) must not depend on earlier builds.
  return selectForManifest(manifest, { modelBytes, useBuildCost: false }).gpu;
}
