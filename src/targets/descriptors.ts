/**
 * Every target's SDK-free descriptor, by name: the one list `init`, the CLI's capability checks,
 * `budget` and drift-check's log-format detection read. Importing this loads no cloud SDK.
 */
import type { Manifest, TargetName } from '../manifest/types.js';
import { azureDescriptor } from './azure/descriptor.js';
import { localDescriptor } from './local/descriptor.js';
import { sagemakerDescriptor } from './sagemaker/descriptor.js';
import { requireCapability, type TargetDescriptor } from './shared/descriptor.js';
import type { LogFormat } from './shared/logs.js';
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

/** Every log format any target hands out, by name (drift-check and its worker threads look them up here). */
export const LOG_FORMATS: ReadonlyMap<string, LogFormat> = new Map(ALL_DESCRIPTORS.flatMap((d) => d.logFormats.map((f) => [f.name, f] as const)));

/** A log format by name; an unknown name is a bug in the target that handed it out. */
export function logFormat(name: string): LogFormat {
  const format = LOG_FORMATS.get(name);
  if (!format) throw new Error(`no log format named ${name} (known: ${[...LOG_FORMATS.keys()].join(', ')})`);
  return format;
}

/** Refuse a deploy strategy the target cannot run (exit 2, naming the targets that can). */
export function checkStrategy(name: TargetName, strategy: 'all-at-once' | 'canary'): void {
  requireCapability(descriptorOf(name), ALL_DESCRIPTORS, {
    flag: `--strategy ${strategy}`,
    allows: (d) => d.capabilities.strategies.includes(strategy),
    ...(name === 'local' && strategy === 'canary' && { why: 'the local router switches versions whole; it does not split traffic or watch a version\'s errors' }),
  });
}

/** Refuse `--require-approval` on a target without version approval (exit 2, naming the targets that have it). */
export function checkApproval(name: TargetName): void {
  requireCapability(descriptorOf(name), ALL_DESCRIPTORS, { flag: '--require-approval', allows: (d) => d.capabilities.approval, why: 'it has no approval step for versions' });
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
