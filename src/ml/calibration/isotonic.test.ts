import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { expectRefusal } from '../../../test/support/onset-error.js';
import { IsotonicCalibrator } from './isotonic.js';

interface IsotonicCase {
  readonly name: string;
  readonly score: number[];
  readonly label: number[];
  readonly weights?: number[];
  readonly query: number[];
  readonly calibrated: number[];
  readonly fitted: number[];
}

const fixtures = JSON.parse(
  readFileSync(new URL('../../../test/fixtures/metrics/sklearn-isotonic.json', import.meta.url), 'utf8'),
) as { cases: IsotonicCase[] };

describe('IsotonicCalibrator', () => {
  it.each(fixtures.cases.map((c) => [c.name, c] as const))(
    "matches scikit-learn's IsotonicRegression(out_of_bounds='clip'): %s",
    (_name, c) => {
      const calibrator = IsotonicCalibrator.fit(
        Float64Array.from(c.score),
        Float64Array.from(c.label),
        c.weights === undefined ? undefined : Float64Array.from(c.weights),
      );
      const query = calibrator.calibrate(Float64Array.from(c.query));
      c.calibrated.forEach((expected, i) => {
        expect(query[i]).toBeCloseTo(expected, 12);
      });
      const fitted = calibrator.calibrate(Float64Array.from(c.score));
      c.fitted.forEach((expected, i) => {
        expect(fitted[i]).toBeCloseTo(expected, 12);
      });
    },
  );

  it('is non-decreasing, clipped at both ends, and round-trips through its points', () => {
    const calibrator = IsotonicCalibrator.fit(
      Float64Array.from([0.2, 0.4, 0.6, 0.8]),
      Float64Array.from([0, 1, 0, 1]),
    );
    // 0.4 and 0.6 pool into one block of mean 1/2.
    expect([...calibrator.values]).toEqual([0, 0.5, 0.5, 1]);
    expect(calibrator.calibrateOne(-1)).toBe(0);
    expect(calibrator.calibrateOne(2)).toBe(1);
    expect(calibrator.calibrateOne(0.3)).toBeCloseTo(0.25, 15);
    const copy = IsotonicCalibrator.fromPoints(calibrator.thresholds, calibrator.values);
    expect(copy.calibrateOne(0.7)).toBe(calibrator.calibrateOne(0.7));
  });

  it('refuses what it cannot fit, naming the problem', () => {
    expectRefusal(() => IsotonicCalibrator.fit(new Float64Array(0), new Float64Array(0)), 'no rows');
    expectRefusal(
      () => IsotonicCalibrator.fit(Float64Array.from([0.1, 0.2]), Float64Array.from([1])),
      'same length',
    );
    expectRefusal(
      () => IsotonicCalibrator.fit(Float64Array.from([0.1, Number.NaN]), Float64Array.from([1, 0])),
      'row 1',
    );
    expectRefusal(
      () => IsotonicCalibrator.fromPoints(Float64Array.from([0.5, 0.4]), Float64Array.from([0, 1])),
      'increase strictly',
    );
  });
});
