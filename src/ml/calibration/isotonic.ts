import { invalidParameter } from '../../errors.js';

/**
 * A fitted non-decreasing step-and-slope function from scores to probabilities: scikit-learn's
 * `IsotonicRegression(increasing=True, out_of_bounds='clip')`. `thresholds` are the distinct training
 * scores in increasing order and `values` the fitted value at each; between two thresholds the fit is
 * linear, and outside them it is clipped to the end values.
 */
export class IsotonicCalibrator {
  private constructor(
    readonly thresholds: Float64Array,
    readonly values: Float64Array,
  ) {}

  /**
   * A calibrator from its points (a saved `thresholds`/`values` pair): thresholds strictly increasing,
   * values non-decreasing, both finite and of the same non-zero length.
   */
  static fromPoints(thresholds: Float64Array, values: Float64Array): IsotonicCalibrator {
    const ok =
      thresholds.length > 0 &&
      thresholds.length === values.length &&
      thresholds.every((x, i) => Number.isFinite(x) && (i === 0 || x > thresholds[i - 1]!)) &&
      values.every((v, i) => Number.isFinite(v) && (i === 0 || v >= values[i - 1]!));
    if (!ok) {
      throw invalidParameter(
        'IsotonicCalibrator.fromPoints: thresholds must increase strictly and values must not decrease, both finite and of one non-zero length',
      );
    }
    return new IsotonicCalibrator(thresholds, values);
  }

  /**
   * Fits by pool-adjacent-violators: rows are sorted by score, rows with equal scores pooled (weighted
   * mean of their targets), then adjacent blocks merged while a block's mean exceeds the next one's, so the
   * result is the weighted least-squares non-decreasing fit. `weights` default to 1. Needs at least one row;
   * scores and targets must be finite, weights positive.
   */
  static fit(score: Float64Array, target: Float64Array, weights?: Float64Array): IsotonicCalibrator {
    const n = score.length;
    if (n === 0) throw invalidParameter('IsotonicCalibrator.fit: no rows; give at least one');
    if (target.length !== n || (weights !== undefined && weights.length !== n)) {
      throw invalidParameter(
        `IsotonicCalibrator.fit: score has ${n} values but target has ${target.length}${weights ? ` and weights ${weights.length}` : ''}; they must have the same length`,
      );
    }
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(score[i]!) || !Number.isFinite(target[i]!)) {
        throw invalidParameter(
          `IsotonicCalibrator.fit: row ${i} has score ${score[i]} and target ${target[i]}; both must be finite`,
        );
      }
      if (weights !== undefined && !(weights[i]! > 0 && Number.isFinite(weights[i]!))) {
        throw invalidParameter(
          `IsotonicCalibrator.fit: weights[${i}] is ${weights[i]}; weights must be positive`,
        );
      }
    }
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => score[a]! - score[b]!);

    // Pool equal scores: one point per distinct score, with the weighted mean target and the summed weight.
    const xs: number[] = [];
    const means: number[] = [];
    const sums: number[] = [];
    for (const i of order) {
      const w = weights === undefined ? 1 : weights[i]!;
      const last = xs.length - 1;
      if (last >= 0 && xs[last] === score[i]) {
        means[last] = (means[last]! * sums[last]! + target[i]! * w) / (sums[last]! + w);
        sums[last] = sums[last]! + w;
      } else {
        xs.push(score[i]!);
        means.push(target[i]!);
        sums.push(w);
      }
    }

    // Pool adjacent violators: a stack of blocks (mean, weight, first point); merging keeps it non-decreasing.
    const blockMean: number[] = [];
    const blockWeight: number[] = [];
    const blockStart: number[] = [];
    for (let k = 0; k < xs.length; k++) {
      let mean = means[k]!;
      let weight = sums[k]!;
      let start = k;
      while (blockMean.length > 0 && blockMean[blockMean.length - 1]! >= mean) {
        const previousWeight = blockWeight.pop()!;
        const previousMean = blockMean.pop()!;
        start = blockStart.pop()!;
        mean = (previousMean * previousWeight + mean * weight) / (previousWeight + weight);
        weight += previousWeight;
      }
      blockMean.push(mean);
      blockWeight.push(weight);
      blockStart.push(start);
    }
    const values = new Float64Array(xs.length);
    for (let b = 0; b < blockMean.length; b++) {
      const end = b + 1 < blockStart.length ? blockStart[b + 1]! : xs.length;
      values.fill(blockMean[b]!, blockStart[b]!, end);
    }
    return new IsotonicCalibrator(Float64Array.from(xs), values);
  }

  /** The calibrated value of each score: linear between thresholds, clipped beyond the ends. */
  calibrate(score: Float64Array): Float64Array {
    const out = new Float64Array(score.length);
    for (let i = 0; i < score.length; i++) out[i] = this.calibrateOne(score[i]!);
    return out;
  }

  /** The calibrated value of one score. */
  calibrateOne(score: number): number {
    const xs = this.thresholds;
    const last = xs.length - 1;
    if (score <= xs[0]!) return this.values[0]!;
    if (score >= xs[last]!) return this.values[last]!;
    // The last threshold at or below the score (binary search), then the line to the next one.
    let low = 0;
    let high = last;
    while (high - low > 1) {
      const middle = (low + high) >>> 1;
      if (xs[middle]! <= score) low = middle;
      else high = middle;
    }
    const share = (score - xs[low]!) / (xs[high]! - xs[low]!);
    return this.values[low]! + share * (this.values[high]! - this.values[low]!);
  }
}
