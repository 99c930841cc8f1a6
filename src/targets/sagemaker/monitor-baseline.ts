/**
 * The baseline profile in SageMaker Model Monitor's own formats: `statistics.json` (per feature
 * counts, summary statistics and distributions, as the Deequ-based analyzer writes them) and
 * `constraints.json` (types, completeness, domains), so the data-quality schedule compares captured
 * traffic with the same baseline `drift-check` uses.
 */
import type { BaselineProfile, FeatureProfile } from '../../baseline/profile.js';
import type { Manifest } from '../../manifest/types.js';

type InferredType = 'Integral' | 'Fractional' | 'String';

function inferredType(manifest: Manifest, name: string, profile: FeatureProfile): InferredType {
  if (profile.kind === 'categorical') return 'String';
  const declared = manifest.features.schema[name]?.type;
  if (declared === 'integer') return 'Integral';
  if (declared === 'number') return 'Fractional';
  return profile.sorted.every((v) => Number.isInteger(v)) ? 'Integral' : 'Fractional';
}

/** The analyzer's KLL parameters (Deequ's defaults: sketch size 2048, shrinking factor 0.64). */
export const KLL_PARAMETERS = { c: 0.64, k: 2048 } as const;

/**
 * The KLL sketch the Model Monitor analyzer writes beside the buckets (`sketch.data[h]` holds the
 * items of compactor level h, each standing for 2^h values), from the baseline's sorted values:
 * all of them at level 0 when they fit in k; else an even sample at the level whose weight makes
 * the counts add up, the remainder at level 0. AWS documents the sketch as part of statistics.json
 * and its Robust comparison reads it, so the baseline carries it (issue 17, item 4).
 */
export function kllSketch(sorted: readonly number[], count: number): { parameters: { c: number; k: number }; data: number[][] } {
  const k = KLL_PARAMETERS.k;
  if (sorted.length <= k) return { parameters: { ...KLL_PARAMETERS }, data: [[...sorted]] };
  const h = Math.ceil(Math.log2(count / k));
  const weight = 2 ** h;
  const top: number[] = [];
  const items = Math.floor(count / weight);
  for (let i = 0; i < items; i++) top.push(sorted[Math.min(sorted.length - 1, Math.floor(((i + 0.5) * weight * sorted.length) / count))]!);
  const rest = count - items * weight;
  const level0: number[] = [];
  for (let i = 0; i < rest; i++) level0.push(sorted[Math.floor(((i + 0.5) * sorted.length) / rest)]!);
  const data: number[][] = Array.from({ length: h + 1 }, () => []);
  data[0] = level0;
  data[h] = top;
  return { parameters: { ...KLL_PARAMETERS }, data };
}

/** Histogram buckets of a numeric profile, bounded by its min and max. */
function buckets(p: Extract<FeatureProfile, { kind: 'numeric' }>): { lower_bound: number; upper_bound: number; count: number }[] {
  if (p.min === null || p.max === null) return [];
  const bounds = [p.min, ...p.edges, p.max];
  return p.counts.map((count, i) => ({ lower_bound: bounds[i]!, upper_bound: bounds[i + 1]!, count }));
}

function featureStatistics(manifest: Manifest, name: string, p: FeatureProfile): Record<string, unknown> {
  const type = inferredType(manifest, name, p);
  const common = { num_present: p.count, num_missing: p.missing };
  if (p.kind === 'categorical') {
    return {
      name,
      inferred_type: type,
      string_statistics: {
        common,
        distinct_count: Object.keys(p.frequencies).length,
        distribution: { categorical: { buckets: Object.entries(p.frequencies).map(([value, count]) => ({ value, count })) } },
      },
    };
  }
  const sum = p.mean === null ? 0 : p.mean * p.count;
  return {
    name,
    inferred_type: type,
    numerical_statistics: {
      common,
      mean: p.mean ?? 0,
      sum,
      std_dev: p.std ?? 0,
      min: p.min ?? 0,
      max: p.max ?? 0,
      distribution: { kll: { buckets: buckets(p), sketch: kllSketch(p.sorted, p.count) } },
    },
  };
}

/** Model Monitor `statistics.json` for a baseline profile. */
export function monitorStatistics(manifest: Manifest, profile: BaselineProfile): Record<string, unknown> {
  return {
    version: 0.0,
    dataset: { item_count: profile.rows },
    features: Object.entries(profile.features).map(([name, p]) => featureStatistics(manifest, name, p)),
  };
}

/** The distance above which Model Monitor reports a feature's baseline drift (and the drift alarms fire). */
export function driftThreshold(manifest: Manifest): number {
  return manifest.monitoring.drift.threshold ?? 0.1;
}

/** Model Monitor `constraints.json`: types, completeness and category domains from the profile and schema. */
export function monitorConstraints(manifest: Manifest, profile: BaselineProfile, threshold: number): Record<string, unknown> {
  return {
    version: 0.0,
    features: Object.entries(profile.features).map(([name, p]) => {
      const total = p.count + p.missing;
      const spec = manifest.features.schema[name];
      return {
        name,
        inferred_type: inferredType(manifest, name, p),
        completeness: total === 0 ? 1 : p.count / total,
        ...(p.kind === 'numeric' && { num_constraints: { is_non_negative: (p.min ?? 0) >= 0 || (spec?.min ?? -1) >= 0 } }),
        ...(p.kind === 'categorical' && { string_constraints: { domains: spec?.values ?? Object.keys(p.frequencies).sort() } }),
      };
    }),
    monitoring_config: {
      evaluate_constraints: 'Enabled',
      emit_metrics: 'Enabled',
      datatype_check_threshold: 1.0,
      domain_content_threshold: 1.0,
      distribution_constraints: { perform_comparison: 'Enabled', comparison_threshold: threshold, comparison_method: 'Robust' },
    },
  };
}
