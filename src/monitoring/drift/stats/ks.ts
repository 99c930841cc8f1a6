/**
 * Two-sample Kolmogorov–Smirnov p-values, computed the way scipy 1.17 `ks_2samp(method='auto')`
 * does, so that mlship's numbers match scipy's within 1e-9 relative:
 *
 * - both samples at most 10 000 values → the exact distribution (`_attempt_exact_2kssamp`): the
 *   Hodges "inside method" lattice-path count for n1 ≠ n2, the closed form for n1 = n2;
 * - otherwise (or when the exact count fails) → `kstwo.sf(D, round(n1·n2/(n1+n2)))`, the
 *   one-sample two-sided distribution of Simard & L'Ecuyer (2011) as scipy's `_ksstats.kolmogn`
 *   evaluates it (Ruben–Gambino ends, Durbin matrix, Pomeranz recursion, Pelz–Good, 2·Smirnov).
 *
 * The statistic D itself is computed by the callers (in memory by `ks2samp`, streamed by the
 * numeric accumulator); this file turns (D, n1, n2) into the p-value.
 */
import { logFactorial } from './special.js';

/** The exact distribution is used when both samples are at most this large (scipy's MAX_AUTO_N). */
export const KS_MAX_EXACT_N = 10_000;

/** The KS statistic, its p-value and which distribution gave it. */
export interface KsResult {
  statistic: number;
  pvalue: number;
  method: 'exact' | 'asymp';
}

/** D from the two empirical CDFs as integer counts: |i/n1 − j/n2| in the same float steps as scipy. */
export function cdfGap(i: number, n1: number, j: number, n2: number): number {
  return i / n1 - j / n2;
}

/**
 * scipy's statistic choice: D = max(maxS, minS) where maxS = max(cdf1 − cdf2) and minS =
 * max(cdf2 − cdf1, clipped at 0); ties go to maxS.
 */
export function ksStatistic(maxDiff: number, minDiff: number): number {
  const minS = Math.min(Math.max(-minDiff, 0), 1);
  return minS > maxDiff ? minS : maxDiff;
}

/** The p-value of D for sample sizes n1, n2 (two-sided), as `ks_2samp(method='auto')`. */
export function ksPValue(d: number, n1: number, n2: number): KsResult {
  if (Math.max(n1, n2) <= KS_MAX_EXACT_N) {
    const g = gcd(n1, n2);
    const lcm = (n1 / g) * n2;
    const h = roundHalfEven(d * lcm);
    const dExact = h / lcm;
    if (h === 0) return { statistic: dExact, pvalue: 1, method: 'exact' };
    const prob = n1 === n2 ? probOutsideSquare(n1, h) : outerProbInside(n1, n2, g, h);
    if (Number.isFinite(prob) && prob >= 0 && prob <= 1) return { statistic: dExact, pvalue: prob, method: 'exact' };
    d = dExact;
  }
  const [m, n] = n1 >= n2 ? [n1, n2] : [n2, n1];
  const en = (m * n) / (m + n);
  return { statistic: d, pvalue: clip01(kstwoSf(d, roundHalfEven(en))), method: 'asymp' };
}

/** In-memory two-sample KS on sorted arrays (reference implementation and small data). */
export function ks2samp(sortedA: ArrayLike<number>, sortedB: ArrayLike<number>): KsResult {
  const n1 = sortedA.length;
  const n2 = sortedB.length;
  let i = 0;
  let j = 0;
  let maxDiff = -Infinity;
  let minDiff = Infinity;
  // Walk the merged values; at each distinct value both CDFs count everything <= it (side='right').
  while (i < n1 || j < n2) {
    const x = j >= n2 || (i < n1 && sortedA[i]! <= sortedB[j]!) ? sortedA[i]! : sortedB[j]!;
    while (i < n1 && sortedA[i]! <= x) i++;
    while (j < n2 && sortedB[j]! <= x) j++;
    const diff = cdfGap(i, n1, j, n2);
    if (diff > maxDiff) maxDiff = diff;
    if (diff < minDiff) minDiff = diff;
  }
  return ksPValue(ksStatistic(maxDiff, minDiff), n1, n2);
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** numpy's round: halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function clip01(p: number): number {
  return Math.min(Math.max(p, 0), 1);
}

/** Pr(D_{n,n} >= h/n) by Horner-like nesting of the alternating binomial sum (scipy). */
function probOutsideSquare(n: number, h: number): number {
  let p = 0;
  for (let k = Math.floor(n / h); k >= 0; k--) {
    let p1 = 1;
    for (let j = 0; j < h; j++) p1 = ((n - k * h - j) * p1) / (n + k * h + j + 1);
    p = p1 * (1 - p);
  }
  return 2 * p;
}

/**
 * 1 − Pr(paths stay strictly inside |x/m − y/n| < h/lcm), by the column-by-column recursion of
 * Viehmann (2021) that scipy uses; only a sliding window of one column is kept.
 */
function outerProbInside(m0: number, n0: number, g: number, h: number): number {
  const [m, n] = m0 >= n0 ? [m0, n0] : [n0, m0];
  const mg = m / g;
  const ng = n / g;
  let minj = 0;
  let maxj = Math.min(Math.ceil(h / mg), n + 1);
  let curlen = maxj - minj;
  const lenA = Math.min(2 * maxj + 2, n + 1);
  const A = new Float64Array(lenA).fill(1);
  for (let k = minj; k < maxj; k++) A[k] = 0;
  for (let i = 1; i <= m; i++) {
    const lastminj = minj;
    const lastlen = curlen;
    minj = Math.min(Math.max(Math.floor((ng * i - h) / mg) + 1, 0), n);
    maxj = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
    if (maxj <= minj) return 1;
    let val = minj === 0 ? 0 : 1;
    for (let jj = 0; jj < maxj - minj; jj++) {
      const j = jj + minj;
      val = (A[jj + minj - lastminj]! * i + val * j) / (i + j);
      A[jj] = val;
    }
    curlen = maxj - minj;
    if (lastlen > curlen) for (let k = maxj - minj; k < maxj - minj + (lastlen - curlen) && k < lenA; k++) A[k] = 1;
  }
  return A[maxj - minj - 1]!;
}

// ---- kstwo: the one-sample two-sided KS distribution (scipy.stats._ksstats) ----

const E128 = 128;
const EP128 = 2 ** 128;
const EM128 = 2 ** -128;
const SQRT2PI = Math.sqrt(2 * Math.PI);
const LOG_2PI = Math.log(2 * Math.PI);
const MIN_LOG = -708;
const SQRT3 = Math.sqrt(3);
const PI2 = Math.PI ** 2;
const PI4 = Math.PI ** 4;
const PI6 = Math.PI ** 6;
const STIRLING = [
  -2.955065359477124183e-2, 6.4102564102564102564e-3, -1.9175269175269175269e-3, 8.4175084175084175084e-4, -5.952380952380952381e-4, 7.9365079365079365079e-4,
  -2.7777777777777777778e-3, 8.3333333333333333333e-2,
];

/** `scipy.stats.kstwo.sf(x, n)`: support (0.5/n, 1). */
export function kstwoSf(x: number, n: number): number {
  if (x <= 0.5 / n) return 1;
  if (x >= 1) return 0;
  return kolmogn(n, x, false);
}

function pick(cdfProb: number, sfProb: number, cdf: boolean): number {
  return clip01(cdf ? cdfProb : sfProb);
}

function logNFactorialDivNPowN(n: number): number {
  const rn = 1 / n;
  const t = rn / n;
  let poly = 0;
  for (const c of STIRLING) poly = poly * t + c;
  return Math.log(n) / 2 - n + LOG_2PI / 2 + rn * poly;
}

/** CDF (or SF) of the two-sided one-sample KS statistic for n samples (`_kolmogn`). */
export function kolmogn(n: number, x: number, cdf: boolean): number {
  if (x >= 1) return pick(1, 0, cdf);
  if (x <= 0) return pick(0, 1, cdf);
  const t = n * x;
  if (t <= 1) {
    if (t <= 0.5) return pick(0, 1, cdf);
    let prob: number;
    if (n <= 140) {
      prob = 1;
      for (let i = 1; i <= n; i++) prob *= i * (1 / n) * (2 * t - 1);
    } else prob = Math.exp(logNFactorialDivNPowN(n) + n * Math.log(2 * t - 1));
    return pick(prob, 1 - prob, cdf);
  }
  if (t >= n - 1) {
    const prob = 2 * (1 - x) ** n;
    return pick(1 - prob, prob, cdf);
  }
  if (x >= 0.5) {
    const prob = 2 * smirnovSf(n, x);
    return pick(1 - prob, prob, cdf);
  }
  const nxSquared = t * x;
  if (n <= 140) {
    if (nxSquared <= 0.754693) {
      const prob = kolmognDMTW(n, x);
      return pick(prob, 1 - prob, cdf);
    }
    if (nxSquared <= 4) {
      const prob = kolmognPomeranz(n, x);
      return pick(prob, 1 - prob, cdf);
    }
    const prob = 2 * smirnovSf(n, x);
    return pick(1 - prob, prob, cdf);
  }
  if (!cdf) {
    if (nxSquared >= 370) return 0;
    if (nxSquared >= 2.2) return clip01(2 * smirnovSf(n, x));
  }
  let cdfProb: number;
  if (nxSquared >= 18) cdfProb = 1;
  else if (n <= 100_000 && n * x ** 1.5 <= 1.4) cdfProb = kolmognDMTW(n, x);
  else cdfProb = kolmognPelzGood(n, x);
  return pick(cdfProb, 1 - cdfProb, cdf);
}

/** Durbin's matrix algorithm in the Marsaglia–Tsang–Wang form: Pr(D_n <= d). */
function kolmognDMTW(n: number, d: number): number {
  if (d >= 1) return 1;
  const nd = n * d;
  if (nd <= 0.5) return 0;
  const k = Math.ceil(nd);
  const h = k - nd;
  const m = 2 * k - 1;
  let H: Float64Array = new Float64Array(m * m);
  const v = new Float64Array(m);
  const w = new Float64Array(m);
  let fac = 1;
  for (let j = 1; j <= m; j++) {
    w[j - 1] = fac;
    fac /= j;
    v[j - 1] = (1 - h ** j) * fac;
  }
  const tt = Math.max(2 * h - 1, 0) ** m - 2 * h ** m;
  v[m - 1] = (1 + tt) * fac;
  for (let i = 1; i < m; i++) for (let r = i - 1; r < m; r++) H[r * m + i] = w[r - i + 1]!;
  for (let r = 0; r < m; r++) H[r * m] = v[r]!;
  for (let c = 0; c < m; c++) H[(m - 1) * m + c] = v[m - 1 - c]!;
  let P: Float64Array = new Float64Array(m * m);
  for (let i = 0; i < m; i++) P[i * m + i] = 1;
  let nn = n;
  let expnt = 0;
  let hExpnt = 0;
  while (nn > 0) {
    if (nn % 2) {
      P = matmul(P, H, m);
      expnt += hExpnt;
    }
    H = matmul(H, H, m);
    hExpnt *= 2;
    if (Math.abs(H[(k - 1) * m + (k - 1)]!) > EP128) {
      for (let i = 0; i < H.length; i++) H[i]! /= EP128;
      hExpnt += E128;
    }
    nn = Math.floor(nn / 2);
  }
  let p = P[(k - 1) * m + (k - 1)]!;
  for (let i = 1; i <= n; i++) {
    p = (i * p) / n;
    if (Math.abs(p) < EM128) {
      p *= EP128;
      expnt -= E128;
    }
  }
  if (expnt !== 0) p *= 2 ** expnt;
  return clip01(p);
}

function matmul(a: Float64Array, b: Float64Array, m: number): Float64Array {
  const out = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let k = 0; k < m; k++) {
      const aik = a[i * m + k]!;
      if (aik === 0) continue;
      const bo = k * m;
      const oo = i * m;
      for (let j = 0; j < m; j++) out[oo + j]! += aik * b[bo + j]!;
    }
  }
  return out;
}

function pomeranzJ1J2(i: number, n: number, ll: number, ceilf: number, roundf: number): [number, number] {
  let j1: number;
  let j2: number;
  if (i === 0) {
    j1 = -ll - ceilf - 1;
    j2 = ll + ceilf - 1;
  } else {
    const ip1div2 = Math.floor((i + 1) / 2);
    const ip1mod2 = (i + 1) % 2;
    if (ip1mod2 === 0) {
      if (ip1div2 === n + 1) {
        j1 = n - ll - ceilf - 1;
        j2 = n + ll + ceilf - 1;
      } else {
        j1 = ip1div2 - 1 - ll - roundf - 1;
        j2 = ip1div2 + ll - 1 + ceilf - 1;
      }
    } else {
      j1 = ip1div2 - 1 - ll - 1;
      j2 = ip1div2 + ll + roundf - 1;
    }
  }
  return [Math.max(j1 + 2, 0), Math.min(j2, n)];
}

/** Pomeranz's recursion (1974): Pr(D_n <= x), for n <= 140. */
function kolmognPomeranz(n: number, x: number): number {
  const t = n * x;
  const ll = Math.floor(t);
  const f = t - ll;
  const g = Math.min(f, 1 - f);
  const ceilf = f > 0 ? 1 : 0;
  const roundf = f > 0.5 ? 1 : 0;
  const npwrs = 2 * (ll + 1);
  const gpower = new Float64Array(npwrs);
  const twogpower = new Float64Array(npwrs);
  const onem2gpower = new Float64Array(npwrs);
  gpower[0] = twogpower[0] = onem2gpower[0] = 1;
  let expnt = 0;
  const gN = g / n;
  const twoGN = (2 * g) / n;
  const oneM2GN = (1 - 2 * g) / n;
  for (let m = 1; m < npwrs; m++) {
    gpower[m] = (gpower[m - 1]! * gN) / m;
    twogpower[m] = (twogpower[m - 1]! * twoGN) / m;
    onem2gpower[m] = (onem2gpower[m - 1]! * oneM2GN) / m;
  }
  let V0 = new Float64Array(npwrs);
  let V1 = new Float64Array(npwrs);
  V1[0] = 1;
  let V0s = 0;
  let V1s = 0;
  let [j1, j2] = pomeranzJ1J2(0, n, ll, ceilf, roundf);
  for (let i = 1; i < 2 * n + 2; i++) {
    const k1 = j1;
    [V0, V1] = [V1, V0];
    [V0s, V1s] = [V1s, V0s];
    V1.fill(0);
    [j1, j2] = pomeranzJ1J2(i, n, ll, ceilf, roundf);
    const pwrs = i === 1 || i === 2 * n + 1 ? gpower : i % 2 ? twogpower : onem2gpower;
    const ln2 = j2 - k1 + 1;
    if (ln2 > 0) {
      const start = k1 - V0s;
      const aLen = Math.max(0, Math.min(ln2, npwrs - start));
      const convStart = j1 - k1;
      const convLen = j2 - j1 + 1;
      // Entries convStart … convStart+convLen-1 of the full convolution of V0[start…] and pwrs[0…ln2).
      for (let c = 0; c < convLen; c++) {
        const idx = convStart + c;
        let s = 0;
        const lo = Math.max(0, idx - ln2 + 1);
        const hi = Math.min(idx, aLen - 1);
        for (let a = lo; a <= hi; a++) s += V0[start + a]! * pwrs[idx - a]!;
        V1[c] = s;
      }
      let max = 0;
      for (let c = 0; c < npwrs; c++) if (V1[c]! > max) max = V1[c]!;
      if (max > 0 && max < EM128) {
        for (let c = 0; c < npwrs; c++) V1[c]! *= EP128;
        expnt -= E128;
      }
      V1s = V0s + j1 - k1;
    }
  }
  let ans = V1[n - V1s]!;
  for (let m = 1; m <= n; m++) {
    if (Math.abs(ans) > EP128) {
      ans *= EM128;
      expnt += E128;
    }
    ans *= m;
  }
  if (expnt !== 0) ans *= 2 ** expnt;
  return clip01(ans);
}

/** Pelz–Good (1976) approximation of Pr(D_n <= x) for large n. */
function kolmognPelzGood(n: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const z = Math.sqrt(n) * x;
  const z2 = z * z;
  const z3 = z2 * z;
  const z4 = z2 * z2;
  const z6 = z4 * z2;
  const qlog = -PI2 / 8 / z2;
  if (qlog < MIN_LOG) return 0;
  let q = Math.exp(qlog);
  const k1a = -z2;
  const k1b = PI2 / 4;
  const k2a = 6 * z6 + 2 * z4;
  const k2b = ((2 * z4 - 5 * z2) * PI2) / 4;
  const k2c = (PI4 * (1 - 2 * z2)) / 16;
  const k3d = (PI6 * (5 - 30 * z2)) / 64;
  const k3c = (PI4 * (-60 * z2 + 212 * z4)) / 16;
  const k3b = (PI2 * (135 * z4 - 96 * z6)) / 4;
  const k3a = -30 * z6 - 90 * z ** 8;
  const K = [0, 0, 0, 0];
  const maxk = Math.ceil((16 * z) / Math.PI);
  for (let k = maxk; k > 0; k--) {
    const m = 2 * k - 1;
    const m2 = m * m;
    const m4 = m2 * m2;
    const m6 = m4 * m2;
    const qpower = q ** (8 * k);
    const coeffs = [1, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4, k3a + k3b * m2 + k3c * m4 + k3d * m6];
    for (let i = 0; i < 4; i++) K[i] = K[i]! * qpower + coeffs[i]!;
  }
  const div = [z, 6 * z4, 72 * z ** 7, 6480 * z ** 10];
  for (let i = 0; i < 4; i++) K[i] = (K[i]! * q * SQRT2PI) / div[i]!;
  q = Math.exp(-PI2 / 2 / z2);
  let k2extra = 0;
  let k3extra = 0;
  const sqrt3z = SQRT3 * z;
  for (let k = maxk; k > 0; k--) {
    const ks2 = k * k;
    const qp = q ** ks2;
    k2extra += ks2 * qp;
    const kspi = Math.PI * k;
    k3extra += (sqrt3z + kspi) * (sqrt3z - kspi) * ks2 * qp;
  }
  K[2] = K[2]! + (k2extra * PI2 * SQRT2PI) / (-36 * z3);
  K[3] = K[3]! + (k3extra * PI2 * SQRT2PI) / (216 * z6);
  let sum = 0;
  for (let i = 0; i < 4; i++) sum += K[i]! / n ** (i / 2);
  return sum;
}

/**
 * Survival function of the one-sided Smirnov statistic D+_n (scipy.special.smirnov): the
 * Birnbaum–Tingey sum x·Σ_{v=0}^{⌊n(1−x)⌋} C(n,v) (1−x−v/n)^(n−v) (x+v/n)^(v−1). Every term is
 * positive, so each is computed in log space (binomials by exact log-factorials) and summed without
 * cancellation; scipy's double-double evaluation agrees to ~1e-12.
 */
export function smirnovSf(n: number, x: number): number {
  if (!(n > 0 && x >= 0 && x <= 1)) return Number.NaN;
  if (n === 1) return 1 - x;
  if (x === 0) return 1;
  if (x === 1) return 0;
  const nx = n * x;
  const nxfl = Math.floor(nx);
  if (nxfl === 0 || (nxfl === 1 && nx === 1)) return 1 - x * (1 + x) ** (n - 1);
  if (-2 * n * x * x < -7.08396418532264106224e2) return 0;
  if (nxfl >= n - 1) return (1 - x) ** n;
  if (n > 1_000_000) {
    const logp = -((6 * n * x + 1) ** 2) / 18 / n;
    return logp < -Math.LN2 ? Math.exp(logp) : 1 + Math.expm1(logp);
  }
  const last = Math.floor(n * (1 - x));
  // v = 0 term: (1-x)^n / x.
  const logTerms: number[] = [n * Math.log1p(-x) - Math.log(x)];
  let maxLog = logTerms[0]!;
  const halfLogN2Pi = 0.5 * Math.log(n / (2 * Math.PI));
  const cn = stirlingCorrection(n);
  for (let v = 1; v <= last; v++) {
    if (1 - x - v / n <= 0) break;
    // log C(n,v) + (n-v) log(1-x-v/n) + (v-1) log(x+v/n), with the n·log n parts cancelled
    // analytically (Stirling with exact corrections), so no piece is larger than ~n·x.
    const logTerm =
      halfLogN2Pi -
      0.5 * Math.log(v * (n - v)) +
      cn -
      stirlingCorrection(v) -
      stirlingCorrection(n - v) +
      (n - v) * Math.log1p(-nx / (n - v)) +
      v * Math.log1p(nx / v) -
      Math.log(x + v / n);
    logTerms.push(logTerm);
    if (logTerm > maxLog) maxLog = logTerm;
  }
  let sum = 0;
  for (const t of logTerms) sum += Math.exp(t - maxLog);
  return Math.min(1, x * sum * Math.exp(maxLog));
}

/** ln k! − (k ln k − k + ½ ln 2πk): Stirling's remainder, small and computed without cancellation. */
function stirlingCorrection(k: number): number {
  if (k < 15) return logFactorial(k) - (k * Math.log(k) - k + 0.5 * Math.log(2 * Math.PI * k));
  const r = 1 / k;
  const r2 = r * r;
  return r * (1 / 12 + r2 * (-1 / 360 + r2 * (1 / 1260 + r2 * (-1 / 1680 + r2 * (1 / 1188 + r2 * (-691 / 360360))))));
}
