/**
 * The instance for the endpoint: the one selection function shared with `deploy --plan` and
 * `budget` (src/compute/select.ts), always against the SageMaker catalog.
 */
import { loadCatalog } from '../../instances/catalog.js';
import { BYTES_PER_PARAM } from '../../compute/estimate.js';
import { selectForManifest } from '../../compute/select.js';
import type { Manifest } from '../../manifest/types.js';
import type { ComputeChoice } from '../../deploy/types.js';
import { sagemakerDescriptor } from './descriptor.js';
import { startupTimeouts, type StartupTimeouts } from './requests.js';

/** The SageMaker instance type and replica range for a manifest. */
export function chooseCompute(manifest: Manifest): ComputeChoice {
  return selectForManifest(manifest, { catalog: loadCatalog(sagemakerDescriptor.catalog) });
}

/**
 * How long a variant of this model may take to download and load (`startupTimeouts`): for an LLM or a
 * model on a GPU, sized by the model's bytes as pushed (else the choice's parameters at the manifest's
 * quantization); undefined for a CPU model, whose app answers /ping in seconds (SageMaker's defaults apply).
 */
export function variantTimeouts(manifest: Manifest, compute: ComputeChoice, modelBytes?: number): StartupTimeouts | undefined {
  if (manifest.model.flavor !== 'llm' && !compute.gpu) return undefined;
  const bytesPerParam = (BYTES_PER_PARAM as Record<string, number | undefined>)[manifest.model.quantization] ?? 2;
  return startupTimeouts(modelBytes ?? (compute.sizing?.params ?? 0) * bytesPerParam, compute.gpu);
}
