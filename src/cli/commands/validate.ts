/** `mlship validate`: the manifest was loaded (and so checked) before this runs; report the summary. */
import path from 'node:path';
import { formatDiagnostic } from '../../manifest/diagnostics.js';
import type { CommandModule } from '../context.js';

export const run: CommandModule['run'] = async (ctx) => {
  const m = await ctx.manifest();
  const fields = Object.keys(m.features.schema).length;
  const file = path.relative(ctx.cwd, m.file) || m.file;
  return {
    data: {
      ok: true,
      file,
      name: m.name,
      target: m.target,
      flavor: m.model.flavor,
      fields,
      warnings: (m.warnings ?? []).map((w) => formatDiagnostic(w, ctx.cwd)),
    },
    text: `ok  ${file}: ${m.name} (${m.model.flavor}, ${m.features.package === undefined ? 'no features block' : `${fields} field${fields === 1 ? '' : 's'}`}, target ${m.target})`,
  };
};
