/**
 * The Wilson interval against scipy 1.10's binomtest(k, n).proportion_ci(method='wilson'), computed with
 * Debian's python3-scipy:
 *   python3 -c "from scipy.stats import binomtest; print(binomtest(105, 120).proportion_ci(method='wilson'))"
 */
import { describe, expect, it } from 'vitest';
import { wilsonInterval } from './proportion-interval.js';

describe('wilsonInterval', () => {
  it.each([
    [105, 120, 0.8039705979199261, 0.9227650272660464],
    [287, 325, 0.8435848224194442, 0.9136189708400033],
    [45, 50, 0.7863976856252034, 0.9565242350681095],
    [0, 10, 0, 0.27753279986288926],
    [10, 10, 0.7224672001371109, 1],
    [1, 1, 0.20654931437723745, 1],
  ])('%i of %i as scipy gives it', (successes, trials, low, high) => {
    const [l, h] = wilsonInterval(successes, trials);
    expect(l).toBeCloseTo(low, 12);
    expect(h).toBeCloseTo(high, 12);
  });
});
