/**
 * The instance for the endpoint: the one selection function shared with `deploy --plan` and
 * `budget` (src/compute/select.ts), always against the SageMaker catalog.
 */
import { loadCatalog } from '../../instances/catalog.js';
import { selectForManifest } from '../../compute/select.js';
import type { Manifest } from '../../manifest/types.js';
import type { ComputeChoice } from '../../deploy/types.js';
import { sagemakerDescriptor } from './descriptor.js';

/** The SageMaker instance type and replica range for a manifest. */
export function chooseCompute(manifest: Manifest): ComputeChoice {
  return selectForManifest(manifest, { catalog: loadCatalog(sagemakerDescriptor.catalog) });
}
