/**
 * The baseline profile in SageMaker Model Monitor's own formats: `statistics.json` (per feature
 * counts, summary statistics and distributions, as the Deequ-based analyzer writes them) and
 * `constraints.json` (types, completeness, domains), so the data-quality schedule compares captured
 * traffic with the same baseline `drift-check` uses.
 */
import type { BaselineProfile, FeatureProfile } from '../../drift/profile.js';
import type { Manifest } from '../../manifest/types.js';

type InferredType = 'Integral' | 'Fractional' | 'String';

function inferredType(manifest: Manifest, name: string, profile: FeatureProfile): InferredType {
  if (profile.kind === 'categorical') return 'String';
  const declared = manifest.features.schema[name]?.type;
  if (declared === 'integer') return 'Integral';
  if (declared === 'number') return 'Fractional';
  return profile.sorted.every((v) => Number.isInteger(v)) ? 'Integral' : 'Fractional';
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
      distribution: { kll: { buckets: buckets(p) } },
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
