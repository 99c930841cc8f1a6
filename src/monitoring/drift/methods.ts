/**
 * Which drift method and threshold a feature gets, and what its score means. `auto` follows
 * Evidently's defaults, deciding on the baseline (reference) size: up to 1000 values, a test
 * (KS for numbers, chi-square for categories, drift when p < 0.05); above, a distance
 * (normalised Wasserstein for numbers, Jensen–Shannon for categories, drift when >= 0.1).
 */
import { UsageError } from '../../util/errors.js';
import type { DriftFeatureSettings, DriftMethod, Manifest } from '../../manifest/types.js';

/** Baseline sizes up to this use the statistical tests under `auto`. */
export const AUTO_SMALL_N = 1000;

/** A method that computes a score (what `auto` resolves to). */
export type ConcreteMethod = Exclude<DriftMethod, 'auto'>;
/** Numeric features get KS/Wasserstein/PSI; categorical ones chi-square/Jensen–Shannon/L-infinity. */
export type FeatureKind = 'numeric' | 'categorical';

/** Per method: the feature kinds it applies to, what its score is, its default threshold and its name. */
export const METHOD_INFO: Record<ConcreteMethod, { kinds: FeatureKind[]; score: 'p_value' | 'distance'; threshold: number; label: string }> = {
  ks: { kinds: ['numeric'], score: 'p_value', threshold: 0.05, label: 'Kolmogorov–Smirnov p-value' },
  wasserstein: { kinds: ['numeric'], score: 'distance', threshold: 0.1, label: 'normalised Wasserstein distance' },
  psi: { kinds: ['numeric'], score: 'distance', threshold: 0.1, label: 'population stability index' },
  chi2: { kinds: ['categorical'], score: 'p_value', threshold: 0.05, label: 'chi-square p-value' },
  jensenshannon: { kinds: ['categorical'], score: 'distance', threshold: 0.1, label: 'Jensen–Shannon distance' },
  linf: { kinds: ['categorical'], score: 'distance', threshold: 0.1, label: 'L-infinity distance' },
};

/** The method, threshold and criticality one feature is judged by. */
export interface MethodChoice {
  method: ConcreteMethod;
  threshold: number;
  critical: boolean;
}

/**
 * What a kind of check changes in the defaults (an LLM's, src/monitoring/drift/llm.ts): the method
 * `auto` takes for a kind whatever the baseline's size, and the features critical unless the
 * manifest says otherwise.
 */
export interface MethodDefaults {
  auto?: Partial<Record<FeatureKind, ConcreteMethod>>;
  critical?: readonly string[];
}

/**
 * The method and threshold for one feature: its own `monitoring.drift.features.<name>` settings,
 * else the global method; a threshold set globally applies to whichever method runs, except that
 * under `auto` it applies only to the distance methods (a p-value keeps its 0.05).
 */
export function chooseMethod(
  name: string,
  kind: FeatureKind,
  baselineCount: number,
  drift: Manifest['monitoring']['drift'],
  defaults: MethodDefaults = {},
): MethodChoice {
  const own: DriftFeatureSettings | undefined = drift.features[name];
  const requested = own?.method ?? drift.method;
  const small = baselineCount <= AUTO_SMALL_N;
  const byKind: ConcreteMethod = kind === 'numeric' ? (small ? 'ks' : 'wasserstein') : small ? 'chi2' : 'jensenshannon';
  const method: ConcreteMethod = requested !== 'auto' ? requested : (defaults.auto?.[kind] ?? byKind);
  const info = METHOD_INFO[method];
  if (!info.kinds.includes(kind)) {
    throw new UsageError(`drift method "${method}" does not apply to ${kind} feature "${name}"`, {
      code: 'drift_method_mismatch',
      hint: `In mlship.yaml set monitoring.drift.features.${name}.method to one of: ${Object.entries(METHOD_INFO)
        .filter(([, v]) => v.kinds.includes(kind))
        .map(([k]) => k)
        .join(', ')}, or auto.`,
    });
  }
  const globalApplies = drift.threshold !== undefined && (requested !== 'auto' || info.score === 'distance') && own?.method === undefined;
  const threshold = own?.threshold ?? (globalApplies ? drift.threshold! : info.threshold);
  return { method, threshold, critical: own?.critical ?? defaults.critical?.includes(name) ?? false };
}

/** Whether a score crosses its threshold: p-values below it, distances at or above it. */
export function isDrift(method: ConcreteMethod, score: number, threshold: number): boolean {
  return METHOD_INFO[method].score === 'p_value' ? score < threshold : score >= threshold;
}
