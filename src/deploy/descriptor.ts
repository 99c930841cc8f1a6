/**
 * What mlship knows about a target without loading it: the SDK-free descriptor. One per target
 * (src/targets/<target>/descriptor.ts), collected in src/targets/descriptors.ts. `init`, `validate`,
 * `budget`, the CLI's flag checks and drift-check's format detection read descriptors; only commands
 * that act on a target load the target itself (and its SDK). Adding a cloud = adding a descriptor.
 */
import { UsageError } from '../util/errors.js';
import type { TargetName } from '../manifest/types.js';
import type { LogFormat } from '../logs/format.js';

/** What a target can do; a flag it cannot honour is a usage error naming the targets that can. */
export interface TargetCapabilities {
  /** Traffic strategies `deploy --strategy` accepts. */
  strategies: readonly ('all-at-once' | 'canary')[];
  /** Versions can wait for manual approval (`push --require-approval`). */
  approval: boolean;
  /** A managed retraining pipeline (`retrain` runs there unless `--local`). */
  managedRetraining: boolean;
  /** Managed drift monitoring next to `drift-check` (SageMaker Model Monitor…). */
  managedMonitoring: boolean;
  /** That monitoring mails `monitoring.alerts.email` when it finds drift. */
  alertEmail: boolean;
  /** Versions can be stopped / endpoints deleted with `mlship stop`. */
  stop: boolean;
}

export type Capability = keyof TargetCapabilities;

export interface TargetDescriptor {
  name: TargetName;
  /** For messages: `AWS SageMaker`. */
  title: string;
  /** The manifest block under `targets:` (`targets.sagemaker`), undefined when it needs none. */
  manifestBlock?: string;
  /** Defaults applied to that block when the manifest leaves a field out. */
  defaults: Record<string, unknown>;
  /** YAML lines `init` writes under `targets:` (the fields to fill in, as comments); none for local. */
  initSnippet: readonly string[];
  /** GitHub Actions steps that log in to the cloud with OpenID Connect (secrets named, never stored). */
  ciLogin: readonly string[];
  /** The instance catalog (`src/instances/catalogs/<catalog>.json`). */
  catalog: TargetName;
  /** Whether its deployments run the serving image, so `build` (and `retrain`) make one; else only with `--image`. */
  deploysImages: boolean;
  capabilities: TargetCapabilities;
  /** The prediction-log formats this target's `predictionLogs` hands out (parsers, SDK-free). */
  logFormats: readonly LogFormat[];
}

/**
 * Refuse a request the target cannot honour: a usage error (exit 2) that names the targets that can.
 * `allows` says whether a descriptor supports it (e.g. `d => d.capabilities.strategies.includes('canary')`).
 */
export function requireCapability(
  target: TargetDescriptor,
  all: readonly TargetDescriptor[],
  what: { flag: string; allows: (d: TargetDescriptor) => boolean; why?: string },
): void {
  if (what.allows(target)) return;
  const can = all.filter(what.allows).map((d) => d.name);
  throw new UsageError(`the ${target.name} target cannot honour ${what.flag}${what.why ? ` (${what.why})` : ''}`, {
    code: 'unsupported_by_target',
    hint:
      can.length > 0
        ? `Targets that can: ${can.join(', ')} (--target ${can[0]}); or leave ${what.flag} out.`
        : `No target supports it yet; leave ${what.flag} out.`,
    details: { target: target.name, flag: what.flag, targets: can },
  });
}
