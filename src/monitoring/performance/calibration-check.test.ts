import { describe, expect, it } from 'vitest';
import { Random } from '../../util/random.js';
import { equalCountCalibrationError, needsCalibration } from './calibration-check.js';

function draw(n: number, seed: number, truth: (p: number) => number) {
  const random = new Random(seed);
  const score = new Float64Array(n);
  const label = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    score[i] = random.next();
    label[i] = random.next() < truth(score[i]!) ? 1 : 0;
  }
  return { score, label };
}

describe('equalCountCalibrationError', () => {
  it('weighs each equal-count bin by its share of rows', () => {
    // Two bins of two rows: scores (0.1, 0.2) with labels (0, 1), scores (0.8, 0.9) with labels (1, 1).
    const error = equalCountCalibrationError([1, 0, 1, 1], [0.2, 0.1, 0.9, 0.8], 2);
    expect(error).toBeCloseTo(0.5 * Math.abs(0.15 - 0.5) + 0.5 * Math.abs(0.85 - 1), 15);
  });

  it('lowers the bin count when there are fewer than two rows a bin', () => {
    // Three rows, ten bins asked: one bin (floor(3 / 2)) holding everything.
    expect(equalCountCalibrationError([0, 1, 1], [0.1, 0.2, 0.3], 10)).toBeCloseTo(Math.abs(0.2 - 2 / 3), 15);
  });
});

describe('needsCalibration', () => {
  it('calibrates scores that are too confident', () => {
    const skewed = draw(3_000, 1, (p) => p ** 3);
    expect(needsCalibration(skewed.label, skewed.score)).toBe(true);
  });

  it('never calibrates one class, or scores that separate the classes perfectly', () => {
    expect(needsCalibration(Float64Array.from([1, 1, 1]), Float64Array.from([0.2, 0.5, 0.6]))).toBe(false);
    const score = Float64Array.from({ length: 100 }, (_, i) => i / 200);
    const label = Float64Array.from({ length: 100 }, (_, i) => (i >= 50 ? 1 : 0));
    expect(needsCalibration(label, score)).toBe(false);
  });
});
