import { type Dataset, requireTarget, toRowMajor } from '../data/dataset.js';
import { fingerprintDataset } from '../data/fingerprint.js';
import { FEATURE_NAMES } from '../data/schema.js';
import { type CrossValidationResult, crossValidate } from './cross-validate.js';
import type { EstimatorName, FitProgress, FittedModel } from './estimator.js';
import { createEstimator } from './estimators.js';
import { fitWithHoldout } from './fit.js';
import { createMatrix, type Matrix } from './matrix.js';
import { type BinaryMetrics, evaluateBinary } from './metrics/index.js';
import { createModelDocument, type ModelDocument } from './model-document.js';

export interface TrainOptions {
  readonly estimator: EstimatorName;
  readonly params?: Readonly<Record<string, unknown>>;
  /** Cross-validate first with this many stratified folds (seeded by `cvSeed`, default 42). */
  readonly cvFolds?: number;
  readonly cvSeed?: number;
  readonly threshold?: number;
  readonly onFold?: (done: number, total: number) => void;
  readonly onProgress?: (progress: FitProgress) => void;
}

export interface TrainResult {
  readonly document: ModelDocument;
  readonly model: FittedModel;
  /** Seconds spent fitting the final model (reading the file and cross-validation excluded). */
  readonly fitSeconds: number;
  readonly trainingMetrics: BinaryMetrics;
  readonly crossValidation?: CrossValidationResult;
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
  const params = options.params ?? {};
  // Validate the parameters before any work, so a typo fails at once.
  const resolved = createEstimator(options.estimator, params).getParams();
  const y = requireTarget(dataset);
  const x = featureMatrix(dataset);
  const crossValidation =
    options.cvFolds === undefined
      ? undefined
      : crossValidate(options.estimator, resolved, x, y, {
          folds: options.cvFolds,
          seed: options.cvSeed ?? 42,
          ...(options.threshold === undefined ? {} : { threshold: options.threshold }),
          ...(options.onFold ? { onFold: options.onFold } : {}),
        });
  const { model, fitSeconds, validationRows } = fitWithHoldout(options.estimator, resolved, x, y, {
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  const trainingMetrics = evaluateBinary(
    y,
    model.predictProba(x),
    options.threshold === undefined ? {} : { threshold: options.threshold },
  );
  const document = createModelDocument(
    model,
    {
      dataset_fingerprint: fingerprintDataset(dataset),
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
  );
  return { document, model, fitSeconds, trainingMetrics, ...(crossValidation ? { crossValidation } : {}) };
}
