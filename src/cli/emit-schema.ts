/**
 * Run by `npm run build`, after tsc (here, above the targets, because the schema's `target` choices
 * and `targets.<name>` blocks come from the registered target descriptors):
 * - `dist/mlship.schema.json`: the schema of `schema.ts`, so editors can complete and check
 *   mlship.yaml with `# yaml-language-server: $schema=…`;
 * - `dist/manifest/schema-validator.cjs`: the same schema compiled to standalone validation code,
 *   so commands do not pay for compiling it (Ajv's code generation) at every start. It records the
 *   targets it was compiled for; with other targets registered (MLSHIP_EXTRA_TARGETS) the loader
 *   compiles the schema instead (src/manifest/validate.ts).
 */
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { AJV_OPTIONS, COMPILED_FOR } from '../manifest/validate.js';
import { manifestSchema } from '../manifest/schema.js';
import { targetNames } from '../manifest/targets.js';
import '../targets/descriptors.js';

const require = createRequire(import.meta.url);
const { Ajv } = require('ajv') as typeof import('ajv');
const standaloneCode = require('ajv/dist/standalone').default as (ajv: InstanceType<typeof Ajv>, validate: unknown) => string;

const schema = manifestSchema();
writeFileSync(new URL('../mlship.schema.json', import.meta.url), `${JSON.stringify(schema, null, 2)}\n`);
const ajv = new Ajv({ ...AJV_OPTIONS, code: { source: true } });
const code = `${standaloneCode(ajv, ajv.compile(schema))}\nmodule.exports.${COMPILED_FOR} = ${JSON.stringify(targetNames().join(','))};\n`;
writeFileSync(new URL('../manifest/schema-validator.cjs', import.meta.url), code);
