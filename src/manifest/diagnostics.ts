/**
 * Diagnostics: turning schema and semantic problems into `file:line:col: path: message (hint)`.
 */
import path from 'node:path';
import type { Diagnostic } from './types.js';

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

/** Edit distance with adjacent transpositions (optimal string alignment); small strings only. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** The closest candidate when it is close enough to be a typo, else undefined. */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  const limit = Math.max(1, Math.floor(Math.max(word.length, 3) / 3));
  return best !== undefined && bestDistance <= limit ? best : undefined;
}

/** A hint that names the suggestion or lists the choices. */
export function choiceHint(word: string, candidates: readonly string[]): string {
  const s = suggest(word, candidates);
  return s ? `did you mean "${s}"?` : `expected one of: ${candidates.join(', ')}`;
}
