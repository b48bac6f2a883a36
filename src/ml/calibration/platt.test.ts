/**
 * Platt scaling against scikit-learn's `_SigmoidCalibration` (test/fixtures/sklearn/platt.json, made by
 * scripts/fixtures/make-platt-fixtures.py): the same sigmoid on overconfident, timid, imbalanced,
 * separated and one-class scores, and bad input refused with what was wrong.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { expectRefusal } from '../../../test/support/onset-error.js';
import { PlattCalibrator } from './platt.js';

interface PlattCase {
  readonly name: string;
  readonly score: number[];
  readonly label: number[];
  readonly query: number[];
  readonly a: number;
  readonly b: number;
  readonly calibrated: number[];
}

const fixture = JSON.parse(
  readFileSync(new URL('../../../test/fixtures/sklearn/platt.json', import.meta.url), 'utf8'),
) as { cases: PlattCase[] };

describe('PlattCalibrator', () => {
  for (const reference of fixture.cases) {
    it(`fits as scikit-learn does: ${reference.name}`, () => {
      const fitted = PlattCalibrator.fit(
        Float64Array.from(reference.score),
        Float64Array.from(reference.label),
      );
      // scikit-learn stops BFGS at a gradient norm of 1e-5; Newton goes on to the optimum.
      expect(fitted.a).toBeCloseTo(reference.a, 4);
      expect(fitted.b).toBeCloseTo(reference.b, 4);
      const calibrated = fitted.calibrate(Float64Array.from(reference.query));
      reference.calibrated.forEach((p, i) => {
        expect(Math.abs(calibrated[i]! - p)).toBeLessThan(1e-5);
      });
    });
  }

  it('keeps the order of the scores (a < 0) and gives back what it was made of', () => {
    const reference = fixture.cases[0]!;
    const fitted = PlattCalibrator.fit(
      Float64Array.from(reference.score),
      Float64Array.from(reference.label),
    );
    expect(fitted.a).toBeLessThan(0);
    const again = PlattCalibrator.fromParameters(fitted.a, fitted.b);
    expect(again.calibrateOne(1.5)).toBe(fitted.calibrateOne(1.5));
    // Far scores do not overflow.
    expect(fitted.calibrateOne(1e6)).toBeGreaterThan(0.999);
    expect(fitted.calibrateOne(-1e6)).toBeLessThan(0.001);
  });

  it('refuses what it cannot fit, saying what was wrong', () => {
    expectRefusal(() => PlattCalibrator.fit(new Float64Array(0), new Float64Array(0)), 'no rows');
    expectRefusal(
      () => PlattCalibrator.fit(Float64Array.of(1, Number.NaN), Float64Array.of(0, 1)),
      'row 1 has score NaN',
    );
    expectRefusal(() => PlattCalibrator.fit(Float64Array.of(1, 2), Float64Array.of(0, 2)), 'targets 0 or 1');
    expectRefusal(() => PlattCalibrator.fromParameters(Number.POSITIVE_INFINITY, 0), 'must be finite');
  });
});
