/**
 * The monotone cubic calibration against SciPy's bounded L-BFGS-B on the same objective
 * (test/fixtures/scipy/monotone-cubic.json, made by scripts/fixtures/make-monotone-cubic-fixtures.py): the
 * same coefficients and probabilities on a clipped linear score, a fit with an ordering constraint
 * active, a reversed truth (every step at 0), separated rows and one class; bad input refused.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { expectRefusal } from '../../../test/support/onset-error.js';
import { Random } from '../../util/random.js';
import { MonotoneCubicCalibrator } from './monotone-cubic.js';

interface CubicCase {
  readonly name: string;
  readonly probability: number[];
  readonly label: number[];
  readonly query: number[];
  readonly coefficients: number[];
  readonly loss: number;
  readonly calibrated: number[];
}

const fixture = JSON.parse(
  readFileSync(new URL('../../../test/fixtures/scipy/monotone-cubic.json', import.meta.url), 'utf8'),
) as { cases: CubicCase[] };

describe('MonotoneCubicCalibrator', () => {
  for (const reference of fixture.cases) {
    it(`fits as SciPy's bounded optimizer does: ${reference.name}`, () => {
      const fitted = MonotoneCubicCalibrator.fit(
        Float64Array.from(reference.probability),
        Float64Array.from(reference.label),
      );
      fitted.coefficients.forEach((c, k) => {
        expect(Math.abs(c - reference.coefficients[k]!)).toBeLessThan(1e-4);
      });
      const calibrated = fitted.calibrate(Float64Array.from(reference.query));
      reference.calibrated.forEach((p, i) => {
        expect(Math.abs(calibrated[i]! - p)).toBeLessThan(1e-5);
      });
    });
  }

  it('never reverses the order of two probabilities, whatever the labels', () => {
    const random = new Random(3);
    for (let trial = 0; trial < 20; trial++) {
      const probability = Float64Array.from({ length: 200 }, () => random.next());
      // Labels that rise and fall with the probability, so the unconstrained cubic would not be monotone.
      const target = Float64Array.from(probability, (p) =>
        random.next() < 0.5 + 0.45 * Math.sin(6 * p + trial) ? 1 : 0,
      );
      const fitted = MonotoneCubicCalibrator.fit(probability, target);
      let previous = -1;
      for (let p = 0; p <= 1; p += 1 / 256) {
        const calibrated = fitted.calibrateOne(p);
        // Up to rounding: a flat stretch may wobble in its last bit.
        expect(calibrated).toBeGreaterThanOrEqual(previous - 1e-15);
        previous = calibrated;
      }
    }
  });

  it('gives back what it was made of, and clamps probabilities outside [0, 1]', () => {
    const reference = fixture.cases[0]!;
    const fitted = MonotoneCubicCalibrator.fit(
      Float64Array.from(reference.probability),
      Float64Array.from(reference.label),
    );
    const again = MonotoneCubicCalibrator.fromCoefficients(fitted.coefficients);
    expect(again.calibrateOne(0.37)).toBe(fitted.calibrateOne(0.37));
    expect(fitted.calibrateOne(1.5)).toBe(fitted.calibrateOne(1));
    expect(fitted.calibrateOne(-0.5)).toBe(fitted.calibrateOne(0));
  });

  it('refuses what it cannot fit or read, saying what was wrong', () => {
    expectRefusal(() => MonotoneCubicCalibrator.fit(new Float64Array(0), new Float64Array(0)), 'no rows');
    expectRefusal(
      () => MonotoneCubicCalibrator.fit(Float64Array.of(0.2, 1.2), Float64Array.of(0, 1)),
      'row 1 has probability 1.2',
    );
    expectRefusal(
      () => MonotoneCubicCalibrator.fit(Float64Array.of(0.2, 0.4), Float64Array.of(0)),
      'they must have the same length',
    );
    expectRefusal(
      () => MonotoneCubicCalibrator.fromCoefficients([0, 2, 1, 3]),
      'four finite, non-decreasing numbers, got [0, 2, 1, 3]',
    );
    expectRefusal(() => MonotoneCubicCalibrator.fromCoefficients([0, 1]), 'four finite');
  });
});
