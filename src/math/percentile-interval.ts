/**
 * The 95% percentile interval of resampled figures (a bootstrap's): the 2.5th and 97.5th percentiles of
 * the finite values, each the value at index floor(q · count) of the sorted ones. NaN for both when no
 * value is finite (every resample lacked what the figure needs).
 */
export function percentileInterval(values: Float64Array): [number, number] {
  const finite = values.filter(Number.isFinite).sort();
  if (finite.length === 0) return [Number.NaN, Number.NaN];
  const at = (q: number) => finite[Math.min(finite.length - 1, Math.floor(q * finite.length))]!;
  return [at(0.025), at(0.975)];
}
