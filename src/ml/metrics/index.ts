/**
 * Metrics for binary classifiers, verified against scikit-learn 1.2 (see `metrics.test.ts` and
 * `scripts/fixtures/make-metrics-fixtures.py`).
 */
export {
  type BrierDecomposition,
  brierDecomposition,
  type CalibrationBin,
  type CalibrationCurve,
  calibrationCurve,
  DEFAULT_CALIBRATION_BINS,
  expectedCalibrationError,
} from './calibration.js';
export {
  type ConfusionMatrix,
  type ConfusionMetrics,
  confusionMatrix,
  confusionMetrics,
  DEFAULT_THRESHOLD,
} from './confusion.js';
export { DECISION_THRESHOLDS, type DecisionCurve, decisionCurve } from './decision-curve.js';
export {
  BINARY_METRIC_NAMES,
  type BinaryCurves,
  type BinaryMetricName,
  type BinaryMetrics,
  binaryCurves,
  type EvaluateOptions,
  evaluateBinary,
  type FoldSummary,
  lowerIsBetter,
  type MetricSummary,
  SELECTION_METRICS,
  type SelectionMetric,
  summarizeFolds,
} from './evaluate.js';
export { brierScore, DEFAULT_LOG_LOSS_EPS, type LogLossOptions, logLoss, rmse } from './probabilistic.js';
export {
  averagePrecision,
  type PrecisionRecallCurve,
  precisionRecallCurve,
  type RocCurve,
  type RocCurveOptions,
  rocAuc,
  rocCurve,
} from './ranking.js';
export { validateBinaryInputs } from './validate.js';
