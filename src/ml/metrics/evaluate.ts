import { invalidParameter } from '../../errors.js';
import {
  type CalibrationCurve,
  calibrationUnchecked,
  DEFAULT_CALIBRATION_BINS,
  validateBinCount,
} from './calibration.js';
import {
  type ConfusionMatrix,
  type ConfusionMetrics,
  confusionMetrics,
  countConfusion,
  DEFAULT_THRESHOLD,
} from './confusion.js';
import { brierUnchecked, DEFAULT_LOG_LOSS_EPS, logLossUnchecked } from './probabilistic.js';
import {
  averagePrecisionFromSweep,
  type PrecisionRecallCurve,
  precisionRecallCurveFromSweep,
  type RocCurve,
  type RocCurveOptions,
  rocAucFromSweep,
  rocCurveFromSweep,
} from './ranking.js';
import { thresholdSweep } from './sweep.js';
import { validateBinaryInputs, validateThreshold } from './validate.js';

/** The scalar metrics of `BinaryMetrics`, in a fixed order (the order tracking logs them in). */
export const BINARY_METRIC_NAMES = [
  'accuracy',
  'precision',
  'recall',
  'specificity',
  'f1',
  'roc_auc',
  'pr_auc',
  'log_loss',
  'brier',
  'rmse',
] as const;

/** The name of one scalar metric. */
export type BinaryMetricName = (typeof BINARY_METRIC_NAMES)[number];

/** The metrics models are compared on: by tuning, by pipelines choosing a family, by the promotion gate. */
export const SELECTION_METRICS = ['roc_auc', 'accuracy', 'log_loss', 'f1', 'pr_auc', 'brier'] as const;
export type SelectionMetric = (typeof SELECTION_METRICS)[number];

/** Whether a lower value of the metric is better (the losses); higher is better for the others. */
export function lowerIsBetter(metric: BinaryMetricName): boolean {
  return metric === 'log_loss' || metric === 'brier' || metric === 'rmse';
}

/**
 * Every scalar metric of a binary classifier on one data set, plus the threshold and counts they were
 * measured with (the `ConfusionMatrix`). Small and flat, for experiment tracking; written in the order
 * `ConfusionMetrics`, the ranking and probabilistic metrics, then the `ConfusionMatrix` (the key order
 * of model documents and `--json` output). The curves are in `binaryCurves`.
 *
 * - `accuracy`, `precision`, `recall` (sensitivity), `specificity`, `f1`: at `threshold` (predicted
 *   positive iff `probability >= threshold`); a ratio with a zero denominator is 0 (scikit-learn's
 *   `zero_division=0`).
 * - `roc_auc`: Mann-Whitney AUC with ties as 1/2 (`roc_auc_score`); `pr_auc`: average precision
 *   (`average_precision_score`, step-wise).
 * - `log_loss`: mean cross-entropy in nats, probabilities clipped to `[1e-15, 1 - 1e-15]`; `brier`: mean
 *   squared error of the probability; `rmse`: its square root.
 */
export interface BinaryMetrics extends ConfusionMetrics, ConfusionMatrix {
  readonly roc_auc: number;
  readonly pr_auc: number;
  readonly log_loss: number;
  readonly brier: number;
  readonly rmse: number;
}

export interface EvaluateOptions {
  /** Decision threshold in [0, 1] for the confusion-matrix metrics. Default 0.5. */
  readonly threshold?: number;
  /** Number of equal-width calibration bins (used by `binaryCurves`). Default 10. */
  readonly calibrationBins?: number;
}

/** The curves of a binary classifier: for plots and artifacts rather than metric tracking. */
export interface BinaryCurves {
  readonly roc: RocCurve;
  readonly precisionRecall: PrecisionRecallCurve;
  readonly calibration: CalibrationCurve;
}

/** The mean and population standard deviation (ddof = 0) of one metric across folds. */
export interface MetricSummary {
  readonly mean: number;
  readonly std: number;
}

/** `summarizeFolds`' result: one `MetricSummary` per scalar metric. */
export type FoldSummary = { readonly [name in BinaryMetricName]: MetricSummary };

/**
 * Evaluates predicted probabilities against 0/1 labels. Validates the inputs (equal non-zero lengths,
 * labels 0 or 1, probabilities finite in [0, 1]; the error names the first bad index) and sorts once.
 * Throws an `INVALID_PARAMETER_VALUE` `OnsetError` when only one class is present, because the AUCs are
 * then undefined. `calibrationBins` is validated but only used by `binaryCurves`.
 */
export function evaluateBinary(
  yTrue: Float64Array,
  probability: Float64Array,
  options: EvaluateOptions = {},
): BinaryMetrics {
  validateBinaryInputs(yTrue, probability, 'evaluateBinary');
  const threshold = options.threshold ?? DEFAULT_THRESHOLD;
  validateThreshold(threshold, 'evaluateBinary');
  validateBinCount(options.calibrationBins ?? DEFAULT_CALIBRATION_BINS, 'evaluateBinary');

  const sweep = thresholdSweep(yTrue, probability);
  const roc_auc = rocAucFromSweep(sweep);
  const pr_auc = averagePrecisionFromSweep(sweep);
  const matrix = countConfusion(yTrue, probability, threshold);
  const brier = brierUnchecked(yTrue, probability);
  return {
    ...confusionMetrics(matrix),
    roc_auc,
    pr_auc,
    log_loss: logLossUnchecked(yTrue, probability, DEFAULT_LOG_LOSS_EPS),
    brier,
    rmse: Math.sqrt(brier),
    ...matrix,
  };
}

/**
 * The ROC curve (every distinct threshold, unless `dropIntermediate`), the precision-recall curve and
 * the calibration bins, from one validation and one sort. Throws when only one class is present.
 */
export function binaryCurves(
  yTrue: Float64Array,
  probability: Float64Array,
  options: Pick<EvaluateOptions, 'calibrationBins'> & RocCurveOptions = {},
): BinaryCurves {
  validateBinaryInputs(yTrue, probability, 'binaryCurves');
  const nBins = options.calibrationBins ?? DEFAULT_CALIBRATION_BINS;
  validateBinCount(nBins, 'binaryCurves');
  const sweep = thresholdSweep(yTrue, probability);
  return {
    roc: rocCurveFromSweep(sweep, options),
    precisionRecall: precisionRecallCurveFromSweep(sweep),
    calibration: calibrationUnchecked(yTrue, probability, nBins),
  };
}

/**
 * Summarizes cross-validation: for each scalar metric, the mean and the population standard deviation
 * (ddof = 0, numpy's `np.std` default, not the sample std with ddof = 1) over the folds. One fold gives
 * std 0. Throws when `perFold` is empty.
 */
export function summarizeFolds(perFold: readonly BinaryMetrics[]): FoldSummary {
  if (perFold.length === 0) throw invalidParameter('summarizeFolds: no folds; give at least one fold');
  const k = perFold.length;
  const entries = BINARY_METRIC_NAMES.map((name): [BinaryMetricName, MetricSummary] => {
    let sum = 0;
    for (const fold of perFold) sum += fold[name];
    const mean = sum / k;
    let squares = 0;
    for (const fold of perFold) squares += (fold[name] - mean) ** 2;
    return [name, { mean, std: Math.sqrt(squares / k) }];
  });
  return Object.fromEntries(entries) as FoldSummary;
}
