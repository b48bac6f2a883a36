import { requireBothClasses, type ThresholdSweep, thresholdSweep } from './sweep.js';
import { validateBinaryInputs } from './validate.js';

/**
 * ROC curve points, as scikit-learn 1.2's `roc_curve`: index 0 is the point (0, 0) with threshold
 * `max(probability) + 1` (scikit-learn ≥ 1.3 writes `Infinity` there instead); then one point per
 * distinct probability, in decreasing threshold order, where a row is predicted positive iff
 * `probability >= thresholds[k]`. `fpr` and `tpr` are non-decreasing and end at 1. Plain arrays so the
 * curve serializes to JSON as it is.
 */
export interface RocCurve {
  readonly fpr: readonly number[];
  readonly tpr: readonly number[];
  readonly thresholds: readonly number[];
}

export interface RocCurveOptions {
  /**
   * Drop points that are collinear with their neighbours (scikit-learn's `drop_intermediate`). They do
   * not change the plotted curve or its area. Default `false`: one point per distinct probability.
   */
  readonly dropIntermediate?: boolean;
}

/**
 * Precision-recall curve points, as scikit-learn's `precision_recall_curve`: `thresholds` holds the
 * distinct probabilities in increasing order; `precision[k]` and `recall[k]` are measured predicting
 * positive iff `probability >= thresholds[k]`. `precision` and `recall` have one more entry than
 * `thresholds`, the point (recall 0, precision 1) with no threshold. `recall` is non-increasing.
 */
export interface PrecisionRecallCurve {
  readonly precision: readonly number[];
  readonly recall: readonly number[];
  readonly thresholds: readonly number[];
}

/**
 * Area under the ROC curve, equal to scikit-learn's `roc_auc_score`: the Mann-Whitney U statistic over
 * positives × negatives, a tied (positive, negative) pair counting 1/2 (mid-ranks). Computed exactly in
 * integer arithmetic from one sort. Throws an `INVALID_PARAMETER_VALUE` `OnsetError` unless both classes
 * are present.
 */
export function rocAuc(yTrue: Float64Array, probability: Float64Array): number {
  validateBinaryInputs(yTrue, probability, 'rocAuc');
  return rocAucFromSweep(thresholdSweep(yTrue, probability));
}

/** ROC curve points (see `RocCurve`). Throws unless both classes are present. */
export function rocCurve(
  yTrue: Float64Array,
  probability: Float64Array,
  options: RocCurveOptions = {},
): RocCurve {
  validateBinaryInputs(yTrue, probability, 'rocCurve');
  return rocCurveFromSweep(thresholdSweep(yTrue, probability), options);
}

/**
 * Area under the precision-recall curve as average precision, equal to scikit-learn's
 * `average_precision_score`: `Σ_k (R_k − R_{k−1}) · P_k` over the thresholds, a step function with no
 * interpolation (not the trapezoidal rule). Throws an `INVALID_PARAMETER_VALUE` `OnsetError` unless both
 * classes are present.
 */
export function averagePrecision(yTrue: Float64Array, probability: Float64Array): number {
  validateBinaryInputs(yTrue, probability, 'averagePrecision');
  return averagePrecisionFromSweep(thresholdSweep(yTrue, probability));
}

/** Precision-recall curve points (see `PrecisionRecallCurve`). Throws unless both classes are present. */
export function precisionRecallCurve(yTrue: Float64Array, probability: Float64Array): PrecisionRecallCurve {
  validateBinaryInputs(yTrue, probability, 'precisionRecallCurve');
  return precisionRecallCurveFromSweep(thresholdSweep(yTrue, probability));
}

/** `rocAuc` from a prepared sweep. */
export function rocAucFromSweep(sweep: ThresholdSweep): number {
  requireBothClasses(sweep, 'rocAuc');
  const { tps, fps } = sweep;
  // Twice the number of correctly ordered (positive, negative) pairs, ties counting 1/2: an integer, exact
  // in a double while it stays below 2^53 (n up to ~9e7 rows).
  let twiceArea = 0;
  let tpPrev = 0;
  let fpPrev = 0;
  for (let k = 0; k < tps.length; k++) {
    const dTp = tps[k]! - tpPrev;
    const dFp = fps[k]! - fpPrev;
    twiceArea += dFp * (2 * tpPrev + dTp);
    tpPrev = tps[k]!;
    fpPrev = fps[k]!;
  }
  return twiceArea / (2 * sweep.positives * sweep.negatives);
}

/** `rocCurve` from a prepared sweep. */
export function rocCurveFromSweep(sweep: ThresholdSweep, options: RocCurveOptions = {}): RocCurve {
  requireBothClasses(sweep, 'rocCurve');
  const { tps, fps, thresholds } = sweep;
  const m = tps.length;
  let keep: number[];
  if (options.dropIntermediate === true && m > 2) {
    // scikit-learn keeps the ends and every point where either count's second difference is non-zero.
    keep = [0];
    for (let k = 1; k < m - 1; k++) {
      const fpBend = fps[k + 1]! - 2 * fps[k]! + fps[k - 1]!;
      const tpBend = tps[k + 1]! - 2 * tps[k]! + tps[k - 1]!;
      if (fpBend !== 0 || tpBend !== 0) keep.push(k);
    }
    keep.push(m - 1);
  } else {
    keep = Array.from({ length: m }, (_, k) => k);
  }
  const fpr = [0];
  const tpr = [0];
  const points = [thresholds[keep[0]!]! + 1];
  for (const k of keep) {
    fpr.push(fps[k]! / sweep.negatives);
    tpr.push(tps[k]! / sweep.positives);
    points.push(thresholds[k]!);
  }
  return { fpr, tpr, thresholds: points };
}

/** `averagePrecision` from a prepared sweep. */
export function averagePrecisionFromSweep(sweep: ThresholdSweep): number {
  requireBothClasses(sweep, 'averagePrecision');
  const { tps, fps } = sweep;
  let sum = 0;
  let recallPrev = 0;
  for (let k = 0; k < tps.length; k++) {
    const recall = tps[k]! / sweep.positives;
    sum += (recall - recallPrev) * (tps[k]! / (tps[k]! + fps[k]!));
    recallPrev = recall;
  }
  return sum;
}

/** `precisionRecallCurve` from a prepared sweep. */
export function precisionRecallCurveFromSweep(sweep: ThresholdSweep): PrecisionRecallCurve {
  requireBothClasses(sweep, 'precisionRecallCurve');
  const { tps, fps, thresholds } = sweep;
  const m = tps.length;
  const precision: number[] = [];
  const recall: number[] = [];
  const points: number[] = [];
  for (let k = m - 1; k >= 0; k--) {
    precision.push(tps[k]! / (tps[k]! + fps[k]!));
    recall.push(tps[k]! / sweep.positives);
    points.push(thresholds[k]!);
  }
  precision.push(1);
  recall.push(0);
  return { precision, recall, thresholds: points };
}
