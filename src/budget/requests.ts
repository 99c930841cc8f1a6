/**
 * Request bodies for the load test: real rows of the training baseline (`features.baseline`), typed
 * by the feature schema, so the server runs its normal path; one synthetic record when there is no
 * baseline.
 */
import { readCsvFile } from '../core/csv.js';
import type { FieldSpec, Manifest } from '../manifest/types.js';

/** Up to `max` JSON record bodies, one per baseline row that fits the schema. */
export function requestBodies(manifest: Manifest, max = 64): string[] {
  const schema = manifest.features.schema;
  const bodies: string[] = [];
  if (manifest.features.baseline) {
    const table = readCsvFile(manifest.features.baseline);
    const index = new Map(table.columns.map((c, i) => [c, i]));
    for (const row of table.rows) {
      const record = recordOf(schema, (name) => {
        const i = index.get(name);
        return i === undefined ? '' : row[i]!;
      });
      if (record) bodies.push(JSON.stringify(record));
      if (bodies.length >= max) break;
    }
  }
  if (bodies.length === 0) bodies.push(JSON.stringify(syntheticRecord(schema)));
  return bodies;
}

function recordOf(schema: Record<string, FieldSpec>, cell: (name: string) => string): Record<string, unknown> | undefined {
  const record: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(schema)) {
    const raw = cell(name).trim();
    if (raw === '') {
      if (!spec.nullable) return undefined;
      record[name] = null;
      continue;
    }
    const value = convert(raw, spec);
    if (value === undefined) return undefined;
    record[name] = value;
  }
  return record;
}

function convert(raw: string, spec: FieldSpec): unknown {
  switch (spec.type) {
    case 'number':
    case 'integer': {
      const n = Number(raw);
      if (!Number.isFinite(n) || (spec.type === 'integer' && !Number.isInteger(n))) return undefined;
      if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) return undefined;
      return n;
    }
    case 'boolean':
      return /^(true|1|yes)$/i.test(raw) ? true : /^(false|0|no)$/i.test(raw) ? false : undefined;
    case 'category':
      return spec.values === undefined || spec.values.includes(raw) ? raw : undefined;
    default:
      return raw;
  }
}

/** A record every schema accepts: bounds' midpoint, the first category, false, a short string. */
export function syntheticRecord(schema: Record<string, FieldSpec>): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(schema)) {
    if (spec.type === 'number' || spec.type === 'integer') {
      const lo = spec.min ?? (spec.max !== undefined ? Math.min(0, spec.max) : 0);
      const hi = spec.max ?? lo + 1;
      const mid = (lo + hi) / 2;
      record[name] = spec.type === 'integer' ? Math.round(mid) : mid;
    } else if (spec.type === 'category') record[name] = spec.values?.[0] ?? 'a';
    else if (spec.type === 'boolean') record[name] = false;
    else record[name] = 'a';
  }
  return record;
}
