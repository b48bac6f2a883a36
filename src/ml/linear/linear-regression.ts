import { invalidParameter } from '../../errors.js';
import { leastSquares } from '../../math/linalg.js';
import { columnMeans, createMatrix, type Matrix } from '../../math/matrix.js';
import { checkTrainingData } from '../check-training-data.js';
import type { Estimator, FitOptions, FittedModel, MarginModel, ModelState } from '../estimator.js';
import { linearContributions } from '../explain/linear-contributions.js';
import type { Contributions, ContributionsModel } from '../explain/types.js';
import {
  expectName,
  expectNumber,
  expectNumberArray,
  expectPositiveInteger,
  expectRecord,
  expectVersion,
} from '../model-state-checks.js';
import { type ParamsOf, resolveParams } from '../params.js';
import { checkPredictMatrix } from './check-predict-matrix.js';

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
export class LinearModel implements FittedModel, MarginModel, ContributionsModel {
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

  /** The raw linear score `intercept + x · coefficients` per row (before clipping). */
  predictMargin(x: Matrix): Float64Array {
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
    const scores = this.predictMargin(x);
    for (let i = 0; i < scores.length; i++) scores[i] = Math.min(1, Math.max(0, scores[i]!));
    return scores;
  }

  /**
   * Exact per-feature contributions to the raw score: `coefficient_j * (x_j - mean_j)` with the training
   * mean of feature j, and the score of the mean patient as bias; bias + row sum = `predictMargin`.
   */
  contributions(x: Matrix): Contributions {
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
  const featureCount = expectPositiveInteger(where, record, 'featureCount');
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
