/**
 * Writes `dist/mlship.schema.json` from the schema in `schema.ts` (run by `npm run build`), so
 * editors can complete and check mlship.yaml with `# yaml-language-server: $schema=…`.
 */
import { writeFileSync } from 'node:fs';
import { manifestSchema } from './schema.js';

writeFileSync(new URL('../mlship.schema.json', import.meta.url), `${JSON.stringify(manifestSchema, null, 2)}\n`);
