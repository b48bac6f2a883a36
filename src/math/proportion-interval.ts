/** The normal quantile at 0.975: a two-sided 95% interval is this many standard errors either side. */
const Z_95 = 1.959963984540054;

/**
 * The 95% Wilson score interval of a proportion, `successes` of `trials` (scipy's
 * `binomtest(k, n).proportion_ci(method='wilson')`). Unlike the normal approximation it stays within
 * [0, 1] and keeps its coverage for small counts and proportions near 0 or 1, as a subgroup's coverage
 * of a prediction set is. `trials` must be at least 1.
 */
export function wilsonInterval(successes: number, trials: number): [number, number] {
  const p = successes / trials;
  const z2 = Z_95 * Z_95;
  const denominator = 1 + z2 / trials;
  const center = (p + z2 / (2 * trials)) / denominator;
  const half = (Z_95 * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials))) / denominator;
  return [Math.max(0, center - half), Math.min(1, center + half)];
}
