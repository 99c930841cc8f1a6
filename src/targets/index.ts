/**
 * The one place that picks a target from its name: its descriptor (descriptors.ts) constructs it.
 * Each target's implementation is imported only then, so a command on the local target never loads
 * a cloud SDK.
 */
import type { Target, TargetContext } from '../deploy/types.js';
import { descriptorOf } from './descriptors.js';

/** The target the manifest (or `--target`) names. */
export function createTarget(ctx: TargetContext): Promise<Target> {
  return descriptorOf(ctx.manifest.target).create(ctx);
}
