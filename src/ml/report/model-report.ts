import type { Dataset } from '../../data/dataset.js';
import { type DatasetProfile, profileDataset } from '../../data/profile.js';
import { codeLabel, getFeature } from '../../data/schema.js';
import { percentileInterval } from '../../math/percentile-interval.js';
import { wilsonInterval } from '../../math/proportion-interval.js';
import { Random } from '../../util/random.js';
import {
  type CalibrationDocument,
  type CalibrationFigures,
  calibrationFigures,
} from '../calibration/calibration.js';
import type { ConformalDocument, PredictionSet } from '../calibration/conformal.js';
import type { CrossValidationResult } from '../cross-validate.js';
import type { ThresholdDocument } from '../decision/threshold-policy.js';
import {
  averagePrecision,
  type BinaryMetrics,
  binaryCurves,
  brierScore,
  type CalibrationBin,
  confusionMatrix,
  confusionMetrics,
  DEFAULT_THRESHOLD,
  type DecisionCurve,
  decisionCurve,
  type FoldSummary,
  rocAuc,
} from '../metrics/index.js';
import type { ParamValue } from '../params.js';
import { AGE_BANDS } from '../subgroups.js';

/** Age bands of the subgroup table (the data set's ages run from 50 to 90). */
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
  /**
   * 95% percentile bootstrap intervals (`SUBGROUP_RESAMPLES` resamples of the subgroup's rows, seeded):
   * how far each figure could move with other patients of the same kind. ROC AUC's is null when a
   * resample can hold one class only. Absent from reports made before they were added.
   */
  readonly intervals?: {
    readonly accuracy: readonly [number, number];
    readonly recall: readonly [number, number];
    readonly specificity: readonly [number, number];
    readonly roc_auc: readonly [number, number] | null;
    readonly brier: readonly [number, number];
  };
}

/**
 * The largest difference of a metric between the subgroups of one grouping (Gender, Ethnicity or Age)
 * with at least `MIN_SUBGROUP_ROWS` rows, flagged when it exceeds the report's bound.
 */
export interface SubgroupGap {
  readonly group: SubgroupMetrics['group'];
  readonly metric: 'accuracy' | 'recall' | 'specificity';
  readonly gap: number;
  readonly lowest: { readonly value: string; readonly metric: number };
  readonly highest: { readonly value: string; readonly metric: number };
  readonly bound: number;
  readonly flagged: boolean;
}

/** Resamples of the subgroup intervals. */
export const SUBGROUP_RESAMPLES = 1000;
/** Subgroups with fewer rows are shown, but not compared for gaps (their figures are too uncertain). */
export const MIN_SUBGROUP_ROWS = 30;
/** The default bound on a subgroup gap before it is flagged. */
export const DEFAULT_SUBGROUP_GAP_BOUND = 0.1;

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
    /** Absent from reports made before they were added. */
    readonly subgroup_gaps?: readonly SubgroupGap[];
    /** Net benefit across thresholds beside treating all and none. Absent from older reports. */
    readonly decision_curve?: DecisionCurve;
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
  /**
   * The prediction sets: their level and thresholds, how they covered each diagnosis held out (overall and
   * in each subgroup of `MIN_SUBGROUP_ROWS` rows or more), and the share left undecided. Absent without
   * cross-validation.
   */
  readonly conformal?: ConformalDocument & {
    readonly subgroups: readonly {
      readonly group: SubgroupMetrics['group'];
      readonly value: string;
      readonly count: number;
      /** Null for a diagnosis no patient of the subgroup has. */
      readonly coverage: readonly [number | null, number | null];
      /** Each coverage's 95% Wilson interval (the subgroup's patients with that diagnosis are few). */
      readonly coverage_interval?: readonly [Interval | null, Interval | null];
      /**
       * Whether each coverage misses the level by more than `COVERAGE_TOLERANCE` beyond doubt: its whole
       * interval lies outside level ± the tolerance. A coverage outside the band whose interval reaches
       * into it may be the sampling error of a small subgroup. (Both are absent from reports made before
       * they were added.)
       */
      readonly off_target?: readonly [boolean | null, boolean | null];
      readonly undecided: number;
    }[];
  };
  /** The decision threshold and the policy that chose it (`evaluation.threshold` is its value). */
  readonly threshold?: ThresholdDocument;
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
  /** The calibration, with the out-of-fold probabilities before it and the held-out ones after it. */
  readonly calibration?: {
    readonly document: CalibrationDocument;
    readonly outOfFold: Float64Array;
    readonly heldOut: Float64Array;
  };
  readonly importance?: Importance;
  /** The decision threshold the evaluation's decisions are made at (default: the fixed 0.5). */
  readonly threshold?: ThresholdDocument;
  /** Seeds the bootstraps of the calibration figures' and subgroups' intervals (default 42). */
  readonly seed?: number;
  /** A subgroup gap above this is flagged (default `DEFAULT_SUBGROUP_GAP_BOUND`). */
  readonly subgroupGapBound?: number;
  /** The prediction sets fitted on the held-out probabilities, and each row's held-out set. */
  readonly conformal?: {
    readonly document: ConformalDocument;
    readonly heldOutSets: readonly PredictionSet[];
  };
}

export function buildModelReport(inputs: ReportInputs): ModelReport {
  const { dataset } = inputs;
  const y = dataset.target!;
  const threshold = inputs.threshold?.value ?? DEFAULT_THRESHOLD;
  const cv = inputs.crossValidation;
  // Cross-validated, the evaluation is of what the model gives patients it has not seen: the calibrated
  // out-of-fold probabilities for a calibrated model.
  const probabilities = cv ? (inputs.calibration?.heldOut ?? cv.outOfFold) : inputs.trainingProbabilities;
  const calibration = inputs.calibration;
  const seed = inputs.seed ?? 42;
  const subgroups = subgroupMetrics(dataset, probabilities, threshold, seed);
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
      subgroups,
      subgroup_gaps: subgroupGaps(subgroups, inputs.subgroupGapBound ?? DEFAULT_SUBGROUP_GAP_BOUND),
      decision_curve: decisionCurve(y, probabilities),
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
    ...(inputs.conformal
      ? {
          conformal: {
            ...inputs.conformal.document,
            subgroups: conformalBySubgroup(
              dataset,
              inputs.conformal.heldOutSets,
              inputs.conformal.document.level,
            ),
          },
        }
      : {}),
    ...(inputs.threshold ? { threshold: inputs.threshold } : {}),
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

/** Each subgroup's members: by Gender, by Ethnicity and by age band. */
function subgroupsOf(
  dataset: Dataset,
): { group: SubgroupMetrics['group']; value: string; member: (i: number) => boolean }[] {
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
  return groups;
}

/** How far from its level a subgroup's coverage of a diagnosis may be (the target). */
export const COVERAGE_TOLERANCE = 0.02;

/** A 95% interval: its low and high ends. */
type Interval = readonly [number, number];

type SubgroupCoverage = NonNullable<ModelReport['conformal']>['subgroups'][number];

/**
 * A subgroup's coverage of a diagnosis as the report, the CLI and the model card print it:
 * "0.871 [0.804, 0.923]", with "off target" when its interval lies outside level ± `COVERAGE_TOLERANCE`,
 * and "–" when no patient of the subgroup has the diagnosis.
 */
export function formatSubgroupCoverage(entry: SubgroupCoverage, label: 0 | 1): string {
  const coverage = entry.coverage[label];
  if (coverage === null) return '–';
  const interval = entry.coverage_interval?.[label];
  return [
    coverage.toFixed(3),
    ...(interval ? [`[${interval[0].toFixed(3)}, ${interval[1].toFixed(3)}]`] : []),
    ...(entry.off_target?.[label] ? ['off target'] : []),
  ].join(' ');
}

/**
 * The held-out sets' coverage of each diagnosis with its Wilson interval, whether it is off target, and
 * the undecided share, in subgroups of enough rows.
 */
function conformalBySubgroup(
  dataset: Dataset,
  sets: readonly PredictionSet[],
  level: number,
): NonNullable<ModelReport['conformal']>['subgroups'] {
  const y = dataset.target!;
  return subgroupsOf(dataset).flatMap(({ group, value, member }) => {
    const covered = [0, 0];
    const counts = [0, 0];
    let undecided = 0;
    let count = 0;
    for (let i = 0; i < dataset.rowCount; i++) {
      if (!member(i)) continue;
      count++;
      const label = y[i] === 1 ? 1 : 0;
      counts[label]!++;
      if (sets[i]!.includes(label)) covered[label]!++;
      if (sets[i]!.length === 2) undecided++;
    }
    if (count < MIN_SUBGROUP_ROWS) return [];
    const share = (label: 0 | 1) => (counts[label]! > 0 ? covered[label]! / counts[label]! : null);
    const interval = (label: 0 | 1) =>
      counts[label]! > 0 ? wilsonInterval(covered[label]!, counts[label]!) : null;
    const offTarget = (label: 0 | 1) => {
      const found = interval(label);
      return found === null
        ? null
        : found[1] < level - COVERAGE_TOLERANCE || found[0] > level + COVERAGE_TOLERANCE;
    };
    return [
      {
        group,
        value,
        count,
        coverage: [share(0), share(1)] as const,
        coverage_interval: [interval(0), interval(1)] as const,
        off_target: [offTarget(0), offTarget(1)] as const,
        undecided: undecided / count,
      },
    ];
  });
}

/** Metrics per Gender, per Ethnicity and per age band, with counts. */
export function subgroupMetrics(
  dataset: Dataset,
  probabilities: Float64Array,
  threshold: number,
  seed = 42,
): SubgroupMetrics[] {
  const y = dataset.target!;
  const groups = subgroupsOf(dataset);
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
      intervals: subgroupIntervals(ys, ps, threshold, new Random(seed + out.length)),
    });
  }
  return out;
}

/**
 * Percentile bootstrap intervals of a subgroup's figures (see `SubgroupMetrics.intervals`). A resample is
 * kept as how many times it drew each row, and the rows are sorted by probability once: each resample's
 * figures, ROC AUC included (ties counting half), then take one pass over the rows.
 */
function subgroupIntervals(
  ys: Float64Array,
  ps: Float64Array,
  threshold: number,
  random: Random,
): NonNullable<SubgroupMetrics['intervals']> {
  const n = ys.length;
  const figures = {
    accuracy: new Float64Array(SUBGROUP_RESAMPLES),
    recall: new Float64Array(SUBGROUP_RESAMPLES),
    specificity: new Float64Array(SUBGROUP_RESAMPLES),
    roc_auc: new Float64Array(SUBGROUP_RESAMPLES),
    brier: new Float64Array(SUBGROUP_RESAMPLES),
  };
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => ps[a]! - ps[b]!);
  const drawn = new Int32Array(n);
  let aucDefined = true;
  for (let r = 0; r < SUBGROUP_RESAMPLES; r++) {
    drawn.fill(0);
    for (let i = 0; i < n; i++) drawn[random.int(n)]!++;
    let tp = 0;
    let fp = 0;
    let tn = 0;
    let fn = 0;
    let squared = 0;
    // Pairs of a positive above a negative, ties counting half, over the rows in probability order.
    let orderedPairs = 0;
    let negativesBelow = 0;
    for (let k = 0; k < n; ) {
      let positivesHere = 0;
      let negativesHere = 0;
      const p = ps[order[k]!]!;
      for (; k < n && ps[order[k]!] === p; k++) {
        const row = order[k]!;
        const times = drawn[row]!;
        if (times === 0) continue;
        const positive = ys[row] === 1;
        if (positive) positivesHere += times;
        else negativesHere += times;
        const predictedPositive = p >= threshold;
        if (positive && predictedPositive) tp += times;
        else if (positive) fn += times;
        else if (predictedPositive) fp += times;
        else tn += times;
        squared += times * (p - ys[row]!) ** 2;
      }
      orderedPairs += positivesHere * (negativesBelow + negativesHere / 2);
      negativesBelow += negativesHere;
    }
    figures.accuracy[r] = (tp + tn) / n;
    // A resample without a class has no recall (or specificity): the other figures still count.
    figures.recall[r] = tp + fn > 0 ? tp / (tp + fn) : Number.NaN;
    figures.specificity[r] = tn + fp > 0 ? tn / (tn + fp) : Number.NaN;
    figures.brier[r] = squared / n;
    if (tp + fn === 0 || tn + fp === 0) aucDefined = false;
    else figures.roc_auc[r] = orderedPairs / ((tp + fn) * (tn + fp));
  }
  return {
    accuracy: percentileInterval(figures.accuracy),
    recall: percentileInterval(figures.recall),
    specificity: percentileInterval(figures.specificity),
    roc_auc: aucDefined ? percentileInterval(figures.roc_auc) : null,
    brier: percentileInterval(figures.brier),
  };
}

/** The largest gap of each metric within each grouping, among subgroups of `MIN_SUBGROUP_ROWS` or more. */
export function subgroupGaps(subgroups: readonly SubgroupMetrics[], bound: number): SubgroupGap[] {
  const gaps: SubgroupGap[] = [];
  for (const group of ['Gender', 'Ethnicity', 'Age'] as const) {
    const members = subgroups.filter((s) => s.group === group && s.count >= MIN_SUBGROUP_ROWS);
    if (members.length < 2) continue;
    for (const metric of ['accuracy', 'recall', 'specificity'] as const) {
      const sorted = [...members].sort((a, b) => a[metric] - b[metric]);
      const lowest = sorted[0]!;
      const highest = sorted[sorted.length - 1]!;
      const gap = highest[metric] - lowest[metric];
      gaps.push({
        group,
        metric,
        gap,
        lowest: { value: lowest.value, metric: lowest[metric] },
        highest: { value: highest.value, metric: highest[metric] },
        bound,
        flagged: gap > bound,
      });
    }
  }
  return gaps;
}
