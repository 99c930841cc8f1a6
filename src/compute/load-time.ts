/**
 * How long a serving container may take to load its model before a platform's health checks give
 * up on it: one pure function of the model's size, shared by every cloud target (Vertex's startup
 * probe, Azure's startup probe, SageMaker's container start-up timeout) so an LLM of 14 GB is not
 * killed by probes sized for a 100 KB tabular model.
 *
 * The estimate: the container starts (START_S), the platform copies the weights next to it and the
 * server reads them (both at about READ_BYTES_PER_S together: object storage to local disk, then
 * disk to memory), and a GPU server initialises CUDA, uploads the weights and warms up (GPU_WARMUP_S,
 * vLLM's CUDA graph capture). Health checks then allow MARGIN times that, rounded up to STEP_S.
 */

/** Seconds from the container's start to its server's first line, without the model. */
export const START_S = 30;
/** Bytes per second the weights travel from object storage through disk into the server. */
export const READ_BYTES_PER_S = 100e6;
/** Seconds a GPU server spends on CUDA initialisation and warm-up (graph capture) besides reading. */
export const GPU_WARMUP_S = 60;
/** Health checks allow this many times the estimate: cold disks and busy networks are slower. */
export const MARGIN = 2;
/** The result is a whole number of these (a probe period). */
export const STEP_S = 10;

/**
 * Seconds a health check must allow a container serving a model of `bytes` to become ready
 * (`gpu`: it loads onto a GPU). Always at least MARGIN × START_S; a multiple of STEP_S.
 */
export function modelLoadSeconds(bytes: number, gpu: boolean): number {
  const size = Number.isFinite(bytes) && bytes > 0 ? bytes : 0;
  const estimate = START_S + size / READ_BYTES_PER_S + (gpu ? GPU_WARMUP_S : 0);
  return Math.ceil((estimate * MARGIN) / STEP_S) * STEP_S;
}

/** Failed probes of `periodSeconds` each that cover `seconds` (at least 1). */
export function probeFailures(seconds: number, periodSeconds: number): number {
  return Math.max(1, Math.ceil(seconds / periodSeconds));
}
