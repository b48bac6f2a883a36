import type { Dataset } from '../../data/dataset.js';
import { type DatasetProfile, profileDataset } from '../../data/profile.js';
import { codeLabel, getFeature } from '../../data/schema.js';
import {
  type CalibrationDocument,
  type CalibrationFigures,
  calibrationFigures,
} from '../calibration/calibration.js';
import type { CrossValidationResult } from '../cross-validate.js';
import {
  averagePrecision,
  type BinaryMetrics,
  binaryCurves,
  brierScore,
  type CalibrationBin,
  confusionMatrix,
  confusionMetrics,
  type FoldSummary,
  rocAuc,
} from '../metrics/index.js';
import type { ParamValue } from '../params.js';

/** Age bands of the subgroup table (the data set's ages run from 50 to 90). */
export const AGE_BANDS = [
  { label: '50-59', low: 50, high: 60 },
  { label: '60-69', low: 60, high: 70 },
  { label: '70-79', low: 70, high: 80 },
  { label: '80-90', low: 80, high: 91 },
] as const;

/** Curves keep at most this many points (evenly thinned), so reports stay small. */
const MAX_CURVE_POINTS = 201;

export interface SubgroupMetrics {
  readonly group: 'Gender' | 'Ethnicity' | 'Age';
  readonly value: string;
  readonly count: number;
  readonly positives: number;
  readonly accuracy: number;
  readonly precision: number;
  readonly recall: number;
  readonly specificity: number;
  /** Null when the subgroup has only one class. */
  readonly roc_auc: number | null;
  readonly brier: number;
}

export interface FeatureImportance {
  readonly feature: string;
  readonly value: number;
}

export interface Importance {
  /** Mean absolute contribution per feature (margin units), largest first. */
  readonly mean_abs_contribution: readonly FeatureImportance[];
  /** Tree ensembles: mean loss reduction of the splits on each feature (XGBoost's `gain`). */
  readonly gain?: readonly FeatureImportance[];
  /** Tree ensembles: mean cover of the splits on each feature (XGBoost's `cover`). */
  readonly cover?: readonly FeatureImportance[];
}

/**
 * The data behind a model card, made at training time and saved in the model document. The
 * `evaluation` part (confusion matrix, curves, calibration, subgroups) is computed on out-of-fold
 * predictions when the model was cross-validated, and on the training rows (optimistic) otherwise.
 */
export interface ModelReport {
  readonly name: 'onset-model-report';
  readonly format_version: 1;
  readonly estimator: string;
  readonly params: Readonly<Record<string, ParamValue>>;
  readonly metrics: {
    readonly training: BinaryMetrics;
    readonly cross_validation?: {
      readonly folds: number;
      readonly seed: number;
      readonly summary: FoldSummary;
    };
  };
  readonly evaluation: {
    readonly source: 'out-of-fold' | 'training';
    readonly rows: number;
    readonly threshold: number;
    readonly confusion: {
      readonly tp: number;
      readonly fp: number;
      readonly tn: number;
      readonly fn: number;
    };
    readonly brier: number;
    readonly roc: {
      readonly auc: number;
      readonly fpr: readonly number[];
      readonly tpr: readonly number[];
      /**
       * The threshold of each point: a row is positive iff its probability is at least it (the first,
       * above every probability, makes nothing positive). With the counts of `confusion`, the confusion
       * matrix at each point (`tp = tpr · positives`, `fp = fpr · negatives`). Absent from reports made
       * before it was added.
       */
      readonly thresholds?: readonly number[];
    };
    readonly precision_recall: {
      readonly average_precision: number;
      readonly precision: readonly number[];
      readonly recall: readonly number[];
    };
    readonly calibration: readonly CalibrationBin[];
    readonly subgroups: readonly SubgroupMetrics[];
  };
  /**
   * The model's calibration: how it was chosen, and the figures of the out-of-fold probabilities before
   * it and after it (each fold calibrated by a fit on the other folds). Absent when not calibrated.
   */
  readonly calibration?: {
    readonly method: CalibrationDocument['method'];
    readonly chosen_by: CalibrationDocument['chosen_by'];
    readonly candidates: CalibrationDocument['candidates'];
    readonly before: CalibrationFigures;
    readonly after: CalibrationFigures;
  };
  readonly importance?: Importance;
  readonly data: { readonly fingerprint: string; readonly rows: number; readonly profile: DatasetProfile };
}

export interface ReportInputs {
  readonly dataset: Dataset;
  readonly estimator: string;
  readonly params: Readonly<Record<string, ParamValue>>;
  readonly trainingMetrics: BinaryMetrics;
  /** Probabilities of the final model on the training rows. */
  readonly trainingProbabilities: Float64Array;
  readonly crossValidation?: CrossValidationResult;
  /**
   * With `crossValidation`, the probabilities the evaluation is of: the calibrated out-of-fold ones for a
   * calibrated model (default: the out-of-fold ones).
   */
  readonly heldOut?: Float64Array;
  /** The calibration, with the out-of-fold probabilities before it and the held-out ones after it. */
  readonly calibration?: {
    readonly document: CalibrationDocument;
    readonly outOfFold: Float64Array;
    readonly heldOut: Float64Array;
  };
  readonly importance?: Importance;
  readonly threshold?: number;
  /** Seeds the bootstrap of the calibration figures' intervals (default 42). */
  readonly seed?: number;
}

export function buildModelReport(inputs: ReportInputs): ModelReport {
  const { dataset } = inputs;
  const y = dataset.target!;
  const threshold = inputs.threshold ?? 0.5;
  const cv = inputs.crossValidation;
  const probabilities = cv ? (inputs.heldOut ?? cv.outOfFold) : inputs.trainingProbabilities;
  const calibration = inputs.calibration;
  const seed = inputs.seed ?? 42;
  const curves = binaryCurves(y, probabilities, { dropIntermediate: true });
  const confusion = confusionMatrix(y, probabilities, threshold);
  const profile = profileDataset(dataset);
  const pr = thin(curves.precisionRecall.precision.length);
  const roc = thin(curves.roc.fpr.length);
  return {
    name: 'onset-model-report',
    format_version: 1,
    estimator: inputs.estimator,
    params: inputs.params,
    metrics: {
      training: inputs.trainingMetrics,
      ...(cv ? { cross_validation: { folds: cv.folds, seed: cv.seed, summary: cv.summary } } : {}),
    },
    evaluation: {
      source: cv ? 'out-of-fold' : 'training',
      rows: y.length,
      threshold,
      confusion: { tp: confusion.tp, fp: confusion.fp, tn: confusion.tn, fn: confusion.fn },
      brier: brierScore(y, probabilities),
      roc: {
        auc: rocAuc(y, probabilities),
        fpr: roc.map((i) => curves.roc.fpr[i]!),
        tpr: roc.map((i) => curves.roc.tpr[i]!),
        thresholds: roc.map((i) => curves.roc.thresholds[i]!),
      },
      precision_recall: {
        average_precision: averagePrecision(y, probabilities),
        precision: pr.map((i) => curves.precisionRecall.precision[i]!),
        recall: pr.map((i) => curves.precisionRecall.recall[i]!),
      },
      calibration: curves.calibration.bins,
      subgroups: subgroupMetrics(dataset, probabilities, threshold),
    },
    ...(calibration
      ? {
          calibration: {
            method: calibration.document.method,
            chosen_by: calibration.document.chosen_by,
            candidates: calibration.document.candidates,
            before: calibrationFigures(y, calibration.outOfFold, seed),
            after: calibrationFigures(y, calibration.heldOut, seed),
          },
        }
      : {}),
    ...(inputs.importance ? { importance: inputs.importance } : {}),
    data: { fingerprint: profile.fingerprint, rows: dataset.rowCount, profile },
  };
}

/** Indices that keep at most MAX_CURVE_POINTS points of a curve, always including both ends. */
function thin(length: number): number[] {
  if (length <= MAX_CURVE_POINTS) return Array.from({ length }, (_, i) => i);
  return Array.from({ length: MAX_CURVE_POINTS }, (_, k) =>
    Math.round((k * (length - 1)) / (MAX_CURVE_POINTS - 1)),
  );
}

/** Metrics per Gender, per Ethnicity and per age band, with counts. */
export function subgroupMetrics(
  dataset: Dataset,
  probabilities: Float64Array,
  threshold: number,
): SubgroupMetrics[] {
  const y = dataset.target!;
  const groups: { group: SubgroupMetrics['group']; value: string; member: (i: number) => boolean }[] = [];
  for (const name of ['Gender', 'Ethnicity'] as const) {
    const feature = getFeature(name);
    if (feature.kind === 'continuous') continue;
    for (const { code } of feature.codes) {
      groups.push({
        group: name,
        value: codeLabel(feature, code) ?? String(code),
        member: (i) => dataset.columns[name][i] === code,
      });
    }
  }
  for (const band of AGE_BANDS) {
    groups.push({
      group: 'Age',
      value: band.label,
      member: (i) => dataset.columns.Age[i]! >= band.low && dataset.columns.Age[i]! < band.high,
    });
  }
  const out: SubgroupMetrics[] = [];
  for (const { group, value, member } of groups) {
    const rows: number[] = [];
    for (let i = 0; i < dataset.rowCount; i++) if (member(i)) rows.push(i);
    if (rows.length === 0) continue;
    const ys = Float64Array.from(rows, (i) => y[i]!);
    const ps = Float64Array.from(rows, (i) => probabilities[i]!);
    const positives = ys.reduce((sum, v) => sum + v, 0);
    const m = confusionMetrics(confusionMatrix(ys, ps, threshold));
    out.push({
      group,
      value,
      count: rows.length,
      positives,
      accuracy: m.accuracy,
      precision: m.precision,
      recall: m.recall,
      specificity: m.specificity,
      roc_auc: positives > 0 && positives < rows.length ? rocAuc(ys, ps) : null,
      brier: brierScore(ys, ps),
    });
  }
  return out;
}
