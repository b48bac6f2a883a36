import { type Split, stratifiedKFold } from '../data/splits.js';
import { type Matrix, selectMatrixRows } from '../math/matrix.js';
import type { EstimatorName } from './estimator.js';
import { fitWithHoldout } from './fit-with-holdout.js';
import { type BinaryMetrics, evaluateBinary, type FoldSummary, summarizeFolds } from './metrics/index.js';

export interface FoldResult {
  readonly fold: number;
  readonly trainRows: number;
  readonly testRows: number;
  readonly fitSeconds: number;
  readonly metrics: BinaryMetrics;
}

export interface CrossValidationResult {
  readonly folds: number;
  readonly seed: number;
  readonly threshold: number;
  readonly perFold: readonly FoldResult[];
  /** Mean and population standard deviation of every metric across folds. */
  readonly summary: FoldSummary;
  /** Every row's probability from the model that did not see it (out-of-fold), in row order. */
  readonly outOfFold: Float64Array;
}

export interface CrossValidationOptions {
  readonly folds: number;
  readonly seed: number;
  readonly threshold?: number;
  readonly onFold?: (done: number, total: number) => void;
  /** Runs the folds elsewhere (e.g. on a second core); results are the same as in-thread. */
  readonly executor?: FoldExecutor;
}

/** Something that cross-validates (the folds of `stratifiedKFold(y, folds, seed)`) on its own data. */
export interface FoldExecutor {
  crossValidate(
    estimator: EstimatorName,
    params: Readonly<Record<string, unknown>>,
    options: Pick<CrossValidationOptions, 'folds' | 'seed' | 'threshold'>,
  ): CrossValidationResult;
}

/**
 * Stratified k-fold cross-validation: each fold's model is fitted on the other folds only (with the same
 * parameters, early stopping holding out part of that training part) and scored on the fold.
 */
export function crossValidate(
  estimator: EstimatorName,
  params: Readonly<Record<string, unknown>>,
  x: Matrix,
  y: Float64Array,
  options: CrossValidationOptions,
): CrossValidationResult {
  if (options.executor) return options.executor.crossValidate(estimator, params, options);
  const splits = stratifiedKFold(y, options.folds, options.seed);
  const outOfFold = new Float64Array(y.length);
  const fitSeconds = splits.map((split, fold) => {
    const trainY = Float64Array.from(split.train, (i) => y[i]!);
    const fitted = fitWithHoldout(estimator, params, selectMatrixRows(x, split.train), trainY);
    const probabilities = fitted.model.predictProba(selectMatrixRows(x, split.test));
    split.test.forEach((row, k) => {
      outOfFold[row] = probabilities[k]!;
    });
    options.onFold?.(fold + 1, splits.length);
    return fitted.fitSeconds;
  });
  return assembleCrossValidation(splits, y, outOfFold, fitSeconds, options);
}

/** Per-fold metrics and their summary from every row's out-of-fold probability. */
export function assembleCrossValidation(
  splits: readonly Split[],
  y: Float64Array,
  outOfFold: Float64Array,
  fitSeconds: readonly number[],
  options: Pick<CrossValidationOptions, 'folds' | 'seed' | 'threshold'>,
): CrossValidationResult {
  const perFold: FoldResult[] = splits.map((split, fold) => ({
    fold: fold + 1,
    trainRows: split.train.length,
    testRows: split.test.length,
    fitSeconds: fitSeconds[fold]!,
    metrics: evaluateBinary(
      Float64Array.from(split.test, (i) => y[i]!),
      Float64Array.from(split.test, (i) => outOfFold[i]!),
      options.threshold === undefined ? {} : { threshold: options.threshold },
    ),
  }));
  return {
    folds: options.folds,
    seed: options.seed,
    threshold: options.threshold ?? 0.5,
    perFold,
    summary: summarizeFolds(perFold.map((fold) => fold.metrics)),
    outOfFold,
  };
}
