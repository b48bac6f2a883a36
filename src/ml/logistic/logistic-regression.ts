import { invalidParameter } from '../../errors.js';
import { choleskySolve, minimumNormSolve } from '../../math/linalg.js';
import { columnMeans, createMatrix, type Matrix } from '../../math/matrix.js';
import { sigmoid, softplus } from '../../math/sigmoid.js';
import { checkTrainingData } from '../check-training-data.js';
import type { Estimator, FitOptions, FittedModel, MarginModel, ModelState } from '../estimator.js';
import { linearContributions } from '../explain/linear-contributions.js';
import type { Contributions, ContributionsModel } from '../explain/types.js';
import { checkPredictMatrix } from '../linear/check-predict-matrix.js';
import {
  expectName,
  expectNumber,
  expectNumberArray,
  expectPositiveInteger,
  expectRecord,
  expectVersion,
} from '../model-state-checks.js';
import { type ParamsOf, resolveParams } from '../params.js';

/** Version of the `logistic` model state written by `toJSON`; the loader rejects others. */
export const LOGISTIC_MODEL_VERSION = 1;

export const LOGISTIC_PARAM_SPECS = {
  C: {
    type: 'number',
    default: 1,
    min: 0,
    minExclusive: true,
    description:
      'Inverse L2 regularization strength, as in scikit-learn: minimizes 0.5*||w||^2 + C * sum(log loss) on standardized features (intercept not penalized)',
  },
  max_iter: {
    type: 'integer',
    default: 100,
    min: 1,
    description: 'Maximum number of Newton iterations (each one a full pass plus a Cholesky solve)',
  },
  tol: {
    type: 'number',
    default: 1e-8,
    min: 0,
    minExclusive: true,
    description:
      'Convergence tolerance: stop when the largest Newton step is at most tol * (1 + largest |coefficient|) in standardized space',
  },
} as const;

export type LogisticRegressionParams = ParamsOf<typeof LOGISTIC_PARAM_SPECS>;

/** The JSON state of a fitted `logistic` model. Numbers are finite; arrays have `featureCount` entries. */
export interface LogisticModelState extends ModelState {
  readonly name: 'logistic';
  readonly version: number;
  readonly params: LogisticRegressionParams;
  readonly featureCount: number;
  /** Log-odds intercept on the original feature scale (derived from the standardized solution). */
  readonly intercept: number;
  /** Log-odds coefficients on the original feature scale (derived: `standardizedCoefficients / scalerScale`). */
  readonly coefficients: readonly number[];
  /** StandardScaler's `mean_`: training means. */
  readonly scalerMean: readonly number[];
  /** StandardScaler's `scale_`: population standard deviations (ddof 0), 1 for constant features. */
  readonly scalerScale: readonly number[];
  /** The fitted intercept in standardized space (what predictions use). */
  readonly standardizedIntercept: number;
  /** The fitted coefficients in standardized space (what predictions use). */
  readonly standardizedCoefficients: readonly number[];
  /** Whether Newton's method met `tol` within `max_iter` iterations. */
  readonly converged: boolean;
  /** Newton iterations run. */
  readonly iterations: number;
}

/**
 * L2-regularized logistic regression on internally standardized features, fitted to the exact optimum
 * by Newton's method (IRLS) with a step-halving line search. Equal to scikit-learn's
 * `make_pipeline(StandardScaler(), LogisticRegression(C=C))` at convergence.
 *
 * Non-convergence (the step still above `tol` after `max_iter` iterations, or a line search that cannot
 * decrease the objective) is not an error: the model is returned with `converged: false` (also in its
 * JSON) so a caller can log or reject it.
 */
export class LogisticModel implements FittedModel, MarginModel, ContributionsModel {
  readonly estimator = 'logistic' as const;
  readonly params: LogisticRegressionParams;
  readonly featureCount: number;
  readonly standardizedIntercept: number;
  readonly intercept: number;
  readonly converged: boolean;
  readonly iterations: number;
  readonly #weights: Float64Array;
  readonly #mean: Float64Array;
  readonly #scale: Float64Array;
  readonly #coefficients: Float64Array;

  constructor(parts: {
    params: LogisticRegressionParams;
    standardizedIntercept: number;
    standardizedCoefficients: Float64Array;
    scalerMean: Float64Array;
    scalerScale: Float64Array;
    converged: boolean;
    iterations: number;
  }) {
    this.params = Object.freeze({ ...parts.params });
    this.featureCount = parts.standardizedCoefficients.length;
    this.standardizedIntercept = parts.standardizedIntercept;
    this.converged = parts.converged;
    this.iterations = parts.iterations;
    this.#weights = Float64Array.from(parts.standardizedCoefficients);
    this.#mean = Float64Array.from(parts.scalerMean);
    this.#scale = Float64Array.from(parts.scalerScale);
    const original = originalScale(this.standardizedIntercept, this.#weights, this.#mean, this.#scale);
    this.intercept = original.intercept;
    this.#coefficients = original.coefficients;
  }

  /** Log-odds coefficients on the original feature scale (a copy). */
  get coefficients(): Float64Array {
    return Float64Array.from(this.#coefficients);
  }

  /** Coefficients in standardized space (a copy). */
  get standardizedCoefficients(): Float64Array {
    return Float64Array.from(this.#weights);
  }

  /** The scaler's means (a copy). */
  get scalerMean(): Float64Array {
    return Float64Array.from(this.#mean);
  }

  /** The scaler's scales (a copy). */
  get scalerScale(): Float64Array {
    return Float64Array.from(this.#scale);
  }

  /** The log-odds per row: `b + sum_j w_j * (x_j - mean_j) / scale_j`. */
  predictMargin(x: Matrix): Float64Array {
    checkPredictMatrix('logistic', x, this.featureCount);
    const p = this.featureCount;
    const out = new Float64Array(x.rows);
    for (let i = 0; i < x.rows; i++) {
      let z = this.standardizedIntercept;
      for (let j = 0; j < p; j++)
        z += this.#weights[j]! * ((x.data[i * p + j]! - this.#mean[j]!) / this.#scale[j]!);
      out[i] = z;
    }
    return out;
  }

  predictProba(x: Matrix): Float64Array {
    const z = this.predictMargin(x);
    for (let i = 0; i < z.length; i++) z[i] = sigmoid(z[i]!);
    return z;
  }

  /**
   * Exact per-feature contributions in log-odds: `w_j * (x_j - mean_j) / scale_j`, with the standardized
   * intercept as the bias (the log-odds of the mean patient); bias + row sum = `predictMargin`.
   */
  contributions(x: Matrix): Contributions {
    checkPredictMatrix('logistic', x, this.featureCount);
    return linearContributions(x, this.#weights, this.#mean, this.#scale, this.standardizedIntercept);
  }

  toJSON(): LogisticModelState {
    return {
      name: 'logistic',
      version: LOGISTIC_MODEL_VERSION,
      params: { ...this.params },
      featureCount: this.featureCount,
      intercept: this.intercept,
      coefficients: Array.from(this.#coefficients),
      scalerMean: Array.from(this.#mean),
      scalerScale: Array.from(this.#scale),
      standardizedIntercept: this.standardizedIntercept,
      standardizedCoefficients: Array.from(this.#weights),
      converged: this.converged,
      iterations: this.iterations,
    };
  }
}

/** The `logistic` estimator. Parameters are validated here (unknown keys rejected with the valid ones). */
export function logisticRegression(params: Readonly<Record<string, unknown>> = {}): Estimator<LogisticModel> {
  const resolved = resolveParams('logistic', LOGISTIC_PARAM_SPECS, params);
  return {
    name: 'logistic',
    getParams: () => ({ ...resolved }),
    fit(x: Matrix, y: Float64Array, options: FitOptions = {}): LogisticModel {
      checkTrainingData('logistic', x, y);
      const { mean, scale } = standardScaler(x);
      const z = new Float64Array(x.rows * x.cols);
      for (let i = 0; i < x.rows; i++) {
        for (let j = 0; j < x.cols; j++) z[i * x.cols + j] = (x.data[i * x.cols + j]! - mean[j]!) / scale[j]!;
      }
      const fit = newtonLogistic(createMatrix(z, x.rows, x.cols), y, resolved, options);
      return new LogisticModel({
        params: resolved,
        standardizedIntercept: fit.beta[x.cols]!,
        standardizedCoefficients: fit.beta.slice(0, x.cols),
        scalerMean: mean,
        scalerScale: scale,
        converged: fit.converged,
        iterations: fit.iterations,
      });
    },
  };
}

/** Rebuilds a fitted `logistic` model from `toJSON()` output, checking its shape and consistency. */
export function loadLogisticModel(state: unknown): LogisticModel {
  const where = 'logistic model state';
  const record = expectRecord(where, state);
  expectName(where, record, 'logistic');
  expectVersion(where, record, LOGISTIC_MODEL_VERSION);
  const params = resolveParams(
    'logistic',
    LOGISTIC_PARAM_SPECS,
    expectRecord(`${where}: params`, record.params),
  );
  const featureCount = expectPositiveInteger(where, record, 'featureCount');
  const scalerMean = expectNumberArray(where, record, 'scalerMean', featureCount);
  const scalerScale = expectNumberArray(where, record, 'scalerScale', featureCount);
  scalerScale.forEach((value, j) => {
    if (!(value > 0)) throw invalidParameter(`${where}: scalerScale[${j}] must be positive, got ${value}`);
  });
  const standardizedCoefficients = expectNumberArray(where, record, 'standardizedCoefficients', featureCount);
  const standardizedIntercept = expectNumber(where, record, 'standardizedIntercept');
  const coefficients = expectNumberArray(where, record, 'coefficients', featureCount);
  const intercept = expectNumber(where, record, 'intercept');
  if (typeof record.converged !== 'boolean') {
    throw invalidParameter(
      `${where}: converged must be true or false, got ${JSON.stringify(record.converged)}`,
    );
  }
  const iterations = expectNumber(where, record, 'iterations');
  if (!Number.isInteger(iterations) || iterations < 0) {
    throw invalidParameter(`${where}: iterations must be a non-negative integer, got ${iterations}`);
  }
  const model = new LogisticModel({
    params,
    standardizedIntercept,
    standardizedCoefficients,
    scalerMean,
    scalerScale,
    converged: record.converged,
    iterations,
  });
  // The original-scale values are derived; reject a document whose copies disagree with the solution.
  const derived = model.coefficients;
  coefficients.forEach((value, j) => {
    if (!close(value, derived[j]!, Math.abs(derived[j]!))) {
      throw invalidParameter(
        `${where}: coefficients[${j}] = ${value} disagrees with standardizedCoefficients[${j}] / scalerScale[${j}] = ${derived[j]}`,
      );
    }
  });
  let magnitude = Math.abs(standardizedIntercept);
  for (let j = 0; j < featureCount; j++) magnitude += Math.abs(derived[j]! * scalerMean[j]!);
  if (!close(intercept, model.intercept, magnitude)) {
    throw invalidParameter(
      `${where}: intercept ${intercept} disagrees with the standardized solution, which gives ${model.intercept}`,
    );
  }
  return model;
}

function close(a: number, b: number, magnitude: number): boolean {
  return Math.abs(a - b) <= 1e-9 * magnitude + 1e-300;
}

// ---- fitting ----------------------------------------------------------------------------------------------

/**
 * StandardScaler's statistics: means, and population standard deviations (ddof 0, two-pass with the
 * rounding correction) where a feature that is constant up to rounding (scikit-learn's
 * `_is_constant_feature` bound) gets scale 1.
 */
export function standardScaler(x: Matrix): { mean: Float64Array; scale: Float64Array } {
  const { rows: n, cols: p } = x;
  const mean = columnMeans(x);
  const scale = new Float64Array(p);
  for (let j = 0; j < p; j++) {
    let sumSquares = 0;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const d = x.data[i * p + j]! - mean[j]!;
      sum += d;
      sumSquares += d * d;
    }
    const variance = Math.max(0, (sumSquares - (sum * sum) / n) / n);
    const bound = n * Number.EPSILON * variance + (n * mean[j]! * Number.EPSILON) ** 2;
    scale[j] = variance <= bound ? 1 : Math.sqrt(variance);
  }
  return { mean, scale };
}

interface NewtonResult {
  /** Coefficients then the intercept (length p + 1). */
  readonly beta: Float64Array;
  readonly converged: boolean;
  readonly iterations: number;
}

/** `0.5 * ||w||^2 + C * sum_i (softplus(z_i) - y_i z_i)` and the linear predictor. */
function objective(z: Matrix, y: Float64Array, beta: Float64Array, c: number, eta: Float64Array): number {
  const { rows: n, cols: p } = z;
  let penalty = 0;
  for (let j = 0; j < p; j++) penalty += beta[j]! * beta[j]!;
  let loss = 0;
  for (let i = 0; i < n; i++) {
    let value = beta[p]!;
    for (let j = 0; j < p; j++) value += beta[j]! * z.data[i * p + j]!;
    eta[i] = value;
    loss += softplus(value) - y[i]! * value;
  }
  return 0.5 * penalty + c * loss;
}

function newtonLogistic(
  z: Matrix,
  y: Float64Array,
  params: LogisticRegressionParams,
  options: FitOptions,
): NewtonResult {
  const { rows: n, cols: p } = z;
  const d = p + 1;
  const c = params.C;
  let beta = new Float64Array(d);
  const eta = new Float64Array(n);
  const trialEta = new Float64Array(n);
  let value = objective(z, y, beta, c, eta);
  let converged = false;
  let iterations = 0;
  const gradient = new Float64Array(d);
  const hessian = new Float64Array(d * d);
  const row = new Float64Array(d);
  row[p] = 1;
  while (iterations < params.max_iter) {
    iterations++;
    gradient.fill(0);
    hessian.fill(0);
    for (let i = 0; i < n; i++) {
      const probability = sigmoid(eta[i]!);
      const residual = c * (probability - y[i]!);
      const weight = c * probability * (1 - probability);
      for (let j = 0; j < p; j++) row[j] = z.data[i * p + j]!;
      for (let a = 0; a < d; a++) {
        const ra = row[a]!;
        gradient[a]! += residual * ra;
        const wa = weight * ra;
        for (let b = 0; b <= a; b++) hessian[a * d + b]! += wa * row[b]!;
      }
    }
    for (let j = 0; j < p; j++) {
      gradient[j]! += beta[j]!;
      hessian[j * d + j]! += 1;
    }
    for (let a = 0; a < d; a++) for (let b = 0; b < a; b++) hessian[b * d + a] = hessian[a * d + b]!;
    const negative = gradient.map((g) => -g);
    const h = createMatrix(hessian, d, d);
    const step = choleskySolve(h, negative) ?? minimumNormSolve(h, negative).solution;
    let largestStep = 0;
    let largestBeta = 0;
    let slope = 0;
    for (let a = 0; a < d; a++) {
      largestStep = Math.max(largestStep, Math.abs(step[a]!));
      largestBeta = Math.max(largestBeta, Math.abs(beta[a]!));
      slope += gradient[a]! * step[a]!;
    }
    options.onProgress?.({ iteration: iterations, total: params.max_iter });
    if (largestStep <= params.tol * (1 + largestBeta)) {
      // Within tolerance: take the (tiny) Newton step, which squares the remaining error.
      beta = beta.map((b, a) => b + step[a]!);
      converged = true;
      break;
    }
    // Step halving (Armijo); the slack absorbs rounding in the objective near the optimum.
    let t = 1;
    let accepted = false;
    const slack = 16 * Number.EPSILON * Math.abs(value);
    while (t >= 2 ** -40) {
      const trial = beta.map((b, a) => b + t * step[a]!);
      const trialValue = objective(z, y, trial, c, trialEta);
      if (trialValue <= value + 1e-4 * t * slope + slack) {
        beta = trial;
        value = trialValue;
        eta.set(trialEta);
        accepted = true;
        break;
      }
      t /= 2;
    }
    if (!accepted) break;
  }
  return { beta, converged, iterations };
}

function originalScale(
  standardizedIntercept: number,
  weights: Float64Array,
  mean: Float64Array,
  scale: Float64Array,
): { intercept: number; coefficients: Float64Array } {
  const coefficients = new Float64Array(weights.length);
  let intercept = standardizedIntercept;
  for (let j = 0; j < weights.length; j++) {
    coefficients[j] = weights[j]! / scale[j]!;
    intercept -= coefficients[j]! * mean[j]!;
  }
  return { intercept, coefficients };
}
