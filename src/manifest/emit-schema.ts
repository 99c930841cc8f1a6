/**
 * Run by `npm run build`, after tsc:
 * - `dist/mlship.schema.json`: the schema of `schema.ts`, so editors can complete and check
 *   mlship.yaml with `# yaml-language-server: $schema=…`;
 * - `dist/manifest/schema-validator.cjs`: the same schema compiled to standalone validation code,
 *   so commands do not pay for compiling it (Ajv's code generation) at every start.
 */
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { AJV_OPTIONS } from './validate.js';
import { manifestSchema } from './schema.js';

const require = createRequire(import.meta.url);
const { Ajv } = require('ajv') as typeof import('ajv');
const standaloneCode = require('ajv/dist/standalone').default as (ajv: InstanceType<typeof Ajv>, validate: unknown) => string;

writeFileSync(new URL('../mlship.schema.json', import.meta.url), `${JSON.stringify(manifestSchema, null, 2)}\n`);
const ajv = new Ajv({ ...AJV_OPTIONS, code: { source: true } });
writeFileSync(new URL('./schema-validator.cjs', import.meta.url), standaloneCode(ajv, ajv.compile(manifestSchema)));
