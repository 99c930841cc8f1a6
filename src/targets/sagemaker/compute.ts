/**
 * The instance for the endpoint. The shared selection function of the budget area decides CPU or GPU
 * and the type; until it is available here this takes `serving.compute` when it names an instance
 * type and a small general-purpose CPU instance otherwise. This is the only function to swap.
 */
import type { Manifest } from '../../manifest/types.js';
import type { ComputeChoice } from '../types.js';

const DEFAULT_CPU = 'ml.m5.large';
const DEFAULT_GPU = 'ml.g5.xlarge';

/** The SageMaker instance type and replica range for a manifest. */
export function chooseCompute(manifest: Manifest): ComputeChoice {
  const compute = manifest.serving.compute;
  const replicas = { ...manifest.serving.replicas };
  if (compute.startsWith('ml.')) {
    const gpu = /^ml\.(g|p|inf|trn)\d/.test(compute);
    return { instanceType: compute, replicas, gpu, reasons: [`serving.compute names ${compute}`] };
  }
  if (compute === 'gpu') return { instanceType: DEFAULT_GPU, replicas, gpu: true, reasons: ['serving.compute is gpu'] };
  return { instanceType: DEFAULT_CPU, replicas, gpu: false, reasons: [`serving.compute is ${compute}: a general-purpose CPU instance`] };
}
