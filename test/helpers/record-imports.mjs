// Loaded with `node --import <this file>`: records every module the program loads into the file
// named by MLSHIP_IMPORT_LOG — ES modules through a resolve hook (URLs), CommonJS `require` calls
// through Module._load (paths), since the ESM hooks of Node 20 do not see `require`.
import { appendFileSync } from 'node:fs';
import Module, { register } from 'node:module';

const log = process.env.MLSHIP_IMPORT_LOG;
register('./record-imports-hooks.mjs', import.meta.url, { data: { log } });

const load = Module._load;
Module._load = function recordedLoad(request, parent, isMain) {
  if (log) {
    try {
      appendFileSync(log, `${Module._resolveFilename(request, parent, isMain)}\n`);
    } catch {
      // unresolvable: the real load below reports it
    }
  }
  return load.apply(this, arguments);
};
