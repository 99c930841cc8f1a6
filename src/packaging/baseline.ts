/**
 * The baseline profile stored with each build: every request field of `features.baseline` profiled
 * with the drift module's own profilers, plus the model's outputs on the same rows (from the parity
 * run: the model on the features package's output for the whole baseline, which parity proves is
 * what the serving path computes). Cells are read as a JSON client sends them (manifest/typed-rows.ts):
 * the profile sees 29.85, not "29.85", and null for a blank; rows whose cells cannot be typed (the
 * parity check names them) are left out.
 */
import { readCsvFile } from '../util/csv.js';
import { fieldValues, typeRows } from '../manifest/typed-rows.js';
import { PROFILE_FORMAT, profileCategorical, profileNumeric, type BaselineProfile, type FeatureProfile, type Value } from '../baseline/profile.js';
import type { Manifest } from '../manifest/types.js';

/** Profile the baseline CSV per schema field; `outputs` are the model's answers row by row. */
export function baselineProfile(manifest: Manifest, baselineSha256: string | undefined, outputs: readonly unknown[] | undefined): BaselineProfile {
  const file = manifest.features.baseline;
  if (!file || !manifest.features.baselineRelative) throw new Error('baselineProfile needs features.baseline');
  const rows = typeRows(readCsvFile(file), manifest.features.schema);
  const typed = rows.records.filter((r) => r !== undefined);
  const features: Record<string, FeatureProfile> = {};
  for (const [name, spec] of Object.entries(manifest.features.schema)) {
    const values = fieldValues(rows, name).filter((_, i) => rows.records[i] !== undefined);
    features[name] = spec.type === 'number' || spec.type === 'integer' ? profileNumeric(values) : profileCategorical(values);
  }
  const profile: BaselineProfile = {
    format: PROFILE_FORMAT,
    source: { path: manifest.features.baselineRelative, ...(baselineSha256 !== undefined && { sha256: baselineSha256 }) },
    rows: typed.length,
    features,
  };
  const output = outputs && outputProfile(manifest, outputs);
  if (output) profile.output = output;
  return profile;
}

/** Labels are categories; probabilities and values are numbers. Multi-class probability lists are not profiled. */
function outputProfile(manifest: Manifest, outputs: readonly unknown[]): FeatureProfile | undefined {
  const scalar = outputs.map((o) => (o === null || typeof o === 'number' || typeof o === 'string' || typeof o === 'boolean' ? o : undefined));
  if (scalar.some((o) => o === undefined)) return undefined;
  return manifest.model.output === 'label' ? profileCategorical(scalar as Value[]) : profileNumeric(scalar as Value[]);
}
