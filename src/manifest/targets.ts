/**
 * What the manifest knows about targets, without knowing any target: the registry of target
 * settings. The manifest sits below the targets (ARCHITECTURE.md), so it cannot import them; instead
 * each target's descriptor (src/targets/<name>/descriptor.ts) IS a `TargetSettingsSpec` (its name, its
 * `targets.<name>` schema fragment with defaults, the rules for a selected target, its instance
 * catalog), and the one list of descriptors (src/targets/descriptors.ts) registers them here when it
 * is first imported. The schema (`target` choices, `targets.<name>` blocks), the defaults the loader
 * applies and the loader's target checks are all derived from what is registered.
 */
/** A JSON Schema property of a target's settings (draft-07; `x-default` words a default the target applies). */
export type SettingsProperty = Record<string, unknown> & { description: string; default?: unknown; 'x-default'?: string };

export interface TargetSettingsSpec {
  /** The target's name: `target:` in mlship.yaml, `--target`, `targets.<name>`. */
  readonly name: string;
  /** For messages: `AWS SageMaker`. */
  readonly title: string;
  /**
   * The `targets.<name>` block: what it is (the manifest reference's line) and its properties. A
   * property's `default` is applied by the loader; `x-default` words one the target works out itself.
   */
  readonly settings: { readonly description: string; readonly properties: Readonly<Record<string, SettingsProperty>> };
  /**
   * The block must be written when the target is selected (clouds: region, account…); its flow-style
   * example goes in the hint (`{ region: us-east-1 }`). Undefined: the defaults are enough (local).
   */
  readonly requiresSettings?: { example?: string };
  /** Fields of the block the selected target needs though the schema leaves them optional (they may come from elsewhere for other commands). */
  readonly requiredWhenSelected?: readonly string[];
  /** The most characters `monitoring.alerts.email` may take joined with commas (Azure ML's monitor limit); undefined: no limit. */
  readonly alertEmailsMaxChars?: number;
  /** The instance catalog `serving.compute` is checked against: `src/instances/catalogs/<catalog>.json`. */
  readonly catalog: string;
}

/**
 * One registry per process, even when two copies of this module are loaded (tests run the local
 * target from dist/ beside the sources; a target from MLSHIP_EXTRA_TARGETS may bring its own copy).
 */
const REGISTRY = Symbol.for('mlship.targets');
const registered: Map<string, TargetSettingsSpec> = ((globalThis as { [REGISTRY]?: Map<string, TargetSettingsSpec> })[REGISTRY] ??= new Map());

/** A target name: what `targets.<name>` and resource names allow. */
const TARGET_NAME = /^[a-z][a-z0-9-]{1,30}$/;

/** Register targets (src/targets/descriptors.ts does, for every descriptor); a name registered twice is a bug. */
export function registerTargets(specs: readonly TargetSettingsSpec[]): void {
  for (const spec of specs) {
    if (!TARGET_NAME.test(spec.name)) throw new Error(`target name "${spec.name}" must be lowercase letters, digits and -, 2-31 characters`);
    if (registered.has(spec.name) && registered.get(spec.name) !== spec) throw new Error(`a target named "${spec.name}" is registered already`);
    registered.set(spec.name, spec);
  }
}

/** Every registered target, in registration order (the built-in ones first, `local` the default). */
export function registeredTargets(): readonly TargetSettingsSpec[] {
  if (registered.size === 0) throw new Error('no targets are registered: import src/targets/descriptors.ts before reading a manifest');
  return [...registered.values()];
}

/** The names of the registered targets. */
export function targetNames(): string[] {
  return registeredTargets().map((s) => s.name);
}

/** A registered target by name, or undefined. */
export function targetSettingsSpec(name: string): TargetSettingsSpec | undefined {
  return registered.get(name);
}

/** The values the loader fills in for a target's block (its properties' `default`s). */
export function settingsDefaults(spec: TargetSettingsSpec): Record<string, unknown> {
  return Object.fromEntries(Object.entries(spec.settings.properties).flatMap(([k, p]) => (p.default === undefined ? [] : [[k, p.default]])));
}

/** The instance catalog of a registered target (`serving.compute`, sizing and prices). */
export function catalogOf(target: string): string {
  const spec = registered.get(target);
  if (!spec) throw new Error(`no target named "${target}" is registered`);
  return spec.catalog;
}
