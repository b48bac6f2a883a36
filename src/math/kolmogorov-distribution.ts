/**
 * The distributions of the Kolmogorov-Smirnov statistics for a finite sample size n, as SciPy computes
 * them: `kstwo.sf` (two-sided D_n, by Simard and L'Ecuyer's choice among exact and approximate methods)
 * and `special.smirnov` (one-sided D_n+, Smirnov's exact sum). `ks_2samp` uses the first for large
 * samples.
 *
 * References: Simard R, L'Ecuyer P (2011), "Computing the Two-Sided Kolmogorov-Smirnov Distribution",
 * Journal of Statistical Software 39(11); Marsaglia G, Tsang WW, Wang J (2003), "Evaluating Kolmogorov's
 * Distribution", JSS 8(18); Pomeranz J (1974), Algorithm 487, CACM 17(12); Pelz W, Good IJ (1976), JRSS B
 * 38(2); Birnbaum ZW, Tingey FH (1951), Ann. Math. Statist. 22.
 */

import { logGamma } from './special-functions.js';

const SCALE_EXPONENT = 128;
const SCALE_UP = 2 ** SCALE_EXPONENT;
const SCALE_DOWN = 2 ** -SCALE_EXPONENT;
const MIN_LOG = -708.3964185322641;
const PI_SQUARED = Math.PI ** 2;
const PI_FOURTH = Math.PI ** 4;
const PI_SIXTH = Math.PI ** 6;
const SQRT_2PI = Math.sqrt(2 * Math.PI);
const SQRT3 = Math.sqrt(3);
const LOG_2PI = Math.log(2 * Math.PI);
// Stirling's series: B_2j / (2j (2j - 1)) for j = 8 down to 1.
const STIRLING = [
  -0.029550653594771242, 0.00641025641025641, -0.0019175269175269176, 0.0008417508417508417,
  -0.0005952380952380953, 0.0007936507936507937, -0.002777777777777778, 0.08333333333333333,
];

function clipProbability(p: number): number {
  return Math.min(1, Math.max(0, p));
}

/** x * 2^exponent, for exponents beyond what one power of two holds. */
function timesPowerOfTwo(x: number, exponent: number): number {
  let value = x;
  let remaining = exponent;
  while (remaining > 1000) {
    value *= 2 ** 1000;
    remaining -= 1000;
  }
  while (remaining < -1000) {
    value *= 2 ** -1000;
    remaining += 1000;
  }
  return value * 2 ** remaining;
}

/** ln(n! / n^n) by Stirling's series, without forming n ln n (no cancellation). */
function logFactorialOverPower(n: number): number {
  const reciprocal = 1 / n;
  let poly = 0;
  const r2 = reciprocal / n;
  for (const coefficient of STIRLING) poly = poly * r2 + coefficient;
  return Math.log(n) / 2 - n + LOG_2PI / 2 + reciprocal * poly;
}

/**
 * The one-sided Smirnov survival function Pr(D_n+ >= x) (SciPy's `special.smirnov(n, x)`), by the
 * Birnbaum-Tingey sum, every term positive and computed in logs.
 */
export function smirnovSurvival(n: number, x: number): number {
  if (!(n > 0 && Number.isInteger(n) && x >= 0 && x <= 1)) return Number.NaN;
  if (n === 1) return 1 - x;
  if (x === 0) return 1;
  if (x === 1) return 0;
  const nx = n * x;
  const nxFloor = Math.floor(nx);
  const alpha = nx - nxFloor;
  if (nxFloor === 0 || (nxFloor === 1 && alpha === 0)) {
    // x <= 1/n: the CDF is x (1 + x)^(n-1).
    return 1 - x * (1 + x) ** (n - 1);
  }
  if (-2 * n * x * x < MIN_LOG) return 0;
  if (nxFloor >= n - 1) return (1 - x) ** n;
  // Terms v = 0 .. floor(n (1 - x)), leaving out v = n (1 - x) exactly (its term is 0). Each term is
  // C(n, v) p^v (1 - p)^(n - v) / p with p = x + v/n: a binomial probability, computed by Loader's
  // saddle-point method so that it keeps its relative precision for large n.
  const lastTerm = n - nxFloor - 1;
  let sum = 0;
  for (let v = 0; v <= lastTerm; v++) {
    const meanSuccesses = nx + v; // n p
    const meanFailures = n - nx - v; // n (1 - p)
    if (meanFailures <= 0) break;
    const term = (binomialProbability(v, n, meanSuccesses, meanFailures) * n) / meanSuccesses;
    sum += term;
    // Stop once the remaining terms cannot change the sum (as SciPy does).
    if (v !== lastTerm && 4 * (lastTerm + 1 - v) * term < Number.EPSILON * sum) break;
  }
  return clipProbability(x * sum);
}

/**
 * ln(k!) - ln(sqrt(2πk) (k/e)^k), the error of Stirling's formula: directly for small k, by its series
 * beyond.
 */
function stirlingError(k: number): number {
  if (k <= 15) return logGammaSmall(k + 1) - (k + 0.5) * Math.log(k) + k - LOG_2PI / 2;
  const k2 = k * k;
  const s0 = 1 / 12;
  const s1 = 1 / 360;
  const s2 = 1 / 1260;
  const s3 = 1 / 1680;
  const s4 = 1 / 1188;
  if (k > 500) return (s0 - s1 / k2) / k;
  if (k > 80) return (s0 - (s1 - s2 / k2) / k2) / k;
  if (k > 35) return (s0 - (s1 - (s2 - s3 / k2) / k2) / k2) / k;
  return (s0 - (s1 - (s2 - (s3 - s4 / k2) / k2) / k2) / k2) / k;
}

/** ln Γ(x) for 1 <= x <= 16, by the recurrence down to ln Γ on [1, 2). */
function logGammaSmall(x: number): number {
  let product = 1;
  let y = x;
  while (y >= 2) {
    y -= 1;
    product *= y;
  }
  return Math.log(product) + logGamma(y);
}

/** k ln(k / m) + m - k, without cancellation when k is close to m (Loader's "bd0"). */
function deviance(k: number, m: number): number {
  if (Math.abs(k - m) < 0.1 * (k + m)) {
    let ratio = (k - m) / (k + m);
    let sum = (k - m) * ratio;
    let term = 2 * k * ratio;
    ratio *= ratio;
    for (let j = 1; j < 1000; j++) {
      term *= ratio;
      const next = sum + term / (2 * j + 1);
      if (next === sum) return next;
      sum = next;
    }
    return sum;
  }
  return k * Math.log(k / m) + m - k;
}

/**
 * The binomial probability of k successes in n trials whose expected successes and failures are
 * `meanSuccesses` (n p) and `meanFailures` (n (1 - p)), by Loader's saddle-point expansion (as R's
 * dbinom): accurate to about 1e-14 relative for any n.
 */
function binomialProbability(k: number, n: number, meanSuccesses: number, meanFailures: number): number {
  if (k === 0) {
    const p = meanSuccesses / n;
    return Math.exp(p < 0.1 ? -deviance(n, meanFailures) - meanSuccesses : n * Math.log1p(-p));
  }
  if (k === n) {
    const q = meanFailures / n;
    return Math.exp(q < 0.1 ? -deviance(n, meanSuccesses) - meanFailures : n * Math.log1p(-q));
  }
  const logCore =
    stirlingError(n) -
    stirlingError(k) -
    stirlingError(n - k) -
    deviance(k, meanSuccesses) -
    deviance(n - k, meanFailures);
  const logScale = LOG_2PI + Math.log(k) + Math.log1p(-k / n);
  return Math.exp(logCore - 0.5 * logScale);
}

/** Pr(D_n <= d) by Durbin's matrix method as Marsaglia, Tsang and Wang compute it. */
function kolmogorovCdfDurbin(n: number, d: number): number {
  if (d >= 1) return 1;
  const nd = n * d;
  if (nd <= 0.5) return 0;
  const k = Math.ceil(nd);
  const h = k - nd;
  const m = 2 * k - 1;
  const v = new Float64Array(m);
  const w = new Float64Array(m);
  let factorial = 1;
  for (let j = 1; j <= m; j++) {
    w[j - 1] = factorial;
    factorial /= j;
    v[j - 1] = (1 - h ** j) * factorial;
  }
  const corner = Math.max(2 * h - 1, 0) ** m - 2 * h ** m;
  v[m - 1] = (1 + corner) * factorial;
  let matrix: Float64Array = new Float64Array(m * m);
  for (let i = 1; i < m; i++) {
    for (let row = i - 1; row < m; row++) matrix[row * m + i] = w[row - i + 1]!;
  }
  for (let row = 0; row < m; row++) matrix[row * m] = v[row]!;
  for (let col = 0; col < m; col++) matrix[(m - 1) * m + col] = v[m - 1 - col]!;

  let power: Float64Array = new Float64Array(m * m);
  for (let i = 0; i < m; i++) power[i * m + i] = 1;
  let exponent = 0;
  let matrixExponent = 0;
  let remaining = n;
  while (remaining > 0) {
    if (remaining % 2 === 1) {
      power = multiplySquare(power, matrix, m);
      exponent += matrixExponent;
    }
    matrix = multiplySquare(matrix, matrix, m);
    matrixExponent *= 2;
    if (Math.abs(matrix[(k - 1) * m + (k - 1)]!) > SCALE_UP) {
      for (let i = 0; i < matrix.length; i++) matrix[i]! /= SCALE_UP;
      matrixExponent += SCALE_EXPONENT;
    }
    remaining = Math.floor(remaining / 2);
  }
  let p = power[(k - 1) * m + (k - 1)]!;
  for (let i = 1; i <= n; i++) {
    p = (i * p) / n;
    if (Math.abs(p) < SCALE_DOWN) {
      p *= SCALE_UP;
      exponent -= SCALE_EXPONENT;
    }
  }
  if (exponent !== 0) p = timesPowerOfTwo(p, exponent);
  return clipProbability(p);
}

function multiplySquare(a: Float64Array, b: Float64Array, m: number): Float64Array {
  const out = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let l = 0; l < m; l++) {
      const left = a[i * m + l]!;
      if (left === 0) continue;
      for (let j = 0; j < m; j++) out[i * m + j]! += left * b[l * m + j]!;
    }
  }
  return out;
}

/** The interval of non-zero entries of row i in Pomeranz's recursion. */
function pomeranzInterval(
  i: number,
  n: number,
  ll: number,
  ceilF: number,
  roundF: number,
): readonly [number, number] {
  let j1: number;
  let j2: number;
  if (i === 0) {
    j1 = -ll - ceilF - 1;
    j2 = ll + ceilF - 1;
  } else {
    const half = Math.floor((i + 1) / 2);
    if ((i + 1) % 2 === 0) {
      if (half === n + 1) {
        j1 = n - ll - ceilF - 1;
        j2 = n + ll + ceilF - 1;
      } else {
        j1 = half - 1 - ll - roundF - 1;
        j2 = half + ll - 1 + ceilF - 1;
      }
    } else {
      j1 = half - 1 - ll - 1;
      j2 = half + ll + roundF - 1;
    }
  }
  return [Math.max(j1 + 2, 0), Math.min(j2, n)];
}

/** Pr(D_n <= x) by Pomeranz's recursion: rows convolved with Poisson-like weights, rescaled as needed. */
function kolmogorovCdfPomeranz(n: number, x: number): number {
  const t = n * x;
  const ll = Math.floor(t);
  const f = t - ll;
  const g = Math.min(f, 1 - f);
  const ceilF = f > 0 ? 1 : 0;
  const roundF = f > 0.5 ? 1 : 0;
  const powers = 2 * (ll + 1);
  const gPower = new Float64Array(powers);
  const twoGPower = new Float64Array(powers);
  const oneMinusTwoGPower = new Float64Array(powers);
  gPower[0] = 1;
  twoGPower[0] = 1;
  oneMinusTwoGPower[0] = 1;
  const gOverN = g / n;
  const twoGOverN = (2 * g) / n;
  const oneMinusTwoGOverN = (1 - 2 * g) / n;
  for (let m = 1; m < powers; m++) {
    gPower[m] = (gPower[m - 1]! * gOverN) / m;
    twoGPower[m] = (twoGPower[m - 1]! * twoGOverN) / m;
    oneMinusTwoGPower[m] = (oneMinusTwoGPower[m - 1]! * oneMinusTwoGOverN) / m;
  }
  let previous = new Float64Array(powers);
  let current = new Float64Array(powers);
  current[0] = 1;
  let previousStart = 0;
  let currentStart = 0;
  let exponent = 0;
  let [j1, j2] = pomeranzInterval(0, n, ll, ceilF, roundF);
  for (let i = 1; i < 2 * n + 2; i++) {
    const k1 = j1;
    [previous, current] = [current, previous];
    [previousStart, currentStart] = [currentStart, previousStart];
    current.fill(0);
    [j1, j2] = pomeranzInterval(i, n, ll, ceilF, roundF);
    const weights = i === 1 || i === 2 * n + 1 ? gPower : i % 2 === 1 ? twoGPower : oneMinusTwoGPower;
    const length = j2 - k1 + 1;
    if (length > 0) {
      const offset = k1 - previousStart;
      const start = j1 - k1;
      const count = j2 - j1 + 1;
      // Entries start .. start+count-1 of the full convolution of previous[offset .. offset+length-1]
      // with weights[0 .. length-1], each cut to the arrays' ends.
      const rowLength = Math.min(length, powers - offset);
      const weightLength = Math.min(length, powers);
      let largest = 0;
      for (let c = 0; c < count; c++) {
        const index = start + c;
        let sum = 0;
        const lowest = Math.max(0, index - weightLength + 1);
        const highest = Math.min(index, rowLength - 1);
        for (let a = lowest; a <= highest; a++) sum += previous[offset + a]! * weights[index - a]!;
        current[c] = sum;
        if (sum > largest) largest = sum;
      }
      if (largest > 0 && largest < SCALE_DOWN) {
        for (let c = 0; c < current.length; c++) current[c]! *= SCALE_UP;
        exponent -= SCALE_EXPONENT;
      }
      currentStart = previousStart + j1 - k1;
    }
  }
  let answer = current[n - currentStart]!;
  for (let m = 1; m <= n; m++) {
    if (Math.abs(answer) > SCALE_UP) {
      answer *= SCALE_DOWN;
      exponent += SCALE_EXPONENT;
    }
    answer *= m;
  }
  if (exponent !== 0) answer = timesPowerOfTwo(answer, exponent);
  return clipProbability(answer);
}

/** Pr(D_n <= x) by the Pelz-Good asymptotic series (Li-Chien and Korolyuk's, transformed for small x). */
function kolmogorovCdfPelzGood(n: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const z = Math.sqrt(n) * x;
  const z2 = z * z;
  const z3 = z2 * z;
  const z4 = z2 * z2;
  const z6 = z4 * z2;
  const qLog = -PI_SQUARED / 8 / z2;
  if (qLog < -708) return 0;
  const q = Math.exp(qLog);
  const k1a = -z2;
  const k1b = PI_SQUARED / 4;
  const k2a = 6 * z6 + 2 * z4;
  const k2b = ((2 * z4 - 5 * z2) * PI_SQUARED) / 4;
  const k2c = (PI_FOURTH * (1 - 2 * z2)) / 16;
  const k3d = (PI_SIXTH * (5 - 30 * z2)) / 64;
  const k3c = (PI_FOURTH * (-60 * z2 + 212 * z4)) / 16;
  const k3b = (PI_SQUARED * (135 * z4 - 96 * z6)) / 4;
  const k3a = -30 * z6 - 90 * z ** 8;
  const terms = [0, 0, 0, 0];
  const maxK = Math.ceil((16 * z) / Math.PI);
  // Horner's scheme over odd m = 2k - 1 of c_m q^(m²).
  for (let k = maxK; k > 0; k--) {
    const m = 2 * k - 1;
    const m2 = m * m;
    const m4 = m2 * m2;
    const m6 = m4 * m2;
    const qPower = q ** (8 * k);
    const coefficients = [1, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4, k3a + k3b * m2 + k3c * m4 + k3d * m6];
    for (let i = 0; i < 4; i++) terms[i] = terms[i]! * qPower + coefficients[i]!;
  }
  const divisors = [z, 6 * z4, 72 * z ** 7, 6480 * z ** 10];
  for (let i = 0; i < 4; i++) terms[i] = (terms[i]! * q * SQRT_2PI) / divisors[i]!;
  // The other sums, over all integers k: K2 gets (π² k²) q^(k²), K3 (3π² k² z² - π⁴ k⁴) q^(k²).
  const q2 = Math.exp(-PI_SQUARED / 2 / z2);
  let k2Extra = 0;
  let k3Extra = 0;
  const sqrt3z = SQRT3 * z;
  for (let k = maxK; k > 0; k--) {
    const k2 = k * k;
    const qPower = q2 ** k2;
    k2Extra += k2 * qPower;
    const kPi = Math.PI * k;
    k3Extra += (sqrt3z + kPi) * (sqrt3z - kPi) * k2 * qPower;
  }
  terms[2] = terms[2]! + (k2Extra * PI_SQUARED * SQRT_2PI) / (-36 * z3);
  terms[3] = terms[3]! + (k3Extra * PI_SQUARED * SQRT_2PI) / (216 * z6);
  let sum = 0;
  for (let i = 0; i < 4; i++) sum += terms[i]! / n ** (i / 2);
  return sum;
}

/**
 * The survival function of the two-sided one-sample Kolmogorov-Smirnov statistic D_n for n observations:
 * Pr(D_n >= x), as SciPy's `kstwo.sf(x, n)`. Chooses among Ruben and Gambino's exact formulas near the
 * ends, Durbin's matrix, Pomeranz's recursion, the Pelz-Good series and twice the one-sided Smirnov
 * probability, as Simard and L'Ecuyer recommend.
 */
export function kolmogorovSurvival(x: number, n: number): number {
  if (Number.isNaN(x) || !(n > 0) || !Number.isInteger(n)) return Number.NaN;
  if (x >= 1) return 0;
  if (x <= 0) return 1;
  const t = n * x;
  if (t <= 1) {
    if (t <= 0.5) return 1;
    let cdf: number;
    if (n <= 140) {
      cdf = 1;
      const factor = 2 * t - 1;
      for (let i = 1; i <= n; i++) cdf *= i * (1 / n) * factor;
    } else {
      cdf = Math.exp(logFactorialOverPower(n) + n * Math.log(2 * t - 1));
    }
    return clipProbability(1 - cdf);
  }
  if (t >= n - 1) return clipProbability(2 * (1 - x) ** n);
  if (x >= 0.5) return clipProbability(2 * smirnovSurvival(n, x));
  const nxSquared = t * x;
  if (n <= 140) {
    if (nxSquared <= 0.754693) return clipProbability(1 - kolmogorovCdfDurbin(n, x));
    if (nxSquared <= 4) return clipProbability(1 - kolmogorovCdfPomeranz(n, x));
    return clipProbability(2 * smirnovSurvival(n, x));
  }
  if (nxSquared >= 370) return 0;
  if (nxSquared >= 2.2) return clipProbability(2 * smirnovSurvival(n, x));
  const cdf = n <= 100_000 && n * x ** 1.5 <= 1.4 ? kolmogorovCdfDurbin(n, x) : kolmogorovCdfPelzGood(n, x);
  return clipProbability(1 - clipProbability(cdf));
}
