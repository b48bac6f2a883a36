/**
 * The drift statistics against SciPy 1.10 (fixtures from scripts/fixtures/make-drift-fixtures.py), to a
 * relative 1e-9, and their edge cases.
 */
import { describe, expect, it } from 'vitest';
import { DRIFT_FIXTURES, expectMatchesScipy, sampleValues } from '../../test/support/drift-fixtures.js';
import {
  fillZeroShares,
  jensenShannonDistance,
  populationStabilityIndex,
  wassersteinDistance,
} from './distribution-distances.js';
import { chiSquareTest, ksTwoSample, proportionsZTest } from './hypothesis-tests.js';
import { kolmogorovSurvival, smirnovSurvival } from './kolmogorov-distribution.js';
import { chiSquareSurvival, erfc, logGamma, normalCdf } from './special-functions.js';

describe('special functions (SciPy / Python math)', () => {
  it('ln Γ(x)', () => {
    for (const { x, value } of DRIFT_FIXTURES.special.lgamma) {
      expectMatchesScipy(logGamma(x), value, `lgamma(${x})`);
    }
  });

  it('erfc(x)', () => {
    for (const { x, value } of DRIFT_FIXTURES.special.erfc) {
      expectMatchesScipy(erfc(x), value, `erfc(${x})`);
    }
  });

  it('the chi-square survival function chi2.sf(x, df)', () => {
    expect(DRIFT_FIXTURES.chi2_sf.length).toBeGreaterThan(150);
    for (const { df, x, sf } of DRIFT_FIXTURES.chi2_sf) {
      expectMatchesScipy(chiSquareSurvival(x, df), sf, `chi2.sf(${x}, ${df})`);
    }
  });

  it('the normal distribution function norm.cdf(z)', () => {
    for (const { z, cdf } of DRIFT_FIXTURES.norm_cdf) {
      expectMatchesScipy(normalCdf(z), cdf, `norm.cdf(${z})`);
    }
  });
});

describe('the Kolmogorov distributions (SciPy)', () => {
  it('kstwo.sf(x, n) across every method it chooses', () => {
    expect(DRIFT_FIXTURES.kstwo_sf.length).toBeGreaterThan(200);
    for (const { n, x, sf } of DRIFT_FIXTURES.kstwo_sf) {
      expectMatchesScipy(kolmogorovSurvival(x, n), sf, `kstwo.sf(${x}, ${n})`);
    }
  });

  it('special.smirnov(n, x)', () => {
    for (const { n, x, sf } of DRIFT_FIXTURES.smirnov) {
      expectMatchesScipy(smirnovSurvival(n, x), sf, `smirnov(${n}, ${x})`);
    }
  });
});

describe('ksTwoSample (scipy.stats.ks_2samp, method auto)', () => {
  for (const fixture of DRIFT_FIXTURES.ks_2samp) {
    it(`${fixture.name} (${fixture.method})`, () => {
      const result = ksTwoSample(sampleValues(fixture.a), sampleValues(fixture.b));
      expect(result.method).toBe(fixture.method);
      expectMatchesScipy(result.statistic, fixture.statistic, 'statistic');
      expectMatchesScipy(result.pValue, fixture.pvalue, 'p-value');
    });
  }

  it('is symmetric in its samples and refuses an empty one or NaN', () => {
    const a = [0.1, 0.4, 0.45, 0.9];
    const b = [0.2, 0.3, 0.8, 1.1, 1.3];
    expect(ksTwoSample(a, b)).toEqual(ksTwoSample(b, a));
    expect(() => ksTwoSample([], b)).toThrow(/at least one value/);
    expect(() => ksTwoSample([Number.NaN], b)).toThrow(/NaN/);
  });
});

describe('chiSquareTest (scipy.stats.chisquare)', () => {
  for (const fixture of DRIFT_FIXTURES.chisquare) {
    it(fixture.name, () => {
      const result = chiSquareTest(fixture.observed, fixture.expected);
      expectMatchesScipy(result.statistic, fixture.statistic, 'statistic');
      expectMatchesScipy(result.pValue, fixture.pvalue, 'p-value');
      expect(result.degreesOfFreedom).toBe(fixture.observed.length - 1);
    });
  }

  it('gives an infinite statistic and p = 0 for a category expected never but seen', () => {
    const result = chiSquareTest([5, 5], [10, 0]);
    expect(result.statistic).toBe(Number.POSITIVE_INFINITY);
    expect(result.pValue).toBe(0);
  });

  it('refuses totals that disagree, as SciPy does', () => {
    expect(() => chiSquareTest([10, 20], [10, 25])).toThrow(/totals that agree/);
    expect(() => chiSquareTest([10, 20], [30])).toThrow(/as many expected/);
  });
});

describe('proportionsZTest (Evidently, on norm.cdf)', () => {
  for (const fixture of DRIFT_FIXTURES.z_test) {
    it(`${fixture.s1}/${fixture.n1} vs ${fixture.s2}/${fixture.n2}`, () => {
      const result = proportionsZTest(fixture.s1, fixture.n1, fixture.s2, fixture.n2);
      expectMatchesScipy(result.statistic, fixture.statistic, 'statistic');
      expectMatchesScipy(result.pValue, fixture.pvalue, 'p-value');
    });
  }
});

describe('wassersteinDistance (scipy.stats.wasserstein_distance)', () => {
  for (const fixture of DRIFT_FIXTURES.wasserstein_distance) {
    it(fixture.name, () => {
      expectMatchesScipy(
        wassersteinDistance(sampleValues(fixture.u), sampleValues(fixture.v)),
        fixture.distance,
        'distance',
      );
    });
  }

  it('refuses an empty sample and non-finite values', () => {
    expect(() => wassersteinDistance([], [1])).toThrow(/empty/);
    expect(() => wassersteinDistance([1, Number.POSITIVE_INFINITY], [1])).toThrow(/finite/);
  });
});

describe('jensenShannonDistance (scipy.spatial.distance.jensenshannon)', () => {
  for (const fixture of DRIFT_FIXTURES.jensenshannon) {
    it(fixture.name, () => {
      expectMatchesScipy(
        jensenShannonDistance(fixture.p, fixture.q, fixture.base ?? undefined),
        fixture.distance,
        'distance',
      );
    });
  }
});

describe('populationStabilityIndex (Evidently)', () => {
  for (const fixture of DRIFT_FIXTURES.psi) {
    it(fixture.name, () => {
      expectMatchesScipy(populationStabilityIndex(fixture.reference, fixture.current), fixture.psi, 'PSI');
    });
  }

  it('fills zero shares with 0.0001, or a millionth of the smallest share when that is smaller', () => {
    expect([...fillZeroShares([0.5, 0.5, 0])]).toEqual([0.5, 0.5, 0.0001]);
    expect([...fillZeroShares([0.99995, 0.00005, 0])]).toEqual([0.99995, 0.00005, 0.00005 / 10 ** 6]);
  });
});
