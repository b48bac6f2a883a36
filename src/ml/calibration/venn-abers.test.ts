/**
 * The inductive Venn-Abers predictor: its precomputed p0 and p1 are the isotonic fits with the new score
 * added as 0 and as 1 (checked against refitting for every place, ties included), p0 <= p1, the merged
 * probability lies between them, and an overconfident model's probabilities come out calibrated.
 */
import { describe, expect, it } from 'vitest';
import { Random } from '../../util/random.js';
import { expectedCalibrationError } from '../metrics/index.js';
import { IsotonicCalibrator } from './isotonic.js';
import { VennAbersCalibrator } from './venn-abers.js';

/** p_label(s) by refitting: isotonic regression on the calibration rows and (s, label), read at s. */
function refitted(score: Float64Array, target: Float64Array, s: number, label: 0 | 1): number {
  const fit = IsotonicCalibrator.fit(Float64Array.of(...score, s), Float64Array.of(...target, label));
  return fit.calibrateOne(s);
}

describe('VennAbersCalibrator', () => {
  it('gives, at every place among the scores, the isotonic fits with the new score added as 0 and as 1', () => {
    const random = new Random(4);
    for (let trial = 0; trial < 30; trial++) {
      const n = 5 + random.int(40);
      // Scores on a coarse grid, so that ties are common.
      const score = Float64Array.from({ length: n }, () => random.int(12) / 12);
      const target = Float64Array.from(score, (p) => (random.next() < p ? 1 : 0));
      const calibrator = VennAbersCalibrator.fit(score, target);
      const distinct = [...new Set(score)].sort((a, b) => a - b);
      const probes = [-1, 2, ...distinct, ...distinct.map((x) => x + 1 / 48)];
      for (const s of probes) {
        const [p0, p1] = calibrator.interval(s);
        expect(p0).toBeCloseTo(refitted(score, target, s, 0), 12);
        expect(p1).toBeCloseTo(refitted(score, target, s, 1), 12);
        expect(p0).toBeLessThanOrEqual(p1);
        const merged = calibrator.calibrateOne(s);
        expect(merged).toBeCloseTo(p1 / (1 - p0 + p1), 15);
        expect(merged).toBeGreaterThanOrEqual(p0 - 1e-15);
        expect(merged).toBeLessThanOrEqual(p1 + 1e-15);
      }
    }
  });

  it('calibrates an overconfident model held out, and its interval narrows with more calibration rows', () => {
    const random = new Random(8);
    const draw = (n: number) => {
      const probability = new Float64Array(n);
      const target = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const logit = random.normal() * 1.5;
        target[i] = random.next() < 1 / (1 + Math.exp(-logit)) ? 1 : 0;
        probability[i] = 1 / (1 + Math.exp(-2.5 * logit));
      }
      return { probability, target };
    };
    const test = draw(4000);
    const width = (n: number) => {
      const calibration = draw(n);
      const calibrator = VennAbersCalibrator.fit(calibration.probability, calibration.target);
      const merged = Float64Array.from(test.probability, (p) => calibrator.calibrateOne(p));
      const widths = Array.from(test.probability, (p) => {
        const [p0, p1] = calibrator.interval(p);
        return p1 - p0;
      });
      return {
        ece: expectedCalibrationError(test.target, merged),
        width: widths.reduce((a, b) => a + b) / widths.length,
      };
    };
    const before = expectedCalibrationError(test.target, test.probability);
    const small = width(200);
    const large = width(2000);
    expect(large.ece).toBeLessThan(before / 3);
    expect(large.width).toBeLessThan(small.width / 3);
  });

  it('keeps its table, and refuses one that is not consistent', () => {
    const fitted = VennAbersCalibrator.fit(Float64Array.of(0.1, 0.4, 0.4, 0.9), Float64Array.of(0, 1, 0, 1));
    const { p0, p1 } = fitted.table();
    const again = VennAbersCalibrator.fromTable(fitted.scores, p0, p1);
    for (const s of [0, 0.1, 0.3, 0.4, 0.5, 0.9, 1])
      expect(again.calibrateOne(s)).toBe(fitted.calibrateOne(s));
    expect(() => VennAbersCalibrator.fromTable(fitted.scores, p1, p0)).toThrow(/pairs 0 <= p0 <= p1 <= 1/);
    expect(() => VennAbersCalibrator.fit(Float64Array.of(0.2), Float64Array.of(0.5))).toThrow(
      /targets 0 or 1/,
    );
  });
});
