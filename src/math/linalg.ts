import { invalidParameter } from '../errors.js';
import { createMatrix, type Matrix } from './matrix.js';

/**
 * Dense linear algebra shared by the linear models: Cholesky for symmetric positive definite systems
 * (Newton steps), Householder QR with column pivoting for least squares, and a singular value
 * decomposition (one-sided Jacobi) for the minimum-norm solution of rank-deficient problems, as LAPACK's
 * `gelsd` behind `scipy.linalg.lstsq` and scikit-learn's `LinearRegression` computes it.
 *
 * Matrices are row-major (`Matrix`). No function mutates its inputs.
 */

const EPSILON = Number.EPSILON;

/** A Householder QR factorization with column pivoting: `A P = Q R`. */
export interface QrDecomposition {
  readonly rows: number;
  readonly cols: number;
  /**
   * Row-major `rows x cols`: R on and above the diagonal, the Householder vectors (with an implicit
   * leading 1) below it, LAPACK style.
   */
  readonly packed: Float64Array;
  /** The Householder scalars, one per reflector (`min(rows, cols)` of them). */
  readonly tau: Float64Array;
  /** Column `k` of `A P` is column `permutation[k]` of `A`. */
  readonly permutation: Int32Array;
}

/** A thin singular value decomposition `A = U diag(s) Vᵀ`. */
export interface SingularValueDecomposition {
  /** `rows x cols`, orthonormal columns where the singular value is non-zero (zero columns otherwise). */
  readonly u: Matrix;
  /** `cols` singular values, in decreasing order. */
  readonly s: Float64Array;
  /** `cols x cols` orthogonal. */
  readonly v: Matrix;
}

export interface LeastSquaresOptions {
  /**
   * Relative threshold below which singular values (or pivoted R diagonal entries) count as zero.
   * Defaults to `max(rows, cols) * machine epsilon`, as `numpy.linalg.lstsq` and `matrix_rank` do.
   */
  readonly rcond?: number;
}

export interface LeastSquaresResult {
  /** The minimizer of `||A x - b||₂`; the one of minimum norm when A is rank-deficient. */
  readonly solution: Float64Array;
  /** The numerical rank of A. */
  readonly rank: number;
  /** `qr` when A has full column rank (back substitution), `svd` for the minimum-norm fallback. */
  readonly method: 'qr' | 'svd';
}

function checkFinite(where: string, values: Float64Array): void {
  for (let k = 0; k < values.length; k++) {
    if (!Number.isFinite(values[k]!)) {
      throw invalidParameter(`${where}: value ${k + 1} is not a finite number (${values[k]})`);
    }
  }
}

function checkSquare(where: string, a: Matrix): void {
  if (a.rows !== a.cols) throw invalidParameter(`${where} needs a square matrix, got ${a.rows} x ${a.cols}`);
}

/**
 * The lower-triangular Cholesky factor L (row-major `n x n`, zeros above the diagonal) of a symmetric
 * positive definite matrix, `A = L Lᵀ`; null when A is not numerically positive definite. Only the lower
 * triangle of A is read.
 */
export function choleskyDecompose(a: Matrix): Matrix | null {
  checkSquare('choleskyDecompose', a);
  const n = a.rows;
  const l = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let diagonal = a.data[j * n + j]!;
    for (let k = 0; k < j; k++) diagonal -= l[j * n + k]! ** 2;
    if (!(diagonal > 0) || !Number.isFinite(diagonal)) return null;
    const ljj = Math.sqrt(diagonal);
    l[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let sum = a.data[i * n + j]!;
      for (let k = 0; k < j; k++) sum -= l[i * n + k]! * l[j * n + k]!;
      l[i * n + j] = sum / ljj;
    }
  }
  return createMatrix(l, n, n);
}

/** Solves `L Lᵀ x = b` given the Cholesky factor L from `choleskyDecompose`. */
export function choleskySolveFactor(l: Matrix, b: Float64Array): Float64Array {
  const n = l.rows;
  if (b.length !== n)
    throw invalidParameter(`choleskySolve: the right-hand side has ${b.length} values; expected ${n}`);
  const x = Float64Array.from(b);
  for (let i = 0; i < n; i++) {
    let sum = x[i]!;
    for (let k = 0; k < i; k++) sum -= l.data[i * n + k]! * x[k]!;
    x[i] = sum / l.data[i * n + i]!;
  }
  for (let i = n - 1; i >= 0; i--) {
    let sum = x[i]!;
    for (let k = i + 1; k < n; k++) sum -= l.data[k * n + i]! * x[k]!;
    x[i] = sum / l.data[i * n + i]!;
  }
  return x;
}

/** Solves `A x = b` for symmetric positive definite A; null when A is not numerically positive definite. */
export function choleskySolve(a: Matrix, b: Float64Array): Float64Array | null {
  const l = choleskyDecompose(a);
  return l === null ? null : choleskySolveFactor(l, b);
}

/** Euclidean norm of `data[start + k * stride]` for k < count, scaled against overflow and underflow. */
function stridedNorm(data: Float64Array, start: number, stride: number, count: number): number {
  let scale = 0;
  for (let k = 0; k < count; k++) scale = Math.max(scale, Math.abs(data[start + k * stride]!));
  if (scale === 0) return 0;
  let sum = 0;
  for (let k = 0; k < count; k++) sum += (data[start + k * stride]! / scale) ** 2;
  return scale * Math.sqrt(sum);
}

/**
 * Householder QR with column pivoting (the largest remaining column first), so the magnitudes of R's
 * diagonal decrease and reveal the numerical rank. Column norms are recomputed at each step rather than
 * downdated, which costs the same order as the factorization and avoids cancellation.
 */
export function qrDecompose(a: Matrix): QrDecomposition {
  const { rows: m, cols: n } = a;
  const w = Float64Array.from(a.data);
  const steps = Math.min(m, n);
  const tau = new Float64Array(steps);
  const permutation = Int32Array.from({ length: n }, (_, j) => j);
  for (let k = 0; k < steps; k++) {
    let pivot = k;
    let best = -1;
    for (let j = k; j < n; j++) {
      const norm = stridedNorm(w, k * n + j, n, m - k);
      if (norm > best) {
        best = norm;
        pivot = j;
      }
    }
    if (pivot !== k) {
      for (let i = 0; i < m; i++) {
        const t = w[i * n + k]!;
        w[i * n + k] = w[i * n + pivot]!;
        w[i * n + pivot] = t;
      }
      const t = permutation[k]!;
      permutation[k] = permutation[pivot]!;
      permutation[pivot] = t;
    }
    const norm = best;
    const alpha = w[k * n + k]!;
    if (norm === 0) {
      tau[k] = 0;
      continue;
    }
    const beta = alpha >= 0 ? -norm : norm;
    const scale = 1 / (alpha - beta);
    for (let i = k + 1; i < m; i++) w[i * n + k]! *= scale;
    w[k * n + k] = beta;
    const tk = (beta - alpha) / beta;
    tau[k] = tk;
    for (let j = k + 1; j < n; j++) {
      let s = w[k * n + j]!;
      for (let i = k + 1; i < m; i++) s += w[i * n + k]! * w[i * n + j]!;
      s *= tk;
      w[k * n + j]! -= s;
      for (let i = k + 1; i < m; i++) w[i * n + j]! -= s * w[i * n + k]!;
    }
  }
  return { rows: m, cols: n, packed: w, tau, permutation };
}

/** `Qᵀ b` for a QR decomposition (b has `rows` values). */
export function qrApplyTransposeQ(qr: QrDecomposition, b: Float64Array): Float64Array {
  const { rows: m, cols: n, packed, tau } = qr;
  if (b.length !== m)
    throw invalidParameter(`qrApplyTransposeQ: the vector has ${b.length} values; expected ${m}`);
  const c = Float64Array.from(b);
  for (let k = 0; k < tau.length; k++) {
    const tk = tau[k]!;
    if (tk === 0) continue;
    let s = c[k]!;
    for (let i = k + 1; i < m; i++) s += packed[i * n + k]! * c[i]!;
    s *= tk;
    c[k]! -= s;
    for (let i = k + 1; i < m; i++) c[i]! -= s * packed[i * n + k]!;
  }
  return c;
}

/**
 * Thin SVD by one-sided Jacobi (Hestenes) rotations on the columns of A: accurate to high relative
 * precision and simple; meant for the small matrices of this code base (a few dozen columns).
 */
export function singularValueDecomposition(
  a: Matrix,
  options: { maxSweeps?: number } = {},
): SingularValueDecomposition {
  const { rows: m, cols: n } = a;
  const w = Float64Array.from(a.data);
  const v = new Float64Array(n * n);
  for (let j = 0; j < n; j++) v[j * n + j] = 1;
  const maxSweeps = options.maxSweeps ?? 80;
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let rotated = false;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        let alpha = 0;
        let beta = 0;
        let gamma = 0;
        for (let i = 0; i < m; i++) {
          const wp = w[i * n + p]!;
          const wq = w[i * n + q]!;
          alpha += wp * wp;
          beta += wq * wq;
          gamma += wp * wq;
        }
        if (gamma === 0 || Math.abs(gamma) <= EPSILON * Math.sqrt(alpha * beta)) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        for (let i = 0; i < m; i++) {
          const wp = w[i * n + p]!;
          const wq = w[i * n + q]!;
          w[i * n + p] = c * wp - s * wq;
          w[i * n + q] = s * wp + c * wq;
        }
        for (let i = 0; i < n; i++) {
          const vp = v[i * n + p]!;
          const vq = v[i * n + q]!;
          v[i * n + p] = c * vp - s * vq;
          v[i * n + q] = s * vp + c * vq;
        }
      }
    }
    if (!rotated) break;
  }
  const norms = Array.from({ length: n }, (_, j) => stridedNorm(w, j, n, m));
  const order = norms.map((_, j) => j).sort((i, j) => norms[j]! - norms[i]! || i - j);
  const u = new Float64Array(m * n);
  const s = new Float64Array(n);
  const vSorted = new Float64Array(n * n);
  order.forEach((source, target) => {
    const sigma = norms[source]!;
    s[target] = sigma;
    if (sigma > 0) for (let i = 0; i < m; i++) u[i * n + target] = w[i * n + source]! / sigma;
    for (let i = 0; i < n; i++) vSorted[i * n + target] = v[i * n + source]!;
  });
  return { u: createMatrix(u, m, n), s, v: createMatrix(vSorted, n, n) };
}

/**
 * The minimum-norm least-squares solution through the SVD: singular values at or below
 * `rcond * max singular value` are treated as zero (the pseudo-inverse), as `scipy.linalg.lstsq` does.
 */
export function minimumNormSolve(
  a: Matrix,
  b: Float64Array,
  options: LeastSquaresOptions = {},
): LeastSquaresResult {
  if (b.length !== a.rows) {
    throw invalidParameter(
      `minimumNormSolve: the right-hand side has ${b.length} values; expected ${a.rows}`,
    );
  }
  // Jacobi converges on the columns; for a wide matrix work on the transpose (A = U S Vᵀ ⇔ Aᵀ = V S Uᵀ).
  const wide = a.rows < a.cols;
  const svd = singularValueDecomposition(wide ? transpose(a) : a);
  const left = wide ? svd.v : svd.u;
  const right = wide ? svd.u : svd.v;
  const rcond = options.rcond ?? Math.max(a.rows, a.cols) * EPSILON;
  const threshold = rcond * (svd.s[0] ?? 0);
  const solution = new Float64Array(a.cols);
  let rank = 0;
  for (let k = 0; k < svd.s.length; k++) {
    const sigma = svd.s[k]!;
    if (!(sigma > threshold)) continue;
    rank++;
    let dot = 0;
    for (let i = 0; i < a.rows; i++) dot += left.data[i * left.cols + k]! * b[i]!;
    const coefficient = dot / sigma;
    for (let j = 0; j < a.cols; j++) solution[j]! += coefficient * right.data[j * right.cols + k]!;
  }
  return { solution, rank, method: 'svd' };
}

/** The transpose as a new matrix. */
export function transpose(a: Matrix): Matrix {
  const out = new Float64Array(a.data.length);
  for (let i = 0; i < a.rows; i++)
    for (let j = 0; j < a.cols; j++) out[j * a.rows + i] = a.data[i * a.cols + j]!;
  return createMatrix(out, a.cols, a.rows);
}

/**
 * Solves `min ||A x - b||₂`. With full column rank this is Householder QR (with column pivoting) and back
 * substitution; when the pivoted R reveals rank deficiency (a constant, duplicated or otherwise collinear
 * column, or fewer rows than columns) it returns the minimum-norm solution through the SVD of R, which is
 * what `scipy.linalg.lstsq` (and so scikit-learn's `LinearRegression`) returns.
 */
export function leastSquares(
  a: Matrix,
  b: Float64Array,
  options: LeastSquaresOptions = {},
): LeastSquaresResult {
  if (b.length !== a.rows) {
    throw invalidParameter(`leastSquares: the right-hand side has ${b.length} values; expected ${a.rows}`);
  }
  checkFinite('leastSquares: the matrix', a.data);
  checkFinite('leastSquares: the right-hand side', b);
  if (a.rows < a.cols) return minimumNormSolve(a, b, options);
  const n = a.cols;
  const qr = qrDecompose(a);
  const c = qrApplyTransposeQ(qr, b);
  const rcond = options.rcond ?? Math.max(a.rows, a.cols) * EPSILON;
  const largest = Math.abs(qr.packed[0]!);
  let fullRank = largest > 0;
  for (let k = 0; k < n && fullRank; k++) {
    if (!(Math.abs(qr.packed[k * n + k]!) > rcond * largest)) fullRank = false;
  }
  const solution = new Float64Array(n);
  if (fullRank) {
    const y = new Float64Array(n);
    for (let i = n - 1; i >= 0; i--) {
      let sum = c[i]!;
      for (let j = i + 1; j < n; j++) sum -= qr.packed[i * n + j]! * y[j]!;
      y[i] = sum / qr.packed[i * n + i]!;
    }
    for (let k = 0; k < n; k++) solution[qr.permutation[k]!] = y[k]!;
    return { solution, rank: n, method: 'qr' };
  }
  // A P = Q R and Q has orthonormal columns, so the minimum-norm x solves min ||R Pᵀ x - (Qᵀ b)[0:n]||.
  const r = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) r[i * n + j] = qr.packed[i * n + j]!;
  const reduced = minimumNormSolve(createMatrix(r, n, n), c.subarray(0, n), { rcond });
  for (let k = 0; k < n; k++) solution[qr.permutation[k]!] = reduced.solution[k]!;
  return { solution, rank: reduced.rank, method: 'svd' };
}
