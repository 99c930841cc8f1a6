/**
 * How a logged raw value becomes a drift value: a number for numeric features, a category string
 * for categorical ones, null when missing, or WRONG when the type cannot be right (the line then
 * counts as malformed).
 */

/** A value whose type cannot be the feature's. */
export const WRONG = Symbol('wrong type');

/** Numbers as numbers, numeric strings (CSV captures) parsed; null, '', 'nan', non-finite = missing. */
export function numericValue(v: unknown): number | null | typeof WRONG {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string') {
    const t = v.trim();
    if (t === '' || t.toLowerCase() === 'nan' || t.toLowerCase() === 'null') return null;
    const n = Number(t);
    return Number.isFinite(n) ? n : WRONG;
  }
  return WRONG;
}

/** Strings as they are; numbers and booleans as their text (integer labels); null and '' = missing. */
export function categoryValue(v: unknown): string | null | typeof WRONG {
  if (v === null || v === undefined || v === '') return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return WRONG;
}
