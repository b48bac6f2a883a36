import { invalidParameter } from '../errors.js';
import type { Matrix } from '../math/matrix.js';
import type { FitOptions } from './estimator.js';

/** Counts of each class in a validated 0/1 target. */
export interface ClassCounts {
  readonly negatives: number;
  readonly positives: number;
}

/**
 * Checks what every estimator needs before fitting: as many targets as rows, every target 0 or 1 (no
 * NaN), both classes present and at least `minRows` rows. Errors say what is wrong and where.
 */
export function checkTrainingData(
  estimator: string,
  x: Matrix,
  y: Float64Array,
  options: { minRows?: number; allowMissingFeatures?: boolean } = {},
): ClassCounts {
  const minRows = options.minRows ?? 2;
  if (y.length !== x.rows) {
    throw invalidParameter(`${estimator}: ${x.rows} feature rows but ${y.length} targets`);
  }
  if (x.rows < minRows) {
    throw invalidParameter(`${estimator} needs at least ${minRows} training rows, got ${x.rows}`);
  }
  let positives = 0;
  for (let i = 0; i < y.length; i++) {
    const label = y[i]!;
    if (Number.isNaN(label))
      throw invalidParameter(`${estimator}: the target of training row ${i + 1} is missing (NaN)`);
    if (label !== 0 && label !== 1) {
      throw invalidParameter(
        `${estimator}: the target of training row ${i + 1} is ${label}; targets must be 0 or 1`,
      );
    }
    positives += label;
  }
  const negatives = y.length - positives;
  if (positives === 0 || negatives === 0) {
    throw invalidParameter(
      `${estimator}: the training set has only one class (${positives} positive, ${negatives} negative rows); both are needed`,
    );
  }
  if (!options.allowMissingFeatures) {
    for (let k = 0; k < x.data.length; k++) {
      if (!Number.isFinite(x.data[k]!)) {
        const row = Math.floor(k / x.cols) + 1;
        throw invalidParameter(
          `${estimator} does not accept missing or non-finite feature values (row ${row}, feature ${(k % x.cols) + 1}); use gbdt, which handles missing values, or fill them in`,
        );
      }
    }
  }
  return { negatives, positives };
}

/**
 * The input checks of the boosting families (gbdt, oblivious), which learn from missing values:
 * `checkTrainingData` with missing values allowed, no infinite feature value outside `categoricalFeatures`
 * (where any code is a category), and a validation set with the training set's features, which
 * `earlyStoppingRounds` needs.
 */
export function checkBoostingData(
  estimator: string,
  x: Matrix,
  y: Float64Array,
  validation: FitOptions['validation'],
  rules: { readonly earlyStoppingRounds: number | null; readonly categoricalFeatures?: readonly number[] },
): ClassCounts {
  const counts = checkTrainingData(estimator, x, y, { allowMissingFeatures: true });
  const isCategorical = new Uint8Array(x.cols);
  for (const f of rules.categoricalFeatures ?? []) isCategorical[f] = 1;
  for (let k = 0; k < x.data.length; k++) {
    const value = x.data[k]!;
    if (isCategorical[k % x.cols] === 0 && (value === Infinity || value === -Infinity)) {
      throw invalidParameter(
        `${estimator}: feature ${(k % x.cols) + 1} of training row ${Math.floor(k / x.cols) + 1} is infinite`,
      );
    }
  }
  if (validation !== undefined) {
    if (validation.x.cols !== x.cols) {
      throw invalidParameter(
        `${estimator}: the validation set has ${validation.x.cols} features; training has ${x.cols}`,
      );
    }
    checkTrainingData(`${estimator} (validation set)`, validation.x, validation.y, {
      allowMissingFeatures: true,
      minRows: 1,
    });
  } else if (rules.earlyStoppingRounds !== null) {
    throw invalidParameter(`${estimator}: early_stopping_rounds needs a validation set`);
  }
  return counts;
}
