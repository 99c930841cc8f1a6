/**
 * What mlship knows about a target without loading it: the SDK-free descriptor, the ONE place a
 * target is named. One per target (src/targets/<target>/descriptor.ts), listed once in
 * src/targets/descriptors.ts, which registers each with the manifest (a descriptor is the manifest's
 * `TargetSettingsSpec`: name, `targets.<name>` schema and defaults, catalog). The CLI's `--target`
 * choices, the schema, the loader's rules, `init`, `budget` and the flag checks read descriptors;
 * only commands that act on a target call `create`, which imports the implementation (and its SDK).
 */
import { UsageError } from '../util/errors.js';
import type { TargetSettingsSpec } from '../manifest/targets.js';
import type { Target, TargetContext } from './types.js';

/** What a target can do; a flag it cannot honour is a usage error naming the targets that can. */
export interface TargetCapabilities {
  /** Traffic strategies `deploy --strategy` accepts. */
  strategies: readonly ('all-at-once' | 'canary')[];
  /** Versions can wait for manual approval (`push --require-approval`). */
  approval: boolean;
  /** That monitoring mails `monitoring.alerts.email` when it finds drift. */
  alertEmail: boolean;
}

export type Capability = keyof TargetCapabilities;

export interface TargetDescriptor extends TargetSettingsSpec {
  /** The cloud provider in cloud errors (`details.provider`, codes such as `aws_permission`); none for a target without a cloud. */
  provider?: string;
  /** YAML lines `init` writes under `targets:` (the fields to fill in, as comments); none for local. */
  initSnippet: readonly string[];
  /** GitHub Actions steps that log in to the cloud with OpenID Connect (secrets named, never stored). */
  ciLogin: readonly string[];
  /** Whether its deployments run the serving image, so `build` (and `retrain`) make one; else only with `--image`. */
  deploysImages: boolean;
  capabilities: TargetCapabilities;
  /**
   * Construct the target. Its implementation is imported here, dynamically, so a descriptor stays
   * tiny and SDK-free (`mlship --help` and `validate` load no cloud SDK).
   */
  create(ctx: TargetContext): Promise<Target>;
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
