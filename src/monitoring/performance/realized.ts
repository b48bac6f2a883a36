import {
  type CalibrationBin,
  calibrationUnchecked,
  DEFAULT_CALIBRATION_BINS,
  validateBinCount,
} from '../../ml/metrics/calibration.js';
import { brierScore, rocAuc } from '../../ml/metrics/index.js';
import type { RealizedMetricName } from '../metric-names.js';
import type { TimeWindow } from '../time-window.js';
import { gather, validateColumns } from './columns.js';

/** Predictions whose ground truth is known (from feedback), as columns of equal length. */
export interface LabelledPredictions {
  /** Predicted P(diagnosis = 1) per record, in [0, 1]. */
  readonly probability: Float64Array;
  /** The class the model answered (0 or 1): what accuracy, recall and specificity judge. */
  readonly prediction: Float64Array;
  /** The ground truth (0 or 1). */
  readonly label: Float64Array;
}

/** `LabelledPredictions` with the time of each prediction, for rolling windows. */
export interface TimedLabelledPredictions extends LabelledPredictions {
  /** When each prediction was made, in milliseconds since the Unix epoch. */
  readonly timeMs: Float64Array;
}

/** One metric's value, or null with the reason it is undefined on these records. */
export interface MetricValue {
  readonly value: number | null;
  /** Why `value` is null (no records, one class only, ...); null when `value` is a number. */
  readonly undefinedReason: string | null;
}

/**
 * Performance measured against the ground truth. `accuracy`, `recall` (sensitivity) and `specificity`
 * judge the served `prediction`; `roc_auc` ranks by probability (Mann-Whitney, ties count 1/2); `brier` is
 * the mean squared error of the probability; `ece` the expected calibration error over `calibration`'s
 * equal-width bins, `Σ_b (n_b / n) · |mean predicted_b − observed rate_b|`. A metric is null with its
 * reason where it is undefined: every metric with no records, `roc_auc` with one class, `recall` with no
 * positive, `specificity` with no negative. Nothing is invented (no AUC of 0.5 for one class).
 */
export interface RealizedPerformance {
  readonly records: number;
  readonly positives: number;
  readonly negatives: number;
  readonly metrics: Readonly<Record<RealizedMetricName, MetricValue>>;
  /** The reliability diagram: `calibrationBins` equal-width bins over [0, 1], empty ones included. */
  readonly calibration: readonly CalibrationBin[];
}

export interface RealizedOptions {
  /** Equal-width bins of the reliability diagram and the ECE. Default 10. */
  readonly calibrationBins?: number;
}

/** The performance of one window's labelled predictions. */
export interface WindowPerformance {
  readonly window: string;
  /** The window is `(fromMs, toMs]`. */
  readonly fromMs: number;
  readonly toMs: number;
  readonly performance: RealizedPerformance;
}

const defined = (value: number): MetricValue => ({ value, undefinedReason: null });
const undefinedBecause = (reason: string): MetricValue => ({ value: null, undefinedReason: reason });

/**
 * Realized performance of labelled predictions (see `RealizedPerformance`). Validates the columns (equal
 * lengths, probabilities in [0, 1], classes 0 or 1; the error names the first bad value). An empty input
 * is allowed: every metric is then null, saying there were no labelled predictions.
 */
export function realizedPerformance(
  rows: LabelledPredictions,
  options: RealizedOptions = {},
): RealizedPerformance {
  const n = validateColumns('realizedPerformance', {
    probability: { values: rows.probability, kind: 'probability' },
    prediction: { values: rows.prediction, kind: 'class' },
    label: { values: rows.label, kind: 'class' },
  });
  const nBins = options.calibrationBins ?? DEFAULT_CALIBRATION_BINS;
  validateBinCount(nBins, 'realizedPerformance');
  return measure(rows, n, nBins);
}

/**
 * Realized performance over rolling windows ending at `nowMs`: for each window, the predictions made in
 * `(nowMs − duration, nowMs]` (predictions after `nowMs` are left out). Windows are measured on prediction
 * time, so a window's figures fill in as feedback for its predictions arrives.
 */
export function rollingRealizedPerformance(
  rows: TimedLabelledPredictions,
  windows: readonly TimeWindow[],
  nowMs: number,
  options: RealizedOptions = {},
): WindowPerformance[] {
  validateColumns('rollingRealizedPerformance', {
    probability: { values: rows.probability, kind: 'probability' },
    prediction: { values: rows.prediction, kind: 'class' },
    label: { values: rows.label, kind: 'class' },
    timeMs: { values: rows.timeMs, kind: 'time' },
  });
  const nBins = options.calibrationBins ?? DEFAULT_CALIBRATION_BINS;
  validateBinCount(nBins, 'rollingRealizedPerformance');
  return windows.map((window) => {
    const fromMs = nowMs - window.durationMs;
    const indices: number[] = [];
    for (let i = 0; i < rows.timeMs.length; i++) {
      const t = rows.timeMs[i]!;
      if (t > fromMs && t <= nowMs) indices.push(i);
    }
    const selected = {
      probability: gather(rows.probability, indices),
      prediction: gather(rows.prediction, indices),
      label: gather(rows.label, indices),
    };
    return {
      window: window.label,
      fromMs,
      toMs: nowMs,
      performance: measure(selected, indices.length, nBins),
    };
  });
}

function measure(rows: LabelledPredictions, n: number, nBins: number): RealizedPerformance {
  if (n === 0) {
    const none = undefinedBecause('no labelled predictions');
    return {
      records: 0,
      positives: 0,
      negatives: 0,
      metrics: { accuracy: none, roc_auc: none, recall: none, specificity: none, brier: none, ece: none },
      calibration: calibrationUnchecked(new Float64Array(0), new Float64Array(0), nBins).bins,
    };
  }
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  for (let i = 0; i < n; i++) {
    const predicted = rows.prediction[i] === 1;
    if (rows.label[i] === 1) {
      if (predicted) tp++;
      else fn++;
    } else if (predicted) fp++;
    else tn++;
  }
  const positives = tp + fn;
  const negatives = tn + fp;
  const curve = calibrationUnchecked(rows.label, rows.probability, nBins);
  let ece = 0;
  for (const bin of curve.bins) {
    if (bin.count > 0) ece += (bin.count / n) * Math.abs(bin.meanPredicted! - bin.observedRate!);
  }
  const oneClass =
    positives === 0
      ? 'only negatives (0) among the labels; ROC AUC needs both classes'
      : 'only positives (1) among the labels; ROC AUC needs both classes';
  return {
    records: n,
    positives,
    negatives,
    metrics: {
      accuracy: defined((tp + tn) / n),
      roc_auc:
        positives > 0 && negatives > 0
          ? defined(rocAuc(rows.label, rows.probability))
          : undefinedBecause(oneClass),
      recall: positives > 0 ? defined(tp / positives) : undefinedBecause('no positive (1) among the labels'),
      specificity:
        negatives > 0 ? defined(tn / negatives) : undefinedBecause('no negative (0) among the labels'),
      brier: defined(brierScore(rows.label, rows.probability)),
      ece: defined(ece),
    },
    calibration: curve.bins,
  };
}
