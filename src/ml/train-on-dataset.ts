import { type Dataset, requireTarget, toRowMajor } from '../data/dataset.js';
import { fingerprintDataset, rowDigests } from '../data/fingerprint.js';
import { buildReferenceProfile, type ReferenceProfile } from '../data/reference-profile.js';
import { FEATURE_NAMES } from '../data/schema.js';
import { invalidParameter } from '../errors.js';
import { createMatrix, type Matrix } from '../math/matrix.js';
import { CalibratedModel } from './calibration/calibrated-model.js';
import { type CalibrationChoice, chooseCalibration } from './calibration/calibration.js';
import { DEFAULT_CONFORMAL_LEVEL, fitConformal } from './calibration/conformal.js';
import { checkTrainingData } from './check-training-data.js';
import { type CrossValidationResult, crossValidate } from './cross-validate.js';
import {
  chooseThreshold,
  DEFAULT_THRESHOLD_POLICY,
  type ThresholdPolicy,
} from './decision/threshold-policy.js';
import type { EstimatorName, FitProgress, FittedModel } from './estimator.js';
import { createEstimator } from './estimator-registry.js';
import { globalImportance, rankFeatures } from './explain/explain.js';
import { fitWithHoldout } from './fit-with-holdout.js';
import { type BinaryMetrics, evaluateBinary, type SelectionMetric } from './metrics/index.js';
import { createModelDocument, type ModelDocument, type TuningSummary } from './model-document.js';
import { canRunFoldsInParallel, ParallelFoldExecutor } from './parallel/fold-executor.js';
import type { ParamValue } from './params.js';
import { buildModelReport, type Importance, type ModelReport } from './report/model-report.js';
import { searchSpaceOf } from './tuning/search-space.js';
import { type TrialResult, type TuneResult, tune } from './tuning/tune.js';

/** Folds of the cross-validation a calibration is fitted on when no `cvFolds` was asked for. */
export const CALIBRATION_FOLDS = 5;

export interface TrainOptions {
  readonly estimator: EstimatorName;
  /** Parameters; with `tune`, these stay fixed and the rest of the family's search space is searched. */
  readonly params?: Readonly<Record<string, unknown>>;
  /** Search the parameters first: each trial cross-validated with `cvFolds` (default 5) on this data only. */
  readonly tune?: {
    readonly trials: number;
    readonly seed?: number;
    readonly metric?: SelectionMetric;
    readonly sampler?: 'tpe' | 'random';
    readonly onTrial?: (done: number, total: number, best: TrialResult) => void;
  };
  /**
   * Cross-validate first with this many stratified folds (seeded by `cvSeed`, default 42). A calibration
   * needs the out-of-fold probabilities: without `cvFolds`, it cross-validates `CALIBRATION_FOLDS` folds.
   */
  readonly cvFolds?: number;
  /**
   * How the model's probabilities are calibrated on its out-of-fold probabilities: `auto` (the default)
   * lets cross-validation choose among none and every method of `CALIBRATION_METHODS`; `none` keeps the
   * model's own; a method name fits that one (see `chooseCalibration`).
   */
  readonly calibration?: CalibrationChoice;
  /**
   * The coverage of the prediction sets fitted on the held-out probabilities (default
   * `DEFAULT_CONFORMAL_LEVEL`); they need cross-validation, as calibration does.
   */
  readonly conformalLevel?: number;
  /** A gap between subgroups above this is flagged in the report (default `DEFAULT_SUBGROUP_GAP_BOUND`). */
  readonly subgroupGapBound?: number;
  readonly cvSeed?: number;
  /** Cross-validate (without tuning) on two cores, through a worker thread; same results. Default false. */
  readonly parallelFolds?: boolean;
  /**
   * How the decision threshold is chosen (default: the fixed 0.5): on the calibrated out-of-fold
   * probabilities for a policy other than a fixed threshold, which needs cross-validation (see
   * `chooseThreshold`). Cross-validation's per-fold metrics are at 0.5, or at the fixed threshold.
   */
  readonly threshold?: ThresholdPolicy;
  readonly onFold?: (done: number, total: number) => void;
  readonly onProgress?: (progress: FitProgress) => void;
}

export interface TrainResult {
  readonly document: ModelDocument;
  readonly model: FittedModel;
  /** Seconds spent fitting the final model (reading the file and cross-validation excluded). */
  readonly fitSeconds: number;
  readonly trainingMetrics: BinaryMetrics;
  /** The rows it was fitted on, as `rowDigests` (the promotion gate checks held-out rows against them). */
  readonly trainingRows: readonly string[];
  readonly crossValidation?: CrossValidationResult;
  readonly tuning?: TuneResult;
  readonly report: ModelReport;
  /**
   * What the training rows looked like, for drift checks: fixed bins and a bounded sample with the
   * model's probabilities (out-of-fold when cross-validated, else the final model's own).
   */
  readonly referenceProfile: ReferenceProfile;
}

/** The features of a data set as the matrix estimators take (schema order). */
export function featureMatrix(dataset: Dataset): Matrix {
  return createMatrix(toRowMajor(dataset), dataset.rowCount, FEATURE_NAMES.length);
}

/**
 * Trains a model on a whole data set: validates the parameters, optionally cross-validates, fits the
 * final model on every row and builds its model document (params, schema, lineage, metrics).
 */
export function trainOnDataset(dataset: Dataset, options: TrainOptions): TrainResult {
  const given = options.params ?? {};
  // Validate the parameters before any work, so a typo fails at once.
  const givenResolved = createEstimator(options.estimator, given).getParams();
  const y = requireTarget(dataset);
  const x = featureMatrix(dataset);
  const policy = options.threshold ?? DEFAULT_THRESHOLD_POLICY;
  // Folds are scored before any threshold is chosen: at the fixed one, or at 0.5.
  const foldThreshold = policy.kind === 'fixed' ? { threshold: policy.threshold } : {};
  const level = options.conformalLevel;
  if (level !== undefined && !(level > 0 && level < 1)) {
    throw invalidParameter(`The conformal level must be between 0 and 1 (exclusive), got ${level}`);
  }
  // The whole set's faults (one class, a bad target), said of the whole set rather than of a fold's part.
  checkTrainingData(options.estimator, x, y, { allowMissingFeatures: true });

  let tuning: TuneResult | undefined;
  let crossValidation: CrossValidationResult | undefined;
  if (options.tune) {
    const onTrial = options.tune.onTrial;
    tuning = tune(options.estimator, x, y, {
      trials: options.tune.trials,
      folds: options.cvFolds ?? 5,
      seed: options.tune.seed ?? options.cvSeed ?? 42,
      fixed: given,
      ...(options.tune.metric ? { metric: options.tune.metric } : {}),
      ...(options.tune.sampler ? { sampler: options.tune.sampler } : {}),
      ...(onTrial
        ? {
            onTrial: (_trial: TrialResult, done: number, total: number, best: TrialResult) =>
              onTrial(done, total, best),
          }
        : {}),
    });
    // The best trial was cross-validated with these very parameters and folds.
    crossValidation = tuning.bestCrossValidation;
  }
  const resolved = tuning ? tuning.best.params : givenResolved;
  const calibrationChoice = options.calibration ?? 'auto';
  // Calibration and a chosen threshold need out-of-fold probabilities.
  const needsFolds = calibrationChoice !== 'none' || policy.kind !== 'fixed';
  const cvFolds = options.cvFolds ?? (needsFolds ? CALIBRATION_FOLDS : undefined);
  if (!tuning && cvFolds !== undefined) {
    const executor =
      options.parallelFolds && canRunFoldsInParallel() ? new ParallelFoldExecutor(x, y, cvFolds) : undefined;
    try {
      crossValidation = crossValidate(options.estimator, resolved, x, y, {
        folds: cvFolds,
        seed: options.cvSeed ?? 42,
        ...foldThreshold,
        ...(options.onFold ? { onFold: options.onFold } : {}),
        ...(executor ? { executor } : {}),
      });
    } finally {
      void executor?.close();
    }
  }
  const fitted = fitWithHoldout(options.estimator, resolved, x, y, {
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  const { fitSeconds, validationRows } = fitted;
  const calibrated =
    calibrationChoice !== 'none' && crossValidation
      ? chooseCalibration(crossValidation.outOfFold, y, {
          choice: calibrationChoice,
          folds: crossValidation.folds,
          seed: crossValidation.seed,
        })
      : undefined;
  const model =
    calibrated && calibrated.calibration.method !== 'none'
      ? new CalibratedModel(fitted.model, calibrated.calibration)
      : fitted.model;
  // What the model gives patients it has not seen: calibrated out-of-fold probabilities, each fold's by a
  // calibrator fitted on the other folds (the model's own out-of-fold ones when it is not calibrated).
  const heldOut = calibrated ? calibrated.heldOut : crossValidation?.outOfFold;
  const conformal =
    heldOut && crossValidation
      ? fitConformal(heldOut, y, {
          level: options.conformalLevel ?? DEFAULT_CONFORMAL_LEVEL,
          folds: crossValidation.folds,
          seed: crossValidation.seed,
          // Subgroup-conditional: each sex, ethnicity and age band gets the level's coverage.
          rows: (i) => x.data.subarray(i * x.cols, (i + 1) * x.cols),
        })
      : undefined;
  const threshold = chooseThreshold(
    policy,
    heldOut && crossValidation
      ? {
          probability: heldOut,
          target: y,
          crossFit: { folds: crossValidation.folds, seed: crossValidation.seed },
        }
      : undefined,
  );
  const trainingProbabilities = model.predictProba(x);
  const trainingMetrics = evaluateBinary(y, trainingProbabilities, { threshold: threshold.value });
  const report = buildModelReport({
    dataset,
    estimator: options.estimator,
    params: model.params,
    trainingMetrics,
    trainingProbabilities,
    ...(crossValidation ? { crossValidation } : {}),
    ...(calibrated
      ? {
          calibration: {
            document: calibrated.document,
            outOfFold: crossValidation!.outOfFold,
            heldOut: calibrated.heldOut,
          },
        }
      : {}),
    ...(conformal ? { conformal } : {}),
    threshold,
    ...(options.subgroupGapBound === undefined ? {} : { subgroupGapBound: options.subgroupGapBound }),
    seed: options.cvSeed ?? 42,
    ...importanceOf(model, x),
  });
  const datasetFingerprint = fingerprintDataset(dataset);
  // Out-of-fold probabilities are what the model gives patients it has not seen, as it will in service;
  // its own training rows get more confident ones.
  const referenceProfile = buildReferenceProfile(dataset, heldOut ?? trainingProbabilities, {
    probabilitySource: crossValidation ? 'out_of_fold' : 'training_fit',
    seed: options.cvSeed ?? 42,
    datasetFingerprint,
    decisionThreshold: threshold.value,
  });
  const document = createModelDocument(
    model,
    {
      dataset_fingerprint: datasetFingerprint,
      rows: dataset.rowCount,
      fit_seconds: fitSeconds,
      fitted_at: new Date().toISOString(),
      ...(validationRows > 0 ? { validation_rows: validationRows } : {}),
    },
    {
      training: trainingMetrics,
      ...(crossValidation
        ? {
            cross_validation: {
              folds: crossValidation.folds,
              seed: crossValidation.seed,
              summary: crossValidation.summary,
              per_fold: crossValidation.perFold.map((fold) => fold.metrics),
            },
          }
        : {}),
    },
    {
      report,
      ...(tuning ? { tuning: tuningSummary(tuning) } : {}),
      ...(calibrated ? { calibration: calibrated.document } : {}),
      ...(conformal ? { conformal: conformal.document } : {}),
      threshold,
    },
  );
  return {
    document,
    model,
    fitSeconds,
    trainingMetrics,
    trainingRows: rowDigests(dataset),
    report,
    referenceProfile,
    ...(crossValidation ? { crossValidation } : {}),
    ...(tuning ? { tuning } : {}),
  };
}

/** What a model document keeps of a search: every trial's searched parameters and scores, and the best. */
export function tuningSummary(result: TuneResult): TuningSummary {
  const searched = Object.keys(searchSpaceOf(result.estimator));
  const pick = (params: Readonly<Record<string, ParamValue>>) =>
    Object.fromEntries(searched.filter((name) => name in params).map((name) => [name, params[name]!]));
  return {
    metric: result.metric,
    sampler: result.sampler,
    folds: result.folds,
    seed: result.seed,
    best_trial: result.best.trial,
    best_value: result.best.value,
    best_params: pick(result.best.params),
    trials: result.trials.map((trial) => ({ ...trial, params: pick(trial.params) })),
  };
}

/** Global importance for the report: mean |contribution| over the training rows, and split gain/cover for trees. */
function importanceOf(model: FittedModel, x: Matrix): { importance: Importance } {
  const global = globalImportance(model, x);
  const named = (scores: ArrayLike<number>) =>
    rankFeatures(scores, FEATURE_NAMES).map(({ feature, value }) => ({ feature, value }));
  return {
    importance: {
      mean_abs_contribution: named(global.meanAbsContribution),
      ...(global.splits ? { gain: named(global.splits.gain), cover: named(global.splits.cover) } : {}),
    },
  };
}
