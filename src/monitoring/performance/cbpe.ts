import { invalidParameter } from '../../errors.js';
import { IsotonicCalibrator } from '../../ml/calibration/isotonic.js';
import { DEFAULT_THRESHOLD } from '../../ml/metrics/confusion.js';
import { validateThreshold } from '../../ml/metrics/validate.js';
import { ESTIMATED_METRICS, type EstimatedMetricName } from '../metric-names.js';
import { type CalibrationCheckOptions, needsCalibration } from './calibration-check.js';
import { validateColumns } from './columns.js';
import { type SamplingErrorComponents, samplingError, samplingErrorComponents } from './sampling-error.js';

/**
 * Reference data for performance estimation: the model's probabilities on records it was not trained on
 * (a held-out set, or cross-validated predictions on the training data), with their labels. `prediction`
 * is the class the model answers; left out, it is `probability >= threshold`.
 */
export interface CbpeReference {
  readonly probability: Float64Array;
  readonly label: Float64Array;
  readonly prediction?: Float64Array;
}

/** Predictions of an analysis window: probabilities only (and the answered classes, if not thresholded). */
export interface CbpeAnalysis {
  readonly probability: Float64Array;
  readonly prediction?: Float64Array;
}

export interface CbpeOptions {
  /** The decision threshold the served model applies (predicted positive iff `probability >= threshold`). Default 0.5. */
  readonly threshold?: number;
  /**
   * `auto` (default): calibrate with isotonic regression when the reference shows it helps (NannyML's
   * check, see `needsCalibration`); `isotonic`: always; `none`: take the probabilities as calibrated.
   */
  readonly calibration?: 'auto' | 'isotonic' | 'none';
  /** Options of the `auto` check (its seed, splits, bins). */
  readonly calibrationCheck?: CalibrationCheckOptions;
  /** Half-width of the confidence band in sampling errors. Default 3, as NannyML. */
  readonly bandWidth?: number;
}

/** One estimated metric with its confidence band, or nulls with the reason it cannot be estimated. */
export interface EstimatedMetric {
  readonly estimate: number | null;
  /** `estimate − bandWidth · samplingError`, clipped to [0, 1]. */
  readonly lower: number | null;
  /** `estimate + bandWidth · samplingError`, clipped to [0, 1]. */
  readonly upper: number | null;
  /** The standard error of the metric on a window of this size (see `SamplingErrorComponent`). */
  readonly samplingError: number | null;
  readonly undefinedReason: string | null;
}

/** The expected confusion matrix of a window: sums of calibrated probabilities (fractional counts). */
export interface ExpectedConfusion {
  readonly tp: number;
  readonly fp: number;
  readonly tn: number;
  readonly fn: number;
}

export interface PerformanceEstimate {
  readonly records: number;
  readonly metrics: Readonly<Record<EstimatedMetricName, EstimatedMetric>>;
  readonly expectedConfusion: ExpectedConfusion;
}

/** The fitted estimator's state, a name-tagged JSON document (`CbpeEstimator.fromJSON` reads it back). */
export interface CbpeState {
  readonly name: 'cbpe';
  readonly formatVersion: 1;
  readonly threshold: number;
  readonly bandWidth: number;
  readonly referenceRecords: number;
  readonly referencePositiveRate: number;
  /** The isotonic calibrator's thresholds and values; null when the probabilities are used as they are. */
  readonly calibrator: { readonly thresholds: number[]; readonly values: number[] } | null;
  readonly samplingErrors: SamplingErrorComponents;
}

/** The fewest reference records accepted, and of each class. */
const MIN_REFERENCE_RECORDS = 20;
const MIN_REFERENCE_PER_CLASS = 5;

/**
 * Confidence-based performance estimation (NannyML's CBPE) for a binary classifier: estimates how a model
 * performs on predictions whose labels are not known yet, from its predicted probabilities alone. If the
 * probabilities are calibrated (P(y = 1 | p) = p), each prediction is right with a known probability, and
 * the expected confusion matrix follows: a predicted positive with calibrated probability c adds c to the
 * true positives and 1 − c to the false positives; a predicted negative adds c to the false negatives and
 * 1 − c to the true negatives. Accuracy, recall and specificity are read from it; ROC AUC from the expected
 * true and false positive counts at every threshold (rows ordered by the model's own probability); the
 * Brier score is the expected squared error `c(1 − p)² + (1 − c)p²`. The calibration is learnt on the
 * reference (isotonic regression when it helps), so the estimate stays right under covariate shift, as
 * long as P(y | p) does not change (no concept drift). The band is ±`bandWidth` sampling errors,
 * measured on the reference and scaled to the window's size.
 */
export class CbpeEstimator {
  private constructor(
    readonly threshold: number,
    readonly bandWidth: number,
    readonly referenceRecords: number,
    readonly referencePositiveRate: number,
    private readonly calibrator: IsotonicCalibrator | null,
    readonly samplingErrors: SamplingErrorComponents,
  ) {}

  /** Whether the probabilities are calibrated on the reference before estimating. */
  get calibrated(): boolean {
    return this.calibrator !== null;
  }

  /**
   * Fits on reference data (see `CbpeReference`): at least 20 records and 5 of each class, probabilities in
   * [0, 1], labels and predictions 0 or 1. Deterministic for given inputs and options.
   */
  static fit(reference: CbpeReference, options: CbpeOptions = {}): CbpeEstimator {
    const threshold = options.threshold ?? DEFAULT_THRESHOLD;
    validateThreshold(threshold, 'CbpeEstimator.fit');
    const bandWidth = options.bandWidth ?? 3;
    if (!(bandWidth >= 0 && Number.isFinite(bandWidth))) {
      throw invalidParameter(`CbpeEstimator.fit: bandWidth is ${bandWidth}; it must be a number >= 0`);
    }
    const calibration = options.calibration ?? 'auto';
    if (!['auto', 'isotonic', 'none'].includes(calibration)) {
      throw invalidParameter(
        `CbpeEstimator.fit: calibration is '${calibration}'; it must be one of auto, isotonic, none`,
      );
    }
    const prediction = reference.prediction ?? thresholded(reference.probability, threshold);
    const n = validateColumns('CbpeEstimator.fit (reference)', {
      probability: { values: reference.probability, kind: 'probability' },
      label: { values: reference.label, kind: 'class' },
      prediction: { values: prediction, kind: 'class' },
    });
    let positives = 0;
    for (let i = 0; i < n; i++) positives += reference.label[i]!;
    if (
      n < MIN_REFERENCE_RECORDS ||
      positives < MIN_REFERENCE_PER_CLASS ||
      n - positives < MIN_REFERENCE_PER_CLASS
    ) {
      throw invalidParameter(
        `CbpeEstimator.fit: the reference has ${n} records, ${positives} positive and ${n - positives} negative; it needs at least ${MIN_REFERENCE_RECORDS} records and ${MIN_REFERENCE_PER_CLASS} of each class`,
      );
    }
    const calibrate =
      calibration === 'isotonic' ||
      (calibration === 'auto' &&
        needsCalibration(reference.label, reference.probability, options.calibrationCheck));
    const calibrator = calibrate ? IsotonicCalibrator.fit(reference.probability, reference.label) : null;
    return new CbpeEstimator(
      threshold,
      bandWidth,
      n,
      positives / n,
      calibrator,
      samplingErrorComponents(reference.label, reference.probability, prediction),
    );
  }

  /** Reads back a `toJSON` document (parsed JSON); throws when it is not one. */
  static fromJSON(json: unknown): CbpeEstimator {
    const state = json as CbpeState;
    if (
      typeof json !== 'object' ||
      json === null ||
      state.name !== 'cbpe' ||
      state.formatVersion !== 1 ||
      typeof state.samplingErrors !== 'object'
    ) {
      throw invalidParameter(
        "CbpeEstimator.fromJSON: not a CBPE state (expected name 'cbpe', formatVersion 1)",
      );
    }
    const calibrator =
      state.calibrator === null
        ? null
        : IsotonicCalibrator.fromPoints(
            Float64Array.from(state.calibrator.thresholds),
            Float64Array.from(state.calibrator.values),
          );
    return new CbpeEstimator(
      state.threshold,
      state.bandWidth,
      state.referenceRecords,
      state.referencePositiveRate,
      calibrator,
      state.samplingErrors,
    );
  }

  toJSON(): CbpeState {
    return {
      name: 'cbpe',
      formatVersion: 1,
      threshold: this.threshold,
      bandWidth: this.bandWidth,
      referenceRecords: this.referenceRecords,
      referencePositiveRate: this.referencePositiveRate,
      calibrator:
        this.calibrator === null
          ? null
          : { thresholds: [...this.calibrator.thresholds], values: [...this.calibrator.values] },
      samplingErrors: this.samplingErrors,
    };
  }

  /** The calibrated probability of each prediction (the probabilities themselves when not calibrating). */
  calibrate(probability: Float64Array): Float64Array {
    return this.calibrator === null ? Float64Array.from(probability) : this.calibrator.calibrate(probability);
  }

  /**
   * Estimates the window's performance (see the class). An empty window is allowed: every metric is null,
   * saying there were no predictions.
   */
  estimate(analysis: CbpeAnalysis): PerformanceEstimate {
    const prediction = analysis.prediction ?? thresholded(analysis.probability, this.threshold);
    const n = validateColumns('CbpeEstimator.estimate', {
      probability: { values: analysis.probability, kind: 'probability' },
      prediction: { values: prediction, kind: 'class' },
    });
    const p = analysis.probability;
    const c = this.calibrate(p);
    let tp = 0;
    let fp = 0;
    let tn = 0;
    let fn = 0;
    let brier = 0;
    for (let i = 0; i < n; i++) {
      const ci = c[i]!;
      if (prediction[i] === 1) {
        tp += ci;
        fp += 1 - ci;
      } else {
        fn += ci;
        tn += 1 - ci;
      }
      brier += ci * (1 - p[i]!) ** 2 + (1 - ci) * p[i]! ** 2;
    }
    const expectedConfusion = { tp, fp, tn, fn };
    if (n === 0) {
      const none = this.metric(null, 0, 'accuracy', 'no predictions in the window');
      return {
        records: 0,
        metrics: Object.fromEntries(
          ESTIMATED_METRICS.map((name) => [name, none]),
        ) as PerformanceEstimate['metrics'],
        expectedConfusion,
      };
    }
    const positives = tp + fn;
    const negatives = tn + fp;
    const noPositives = 'the calibrated probabilities expect no positive in the window';
    const noNegatives = 'the calibrated probabilities expect no negative in the window';
    return {
      records: n,
      metrics: {
        accuracy: this.metric((tp + tn) / n, n, 'accuracy'),
        roc_auc:
          positives > 0 && negatives > 0
            ? this.metric(expectedRocAuc(p, c), n, 'roc_auc')
            : this.metric(null, n, 'roc_auc', positives > 0 ? noNegatives : noPositives),
        recall:
          positives > 0
            ? this.metric(tp / positives, n, 'recall')
            : this.metric(null, n, 'recall', noPositives),
        specificity:
          negatives > 0
            ? this.metric(tn / negatives, n, 'specificity')
            : this.metric(null, n, 'specificity', noNegatives),
        brier: this.metric(brier / n, n, 'brier'),
      },
      expectedConfusion,
    };
  }

  private metric(
    estimate: number | null,
    n: number,
    name: EstimatedMetricName,
    undefinedReason: string | null = null,
  ): EstimatedMetric {
    if (estimate === null) {
      return { estimate: null, lower: null, upper: null, samplingError: null, undefinedReason };
    }
    const error = samplingError(this.samplingErrors[name], n);
    const half = error === null ? 0 : this.bandWidth * error;
    return {
      estimate,
      lower: Math.max(0, estimate - half),
      upper: Math.min(1, estimate + half),
      samplingError: error,
      undefinedReason: null,
    };
  }
}

/**
 * The ROC AUC expected from calibrated probabilities `c`, rows ranked by the model's probabilities `p`:
 * walking the distinct values of `p` downwards, the expected true positives grow by the group's `Σ c` and
 * the false positives by `Σ (1 − c)`; the area under the expected (FPR, TPR) curve is summed by trapezoids,
 * so a group of equal `p` counts as a tie (1/2), as in the realized AUC.
 */
export function expectedRocAuc(p: Float64Array, c: Float64Array): number {
  const n = p.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => p[b]! - p[a]!);
  let totalPositive = 0;
  for (let i = 0; i < n; i++) totalPositive += c[i]!;
  const totalNegative = n - totalPositive;
  let twiceArea = 0;
  let tp = 0;
  for (let start = 0; start < n; ) {
    let end = start;
    let groupPositive = 0;
    while (end < n && p[order[end]!] === p[order[start]!]) {
      groupPositive += c[order[end]!]!;
      end++;
    }
    const groupNegative = end - start - groupPositive;
    twiceArea += groupNegative * (2 * tp + groupPositive);
    tp += groupPositive;
    start = end;
  }
  return twiceArea / (2 * totalPositive * totalNegative);
}

function thresholded(probability: Float64Array, threshold: number): Float64Array {
  const out = new Float64Array(probability.length);
  for (let i = 0; i < probability.length; i++) out[i] = probability[i]! >= threshold ? 1 : 0;
  return out;
}
