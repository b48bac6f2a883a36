/**
 * Special functions behind the drift tests' p-values: the log-gamma function, the regularized incomplete
 * gamma functions (the chi-square distribution) and the complementary error function (the normal
 * distribution). Accurate to about 1e-14 relative over the ranges the tests use, which is what matching
 * SciPy's p-values to 1e-9 needs.
 */

const EPSILON = Number.EPSILON;
/** Below this, `Math.exp` gives 0 (SciPy's cephes calls it MINLOG). */
const MIN_LOG = -708.3964185322641;
const LOG_SQRT_2PI = 0.9189385332046728;

// Lanczos approximation (g = 607/128, 15 terms), the set Boost and many libraries use: about 1e-15
// relative error for positive arguments.
const LANCZOS_G = 607 / 128;
const LANCZOS = [
  0.9999999999999971, 57.15623566586292, -59.59796035547549, 14.136097974741746, -0.4919138160976202,
  0.00003399464998481189, 0.00004652362892704858, -0.00009837447530487956, 0.0001580887032249125,
  -0.00021026444172410488, 0.00021743961811521265, -0.0001643181065367639, 0.00008441822398385275,
  -0.000026190838401581408, 0.0000036899182659531625,
];

/** ln Γ(x) for x > 0 (NaN otherwise). */
export function logGamma(x: number): number {
  if (Number.isNaN(x) || x <= 0) return Number.NaN;
  if (x === Number.POSITIVE_INFINITY) return x;
  if (x === 1 || x === 2) return 0; // exactly, where the series would leave a rounding error
  if (x < 0.5) {
    // Reflection keeps the series where it is accurate: Γ(x) Γ(1 - x) = π / sin(πx).
    return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  }
  const z = x - 1;
  let sum = LANCZOS[0]!;
  for (let k = 1; k < LANCZOS.length; k++) sum += LANCZOS[k]! / (z + k);
  const t = z + LANCZOS_G + 0.5;
  return LOG_SQRT_2PI + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** The factor x^a e^-x / Γ(a) both incomplete gamma expansions share, computed in logs. */
function gammaPrefactor(a: number, x: number): number {
  const logValue = a * Math.log(x) - x - logGamma(a);
  return logValue < MIN_LOG ? 0 : Math.exp(logValue);
}

/** P(a, x) by its power series; converges quickly for x < a + 1. */
function lowerGammaSeries(a: number, x: number): number {
  let term = 1 / a;
  let sum = term;
  for (let n = 1; n < 10_000; n++) {
    term *= x / (a + n);
    sum += term;
    if (Math.abs(term) < Math.abs(sum) * EPSILON) break;
  }
  return sum * gammaPrefactor(a, x);
}

/** Q(a, x) by its continued fraction (modified Lentz); converges quickly for x >= a + 1. */
function upperGammaContinuedFraction(a: number, x: number): number {
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 10_000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPSILON) break;
  }
  return h * gammaPrefactor(a, x);
}

/** The regularized lower incomplete gamma function P(a, x) = γ(a, x) / Γ(a), for a > 0 and x >= 0. */
export function regularizedGammaP(a: number, x: number): number {
  if (Number.isNaN(a) || Number.isNaN(x) || a <= 0 || x < 0) return Number.NaN;
  if (x === 0) return 0;
  if (x === Number.POSITIVE_INFINITY) return 1;
  return x < a + 1 ? lowerGammaSeries(a, x) : 1 - upperGammaContinuedFraction(a, x);
}

/** The regularized upper incomplete gamma function Q(a, x) = 1 - P(a, x), accurate when it is tiny. */
export function regularizedGammaQ(a: number, x: number): number {
  if (Number.isNaN(a) || Number.isNaN(x) || a <= 0 || x < 0) return Number.NaN;
  if (x === 0) return 1;
  if (x === Number.POSITIVE_INFINITY) return 0;
  return x < a + 1 ? 1 - lowerGammaSeries(a, x) : upperGammaContinuedFraction(a, x);
}

/**
 * The survival function of the chi-square distribution with `degreesOfFreedom` (> 0): Pr(X >= x), as
 * SciPy's `chi2.sf`. An infinite statistic has probability 0.
 */
export function chiSquareSurvival(x: number, degreesOfFreedom: number): number {
  if (Number.isNaN(x) || !(degreesOfFreedom > 0)) return Number.NaN;
  if (x <= 0) return 1;
  return regularizedGammaQ(degreesOfFreedom / 2, x / 2);
}

/** The complementary error function erfc(x) = 1 - erf(x), accurate in its tail. */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return x;
  if (x < 0) return 2 - erfc(-x);
  // erfc(x) = Q(1/2, x²) for x >= 0.
  return regularizedGammaQ(0.5, x * x);
}

/** The error function erf(x). */
export function erf(x: number): number {
  if (Number.isNaN(x)) return x;
  if (x < 0) return -erf(-x);
  return regularizedGammaP(0.5, x * x);
}

/**
 * The standard normal distribution function Φ(z), computed as SciPy's `norm.cdf` (cephes `ndtr`) does:
 * from erf near 0 and from erfc elsewhere, so that results round the same way.
 */
export function normalCdf(z: number): number {
  if (Number.isNaN(z)) return z;
  const x = z * Math.SQRT1_2;
  if (Math.abs(x) < Math.SQRT1_2) return 0.5 + 0.5 * erf(x);
  const tail = 0.5 * erfc(Math.abs(x));
  return x > 0 ? 1 - tail : tail;
}
