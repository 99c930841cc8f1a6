/**
 * Schema validation of a parsed manifest. The build precompiles the schema into standalone code
 * (`schema-validator.cjs`, see emit-schema.ts); when that file is absent (running from sources)
 * the schema is compiled here with the same options, as it is when the registered targets are not
 * the ones the build compiled for (a test suite's extra target). Both load synchronously and only on use.
 */
import { createRequire } from 'node:module';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { manifestSchema } from './schema.js';
import { targetNames } from './targets.js';

/** The Ajv options the manifest is validated with (one place, shared with the precompiler). */
export const AJV_OPTIONS = { allErrors: true, strict: false, verbose: true } as const;

/** The export of the precompiled validator naming the targets it was compiled for (`local,sagemaker,…`). */
export const COMPILED_FOR = 'targets';

const require = createRequire(import.meta.url);
let validator: { targets: string; validate: ValidateFunction } | undefined;

function load(targets: string): ValidateFunction {
  try {
    const compiled = require('./schema-validator.cjs') as ValidateFunction & { [COMPILED_FOR]?: string };
    if (compiled[COMPILED_FOR] === targets) return compiled;
  } catch {
    // running from sources: compile below
  }
  const { Ajv } = require('ajv') as typeof import('ajv');
  return new Ajv(AJV_OPTIONS).compile(manifestSchema());
}

/** Every schema error of `data` (empty when valid). */
export function schemaErrors(data: unknown): ErrorObject[] {
  const targets = targetNames().join(',');
  if (validator?.targets !== targets) validator = { targets, validate: load(targets) };
  return validator.validate(data) ? [] : (validator.validate.errors ?? []);
}
