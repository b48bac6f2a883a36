import type { Matrix } from '../math/matrix.js';
import type { ParamValue } from './params.js';

/** The model families Onset trains. */
export type EstimatorName = 'linear' | 'logistic' | 'gbdt' | 'oblivious';

/** Progress of a long fit, reported through `FitOptions.onProgress`. */
export interface FitProgress {
  readonly iteration: number;
  readonly total: number;
}

export interface FitOptions {
  /** A held-out set for early stopping and validation loss history (estimators that support it). */
  readonly validation?: { readonly x: Matrix; readonly y: Float64Array };
  readonly onProgress?: (progress: FitProgress) => void;
}

/**
 * A binary classifier's fitted model: the result of `Estimator.fit`. Predicting needs a fitted model, so
 * predicting before fitting does not compile. A fitted model is immutable.
 */
export interface FittedModel {
  readonly estimator: EstimatorName;
  /** The resolved parameters (defaults filled in). */
  readonly params: Readonly<Record<string, ParamValue>>;
  /** Number of input features, in the order they were given to `fit`. */
  readonly featureCount: number;
  /** P(y = 1) per row. */
  predictProba(x: Matrix): Float64Array;
  /** The model's own state as a name-tagged JSON value: `{ name: estimator, ... }`. */
  toJSON(): ModelState;
}

/**
 * An optional capability: P(y = 1) of one row without building a matrix, exactly what `predictProba`
 * gives for it (the tree ensembles have it; serving one record at a time uses it).
 */
export interface SingleRowModel {
  predictProbaOne(values: ArrayLike<number>): number;
}

export function isSingleRowModel(model: FittedModel): model is FittedModel & SingleRowModel {
  return typeof (model as Partial<SingleRowModel>).predictProbaOne === 'function';
}

/**
 * An optional capability: the raw score before the link that makes it a probability: the log-odds for
 * the families with a sigmoid, the unclipped least-squares score for `linear`. Explanations add up to it
 * (see `explain/`).
 */
export interface MarginModel {
  predictMargin(x: Matrix): Float64Array;
}

export function isMarginModel(model: FittedModel): model is FittedModel & MarginModel {
  return typeof (model as Partial<MarginModel>).predictMargin === 'function';
}

/** The estimator-specific part of a model document. `name` tags which estimator reads it back. */
export interface ModelState {
  readonly name: EstimatorName;
  readonly [key: string]: unknown;
}

/**
 * An estimator: validated parameters in, `fit` returns a fitted model (scikit-learn's contract). `fit`
 * checks its input (finite 0/1 targets, both classes, enough rows) and is deterministic for a seed.
 */
export interface Estimator<M extends FittedModel = FittedModel> {
  readonly name: EstimatorName;
  getParams(): Readonly<Record<string, ParamValue>>;
  fit(x: Matrix, y: Float64Array, options?: FitOptions): M;
}
