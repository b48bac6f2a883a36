import { describe, expect, it } from 'vitest';
import {
  choleskyDecompose,
  choleskySolve,
  leastSquares,
  minimumNormSolve,
  qrApplyTransposeQ,
  qrDecompose,
  singularValueDecomposition,
  transpose,
} from './linalg.js';
import { createMatrix, type Matrix, matrixFromRows } from './matrix.js';

/** A deterministic pseudo-random matrix (a linear congruential generator; no global state). */
function randomMatrix(rows: number, cols: number, seed: number): Matrix {
  let state = seed >>> 0;
  const data = new Float64Array(rows * cols);
  for (let k = 0; k < data.length; k++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    data[k] = state / 2 ** 32 - 0.5;
  }
  return createMatrix(data, rows, cols);
}

function multiply(a: Matrix, x: Float64Array): Float64Array {
  const out = new Float64Array(a.rows);
  for (let i = 0; i < a.rows; i++)
    for (let j = 0; j < a.cols; j++) out[i]! += a.data[i * a.cols + j]! * x[j]!;
  return out;
}

/** Aᵀ A and Aᵀ b: the normal equations, for reference solutions of well-conditioned problems. */
function normalEquations(a: Matrix, b: Float64Array): { gram: Matrix; rhs: Float64Array } {
  const p = a.cols;
  const gram = new Float64Array(p * p);
  const rhs = new Float64Array(p);
  for (let i = 0; i < a.rows; i++) {
    for (let j = 0; j < p; j++) {
      rhs[j]! += a.data[i * p + j]! * b[i]!;
      for (let k = 0; k < p; k++) gram[j * p + k]! += a.data[i * p + j]! * a.data[i * p + k]!;
    }
  }
  return { gram: createMatrix(gram, p, p), rhs };
}

function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let k = 0; k < a.length; k++) worst = Math.max(worst, Math.abs(a[k]! - b[k]!));
  return worst;
}

describe('Cholesky', () => {
  it('factors and solves a symmetric positive definite system', () => {
    const a = matrixFromRows([
      [4, 12, -16],
      [12, 37, -43],
      [-16, -43, 98],
    ]);
    const l = choleskyDecompose(a)!;
    expect(Array.from(l.data)).toEqual([2, 0, 0, 6, 1, 0, -8, 5, 3]);
    const x = choleskySolve(a, Float64Array.of(1, 2, 3))!;
    expect(maxAbsDifference(multiply(a, x), [1, 2, 3])).toBeLessThan(1e-12);
  });

  it('returns null for a matrix that is not positive definite', () => {
    expect(
      choleskySolve(
        matrixFromRows([
          [1, 2],
          [2, 1],
        ]),
        Float64Array.of(1, 1),
      ),
    ).toBeNull();
    expect(
      choleskySolve(
        matrixFromRows([
          [1, 1],
          [1, 1],
        ]),
        Float64Array.of(1, 1),
      ),
    ).toBeNull();
  });

  it('rejects a non-square matrix', () => {
    expect(() => choleskyDecompose(matrixFromRows([[1, 2]]))).toThrow(/square matrix, got 1 x 2/);
  });
});

describe('QR', () => {
  it('reproduces A P = Q R with a decreasing R diagonal', () => {
    const a = randomMatrix(12, 5, 3);
    const qr = qrDecompose(a);
    const n = a.cols;
    const diagonal = Array.from({ length: n }, (_, k) => Math.abs(qr.packed[k * n + k]!));
    for (let k = 1; k < n; k++) expect(diagonal[k]!).toBeLessThanOrEqual(diagonal[k - 1]! * (1 + 1e-12));
    // Qᵀ (A e_j) must equal column j of R P⁻¹: check through Qᵀ applied to every column of A.
    for (let k = 0; k < n; k++) {
      const column = Float64Array.from({ length: a.rows }, (_, i) => a.data[i * n + qr.permutation[k]!]!);
      const rColumn = qrApplyTransposeQ(qr, column);
      for (let i = 0; i < a.rows; i++) {
        const expected = i <= k ? qr.packed[i * n + k]! : 0;
        expect(Math.abs(rColumn[i]! - expected)).toBeLessThan(1e-12);
      }
    }
  });
});

describe('SVD', () => {
  it('reconstructs the matrix with orthonormal factors and sorted singular values', () => {
    const a = randomMatrix(9, 4, 11);
    const { u, s, v } = singularValueDecomposition(a);
    for (let k = 1; k < s.length; k++) expect(s[k]!).toBeLessThanOrEqual(s[k - 1]!);
    for (let i = 0; i < a.rows; i++) {
      for (let j = 0; j < a.cols; j++) {
        let value = 0;
        for (let k = 0; k < s.length; k++) value += u.data[i * 4 + k]! * s[k]! * v.data[j * 4 + k]!;
        expect(Math.abs(value - a.data[i * 4 + j]!)).toBeLessThan(1e-13);
      }
    }
    for (let p = 0; p < 4; p++) {
      for (let q = 0; q < 4; q++) {
        let dot = 0;
        for (let i = 0; i < 4; i++) dot += v.data[i * 4 + p]! * v.data[i * 4 + q]!;
        expect(Math.abs(dot - (p === q ? 1 : 0))).toBeLessThan(1e-13);
      }
    }
  });

  it('finds the singular values of a diagonal matrix', () => {
    const { s } = singularValueDecomposition(
      matrixFromRows([
        [0, 0, 3],
        [0, -5, 0],
        [1, 0, 0],
      ]),
    );
    expect(Array.from(s)).toEqual([5, 3, 1]);
  });
});

describe('leastSquares', () => {
  it('matches the normal equations on a well-conditioned overdetermined system, by QR', () => {
    const a = randomMatrix(50, 6, 5);
    const b = Float64Array.from(randomMatrix(50, 1, 8).data);
    const result = leastSquares(a, b);
    expect(result.method).toBe('qr');
    expect(result.rank).toBe(6);
    const { gram, rhs } = normalEquations(a, b);
    expect(maxAbsDifference(result.solution, choleskySolve(gram, rhs)!)).toBeLessThan(1e-12);
  });

  it('solves a square system exactly', () => {
    const a = matrixFromRows([
      [2, 1],
      [1, 3],
    ]);
    const { solution } = leastSquares(a, Float64Array.of(3, 5));
    expect(maxAbsDifference(solution, [0.8, 1.4])).toBeLessThan(1e-15);
  });

  it('gives the minimum-norm solution when a column is duplicated', () => {
    const base = randomMatrix(40, 3, 21);
    const b = Float64Array.from(randomMatrix(40, 1, 22).data);
    const duplicated = createMatrix(new Float64Array(40 * 4), 40, 4);
    for (let i = 0; i < 40; i++) {
      duplicated.data.set(base.data.subarray(i * 3, i * 3 + 3), i * 4);
      duplicated.data[i * 4 + 3] = base.data[i * 3 + 1]!;
    }
    const full = leastSquares(base, b).solution;
    const result = leastSquares(duplicated, b);
    expect(result.method).toBe('svd');
    expect(result.rank).toBe(3);
    // The weight of the duplicated pair is shared equally: that is the smallest norm.
    const expected = [full[0]!, full[1]! / 2, full[2]!, full[1]! / 2];
    expect(maxAbsDifference(result.solution, expected)).toBeLessThan(1e-12);
  });

  it('gives zero weight to an all-zero column and solves the rest', () => {
    const a = matrixFromRows([
      [1, 0],
      [2, 0],
      [3, 0],
    ]);
    const result = leastSquares(a, Float64Array.of(2, 4, 6));
    expect(result.rank).toBe(1);
    expect(maxAbsDifference(result.solution, [2, 0])).toBeLessThan(1e-14);
  });

  it('returns zeros for a zero matrix', () => {
    const result = leastSquares(createMatrix(new Float64Array(6), 3, 2), Float64Array.of(1, 2, 3));
    expect(result.rank).toBe(0);
    expect(Array.from(result.solution)).toEqual([0, 0]);
  });

  it('gives the minimum-norm solution of an underdetermined system', () => {
    const result = leastSquares(
      matrixFromRows([
        [1, 1, 0],
        [0, 1, 1],
      ]),
      Float64Array.of(2, 2),
    );
    expect(result.rank).toBe(2);
    // x = Aᵀ (A Aᵀ)⁻¹ b = [2/3, 4/3, 2/3]
    expect(maxAbsDifference(result.solution, [2 / 3, 4 / 3, 2 / 3])).toBeLessThan(1e-14);
  });

  it('agrees with minimumNormSolve on a full-rank problem and does not mutate its inputs', () => {
    const a = randomMatrix(20, 4, 31);
    const b = Float64Array.from(randomMatrix(20, 1, 32).data);
    const aCopy = Float64Array.from(a.data);
    const bCopy = Float64Array.from(b);
    const byQr = leastSquares(a, b).solution;
    const bySvd = minimumNormSolve(a, b).solution;
    expect(maxAbsDifference(byQr, bySvd)).toBeLessThan(1e-13);
    expect(a.data).toEqual(aCopy);
    expect(b).toEqual(bCopy);
  });

  it('rejects mismatched shapes and non-finite values', () => {
    const a = matrixFromRows([
      [1, 2],
      [3, 4],
    ]);
    expect(() => leastSquares(a, Float64Array.of(1))).toThrow(/right-hand side has 1 values; expected 2/);
    expect(() => leastSquares(a, Float64Array.of(1, Number.NaN))).toThrow(/not a finite number/);
  });

  it('transposes', () => {
    expect(transpose(matrixFromRows([[1, 2, 3]]))).toEqual(matrixFromRows([[1], [2], [3]]));
  });
});
