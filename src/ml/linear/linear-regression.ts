import { invalidParameter } from '../../errors.js';
import { leastSquares } from '../../math/linalg.js';
import { createMatrix, type Matrix } from '../../math/matrix.js';
import { checkTrainingData } from '../check-training-data.js';
import type { Estimator, FitOptions, FittedModel, ModelState } from '../estimator.js';
import {
  expectFeatureCount,
  expectName,
  expectNumber,
  expectNumberArray,
  expectRecord,
  expectVersion,
} from '../model-state-checks.js';
import { type ParamsOf, resolveParams } from '../params.js';

/** Version of the `linear` model state written by `toJSON`; the loader rejects others. */
export const LINEAR_MODEL_VERSION = 1;

export const LINEAR_PARAM_SPECS = {
  fit_intercept: {
    type: 'boolean',
    default: true,
    description: 'Fit an intercept (features and target are centred before solving), as in scikit-learn',
  },
} as const;

export type LinearRegressionParams = ParamsOf<typeof LINEAR_PARAM_SPECS>;

/**
 * Exact additive explanation of a linear score: for each row, `bias + sum(values[row, j])` equals the raw
 * score (before clipping or the sigmoid). `values[row, j] = coefficient_j * (x_j - mean_j)` with the
 * training mean of feature j, so `bias` is the score of the mean patient.
 */
export interface LinearContributions {
  /** The raw score at the training feature means (the same for every row). */
  readonly bias: number;
  /** `rows x featureCount`, in feature order. */
  readonly values: Matrix;
}

/** The JSON state of a fitted `linear` model. Numbers are finite; arrays have `featureCount` entries. */
export interface LinearModelState extends ModelState {
  readonly name: 'linear';
  readonly version: number;
  readonly params: LinearRegressionParams;
  readonly featureCount: number;
  readonly intercept: number;
  readonly coefficients: readonly number[];
  /** Training means of the features: the reference point of `contributions`. */
  readonly featureMeans: readonly number[];
  /** Numerical rank of the (centred) design; below `featureCount` the minimum-norm solution was used. */
  readonly rank: number;
}

/**
 * Ordinary least squares on the 0/1 target (a linear probability model), identical to scikit-learn's
 * `LinearRegression`: features and target are centred when `fit_intercept` is set, the system is solved
 * exactly by Householder QR, and a rank-deficient design (constant or duplicated columns) gets the
 * minimum-norm solution, as `scipy.linalg.lstsq` gives.
 */
export class LinearModel implements FittedModel {
  readonly estimator = 'linear' as const;
  readonly params: LinearRegressionParams;
  readonly featureCount: number;
  readonly intercept: number;
  readonly rank: number;
  readonly #coefficients: Float64Array;
  readonly #featureMeans: Float64Array;

  constructor(parts: {
    params: LinearRegressionParams;
    intercept: number;
    coefficients: Float64Array;
    featureMeans: Float64Array;
    rank: number;
  }) {
    this.params = Object.freeze({ ...parts.params });
    this.featureCount = parts.coefficients.length;
    this.intercept = parts.intercept;
    this.rank = parts.rank;
    this.#coefficients = Float64Array.from(parts.coefficients);
    this.#featureMeans = Float64Array.from(parts.featureMeans);
  }

  /** A copy of the coefficients, in feature order. */
  get coefficients(): Float64Array {
    return Float64Array.from(this.#coefficients);
  }

  /** A copy of the training feature means. */
  get featureMeans(): Float64Array {
    return Float64Array.from(this.#featureMeans);
  }

  /** The raw linear score `intercept + x · coefficients` per row. */
  decisionFunction(x: Matrix): Float64Array {
    checkPredictMatrix('linear', x, this.featureCount);
    const out = new Float64Array(x.rows);
    const p = this.featureCount;
    for (let i = 0; i < x.rows; i++) {
      let score = this.intercept;
      for (let j = 0; j < p; j++) score += this.#coefficients[j]! * x.data[i * p + j]!;
      out[i] = score;
    }
    return out;
  }

  /** The score clipped to [0, 1]. */
  predictProba(x: Matrix): Float64Array {
    const scores = this.decisionFunction(x);
    for (let i = 0; i < scores.length; i++) scores[i] = Math.min(1, Math.max(0, scores[i]!));
    return scores;
  }

  /** Per-feature contributions to the raw score (see `LinearContributions`). */
  contributions(x: Matrix): LinearContributions {
    checkPredictMatrix('linear', x, this.featureCount);
    let bias = this.intercept;
    for (let j = 0; j < this.featureCount; j++) bias += this.#coefficients[j]! * this.#featureMeans[j]!;
    return linearContributions(x, this.#coefficients, this.#featureMeans, undefined, bias);
  }

  toJSON(): LinearModelState {
    return {
      name: 'linear',
      version: LINEAR_MODEL_VERSION,
      params: { ...this.params },
      featureCount: this.featureCount,
      intercept: this.intercept,
      coefficients: Array.from(this.#coefficients),
      featureMeans: Array.from(this.#featureMeans),
      rank: this.rank,
    };
  }
}

/** The `linear` estimator. Parameters are validated here (unknown keys rejected with the valid ones). */
export function linearRegression(params: Readonly<Record<string, unknown>> = {}): Estimator<LinearModel> {
  const resolved = resolveParams('linear', LINEAR_PARAM_SPECS, params);
  return {
    name: 'linear',
    getParams: () => ({ ...resolved }),
    fit(x: Matrix, y: Float64Array, options: FitOptions = {}): LinearModel {
      checkTrainingData('linear', x, y);
      const { rows: n, cols: p } = x;
      const featureMeans = columnMeans(x);
      let yMean = 0;
      for (let i = 0; i < n; i++) yMean += y[i]!;
      yMean /= n;
      let design = x;
      let target = y;
      if (resolved.fit_intercept) {
        const centred = new Float64Array(n * p);
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < p; j++) centred[i * p + j] = x.data[i * p + j]! - featureMeans[j]!;
        }
        design = createMatrix(centred, n, p);
        target = y.map((value) => value - yMean);
      }
      const { solution, rank } = leastSquares(design, target);
      let intercept = 0;
      if (resolved.fit_intercept) {
        intercept = yMean;
        for (let j = 0; j < p; j++) intercept -= solution[j]! * featureMeans[j]!;
      }
      options.onProgress?.({ iteration: 1, total: 1 });
      return new LinearModel({ params: resolved, intercept, coefficients: solution, featureMeans, rank });
    },
  };
}

/** Rebuilds a fitted `linear` model from `toJSON()` output, checking its shape. */
export function loadLinearModel(state: unknown): LinearModel {
  const where = 'linear model state';
  const record = expectRecord(where, state);
  expectName(where, record, 'linear');
  expectVersion(where, record, LINEAR_MODEL_VERSION);
  const params = resolveParams('linear', LINEAR_PARAM_SPECS, expectRecord(`${where}: params`, record.params));
  const featureCount = expectFeatureCount(where, record);
  const coefficients = expectNumberArray(where, record, 'coefficients', featureCount);
  const featureMeans = expectNumberArray(where, record, 'featureMeans', featureCount);
  const intercept = expectNumber(where, record, 'intercept');
  const rank = expectNumber(where, record, 'rank');
  if (!Number.isInteger(rank) || rank < 0 || rank > featureCount) {
    throw invalidParameter(`${where}: rank must be an integer from 0 to ${featureCount}, got ${rank}`);
  }
  if (!params.fit_intercept && intercept !== 0) {
    throw invalidParameter(
      `${where}: intercept must be 0 when params.fit_intercept is false, got ${intercept}`,
    );
  }
  return new LinearModel({ params, intercept, coefficients, featureMeans, rank });
}

// ---- helpers shared with the logistic model -------------------------------------------------------------

/** Column means of a matrix (sequential sums). */
export function columnMeans(x: Matrix): Float64Array {
  const means = new Float64Array(x.cols);
  for (let i = 0; i < x.rows; i++) for (let j = 0; j < x.cols; j++) means[j]! += x.data[i * x.cols + j]!;
  for (let j = 0; j < x.cols; j++) means[j]! /= x.rows;
  return means;
}

/**
 * `values[i, j] = coefficient_j * (x_ij - mean_j) / scale_j` (scale 1 when `scales` is not given), with the
 * caller's `bias` (the raw score at the means). Shared by the linear and logistic models.
 */
export function linearContributions(
  x: Matrix,
  coefficients: Float64Array,
  means: Float64Array,
  scales: Float64Array | undefined,
  bias: number,
): LinearContributions {
  const p = coefficients.length;
  const values = new Float64Array(x.rows * p);
  for (let i = 0; i < x.rows; i++) {
    for (let j = 0; j < p; j++) {
      const centred = x.data[i * p + j]! - means[j]!;
      values[i * p + j] = coefficients[j]! * (scales === undefined ? centred : centred / scales[j]!);
    }
  }
  return { bias, values: createMatrix(values, x.rows, p) };
}

/** Rejects a prediction matrix with the wrong number of columns or non-finite values. */
export function checkPredictMatrix(estimator: string, x: Matrix, featureCount: number): void {
  if (x.cols !== featureCount) {
    throw invalidParameter(
      `The ${estimator} model was fitted on ${featureCount} features but got a matrix with ${x.cols} columns`,
    );
  }
  if (x.data.length !== x.rows * x.cols) {
    throw invalidParameter(
      `A ${x.rows} x ${x.cols} matrix needs ${x.rows * x.cols} values, got ${x.data.length}`,
    );
  }
  for (let k = 0; k < x.data.length; k++) {
    if (!Number.isFinite(x.data[k]!)) {
      throw invalidParameter(
        `The ${estimator} model cannot score missing or non-finite feature values (row ${Math.floor(k / x.cols) + 1}, feature ${(k % x.cols) + 1}); fill them in or use gbdt`,
      );
    }
  }
}
