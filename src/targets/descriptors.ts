/**
 * The one list of targets: every built-in target's SDK-free descriptor, in order (the first, local,
 * is the default target). Importing this module registers them with the manifest
 * (src/manifest/targets.ts), so the schema, the loader and the CLI's `--target` choices know them;
 * nothing else in mlship names a target. `init`, the CLI's capability checks and `budget` read
 * descriptors; `createTarget` (index.ts) constructs one. Importing this loads no cloud SDK.
 *
 * A target that ships outside mlship (a test suite's in-memory target) is added with
 * `registerExtraTargets`; the CLI does so for the modules `MLSHIP_EXTRA_TARGETS` names (cli/main.ts).
 */
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import type { Manifest, TargetName } from '../manifest/types.js';
import { registerTargets, targetSettingsSpec } from '../manifest/targets.js';
import { UsageError } from '../util/errors.js';
import { choiceHint } from '../manifest/diagnostics.js';
import { azureDescriptor } from './azure/descriptor.js';
import { localDescriptor } from './local/descriptor.js';
import { sagemakerDescriptor } from './sagemaker/descriptor.js';
import { requireCapability, type TargetDescriptor } from '../deploy/descriptor.js';
import { vertexDescriptor } from './vertex/descriptor.js';

/** The built-in targets: one line per target. */
const BUILT_IN: readonly TargetDescriptor[] = [localDescriptor, sagemakerDescriptor, vertexDescriptor, azureDescriptor];

const descriptors = new Map<TargetName, TargetDescriptor>();

/**
 * Add targets to the list (and register them with the manifest). The built-in ones are added when
 * this module loads; a name taken already is refused.
 */
export function registerExtraTargets(list: readonly TargetDescriptor[]): void {
  registerTargets(list);
  for (const d of list) descriptors.set(d.name, d);
}

// The manifest's registry is one per process: another loaded copy of this list may have registered them.
registerTargets(BUILT_IN.filter((d) => !targetSettingsSpec(d.name)));
for (const d of BUILT_IN) descriptors.set(d.name, d);

/**
 * Import target descriptors from modules outside mlship (`MLSHIP_EXTRA_TARGETS`: paths separated
 * like PATH), each exporting `descriptors: TargetDescriptor[]`, and register them. A module that
 * cannot be loaded or exports no descriptors is a usage error naming it.
 */
export async function importExtraTargets(modules: string, cwd: string): Promise<TargetDescriptor[]> {
  const added: TargetDescriptor[] = [];
  for (const file of modules.split(path.delimiter).filter(Boolean)) {
    const where = path.resolve(cwd, file);
    let mod: { descriptors?: unknown };
    try {
      mod = (await import(pathToFileURL(where).href)) as { descriptors?: unknown };
    } catch (error) {
      throw new UsageError(`MLSHIP_EXTRA_TARGETS names ${where}, which cannot be loaded: ${(error as Error).message}`, {
        code: 'extra_targets_invalid',
        hint: 'Point MLSHIP_EXTRA_TARGETS at a module exporting `descriptors` (target descriptors), or unset it.',
      });
    }
    const list = Array.isArray(mod.descriptors) ? (mod.descriptors as TargetDescriptor[]) : [];
    if (list.length === 0 || !list.every((d) => typeof d?.name === 'string' && typeof d.create === 'function' && d.settings)) {
      throw new UsageError(`${where} (MLSHIP_EXTRA_TARGETS) exports no target descriptors`, {
        code: 'extra_targets_invalid',
        hint: 'Export `descriptors`: an array of TargetDescriptor (src/deploy/descriptor.ts), each with name, settings, catalog and create.',
      });
    }
    registerExtraTargets(list.filter((d) => descriptors.get(d.name) !== d));
    added.push(...list);
  }
  return added;
}

/** Every target, built-in first (local, the default, leads). */
export function allDescriptors(): readonly TargetDescriptor[] {
  return [...descriptors.values()];
}

/** The descriptor of a target; an unknown name is a usage error listing the targets. */
export function descriptorOf(name: TargetName): TargetDescriptor {
  const d = descriptors.get(name);
  if (!d) {
    throw new UsageError(`there is no target named "${name}"`, {
      code: 'unknown_target',
      hint: choiceHint(name, [...descriptors.keys()]),
    });
  }
  return d;
}

/** Refuse a deploy strategy the target cannot run (exit 2, naming the targets that can). */
export function checkStrategy(name: TargetName, strategy: 'all-at-once' | 'canary'): void {
  requireCapability(descriptorOf(name), allDescriptors(), {
    flag: `--strategy ${strategy}`,
    allows: (d) => d.capabilities.strategies.includes(strategy),
  });
}

/** Refuse `--require-approval` on a target without version approval (exit 2, naming the targets that have it). */
export function checkApproval(name: TargetName): void {
  requireCapability(descriptorOf(name), allDescriptors(), {
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
  const mailers = allDescriptors()
    .filter((x) => x.capabilities.alertEmail)
    .map((x) => x.name);
  return (
    `monitoring.alerts.email is set, but ${d.title} sends no e-mail when drift is found: nobody is mailed. ` +
    `\`mlship drift-check\` exits 3 on drift; run it on monitoring.drift.schedule (the CI workflow, or \`mlship schedule --install\`) and alert from there` +
    ` (targets that mail the addresses: ${mailers.join(', ')}).`
  );
}
