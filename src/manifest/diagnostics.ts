/**
 * Diagnostics: turning schema and semantic problems into `file:line:col: path: message (hint)`.
 */
import path from 'node:path';
import { suggest } from '../util/suggest.js';
import type { Diagnostic } from './types.js';

export { editDistance, suggest } from '../util/suggest.js';

/** `mlship.yaml:3:5: model.flavor: "skl" is not … (did you mean "sklearn"?)` */
export function formatDiagnostic(d: Diagnostic, cwd = process.cwd()): string {
  const file = displayPath(d.file, cwd);
  const where = d.path ? `${d.path}: ` : '';
  const hint = d.hint ? ` (${d.hint})` : '';
  const prefix = d.severity === 'warning' ? 'warning: ' : '';
  return `${file}:${d.line}:${d.col}: ${prefix}${where}${d.message}${hint}`;
}

/** A path as messages show it: relative to where the user stands, unless that climbs out more than one level. */
export function displayPath(file: string, cwd = process.cwd()): string {
  const relative = path.relative(cwd, file);
  return relative === '' || relative.startsWith(`..${path.sep}..${path.sep}`) ? file : relative;
}

/** A hint that names the suggestion or lists the choices. */
export function choiceHint(word: string, candidates: readonly string[]): string {
  const s = suggest(word, candidates);
  return s ? `did you mean "${s}"?` : `expected one of: ${candidates.join(', ')}`;
}
