#!/usr/bin/env node
/**
 * The layer check: every relative import in src/ must point to the same folder or to a lower layer
 * (ARCHITECTURE.md draws the same table). A folder missing from LAYERS is an error too, so a new
 * folder gets a place on purpose. Prints every offending import as `file -> target`; exit 1 when any.
 * Usage: node scripts/check-layers.mjs [src]
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** Top-level folders of src/, from the top (commands) to the bottom (helpers). A folder may import only folders of a lower row. */
export const LAYERS = [
  ['cli'],
  ['init', 'budget', 'monitoring'],
  ['retrain'],
  ['targets'],
  ['deploy'],
  ['packaging'],
  ['compute', 'logs'],
  ['baseline', 'manifest'],
  ['instances'],
  ['util'],
];

const IMPORT = /(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g;

/** Every `.ts` file below a folder. */
function tsFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return tsFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

/** The offending imports of a source tree: `{ from, to, why }`. */
export function layerViolations(root) {
  const rank = new Map(LAYERS.flatMap((row, i) => row.map((f) => [f, i])));
  const folderOf = (file) => path.relative(root, file).split(path.sep)[0];
  const problems = [];
  for (const file of tsFiles(root)) {
    const from = folderOf(file);
    if (from.endsWith('.ts')) continue; // files at src/ itself: none today
    if (!rank.has(from)) problems.push({ from: file, to: '', why: `src/${from}/ has no row in LAYERS (scripts/check-layers.mjs, ARCHITECTURE.md)` });
    for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const target = path.resolve(path.dirname(file), m[1] ?? m[2]);
      const to = folderOf(target);
      if (to === from || to.startsWith('..')) continue;
      if (!(rank.get(to) > rank.get(from)))
        problems.push({ from: file, to: path.relative(process.cwd(), target), why: `${from} may not import ${to} (same or higher layer)` });
    }
  }
  return problems;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const problems = layerViolations(path.resolve(process.argv[2] ?? 'src'));
  for (const p of problems) process.stdout.write(`${path.relative(process.cwd(), p.from)} -> ${p.to}: ${p.why}\n`);
  process.stdout.write(problems.length ? `${problems.length} imports break the layers\n` : 'layers ok\n');
  process.exitCode = problems.length ? 1 : 0;
}
