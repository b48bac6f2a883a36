import { invalidParameter } from '../errors.js';
import type { Matrix } from '../math/matrix.js';

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
