/**
 * Request bodies for the load test: real rows of the training baseline (`features.baseline`), typed
 * by the feature schema, so the server runs its normal path; one synthetic record when there is no
 * baseline. An LLM's: one streamed chat completion per prompt of `budget.request`.
 */
import { readFileSync } from 'node:fs';
import { readCsvFile } from '../util/csv.js';
import { ManifestError } from '../util/errors.js';
import { typeRows } from '../manifest/typed-rows.js';
import type { FieldSpec, Manifest } from '../manifest/types.js';

/** Up to `max` JSON record bodies, one per baseline row that fits the schema. */
export function requestBodies(manifest: Manifest, max = 64): string[] {
  const schema = manifest.features.schema;
  const bodies: string[] = [];
  if (manifest.features.baseline) {
    for (const record of typeRows(readCsvFile(manifest.features.baseline), schema).records) {
      if (record && Object.keys(schema).every((name) => fits(record[name] ?? null, schema[name]!))) bodies.push(JSON.stringify(record));
      if (bodies.length >= max) break;
    }
  }
  if (bodies.length === 0) bodies.push(JSON.stringify(syntheticRecord(schema)));
  return bodies;
}

/** Would the app accept this typed value (range, category values, null only where nullable)? */
function fits(value: string | number | boolean | null, spec: FieldSpec): boolean {
  if (value === null) return spec.nullable;
  if (typeof value === 'number') return !((spec.min !== undefined && value < spec.min) || (spec.max !== undefined && value > spec.max));
  return spec.type !== 'category' || spec.values === undefined || spec.values.includes(String(value));
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

/**
 * An LLM's load-test bodies: a streamed chat completion (`stream_options.include_usage`, so the
 * stream says how many tokens it generated) per prompt: `budget.request.prompt`, or each line of
 * `budget.request.prompts`.
 */
export function llmRequestBodies(manifest: Manifest): string[] {
  const request = manifest.budget.llm?.request;
  if (!request) return [];
  const prompts = request.promptsFile === undefined ? [request.prompt ?? ''] : promptsOf(request.promptsFile, request.promptsRelative ?? request.promptsFile);
  return prompts.map((content) =>
    JSON.stringify({
      model: manifest.name,
      messages: [{ role: 'user', content }],
      max_tokens: request.max_tokens,
      stream: true,
      stream_options: { include_usage: true },
    }),
  );
}

/** The prompts of a prompts file: one per non-blank line. */
function promptsOf(file: string, shown: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ManifestError(`budget.request.prompts: cannot read ${shown}: ${(error as Error).message}`, {
      code: 'prompts_unreadable',
      hint: 'write the prompts one per line in a text file next to the manifest',
    });
  }
  const prompts = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
  if (prompts.length === 0)
    throw new ManifestError(`budget.request.prompts: ${shown} holds no prompt`, {
      code: 'prompts_empty',
      hint: 'write the prompts one per line (blank lines are skipped)',
    });
  return prompts;
}
