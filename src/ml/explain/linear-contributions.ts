import { createMatrix, type Matrix } from '../../math/matrix.js';
import type { Contributions } from './types.js';

/**
 * Exact additive explanation of a linear score (the linear and logistic models' own `contributions`):
 * `values[i, j] = coefficient_j * (x_ij - mean_j) / scale_j` (scale 1 when `scales` is not given), with
 * the caller's `bias`, the score at the means, so `bias + sum_j values[i, j]` is row i's score.
 */
export function linearContributions(
  x: Matrix,
  coefficients: Float64Array,
  means: Float64Array,
  scales: Float64Array | undefined,
  bias: number,
): Contributions {
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
