/**
 * Every target's SDK-free descriptor, by name: the one list `init`, the CLI's capability checks,
 * `budget` read (log formats: src/logs/formats/). Importing this loads no cloud SDK.
 */
import type { Manifest, TargetName } from '../manifest/types.js';
import { azureDescriptor } from './azure/descriptor.js';
import { localDescriptor } from './local/descriptor.js';
import { sagemakerDescriptor } from './sagemaker/descriptor.js';
import { requireCapability, type TargetDescriptor } from '../deploy/descriptor.js';
import { vertexDescriptor } from './vertex/descriptor.js';

export const DESCRIPTORS: Record<TargetName, TargetDescriptor> = {
  local: localDescriptor,
  sagemaker: sagemakerDescriptor,
  vertex: vertexDescriptor,
  azure: azureDescriptor,
};

export const ALL_DESCRIPTORS: readonly TargetDescriptor[] = Object.values(DESCRIPTORS);

/** The descriptor of a target. */
export function descriptorOf(name: TargetName): TargetDescriptor {
  return DESCRIPTORS[name];
}

/** Refuse a deploy strategy the target cannot run (exit 2, naming the targets that can). */
export function checkStrategy(name: TargetName, strategy: 'all-at-once' | 'canary'): void {
  requireCapability(descriptorOf(name), ALL_DESCRIPTORS, {
    flag: `--strategy ${strategy}`,
    allows: (d) => d.capabilities.strategies.includes(strategy),
  });
}

/** Refuse `--require-approval` on a target without version approval (exit 2, naming the targets that have it). */
export function checkApproval(name: TargetName): void {
  requireCapability(descriptorOf(name), ALL_DESCRIPTORS, {
    flag: '--require-approval',
    allows: (d) => d.capabilities.approval,
    why: 'it has no approval step for versions',
  });
}

/**
 * What `deploy` says when the manifest names alert recipients the target cannot mail: said once, so
 * addresses are never ignored silently. Undefined when there is none to say.
 */
export function alertEmailWarning(manifest: Manifest): string | undefined {
  const d = descriptorOf(manifest.target);
  if (manifest.monitoring.alerts.email.length === 0 || d.capabilities.alertEmail) return undefined;
  const mailers = ALL_DESCRIPTORS.filter((x) => x.capabilities.alertEmail).map((x) => x.name);
  return (
    `monitoring.alerts.email is set, but ${d.title} sends no e-mail when drift is found: nobody is mailed. ` +
    `\`mlship drift-check\` exits 3 on drift; run it on monitoring.drift.schedule (the CI workflow, or \`mlship schedule --install\`) and alert from there` +
    ` (targets that mail the addresses: ${mailers.join(', ')}).`
  );
}
