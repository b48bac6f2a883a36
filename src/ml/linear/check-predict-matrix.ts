import { invalidParameter } from '../../errors.js';
import type { Matrix } from '../../math/matrix.js';

/**
 * Rejects a prediction matrix with the wrong number of columns or non-finite values (the linear and
 * logistic models score complete rows only).
 */
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
