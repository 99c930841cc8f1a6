/**
 * The `Server-Timing` response header (W3C Server Timing): `validate;dur=0.4, features;dur=1.2`.
 * The serving app reports each of its stages there; `mlship budget` reads it from every response.
 */

/** Stage name → duration in milliseconds. Entries without `dur` are skipped; repeated names add up. */
export function parseServerTiming(header: string | string[] | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  if (header === undefined) return out;
  const text = Array.isArray(header) ? header.join(',') : header;
  for (const entry of splitOutsideQuotes(text, ',')) {
    const [rawName, ...params] = splitOutsideQuotes(entry, ';').map((s) => s.trim());
    if (!rawName) continue;
    for (const param of params) {
      const eq = param.indexOf('=');
      if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== 'dur') continue;
      const value = Number(
        param
          .slice(eq + 1)
          .trim()
          .replace(/^"|"$/g, ''),
      );
      if (Number.isFinite(value) && value >= 0) out[rawName] = (out[rawName] ?? 0) + value;
    }
  }
  return out;
}

function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '"' && text[i - 1] !== '\\') quoted = !quoted;
    if (ch === separator && !quoted) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts;
}
