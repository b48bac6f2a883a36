/** Small statistics shared by the generator checks, profiles and drift detection. */

/**
 * The two-sample Kolmogorov-Smirnov statistic: the largest distance between the two empirical CDFs.
 * Ties are handled exactly (both CDFs step past a repeated value together). NaN values are ignored.
 */
export function ksStatistic(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const x = sortedFinite(a);
  const y = sortedFinite(b);
  if (x.length === 0 || y.length === 0) {
    throw new RangeError('ksStatistic needs at least one value in each sample');
  }
  let i = 0;
  let j = 0;
  let largest = 0;
  while (i < x.length && j < y.length) {
    const value = Math.min(x[i]!, y[j]!);
    while (i < x.length && x[i] === value) i++;
    while (j < y.length && y[j] === value) j++;
    largest = Math.max(largest, Math.abs(i / x.length - j / y.length));
  }
  return largest;
}

function sortedFinite(values: ArrayLike<number>): Float64Array {
  return Float64Array.from(values)
    .filter((value) => !Number.isNaN(value))
    .sort();
}

export function mean(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  return sum / values.length;
}
