import { IsotonicCalibrator } from '../../ml/calibration/isotonic.js';
import { rocAuc } from '../../ml/metrics/index.js';
import { Random } from '../../util/random.js';

/** Options of `needsCalibration`. */
export interface CalibrationCheckOptions {
  /** Number of random train/test splits. Default 10. */
  readonly splits?: number;
  /** Share of each class held out for testing in a split. Default 0.1. */
  readonly testShare?: number;
  /** Equal-count bins of the calibration error. Default 10. */
  readonly bins?: number;
  /** Seed of the splits. Default 42. */
  readonly seed?: number;
}

/**
 * Whether isotonic calibration makes these reference scores better calibrated, as NannyML decides it: over
 * `splits` stratified random splits, an isotonic calibrator is fitted on the training part and applied to
 * the test part; the test parts pooled, the expected calibration error (equal-count bins) after calibration
 * must be lower than before. Scores of one class only, or that separate the classes almost perfectly (ROC
 * AUC above 0.999, where isotonic regression would collapse them to 0 and 1), are left as they are.
 * Inputs must be validated (labels 0/1, scores in [0, 1], equal lengths).
 */
export function needsCalibration(
  label: Float64Array,
  score: Float64Array,
  options: CalibrationCheckOptions = {},
): boolean {
  const splits = options.splits ?? 10;
  const testShare = options.testShare ?? 0.1;
  const bins = options.bins ?? 10;
  const random = new Random(options.seed ?? 42);

  const positives: number[] = [];
  const negatives: number[] = [];
  for (let i = 0; i < label.length; i++) (label[i] === 1 ? positives : negatives).push(i);
  if (positives.length === 0 || negatives.length === 0) return false;
  if (rocAuc(label, score) > 0.999) return false;
  // A split needs a row of each class on both sides.
  if (positives.length < 2 || negatives.length < 2) return false;

  const testLabels: number[] = [];
  const testScores: number[] = [];
  const testCalibrated: number[] = [];
  for (let split = 0; split < splits; split++) {
    const test: number[] = [];
    const train: number[] = [];
    for (const group of [positives, negatives]) {
      const shuffled = random.shuffle([...group]);
      const held = Math.min(group.length - 1, Math.max(1, Math.round(group.length * testShare)));
      test.push(...shuffled.slice(0, held));
      train.push(...shuffled.slice(held));
    }
    const calibrator = IsotonicCalibrator.fit(
      Float64Array.from(train, (i) => score[i]!),
      Float64Array.from(train, (i) => label[i]!),
    );
    for (const i of test) {
      testLabels.push(label[i]!);
      testScores.push(score[i]!);
      testCalibrated.push(calibrator.calibrateOne(score[i]!));
    }
  }
  const before = equalCountCalibrationError(testLabels, testScores, bins);
  const after = equalCountCalibrationError(testLabels, testCalibrated, bins);
  return before > after;
}

/**
 * Expected calibration error over `bins` bins of (nearly) equal row counts, rows ordered by score:
 * `Σ_b (n_b / n) · |mean score_b − positive rate_b|`. With fewer than two rows per bin the bin count is
 * lowered to `floor(n / 2)` (at least 1).
 */
export function equalCountCalibrationError(
  label: readonly number[],
  score: readonly number[],
  bins: number,
): number {
  const n = label.length;
  if (n === 0) return 0;
  const count = Math.max(1, Math.min(bins, Math.floor(n / 2)));
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => score[a]! - score[b]!);
  let error = 0;
  for (let b = 0; b < count; b++) {
    const start = Math.round((b * n) / count);
    const end = Math.round(((b + 1) * n) / count);
    let scoreSum = 0;
    let labelSum = 0;
    for (let k = start; k < end; k++) {
      scoreSum += score[order[k]!]!;
      labelSum += label[order[k]!]!;
    }
    error += Math.abs(scoreSum - labelSum) / n;
  }
  return error;
}
