/**
 * Schema validation of a parsed manifest. The build precompiles the schema into standalone code
 * (`schema-validator.cjs`, see emit-schema.ts); when that file is absent (running from sources)
 * the schema is compiled here with the same options. Both load synchronously and only on use.
 */
import { createRequire } from 'node:module';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { manifestSchema } from './schema.js';

/** The Ajv options the manifest is validated with (one place, shared with the precompiler). */
export const AJV_OPTIONS = { allErrors: true, strict: false, verbose: true } as const;

const require = createRequire(import.meta.url);
let validator: ValidateFunction | undefined;

function load(): ValidateFunction {
  try {
    return require('./schema-validator.cjs') as ValidateFunction;
  } catch {
    const { Ajv } = require('ajv') as typeof import('ajv');
    return new Ajv(AJV_OPTIONS).compile(manifestSchema);
  }
}

/** Every schema error of `data` (empty when valid). */
export function schemaErrors(data: unknown): ErrorObject[] {
  validator ??= load();
  return validator(data) ? [] : (validator.errors ?? []);
}
