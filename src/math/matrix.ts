import { invalidParameter } from '../errors.js';

/**
 * A dense row-major matrix of features: `data[row * cols + col]`. Missing values are NaN. Estimators take
 * matrices rather than data sets so they stay independent of the feature schema; the model document
 * (see `model-document.ts`) ties a fitted model to the schema it was trained on.
 */
export interface Matrix {
  readonly data: Float64Array;
  readonly rows: number;
  readonly cols: number;
}

export function createMatrix(data: Float64Array, rows: number, cols: number): Matrix {
  if (
    !Number.isInteger(rows) ||
    !Number.isInteger(cols) ||
    rows < 0 ||
    cols < 1 ||
    data.length !== rows * cols
  ) {
    throw invalidParameter(`A ${rows} x ${cols} matrix needs ${rows * cols} values, got ${data.length}`);
  }
  return { data, rows, cols };
}

/** A matrix from an array of rows (convenient in tests and for small inputs). */
export function matrixFromRows(rows: readonly (readonly number[])[]): Matrix {
  const cols = rows[0]?.length ?? 0;
  const data = new Float64Array(rows.length * cols);
  rows.forEach((row, i) => {
    if (row.length !== cols)
      throw invalidParameter(`Row ${i + 1} has ${row.length} values; expected ${cols}`);
    data.set(row, i * cols);
  });
  return createMatrix(data, rows.length, cols);
}

/** The rows at `indices`, in that order. */
export function selectMatrixRows(matrix: Matrix, indices: ArrayLike<number>): Matrix {
  const data = new Float64Array(indices.length * matrix.cols);
  for (let i = 0; i < indices.length; i++) {
    const start = indices[i]! * matrix.cols;
    data.set(matrix.data.subarray(start, start + matrix.cols), i * matrix.cols);
  }
  return createMatrix(data, indices.length, matrix.cols);
}

/** One column as a new array. */
export function matrixColumn(matrix: Matrix, col: number): Float64Array {
  const out = new Float64Array(matrix.rows);
  for (let i = 0; i < matrix.rows; i++) out[i] = matrix.data[i * matrix.cols + col]!;
  return out;
}

/** Column means of a matrix (sequential sums). */
export function columnMeans(x: Matrix): Float64Array {
  const means = new Float64Array(x.cols);
  for (let i = 0; i < x.rows; i++) for (let j = 0; j < x.cols; j++) means[j]! += x.data[i * x.cols + j]!;
  for (let j = 0; j < x.cols; j++) means[j]! /= x.rows;
  return means;
}
