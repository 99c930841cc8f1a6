/**
 * Deterministic samples shared with test/monitoring/drift/fixtures/make_reference.py: a MINSTD LCG (exact in
 * doubles) summed four at a time (Irwin–Hall), so both languages produce the same bits.
 */
export interface SampleSpec {
  seed: number;
  n: number;
  loc: number;
  scale: number;
  digits: number | null;
}

export function lcgSample(spec: SampleSpec): number[] {
  const m = 2147483647;
  const a = 48271;
  let x = spec.seed;
  const out: number[] = [];
  for (let i = 0; i < spec.n; i++) {
    let s = 0;
    for (let k = 0; k < 4; k++) {
      x = (a * x) % m;
      s += x / m;
    }
    let v = (s - 2.0) * spec.scale + spec.loc;
    if (spec.digits !== null) v = Math.floor(v * 10 ** spec.digits) / 10 ** spec.digits;
    out.push(v);
  }
  return out;
}

export interface NumericCase {
  name: string;
  kind: 'numeric';
  baseline?: number[];
  current?: number[];
  generate?: { baseline: SampleSpec; current: SampleSpec };
  expected: {
    ks_statistic: number;
    ks_pvalue: number;
    ks_method: 'exact' | 'asymp';
    wasserstein: number;
    wasserstein_norm: number;
    psi: number;
    edges: number[];
  };
}

export interface CategoricalCase {
  name: string;
  kind: 'categorical';
  baseline: Record<string, number>;
  current: Record<string, number>;
  expected: { js: number; linf: number; unseen: string[]; chi2_statistic?: number; chi2_pvalue?: number };
}

export interface Reference {
  cases: (NumericCase | CategoricalCase)[];
  kstwo: { n: number; x: number; sf: number }[];
}

/** The case's samples, explicit or generated. */
export function samples(c: NumericCase): { baseline: number[]; current: number[] } {
  if (c.generate) return { baseline: lcgSample(c.generate.baseline), current: lcgSample(c.generate.current) };
  return { baseline: c.baseline!, current: c.current! };
}

/** |a − b| <= tol·|b| (exact equality for zeros and infinities). */
export function closeRel(a: number, b: number, tol = 1e-9): boolean {
  if (a === b) return true;
  return Math.abs(a - b) <= tol * Math.abs(b);
}
