/**
 * The one place that picks a target from its name. Each target loads lazily, so a command on the
 * local target never loads a cloud SDK.
 */
import type { TargetName } from '../manifest/types.js';
import type { Target, TargetContext } from '../deploy/types.js';

const loaders: Record<TargetName, (ctx: TargetContext) => Promise<Target>> = {
  local: async (ctx) => new (await import('./local/local-target.js')).LocalTarget(ctx) as unknown as Target,
  sagemaker: async (ctx) => new (await import('./sagemaker/sagemaker-target.js')).SageMakerTarget(ctx),
  vertex: async (ctx) => new (await import('./vertex/vertex-target.js')).VertexTarget(ctx),
  azure: async (ctx) => new (await import('./azure/azure-target.js')).AzureTarget(ctx),
};

/** The target the manifest (or `--target`) names. */
export function createTarget(ctx: TargetContext): Promise<Target> {
  return loaders[ctx.manifest.target](ctx);
}
