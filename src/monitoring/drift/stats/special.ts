/**
 * Special functions the drift statistics need, in plain double precision: log-gamma and the
 * regularised upper incomplete gamma function (the chi-square survival function). Accurate to a few
 * ulps over the ranges drift-check meets, which keeps p-values within 1e-9 relative of scipy.
 */

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** log Γ(x) for x > 0: Stirling's series past 15, shifted there by the recurrence Γ(x+1) = xΓ(x). */
export function logGamma(x: number): number {
  if (!(x > 0)) return Number.NaN;
  if (x < 15) {
    // Γ(x) = Γ(x + k) / (x (x+1) … (x+k-1)); the product stays far from overflow for x < 15.
    let prod = 1;
    let y = x;
    while (y < 15) {
      prod *= y;
      y += 1;
    }
    return stirling(y) - Math.log(prod);
  }
  return stirling(x);
}

function stirling(x: number): number {
  const r = 1 / x;
  const r2 = r * r;
  // Bernoulli terms B2k / (2k (2k-1) x^(2k-1)); six terms reach 1e-17 at x >= 15.
  const series = r * (1 / 12 + r2 * (-1 / 360 + r2 * (1 / 1260 + r2 * (-1 / 1680 + r2 * (1 / 1188 + r2 * (-691 / 360360))))));
  return (x - 0.5) * Math.log(x) - x + HALF_LOG_2PI + series;
}

/** log n! for integer n >= 0. */
export function logFactorial(n: number): number {
  return n < 2 ? 0 : logGamma(n + 1);
}

const EPS = 2.220446049250313e-16;
const BIG = 4.503599627370496e15;
const BIG_INV = 2.22044604925031308085e-16;

/**
 * Q(a, x) = Γ(a, x) / Γ(a), the regularised upper incomplete gamma function (Cephes `igamc`):
 * the power series for P when x < a + 1 (or x < 1), else the continued fraction for Q.
 */
export function gammaQ(a: number, x: number): number {
  if (x < 0 || a <= 0) return Number.NaN;
  if (x === 0) return 1;
  if (!Number.isFinite(x)) return 0;
  if (x < 1 || x < a) return 1 - gammaPSeries(a, x);
  const logPrefix = a * Math.log(x) - x - logGamma(a);
  if (logPrefix < -745) return 0;
  const ax = Math.exp(logPrefix);
  // Continued fraction (Cephes igamc), with rescaling to keep the convergents finite.
  let y = 1 - a;
  let z = x + y + 1;
  let c = 0;
  let pkm2 = 1;
  let qkm2 = x;
  let pkm1 = x + 1;
  let qkm1 = z * x;
  let ans = pkm1 / qkm1;
  for (let i = 0; i < 100_000; i++) {
    c += 1;
    y += 1;
    z += 2;
    const yc = y * c;
    const pk = pkm1 * z - pkm2 * yc;
    const qk = qkm1 * z - qkm2 * yc;
    let t = 1;
    if (qk !== 0) {
      const r = pk / qk;
      t = Math.abs((ans - r) / r);
      ans = r;
    }
    pkm2 = pkm1;
    pkm1 = pk;
    qkm2 = qkm1;
    qkm1 = qk;
    if (Math.abs(pk) > BIG) {
      pkm2 *= BIG_INV;
      pkm1 *= BIG_INV;
      qkm2 *= BIG_INV;
      qkm1 *= BIG_INV;
    }
    if (t <= EPS) break;
  }
  return ans * ax;
}

/** P(a, x) by its power series (Cephes `igam`), used where it converges fast. */
function gammaPSeries(a: number, x: number): number {
  const logPrefix = a * Math.log(x) - x - logGamma(a);
  if (logPrefix < -745) return 0;
  const ax = Math.exp(logPrefix);
  let r = a;
  let c = 1;
  let ans = 1;
  for (let i = 0; i < 100_000; i++) {
    r += 1;
    c *= x / r;
    ans += c;
    if (c / ans <= EPS) break;
  }
  return (ans * ax) / a;
}

/** Survival function of the chi-square distribution with `df` degrees of freedom (scipy `chi2.sf`). */
export function chi2Sf(x: number, df: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (x <= 0) return 1;
  return gammaQ(df / 2, x / 2);
}
