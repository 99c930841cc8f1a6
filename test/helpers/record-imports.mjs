// Loaded with `node --import <this file>`: records the URL of every module the program imports
// (ESM and CommonJS entry points alike) into the file named by MLSHIP_IMPORT_LOG.
import { register } from 'node:module';

register('./record-imports-hooks.mjs', import.meta.url, { data: { log: process.env.MLSHIP_IMPORT_LOG } });
