import { stratifiedKFold } from '../data/splits.js';
import type { EstimatorName } from './estimator.js';
import { fitWithHoldout } from './fit.js';
import { type Matrix, selectMatrixRows } from './matrix.js';
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
  const splits = stratifiedKFold(y, options.folds, options.seed);
  const outOfFold = new Float64Array(y.length);
  const perFold: FoldResult[] = splits.map((split, fold) => {
    const trainY = Float64Array.from(split.train, (i) => y[i]!);
    const testY = Float64Array.from(split.test, (i) => y[i]!);
    const { model, fitSeconds } = fitWithHoldout(estimator, params, selectMatrixRows(x, split.train), trainY);
    const probabilities = model.predictProba(selectMatrixRows(x, split.test));
    split.test.forEach((row, k) => {
      outOfFold[row] = probabilities[k]!;
    });
    const metrics = evaluateBinary(
      testY,
      probabilities,
      options.threshold === undefined ? {} : { threshold: options.threshold },
    );
    options.onFold?.(fold + 1, splits.length);
    return {
      fold: fold + 1,
      trainRows: split.train.length,
      testRows: split.test.length,
      fitSeconds,
      metrics,
    };
  });
  return {
    folds: options.folds,
    seed: options.seed,
    threshold: options.threshold ?? 0.5,
    perFold,
    summary: summarizeFolds(perFold.map((fold) => fold.metrics)),
    outOfFold,
  };
}
