/**
 * Hypothesis tests for comparing two samples, each computed as SciPy computes it, so that their
 * statistics and p-values agree with SciPy's to about 1e-12: `ks_2samp` (method 'auto'), `chisquare`, and
 * the two-proportion z-test Evidently builds on `norm.cdf`.
 */
import { kolmogorovSurvival } from './kolmogorov-distribution.js';
import { chiSquareSurvival, normalCdf } from './special-functions.js';

export interface KsTwoSampleResult {
  /** D: the largest distance between the two empirical distribution functions. */
  readonly statistic: number;
  /** Two-sided p-value. */
  readonly pValue: number;
  /** `exact` when both samples have at most 10,000 values (and the exact computation succeeded). */
  readonly method: 'exact' | 'asymptotic';
}

/** `ks_2samp` computes exactly when neither sample is larger than this (its `MAX_AUTO_N`). */
const MAX_EXACT_SAMPLE = 10_000;

/** Rounds half to even, as NumPy's `round` does. */
function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const fraction = x - floor;
  if (fraction < 0.5) return floor;
  if (fraction > 0.5) return floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

function greatestCommonDivisor(a: number, b: number): number {
  let x = a;
  let y = b;
  while (y !== 0) [x, y] = [y, x % y];
  return x;
}

function sortedCopy(values: ArrayLike<number>, name: string): Float64Array {
  // slice() copies a typed array in one go, where from() would iterate it.
  const sorted = values instanceof Float64Array ? values.slice() : Float64Array.from(values);
  for (let i = 0; i < sorted.length; i++) {
    if (Number.isNaN(sorted[i])) throw new RangeError(`${name} holds NaN; leave missing values out first`);
  }
  return sorted.sort();
}

/**
 * The two-sided two-sample Kolmogorov-Smirnov test, as SciPy's `ks_2samp(a, b)` with its default
 * `method='auto'`: the exact distribution of D when both samples have at most 10,000 values (Hodges'
 * lattice-path counts), otherwise the one-sample distribution for n = round(mn / (m + n)). Ties are
 * handled as SciPy does (both distribution functions step past a repeated value together).
 */
export function ksTwoSample(a: ArrayLike<number>, b: ArrayLike<number>): KsTwoSampleResult {
  const x = sortedCopy(a, 'The first sample');
  const y = sortedCopy(b, 'The second sample');
  const n1 = x.length;
  const n2 = y.length;
  if (n1 === 0 || n2 === 0) throw new RangeError('ksTwoSample needs at least one value in each sample');
  // The differences of the two empirical CDFs at every distinct value.
  let largest = Number.NEGATIVE_INFINITY;
  let smallest = Number.POSITIVE_INFINITY;
  let i = 0;
  let j = 0;
  while (i < n1 || j < n2) {
    const value = j >= n2 || (i < n1 && x[i]! <= y[j]!) ? x[i]! : y[j]!;
    while (i < n1 && x[i] === value) i++;
    while (j < n2 && y[j] === value) j++;
    const difference = i / n1 - j / n2;
    if (difference > largest) largest = difference;
    if (difference < smallest) smallest = difference;
  }
  const below = Math.min(1, Math.max(0, -smallest));
  let d = Math.max(below, largest);
  const g = greatestCommonDivisor(n1, n2);
  if (Math.max(n1, n2) <= MAX_EXACT_SAMPLE) {
    const exact = exactKsProbability(n1, n2, g, d);
    if (exact !== undefined) {
      return { statistic: exact.d, pValue: Math.min(1, Math.max(0, exact.pValue)), method: 'exact' };
    }
    d = roundedStatistic(n1, n2, g, d);
  }
  const [m, n] = n1 >= n2 ? [n1, n2] : [n2, n1];
  const effective = roundHalfEven((m * n) / (m + n));
  const pValue = kolmogorovSurvival(d, effective);
  return { statistic: d, pValue: Math.min(1, Math.max(0, pValue)), method: 'asymptotic' };
}

/** D rounded to a multiple of 1 / lcm(n1, n2), which it is in exact arithmetic. */
function roundedStatistic(n1: number, n2: number, g: number, d: number): number {
  const lcm = (n1 / g) * n2;
  return roundHalfEven(d * lcm) / lcm;
}

/** Pr(D >= d) exactly, or undefined when the computation lost its footing (SciPy then goes asymptotic). */
function exactKsProbability(
  n1: number,
  n2: number,
  g: number,
  statistic: number,
): { d: number; pValue: number } | undefined {
  const lcm = (n1 / g) * n2;
  const h = roundHalfEven(statistic * lcm);
  const d = h / lcm;
  if (h === 0) return { d, pValue: 1 };
  const pValue = n1 === n2 ? probabilityOutsideSquare(n1, h) : probabilityOutsideStrip(n1, n2, g, h);
  if (!(pValue >= 0 && pValue <= 1) || !Number.isFinite(pValue)) return undefined;
  return { d, pValue };
}

/**
 * For equal sample sizes n: the share of lattice paths from (0, 0) to (n, n) that reach |x - y| >= h, by
 * the alternating sum of binomial ratios evaluated Horner-style (no cancellation).
 */
function probabilityOutsideSquare(n: number, h: number): number {
  let p = 0;
  for (let k = Math.floor(n / h); k >= 0; k--) {
    let ratio = 1;
    for (let j = 0; j < h; j++) ratio = ((n - k * h - j) * ratio) / (n + k * h + j + 1);
    p = ratio * (1 - p);
  }
  return 2 * p;
}

/**
 * For sample sizes m != n: the share of lattice paths from (0, 0) to (m, n) that leave the strip
 * |x/m - y/n| < h / lcm(m, n), by Hodges' "inside" recursion written for one minus the share, column by
 * column over a sliding window (Viehmann 2021, arXiv:2102.08037), so small p-values keep their precision.
 */
function probabilityOutsideStrip(first: number, second: number, g: number, h: number): number {
  const m = Math.max(first, second);
  const n = Math.min(first, second);
  const mg = m / g;
  const ng = n / g;
  let minJ = 0;
  let maxJ = Math.min(Math.ceil(h / mg), n + 1);
  let currentLength = maxJ - minJ;
  const column = new Float64Array(Math.min(2 * maxJ + 2, n + 1)).fill(1);
  column.fill(0, minJ, maxJ);
  for (let i = 1; i <= m; i++) {
    const lastMinJ = minJ;
    const lastLength = currentLength;
    minJ = Math.min(Math.max(Math.floor((ng * i - h) / mg) + 1, 0), n);
    maxJ = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
    if (maxJ <= minJ) return 1;
    let value = minJ === 0 ? 0 : 1;
    for (let jj = 0; jj < maxJ - minJ; jj++) {
      const j = jj + minJ;
      value = (column[jj + minJ - lastMinJ]! * i + value * j) / (i + j);
      column[jj] = value;
    }
    currentLength = maxJ - minJ;
    if (lastLength > currentLength)
      column.fill(1, currentLength, currentLength + (lastLength - currentLength));
  }
  return column[maxJ - minJ - 1]!;
}

export interface ChiSquareResult {
  /** Pearson's statistic: the sum of (observed - expected)² / expected. Infinite when a category was expected 0 times but seen. */
  readonly statistic: number;
  readonly pValue: number;
  /** Categories minus one. */
  readonly degreesOfFreedom: number;
}

/**
 * Pearson's chi-square goodness-of-fit test, as SciPy's `chisquare(observed, expected)`: the two must
 * have the same length and totals that agree to a relative 1e-8.
 */
export function chiSquareTest(observed: ArrayLike<number>, expected: ArrayLike<number>): ChiSquareResult {
  if (observed.length !== expected.length) {
    throw new RangeError(
      `chiSquareTest needs as many expected as observed frequencies (${expected.length} and ${observed.length})`,
    );
  }
  if (observed.length === 0) throw new RangeError('chiSquareTest needs at least one category');
  let observedTotal = 0;
  let expectedTotal = 0;
  for (let k = 0; k < observed.length; k++) {
    observedTotal += observed[k]!;
    expectedTotal += expected[k]!;
  }
  if (Math.abs(observedTotal - expectedTotal) / Math.min(observedTotal, expectedTotal) > 1e-8) {
    throw new RangeError(
      `chiSquareTest needs observed and expected totals that agree (${observedTotal} and ${expectedTotal})`,
    );
  }
  let statistic = 0;
  for (let k = 0; k < observed.length; k++) {
    const difference = observed[k]! - expected[k]!;
    statistic += (difference * difference) / expected[k]!;
  }
  const degreesOfFreedom = observed.length - 1;
  return { statistic, pValue: chiSquareSurvival(statistic, degreesOfFreedom), degreesOfFreedom };
}

export interface ProportionsZResult {
  /** z = (p1 - p2) / sqrt(P (1 - P) (1/n1 + 1/n2)), P the pooled proportion. */
  readonly statistic: number;
  /** Two-sided, as Evidently computes it: 2 (1 - Φ(|z|)). */
  readonly pValue: number;
}

/**
 * The two-proportion z-test Evidently uses for binary columns: `successes1` of `n1` against `successes2`
 * of `n2`. Its p-value, 2 (1 - Φ(|z|)), is Evidently's formula (with SciPy's Φ), so it bottoms out at
 * about 1e-16 where the survival function would go lower.
 */
export function proportionsZTest(
  successes1: number,
  n1: number,
  successes2: number,
  n2: number,
): ProportionsZResult {
  const p1 = successes1 / n1;
  const p2 = successes2 / n2;
  const pooled = (p1 * n1 + p2 * n2) / (n1 + n2);
  const statistic = (p1 - p2) / Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  return { statistic, pValue: 2 * (1 - normalCdf(Math.abs(statistic))) };
}
