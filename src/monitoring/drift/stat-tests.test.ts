/** Evidently's choice of test per column, its drift rules and its bins (NumPy's Sturges edges). */
import { describe, expect, it } from 'vitest';
import { DRIFT_FIXTURES, expectMatchesScipy } from '../../../test/support/drift-fixtures.js';
import { ksTwoSample } from '../../math/hypothesis-tests.js';
import {
  defaultStatTest,
  evidentlyBinnedShares,
  isDrift,
  runStatTest,
  SMALL_REFERENCE_ROWS,
  STAT_TESTS,
} from './stat-tests.js';

/** n values cycling through `distinct` levels (0, 1, ... distinct-1), offset by `shift`. */
function levels(n: number, distinct: number, shift = 0): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => (i % distinct) + shift);
}

/** n distinct numbers spread over [offset, offset + 1). */
function spread(n: number, offset = 0): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => offset + ((i * 7919) % 10007) / 10007);
}

describe("Evidently's default test", () => {
  it('at most 1,000 reference rows: KS for numbers, chi-square for categories, a z-test for two values', () => {
    expect(SMALL_REFERENCE_ROWS).toBe(1000);
    const current = spread(300);
    expect(defaultStatTest(spread(1000), current, 'numerical')).toBe('ks');
    expect(defaultStatTest(levels(1000, 4), levels(300, 4), 'categorical')).toBe('chisquare');
    expect(defaultStatTest(levels(1000, 2), levels(300, 2), 'categorical')).toBe('z');
    // A numerical column with few values is tested as categories.
    expect(defaultStatTest(levels(1000, 5), levels(300, 5), 'numerical')).toBe('chisquare');
    expect(defaultStatTest(levels(1000, 2), levels(300, 2), 'numerical')).toBe('z');
    expect(defaultStatTest(levels(1000, 6), levels(300, 6), 'numerical')).toBe('ks');
  });

  it('above 1,000 reference rows: normed Wasserstein for numbers, Jensen-Shannon for categories', () => {
    const current = spread(300);
    expect(defaultStatTest(spread(1001), current, 'numerical')).toBe('wasserstein');
    expect(defaultStatTest(levels(1001, 4), levels(300, 4), 'categorical')).toBe('jensenshannon');
    expect(defaultStatTest(levels(1001, 2), levels(300, 2), 'categorical')).toBe('jensenshannon');
    expect(defaultStatTest(levels(1001, 5), levels(300, 5), 'numerical')).toBe('jensenshannon');
  });

  it('counts the distinct values of both samples together', () => {
    // Three values in the reference, three more in the current: six, so KS rather than chi-square.
    expect(defaultStatTest(levels(500, 3), levels(100, 3, 3), 'numerical')).toBe('ks');
  });
});

describe('drift rules and thresholds', () => {
  it('p-value tests drift below 0.05 (KS at or below it), distances at or above 0.1', () => {
    expect(STAT_TESTS.ks.defaultThreshold).toBe(0.05);
    expect(isDrift(STAT_TESTS.ks, 0.05, 0.05)).toBe(true);
    expect(isDrift(STAT_TESTS.chisquare, 0.05, 0.05)).toBe(false);
    expect(isDrift(STAT_TESTS.z, 0.049, 0.05)).toBe(true);
    expect(STAT_TESTS.wasserstein.defaultThreshold).toBe(0.1);
    expect(isDrift(STAT_TESTS.wasserstein, 0.1, 0.1)).toBe(true);
    expect(isDrift(STAT_TESTS.jensenshannon, 0.099, 0.1)).toBe(false);
    expect(isDrift(STAT_TESTS.psi, Number.NaN, 0.1)).toBe(false);
  });
});

describe('the tests as Evidently computes them', () => {
  it('KS gives the p-value as the score and D as the statistic', () => {
    const reference = spread(200);
    const current = spread(150, 0.2);
    const outcome = runStatTest('ks', reference, current, 'numerical');
    const direct = ksTwoSample(reference, current);
    expect(outcome).toEqual({ score: direct.pValue, statistic: direct.statistic });
  });

  it('chi-square compares the current counts with the reference shares scaled to the current rows', () => {
    // Reference 50/30/20 of 100; current 20/20/60 of 100: χ² = 18 + 3.33 + 80.
    const reference = Float64Array.from([...Array(50).fill(0), ...Array(30).fill(1), ...Array(20).fill(2)]);
    const current = Float64Array.from([...Array(20).fill(0), ...Array(20).fill(1), ...Array(60).fill(2)]);
    const outcome = runStatTest('chisquare', reference, current, 'categorical');
    expect(outcome.statistic).toBeCloseTo(18 + 10 / 3 + 80, 10);
    expect(outcome.score).toBeLessThan(1e-20);
  });

  it('a category the reference never had makes chi-square infinite and p 0, as in SciPy', () => {
    const outcome = runStatTest('chisquare', levels(100, 3), levels(100, 4), 'categorical');
    expect(outcome.statistic).toBe(Number.POSITIVE_INFINITY);
    expect(outcome.score).toBe(0);
  });

  it('z-test: the share of values other than the smallest, and p = 1 when both hold one same value', () => {
    const same = runStatTest('z', new Float64Array(50).fill(1), new Float64Array(20).fill(1), 'categorical');
    expect(same).toEqual({ score: 1, statistic: 0 });
    // 30 of 100 are 1 against 60 of 100.
    const reference = Float64Array.from({ length: 100 }, (_, i) => (i < 30 ? 1 : 0));
    const current = Float64Array.from({ length: 100 }, (_, i) => (i < 60 ? 1 : 0));
    const outcome = runStatTest('z', reference, current, 'categorical');
    const pooled = 0.45;
    expect(outcome.statistic).toBeCloseTo((0.3 - 0.6) / Math.sqrt(pooled * (1 - pooled) * (2 / 100)), 12);
  });

  it("Wasserstein is normed by the reference's population standard deviation", () => {
    // Reference 0 and 2 (std 1); current shifted by 3: distance 3, normed 3.
    const reference = Float64Array.from([0, 2, 0, 2]);
    const current = Float64Array.from([3, 5]);
    expect(runStatTest('wasserstein', reference, current, 'numerical')).toEqual({ score: 3, statistic: 3 });
    // A constant reference is normed by 0.001.
    const constant = runStatTest(
      'wasserstein',
      new Float64Array(10).fill(1),
      Float64Array.from([1.5]),
      'numerical',
    );
    expect(constant.score).toBeCloseTo(500, 9);
  });
});

describe("Evidently's bins for Jensen-Shannon and PSI", () => {
  for (const fixture of DRIFT_FIXTURES.evidently_binning) {
    it(`Sturges' edges over both samples, as NumPy: ${fixture.name}`, () => {
      const shares = evidentlyBinnedShares(
        Float64Array.from(fixture.reference),
        Float64Array.from(fixture.current),
        'numerical',
      );
      expect([...shares.edges!]).toEqual(fixture.edges);
      shares.reference.forEach((share, k) => {
        expectMatchesScipy(share, fixture.reference_shares[k]!, `reference share ${k}`);
      });
      shares.current.forEach((share, k) => {
        expectMatchesScipy(share, fixture.current_shares[k]!, `current share ${k}`);
      });
    });
  }

  it('the share of every value for categories and for numbers with at most 20 reference values', () => {
    const shares = evidentlyBinnedShares(levels(100, 4), levels(50, 5), 'numerical');
    expect(shares.edges).toBeNull();
    expect([...shares.reference]).toEqual([0.25, 0.25, 0.25, 0.25, 0]);
    expect([...shares.current]).toEqual([0.2, 0.2, 0.2, 0.2, 0.2]);
  });
});
